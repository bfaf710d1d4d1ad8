//! Where an outbound connection goes (`scheme://host:port` from a guest's address),
//! checked against the component's allowed hosts, with the denial reported the way
//! Spin reports it. Shared by the outbound capabilities that take an address URL.

use crate::allowed_hosts::{well_known_port, AllowedHosts};

/// The scheme, host and port an address URL points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Destination {
    /// Lower-case URL scheme.
    pub scheme: String,
    /// Host name or IP (IPv6 without brackets).
    pub host: String,
    /// Explicit port, else the scheme's well-known port.
    pub port: u16,
}

impl Destination {
    /// Parses `address` as a URL; `None` when it is not one, has no host, or names no
    /// port and its scheme has no well-known port.
    pub(crate) fn parse(address: &str) -> Option<Self> {
        let url = url::Url::parse(address).ok()?;
        let host = url.host_str()?.trim_matches(['[', ']']).to_string();
        if host.is_empty() {
            return None;
        }
        let port = url.port().or_else(|| well_known_port(url.scheme()))?;
        Some(Self { scheme: url.scheme().to_string(), host, port })
    }

    /// Whether `allowed` permits this destination; when it does not, logs the denial
    /// for `component_id` (an ERROR log line and Spin's warning on stderr).
    pub(crate) fn check(&self, allowed: &AllowedHosts, component_id: &str) -> bool {
        if allowed.allows(&self.scheme, &self.host, self.port) {
            return true;
        }
        let dest = self.to_string();
        tracing::error!("component `{component_id}`: Outbound network destination not allowed: {dest}");
        let (attempt, pattern) = if self.scheme.starts_with("http") && self.host == "self" {
            // A request to the app itself (`http://self`, or a relative URI).
            (
                "an HTTP request to its own app but it does not have permission".to_owned(),
                format!("{}://self", self.scheme),
            )
        } else {
            (format!("an outbound network connection to disallowed destination '{dest}'"), dest)
        };
        eprintln!(
            "Warning: A component tried to make {attempt}.\n\
             To allow this request, add 'allowed_outbound_hosts = [\"{pattern}\"]' to the manifest component section."
        );
        false
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}://[{}]:{}", self.scheme, self.host, self.port)
        } else {
            write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_well_known_port() {
        let d = Destination::parse("mqtt://broker?client_id=x").unwrap();
        assert_eq!((d.scheme.as_str(), d.host.as_str(), d.port), ("mqtt", "broker", 1883));
        assert_eq!(Destination::parse("mqtt://[::1]:1884").unwrap().to_string(), "mqtt://[::1]:1884");
        assert_eq!(Destination::parse("tcp://h").map(|d| d.port), None);
        assert_eq!(Destination::parse("not a url"), None);
    }

    #[test]
    fn check_follows_allowed_hosts() {
        let allowed = AllowedHosts::parse(&["mqtt://127.0.0.1:*".to_string()], |s| Ok(s.to_string())).unwrap();
        assert!(Destination::parse("mqtt://127.0.0.1:1999").unwrap().check(&allowed, "c"));
        assert!(!Destination::parse("mqtt://10.0.0.1").unwrap().check(&allowed, "c"));
        assert!(!Destination::parse("mqtt://127.0.0.1").unwrap().check(&AllowedHosts::deny_all(), "c"));
    }
}
