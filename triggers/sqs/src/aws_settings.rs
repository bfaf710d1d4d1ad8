//! The AWS client settings the host gives the trigger (the shim reads them from
//! the container's environment): region, static credentials or a web identity
//! (IRSA), profile, and endpoint. What they leave unset falls back to the SDK's
//! default chain (instance roles, container credentials).

use std::fmt;

use aws_config::web_identity_token::{StaticConfiguration, WebIdentityTokenCredentialsProvider};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::config::Credentials;

/// The session name of a web identity when none is given.
pub(crate) const DEFAULT_SESSION_NAME: &str = "spin-sqs-trigger";

/// How the SQS client reaches AWS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// The region (`AWS_REGION`, else `AWS_DEFAULT_REGION`).
    pub region: Option<String>,
    /// The profile (`AWS_PROFILE`).
    pub profile: Option<String>,
    /// Static credentials; they win over a web identity.
    pub credentials: Option<StaticCredentials>,
    /// A role assumed with a web identity token (IRSA).
    pub web_identity: Option<WebIdentity>,
    /// The endpoint (`AWS_ENDPOINT_URL_SQS`, else `AWS_ENDPOINT_URL`).
    pub endpoint_url: Option<String>,
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token, for temporary credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

/// `AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_SESSION_NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebIdentity {
    /// The role to assume.
    pub role_arn: String,
    /// The file holding the identity token.
    pub token_file: String,
    /// The session name ([`DEFAULT_SESSION_NAME`] when unset).
    pub session_name: Option<String>,
}

/// Loads the SDK configuration for `settings`.
pub(crate) async fn load(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(c) = &settings.credentials {
        let (id, secret, token) = (c.access_key_id.clone(), c.secret_access_key.clone(), c.session_token.clone());
        loader = loader.credentials_provider(Credentials::new(id, secret, token, None, "env"));
    } else if let Some(w) = &settings.web_identity {
        let provider = WebIdentityTokenCredentialsProvider::builder()
            .static_configuration(StaticConfiguration {
                web_identity_token_file: w.token_file.clone().into(),
                role_arn: w.role_arn.clone(),
                session_name: w.session_name.clone().unwrap_or_else(|| DEFAULT_SESSION_NAME.to_string()),
            })
            .build();
        loader = loader.credentials_provider(provider);
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
