//! `allowed_outbound_hosts`: parsing entries of the form `scheme://host[:port]` (spec §6.1)
//! and checking outbound destinations against them. The default is deny-all.
//!
//! IPv6 literals and IPv6 CIDRs must be written in brackets (`tcp://[::1]:80`,
//! `tcp://[fd00::/8]:*`). A single trailing `/` after the authority is tolerated; any other
//! path is rejected.

use std::net::IpAddr;
use std::ops::Range;

use anyhow::{anyhow, bail, Context};
use ipnet::IpNet;

/// The set of destinations one component may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    entries: Vec<AllowedHost>,
}

/// One parsed `allowed_outbound_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    /// Scheme pattern.
    pub scheme: SchemePattern,
    /// Host pattern.
    pub host: HostPattern,
    /// Port pattern.
    pub port: PortPattern,
}

/// The scheme part of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemePattern {
    /// `*`.
    Any,
    /// One alphabetic scheme, lower-cased.
    Named(String),
}

/// The host part of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// `*`.
    Any,
    /// `*.domain`: any subdomain (stored as `.domain`, lower-cased), not the domain itself.
    AnySubdomain(String),
    /// A literal host name, lower-cased (includes `<id>.spin.internal`).
    Name(String),
    /// A literal IP address.
    Ip(IpAddr),
    /// An IP network.
    Cidr(IpNet),
    /// `self` or `self.alt`: requests to the app itself.
    ToSelf,
}

/// The port part of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortPattern {
    /// `*`.
    Any,
    /// A single port (explicit, or the scheme's well-known port).
    Port(u16),
    /// `a..b`, end excluded.
    Range(Range<u16>),
}

/// The well-known port of a scheme, used when an entry omits its port.
pub(crate) fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl AllowedHosts {
    /// Allows nothing (the default).
    pub fn deny_all() -> Self {
        Self::default()
    }

    /// Parses entries, first passing each through `render` (which resolves `{{ var }}`
    /// templates); entries that render to ``, `http://` or `https://` are skipped.
    pub fn parse(entries: &[String], render: impl Fn(&str) -> anyhow::Result<String>) -> anyhow::Result<Self> {
        let mut parsed = Vec::new();
        for entry in entries {
            let rendered = render(entry).with_context(|| format!("allowed_outbound_hosts entry `{entry}`"))?;
            let rendered = rendered.trim();
            if matches!(rendered, "" | "http://" | "https://") {
                continue;
            }
            parsed.push(
                AllowedHost::parse(rendered)
                    .with_context(|| format!("invalid allowed_outbound_hosts entry `{entry}`"))?,
            );
        }
        Ok(Self { entries: parsed })
    }

    /// The parsed entries.
    pub fn entries(&self) -> &[AllowedHost] {
        &self.entries
    }

    /// Whether a connection to `scheme://host:port` is allowed (`self`/`self.alt` hosts
    /// check the self entries; host names match case-insensitively; IPs match CIDRs).
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = normalize_host(host);
        if host == "self" || host == "self.alt" {
            return self.entries.iter().any(|e| e.host == HostPattern::ToSelf && e.scheme.matches(scheme));
        }
        let ip = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|e| e.scheme.matches(scheme) && e.host.matches(&host, ip) && e.port.matches(port))
    }

    /// Whether the URL's destination is allowed (port defaults by scheme; none => denied).
    pub fn allows_url(&self, url: &url::Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let Some(port) = url.port().or_else(|| well_known_port(url.scheme())) else {
            return false;
        };
        self.allows(url.scheme(), host, port)
    }

    /// Whether some entry covers scheme `scheme` (`*` covers every scheme).
    pub fn names_scheme(&self, scheme: &str) -> bool {
        self.entries.iter().any(|e| e.scheme.matches(scheme))
    }

    /// Whether the component may make HTTP requests to its own app (`http://self`, `https://self`).
    pub fn allows_self(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.host == HostPattern::ToSelf && (e.scheme.matches("http") || e.scheme.matches("https")))
    }
}

impl AllowedHost {
    /// Parses one already-rendered entry.
    pub fn parse(entry: &str) -> anyhow::Result<Self> {
        if entry == "insecure:allow-all" {
            bail!("`insecure:allow-all` is not allowed here; use '*://*:*' to allow all destinations");
        }
        let (scheme, rest) = entry
            .split_once("://")
            .ok_or_else(|| anyhow!("missing scheme: expected `scheme://host[:port]`, e.g. `https://{entry}`"))?;
        let scheme = SchemePattern::parse(scheme)?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = split_authority(rest)?;
        let host = HostPattern::parse(host)?;
        let port = match port {
            Some(p) => PortPattern::parse(p)?,
            None => match &scheme {
                SchemePattern::Named(s) => PortPattern::Port(well_known_port(s).ok_or_else(|| {
                    anyhow!("no port given and scheme `{s}` has no well-known port; add `:<port>` or `:*`")
                })?),
                SchemePattern::Any => bail!("a port is required with scheme `*`; add `:<port>` or `:*`"),
            },
        };
        Ok(Self { scheme, host, port })
    }
}

/// Splits `host[:port]` (host possibly `[ipv6]` or `[ipv6/len]`), rejecting paths.
fn split_authority(authority: &str) -> anyhow::Result<(&str, Option<&str>)> {
    let path_error = || anyhow!("a path is not allowed; use `scheme://host[:port]`");
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or_else(|| anyhow!("missing `]` after an IPv6 address"))?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(path_error)?),
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if port.is_some_and(|p| p.contains('/')) {
        return Err(path_error());
    }
    if host.contains('/') && host.parse::<IpNet>().is_err() {
        return Err(path_error());
    }
    Ok((host, port))
}

fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase()
}

impl SchemePattern {
    fn parse(scheme: &str) -> anyhow::Result<Self> {
        if scheme == "*" {
            Ok(Self::Any)
        } else if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(Self::Named(scheme.to_ascii_lowercase()))
        } else {
            bail!("invalid scheme `{scheme}`: expected `*` or a single alphabetic scheme such as `https`")
        }
    }

    fn matches(&self, scheme: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Named(s) => s.eq_ignore_ascii_case(scheme),
        }
    }
}

impl HostPattern {
    fn parse(host: &str) -> anyhow::Result<Self> {
        let lower = host.to_ascii_lowercase();
        if lower.is_empty() {
            bail!("missing host");
        }
        if lower == "*" {
            return Ok(Self::Any);
        }
        if lower == "self" || lower == "self.alt" {
            return Ok(Self::ToSelf);
        }
        if let Some(domain) = lower.strip_prefix("*.") {
            check_host_name(domain)?;
            return Ok(Self::AnySubdomain(format!(".{domain}")));
        }
        if let Ok(ip) = lower.parse::<IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        if let Ok(net) = lower.parse::<IpNet>() {
            return Ok(Self::Cidr(net));
        }
        check_host_name(&lower)?;
        Ok(Self::Name(lower))
    }

    fn matches(&self, host: &str, ip: Option<IpAddr>) -> bool {
        match self {
            Self::Any => true,
            Self::AnySubdomain(suffix) => host.ends_with(suffix.as_str()),
            Self::Name(name) => name == host,
            Self::Ip(allowed) => ip == Some(*allowed),
            Self::Cidr(net) => ip.is_some_and(|ip| net.contains(&ip)),
            Self::ToSelf => false,
        }
    }
}

fn check_host_name(name: &str) -> anyhow::Result<()> {
    let valid = !name.is_empty()
        && name
            .split('.')
            .all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    if valid {
        Ok(())
    } else {
        bail!("invalid host `{name}`: expected `*`, `*.domain`, a host name, an IP address, a CIDR or `self`")
    }
}

impl PortPattern {
    fn parse(port: &str) -> anyhow::Result<Self> {
        if port == "*" {
            return Ok(Self::Any);
        }
        let number =
            |p: &str| p.parse::<u16>().map_err(|_| anyhow!("invalid port `{p}`: expected a number, `a..b` or `*`"));
        match port.split_once("..") {
            Some((start, end)) => {
                let (start, end) = (number(start)?, number(end)?);
                if start >= end {
                    bail!("empty port range `{port}` (the end is excluded)");
                }
                Ok(Self::Range(start..end))
            }
            None => Ok(Self::Port(number(port)?)),
        }
    }

    fn matches(&self, port: u16) -> bool {
        match self {
            Self::Any => true,
            Self::Port(p) => *p == port,
            Self::Range(range) => range.contains(&port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        AllowedHosts::parse(&entries, |s| Ok(s.to_owned())).unwrap()
    }

    fn parse_err(entry: &str) -> String {
        format!("{:#}", AllowedHost::parse(entry).unwrap_err())
    }

    #[test]
    fn deny_all_by_default() {
        let none = AllowedHosts::deny_all();
        assert!(!none.allows("https", "example.com", 443));
        assert!(!none.allows_self());
        assert_eq!(none, AllowedHosts::default());
    }

    #[test]
    fn schemes() {
        let h = hosts(&["*://example.com:443", "HTTPS://other.com"]);
        assert!(h.allows("https", "example.com", 443));
        assert!(h.allows("redis", "example.com", 443));
        assert!(h.allows("https", "other.com", 443));
        assert!(!h.allows("http", "other.com", 443));
        assert!(parse_err("{http,https}://a.com").contains("invalid scheme"));
        assert!(parse_err("h2c1://a.com:1").contains("invalid scheme"));
        assert!(parse_err("://a.com:1").contains("invalid scheme"));
    }

    #[test]
    fn missing_scheme_and_insecure_allow_all() {
        assert!(parse_err("example.com").contains("missing scheme"));
        assert!(parse_err("insecure:allow-all").contains("use '*://*:*'"));
    }

    #[test]
    fn host_forms() {
        let h = hosts(&[
            "https://*.example.com",
            "https://Exact.Org",
            "tcp://10.0.0.0/8:*",
            "tcp://192.168.1.1:22",
            "tcp://[::1]:80",
            "tcp://[fd00::/8]:*",
            "http://svc.spin.internal",
        ]);
        assert!(h.allows("https", "a.example.com", 443));
        assert!(h.allows("https", "a.b.EXAMPLE.com", 443));
        assert!(!h.allows("https", "example.com", 443));
        assert!(!h.allows("https", "badexample.com", 443));
        assert!(h.allows("https", "exact.org", 443));
        assert!(h.allows("HTTPS", "EXACT.ORG.", 443));
        assert!(!h.allows("https", "sub.exact.org", 443));
        assert!(h.allows("tcp", "10.1.2.3", 5000));
        assert!(!h.allows("tcp", "11.1.2.3", 5000));
        assert!(h.allows("tcp", "192.168.1.1", 22));
        assert!(!h.allows("tcp", "192.168.1.1", 23));
        assert!(h.allows("tcp", "::1", 80));
        assert!(h.allows("tcp", "[::1]", 80));
        assert!(h.allows("tcp", "fd00::5", 1));
        assert!(h.allows("http", "svc.spin.internal", 80));
        assert!(!h.allows("http", "other.spin.internal", 80));
        let any = hosts(&["*://*:*"]);
        assert!(any.allows("mqtt", "anything", 1));
        assert!(!any.allows_self());
        let chain = hosts(&["http://*.spin.internal"]);
        assert!(chain.allows("http", "a.spin.internal", 80));
        assert!(!chain.allows("https", "a.spin.internal", 443));
        assert!(parse_err("https://exa mple.com").contains("invalid host"));
        assert!(parse_err("https://:443").contains("missing host"));
    }

    #[test]
    fn self_hosts() {
        let h = hosts(&["http://self"]);
        assert!(h.allows_self());
        assert!(h.allows("http", "self", 3000));
        assert!(h.allows("http", "self.alt", 8080));
        assert!(!h.allows("https", "self.alt", 443));
        assert!(hosts(&["https://self.alt"]).allows_self());
        assert!(!hosts(&["redis://self"]).allows_self());
    }

    #[test]
    fn ports() {
        let h = hosts(&[
            "postgres://pg",
            "mysql://my",
            "redis://rd",
            "mqtt://mq",
            "http://web",
            "https://sec",
            "tcp://range:8000..8010",
        ]);
        assert!(h.allows("postgres", "pg", 5432));
        assert!(!h.allows("postgres", "pg", 5433));
        assert!(h.allows("mysql", "my", 3306));
        assert!(h.allows("redis", "rd", 6379));
        assert!(h.allows("mqtt", "mq", 1883));
        assert!(h.allows("http", "web", 80));
        assert!(h.allows("https", "sec", 443));
        assert!(h.allows("tcp", "range", 8000));
        assert!(h.allows("tcp", "range", 8009));
        assert!(!h.allows("tcp", "range", 8010));
        assert!(parse_err("tcp://a.com").contains("no well-known port"));
        assert!(parse_err("*://a.com").contains("port is required"));
        assert!(parse_err("tcp://a.com:99999").contains("invalid port"));
        assert!(parse_err("tcp://a.com:9..3").contains("empty port range"));
        assert!(parse_err("tcp://a.com:x").contains("invalid port"));
    }

    #[test]
    fn paths_rejected() {
        assert!(parse_err("https://a.com/path").contains("path is not allowed"));
        assert!(parse_err("https://a.com:443/path").contains("path is not allowed"));
        assert!(AllowedHost::parse("https://a.com/").is_ok());
    }

    #[test]
    fn templates_resolved_and_empty_results_skipped() {
        let entries: Vec<String> = ["{{ host }}", "{{ empty }}", "https://{{ empty }}", "redis://{{ host_name }}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let render = |s: &str| -> anyhow::Result<String> {
            Ok(s.replace("{{ host }}", "https://api.test")
                .replace("{{ empty }}", "")
                .replace("{{ host_name }}", "cache.local"))
        };
        let h = AllowedHosts::parse(&entries, render).unwrap();
        assert_eq!(h.entries().len(), 2);
        assert!(h.allows("https", "api.test", 443));
        assert!(h.allows("redis", "cache.local", 6379));
        let err = AllowedHosts::parse(&entries, |_| anyhow::bail!("boom")).unwrap_err();
        assert!(format!("{err:#}").contains("boom"));
    }

    #[test]
    fn urls() {
        let h = hosts(&["https://example.com", "redis://cache:*", "tcp://x:1"]);
        assert!(h.allows_url(&"https://example.com/a?b".parse().unwrap()));
        assert!(!h.allows_url(&"https://example.com:8443/".parse().unwrap()));
        assert!(h.allows_url(&"redis://cache".parse().unwrap()));
        assert!(!h.allows_url(&"tcp://x".parse().unwrap()));
    }
}
