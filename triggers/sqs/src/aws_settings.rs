//! The AWS client settings, read from the container's environment as a map (the
//! process environment is never changed): region, static credentials or a web
//! identity (IRSA), profile, and endpoint. What the map leaves unset falls back
//! to the SDK's default chain (instance roles, container credentials).

use std::collections::BTreeMap;

use aws_config::web_identity_token::{StaticConfiguration, WebIdentityTokenCredentialsProvider};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::config::Credentials;
use spin_engine::limits::env_value;

/// Loads the SDK configuration for the variables in `env`.
pub async fn load(env: &BTreeMap<String, String>) -> SdkConfig {
    let get = |name: &str| env_value(env, name).map(str::to_string);
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")) {
        loader = loader.region(Region::new(region));
    }
    if let Some(profile) = get("AWS_PROFILE") {
        loader = loader.profile_name(profile);
    }
    if let (Some(id), Some(secret)) = (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
        loader = loader.credentials_provider(Credentials::new(id, secret, get("AWS_SESSION_TOKEN"), None, "env"));
    } else if let (Some(role_arn), Some(token_file)) = (get("AWS_ROLE_ARN"), get("AWS_WEB_IDENTITY_TOKEN_FILE")) {
        let provider = WebIdentityTokenCredentialsProvider::builder()
            .static_configuration(StaticConfiguration {
                web_identity_token_file: token_file.into(),
                role_arn,
                session_name: get("AWS_ROLE_SESSION_NAME").unwrap_or_else(|| "spin-sqs-trigger".to_string()),
            })
            .build();
        loader = loader.credentials_provider(provider);
    }
    if let Some(url) = get("AWS_ENDPOINT_URL_SQS").or_else(|| get("AWS_ENDPOINT_URL")) {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
