//! The host-side settings of the trigger plugins, read once from the container's
//! (or the CLI's) environment: the HTTP listener's limits and drain
//! (`SPIN_HTTP_*`), the SQS client's AWS settings (`AWS_*`), and a command's
//! arguments. The trigger crates take these values and never read the environment.

use std::collections::BTreeMap;

#[cfg(any(feature = "sqs", feature = "http"))]
use super::env::env_value;
#[cfg(feature = "http")]
use super::env::{env_count, env_duration, env_sampled, env_size, parse_count, parse_duration, COUNT, DURATION};

/// What the trigger plugins of this build need from the host.
#[derive(Clone, Debug, Default)]
pub(crate) struct TriggerSettings {
    /// The HTTP listener's address, limits and drain.
    #[cfg(feature = "http")]
    pub http: spin_trigger_http::HttpOptions,
    /// How the SQS client reaches AWS.
    #[cfg(feature = "sqs")]
    pub sqs: spin_trigger_sqs::SqsOptions,
    /// Arguments passed to a command component after its id (argv[1..]).
    #[cfg_attr(not(feature = "command"), allow(dead_code))]
    pub guest_args: Vec<String>,
}

impl TriggerSettings {
    /// The settings for an HTTP listener on `http_listen` and a command run with
    /// `guest_args`, the rest from their documented variables in `env`; a
    /// malformed value is an error naming its variable.
    #[cfg_attr(not(feature = "http"), allow(unused_variables))]
    pub(crate) fn from_env(
        http_listen: String,
        guest_args: Vec<String>,
        env: &BTreeMap<String, String>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            #[cfg(feature = "http")]
            http: http_options(http_listen, env)?,
            #[cfg(feature = "sqs")]
            sqs: spin_trigger_sqs::SqsOptions { aws: aws_settings(env), ..Default::default() },
            guest_args,
        })
    }
}

/// The variables of WASI 0.3 instance reuse, named after Spin's `spin up` flags.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) mod reuse_vars {
    /// Requests one instance serves (`128`; a range `a..b` draws per instance).
    pub(crate) const MAX_INSTANCE_REUSE_COUNT: &str = "SPIN_MAX_INSTANCE_REUSE_COUNT";
    /// Requests one instance serves at once (`16`).
    pub(crate) const MAX_INSTANCE_CONCURRENT_REUSE_COUNT: &str = "SPIN_MAX_INSTANCE_CONCURRENT_REUSE_COUNT";
    /// How long an idle instance is kept (`1s`).
    pub(crate) const IDLE_INSTANCE_TIMEOUT: &str = "SPIN_IDLE_INSTANCE_TIMEOUT";
}

/// The listener's variables that `spin-shim up` flags also set, named as Spin names them.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) mod listener_vars {
    /// The PEM certificate chain of inbound HTTPS (`--tls-cert`).
    pub(crate) const TLS_CERT: &str = "SPIN_TLS_CERT";
    /// Its private key (`--tls-key`).
    pub(crate) const TLS_KEY: &str = "SPIN_TLS_KEY";
    /// The most an HTTP/1 connection buffers of a request's head (`--http1-max-buf-size`).
    pub(crate) const HTTP1_MAX_BUF_SIZE: &str = "SPIN_HTTP1_MAX_BUF_SIZE";
}

/// `SPIN_HTTP_HEADER_READ_TIMEOUT`, `SPIN_HTTP_MAX_CONNECTIONS`,
/// `SPIN_HTTP_SHUTDOWN_TIMEOUT`, `SPIN_HTTP_THREADS` and the instance-reuse
/// variables over the HTTP defaults.
#[cfg(feature = "http")]
fn http_options(listen: String, env: &BTreeMap<String, String>) -> anyhow::Result<spin_trigger_http::HttpOptions> {
    use spin_engine::trigger::Drain;
    use spin_trigger_http::{ConnectionLimits, HttpOptions, InstanceReuse, TlsFiles};
    let defaults = HttpOptions::default();
    let connections = ConnectionLimits {
        header_read_timeout: env_duration(env, "SPIN_HTTP_HEADER_READ_TIMEOUT")?
            .unwrap_or(defaults.connections.header_read_timeout),
        max_connections: env_count(env, "SPIN_HTTP_MAX_CONNECTIONS")?.unwrap_or(defaults.connections.max_connections),
        http1_max_buf_size: http1_max_buf_size(env)?,
    };
    let drain = env_duration(env, "SPIN_HTTP_SHUTDOWN_TIMEOUT")?.map_or(defaults.drain, Drain::new);
    let reuse = InstanceReuse {
        max_requests: env_sampled(env, reuse_vars::MAX_INSTANCE_REUSE_COUNT, parse_count, COUNT)?
            .unwrap_or(defaults.reuse.max_requests),
        max_concurrent: env_sampled(env, reuse_vars::MAX_INSTANCE_CONCURRENT_REUSE_COUNT, parse_count, COUNT)?
            .unwrap_or(defaults.reuse.max_concurrent),
        idle_timeout: env_sampled(env, reuse_vars::IDLE_INSTANCE_TIMEOUT, parse_duration, DURATION)?
            .unwrap_or(defaults.reuse.idle_timeout),
    };
    let threads = env_count(env, "SPIN_HTTP_THREADS")?;
    let tls = match (env_value(env, listener_vars::TLS_CERT), env_value(env, listener_vars::TLS_KEY)) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert: cert.into(), key: key.into() }),
        (None, None) => None,
        _ => anyhow::bail!(
            "{} and {} are set together (HTTPS) or not at all",
            listener_vars::TLS_CERT,
            listener_vars::TLS_KEY
        ),
    };
    Ok(HttpOptions { listen, drain, connections, reuse, threads, tls, ..defaults })
}

/// `SPIN_HTTP1_MAX_BUF_SIZE` (Spin's `--http1-max-buf-size`), at least HTTP/1's floor.
#[cfg(feature = "http")]
fn http1_max_buf_size(env: &BTreeMap<String, String>) -> anyhow::Result<Option<usize>> {
    use listener_vars::HTTP1_MAX_BUF_SIZE;
    use spin_trigger_http::MIN_HTTP1_MAX_BUF_SIZE;
    let Some(size) = env_size(env, HTTP1_MAX_BUF_SIZE)? else { return Ok(None) };
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    anyhow::ensure!(
        size >= MIN_HTTP1_MAX_BUF_SIZE,
        "{HTTP1_MAX_BUF_SIZE} is {size} bytes; the minimum value allowed is {MIN_HTTP1_MAX_BUF_SIZE}"
    );
    Ok(Some(size))
}

/// The standard `AWS_*` variables: region, profile, static credentials or a web
/// identity (IRSA), endpoint.
#[cfg(feature = "sqs")]
fn aws_settings(env: &BTreeMap<String, String>) -> spin_trigger_sqs::AwsSettings {
    use spin_trigger_sqs::{AwsSettings, StaticCredentials, WebIdentity};
    let get = |name: &str| env_value(env, name).map(str::to_string);
    let credentials = match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
        (Some(access_key_id), Some(secret_access_key)) => {
            Some(StaticCredentials { access_key_id, secret_access_key, session_token: get("AWS_SESSION_TOKEN") })
        }
        _ => None,
    };
    let web_identity = match (get("AWS_ROLE_ARN"), get("AWS_WEB_IDENTITY_TOKEN_FILE")) {
        (Some(role_arn), Some(token_file)) => {
            Some(WebIdentity { role_arn, token_file, session_name: get("AWS_ROLE_SESSION_NAME") })
        }
        _ => None,
    };
    AwsSettings {
        region: get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")),
        profile: get("AWS_PROFILE"),
        credentials,
        web_identity,
        endpoint_url: get("AWS_ENDPOINT_URL_SQS").or_else(|| get("AWS_ENDPOINT_URL")),
    }
}

#[cfg(all(test, feature = "http", feature = "sqs"))]
mod tests {
    use std::time::Duration;

    use spin_engine::limits::Sampled;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn an_empty_environment_gives_the_defaults() {
        let s = TriggerSettings::from_env("0.0.0.0:80".into(), vec!["a".into()], &env(&[])).unwrap();
        assert_eq!((s.http.listen.as_str(), s.guest_args.as_slice()), ("0.0.0.0:80", ["a".to_string()].as_slice()));
        assert_eq!(s.http.drain, spin_engine::trigger::Drain::default());
        assert_eq!(s.http.connections.max_connections, 1024);
        assert_eq!(s.http.reuse, spin_trigger_http::InstanceReuse::default());
        assert_eq!(s.http.threads, None);
        assert_eq!(s.sqs.aws, spin_trigger_sqs::AwsSettings::default());
    }

    #[test]
    fn http_variables_are_read_and_malformed_ones_named() {
        let vars = env(&[
            ("SPIN_HTTP_HEADER_READ_TIMEOUT", "3s"),
            ("SPIN_HTTP_MAX_CONNECTIONS", "7"),
            ("SPIN_HTTP_SHUTDOWN_TIMEOUT", "1m"),
            ("SPIN_MAX_INSTANCE_REUSE_COUNT", "1"),
            ("SPIN_MAX_INSTANCE_CONCURRENT_REUSE_COUNT", "2..8"),
            ("SPIN_IDLE_INSTANCE_TIMEOUT", "250ms"),
            ("SPIN_HTTP_THREADS", "3"),
        ]);
        let http = TriggerSettings::from_env("h:1".into(), vec![], &vars).unwrap().http;
        assert_eq!(http.connections.header_read_timeout, Duration::from_secs(3));
        assert_eq!(http.connections.max_connections, 7);
        assert_eq!(http.drain.limit(), Duration::from_secs(60));
        let reuse = spin_trigger_http::InstanceReuse {
            max_requests: Sampled::Value(1),
            max_concurrent: Sampled::Range { low: 2, high: 8 },
            idle_timeout: Sampled::Value(Duration::from_millis(250)),
        };
        assert_eq!(http.reuse, reuse);
        assert_eq!(http.threads, Some(3));
        let e = TriggerSettings::from_env("h:1".into(), vec![], &env(&[("SPIN_HTTP_THREADS", "0")]));
        assert!(e.unwrap_err().to_string().contains("SPIN_HTTP_THREADS"));
        let e = TriggerSettings::from_env("h:1".into(), vec![], &env(&[("SPIN_HTTP_MAX_CONNECTIONS", "many")]));
        assert!(e.unwrap_err().to_string().contains("SPIN_HTTP_MAX_CONNECTIONS"));
    }

    #[test]
    fn the_http1_buffer_size_has_hypers_floor() {
        let size = |value: &str| {
            TriggerSettings::from_env("h:1".into(), vec![], &env(&[("SPIN_HTTP1_MAX_BUF_SIZE", value)]))
                .map(|s| s.http.connections.http1_max_buf_size)
        };
        assert_eq!(size("8192").unwrap(), Some(8192));
        assert_eq!(size("64Ki").unwrap(), Some(65536));
        assert_eq!(
            size("4096").unwrap_err().to_string(),
            "SPIN_HTTP1_MAX_BUF_SIZE is 4096 bytes; the minimum value allowed is 8192"
        );
        assert!(size("big").unwrap_err().to_string().contains("SPIN_HTTP1_MAX_BUF_SIZE"));
    }

    #[test]
    fn aws_variables_fall_back_and_credentials_win_over_a_web_identity() {
        let aws = aws_settings(&env(&[
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://moto:5000"),
            ("AWS_ACCESS_KEY_ID", "id"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_ROLE_ARN", "arn"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
            ("AWS_PROFILE", " "),
        ]));
        assert_eq!(aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(aws.endpoint_url.as_deref(), Some("http://moto:5000"));
        assert_eq!(aws.credentials.as_ref().map(|c| c.access_key_id.as_str()), Some("id"));
        assert!(!format!("{aws:?}").contains("secret"), "{aws:?}");
        assert_eq!(aws.profile, None);
        let only_role = aws_settings(&env(&[("AWS_ROLE_ARN", "arn"), ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t")]));
        assert_eq!(only_role.web_identity.map(|w| w.token_file), Some("/t".to_string()));
        assert!(only_role.credentials.is_none());
    }
}
