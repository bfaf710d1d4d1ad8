//! The `spin-*` request headers Spin adds for the Spin and wasi-http executors.
//! What depends only on the route (its names and values) is built once at start
//! in [`RouteHeaders`]; a request adds its URL, path info, captures and client.

use std::net::SocketAddr;

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderName, HeaderValue, Uri};

use crate::routes::{Route, RouteMatch};

pub(crate) const FULL_URL: HeaderName = HeaderName::from_static("spin-full-url");
pub(crate) const PATH_INFO: HeaderName = HeaderName::from_static("spin-path-info");
pub(crate) const MATCHED_ROUTE: HeaderName = HeaderName::from_static("spin-matched-route");
pub(crate) const RAW_COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-raw-component-route");
pub(crate) const COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-component-route");
pub(crate) const BASE_PATH: HeaderName = HeaderName::from_static("spin-base-path");
pub(crate) const CLIENT_ADDR: HeaderName = HeaderName::from_static("spin-client-addr");

/// The headers of one route, built once: its three route values and the
/// `spin-path-match-<name>` name of each `:name` segment (`None` where a value or
/// name is not valid in a header, which is then left out, as Spin does).
#[derive(Clone, Debug)]
pub(crate) struct RouteHeaders {
    matched_route: Option<HeaderValue>,
    raw_component_route: Option<HeaderValue>,
    component_route: Option<HeaderValue>,
    params: Vec<Option<HeaderName>>,
}

impl RouteHeaders {
    /// The headers of `route`.
    pub(crate) fn new(route: &Route) -> Self {
        let value = |v: &str| HeaderValue::from_str(v).ok();
        let param = |name: &str| {
            HeaderName::try_from(format!("spin-path-match-{}", name.to_ascii_lowercase().replace('_', "-"))).ok()
        };
        Self {
            matched_route: value(&route.based),
            raw_component_route: value(&route.raw),
            component_route: value(route.component_route()),
            params: route.params().map(param).collect(),
        }
    }
}

/// The URL the guest sees, as text (for `spin-full-url`) and as a `Uri` built from
/// its parts: `scheme` (`https` when the server speaks TLS), the request's authority (its target's, else the `Host`
/// header, else `localhost`), then the request's own path and query, which the
/// router matched. `None` (a 400) unless the authority is a plain `host[:port]`
/// and the target a path: a `Host` such as `x/admin` or `user@x` must neither
/// change the guest's path nor reach it unvalidated, and `*` is no path.
pub fn guest_url(
    scheme: &Scheme,
    target: Option<&Authority>,
    host_header: Option<&[u8]>,
    path_and_query: &PathAndQuery,
) -> Option<(String, Uri)> {
    let authority = match (target, host_header) {
        (Some(a), _) => a.clone(),
        (None, Some(h)) => Authority::try_from(h).ok()?,
        (None, None) => Authority::from_static("localhost"),
    };
    if authority.as_str().contains('@') || authority.host().is_empty() || !path_and_query.as_str().starts_with('/') {
        return None;
    }
    let text = format!("{scheme}://{authority}{path_and_query}");
    let uri = Uri::builder().scheme(scheme.clone()).authority(authority).path_and_query(path_and_query.clone());
    Some((text, uri.build().ok()?))
}

/// Sets Spin's routing headers on `headers`, each with exactly one value: any
/// `spin-*` header the client sent is removed first, so a client can neither
/// spoof nor add to them (and drops hop-by-hop `connection`).
pub(crate) fn add_spin_headers(
    headers: &mut HeaderMap,
    full_url: String,
    route: &RouteHeaders,
    matched: &RouteMatch<'_>,
    client: SocketAddr,
) {
    headers.remove(http::header::CONNECTION);
    let spoofed: Vec<HeaderName> = headers.keys().filter(|n| n.as_str().starts_with("spin-")).cloned().collect();
    for name in spoofed {
        headers.remove(name);
    }
    let mut put = |name: HeaderName, value: Option<HeaderValue>| {
        if let Some(v) = value {
            headers.insert(name, v);
        }
    };
    put(FULL_URL, HeaderValue::try_from(full_url).ok());
    put(PATH_INFO, HeaderValue::from_str(matched.path_info).ok());
    put(MATCHED_ROUTE, route.matched_route.clone());
    put(RAW_COMPONENT_ROUTE, route.raw_component_route.clone());
    put(COMPONENT_ROUTE, route.component_route.clone());
    put(BASE_PATH, Some(HeaderValue::from_static("/")));
    put(CLIENT_ADDR, HeaderValue::try_from(client.to_string()).ok());
    for (name, value) in route.params.iter().zip(&matched.params) {
        if let Some(name) = name {
            put(name.clone(), HeaderValue::from_str(value).ok());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(h: &mut HeaderMap, url: &str, route: &str, matched: RouteMatch<'_>, client: &str) {
        let route = Route::parse(route);
        add_spin_headers(h, url.to_string(), &RouteHeaders::new(&route), &matched, client.parse().unwrap());
    }

    #[test]
    fn wildcard_route_headers() {
        let m = RouteMatch { params: vec![], path_info: "/a/b" };
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("keep-alive"));
        add(&mut h, "http://localhost:3000/static/a/b?x=1", "/static/...", m, "127.0.0.1:5555");
        assert!(h.get("connection").is_none());
        assert_eq!(h["spin-full-url"], "http://localhost:3000/static/a/b?x=1");
        assert_eq!(h["spin-path-info"], "/a/b");
        assert_eq!(h["spin-matched-route"], "/static/...");
        assert_eq!(h["spin-raw-component-route"], "/static/...");
        assert_eq!(h["spin-component-route"], "/static");
        assert_eq!(h["spin-base-path"], "/");
        assert_eq!(h["spin-client-addr"], "127.0.0.1:5555");
        let names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "spin-full-url",
                "spin-path-info",
                "spin-matched-route",
                "spin-raw-component-route",
                "spin-component-route",
                "spin-base-path",
                "spin-client-addr"
            ]
        );
    }

    #[test]
    fn guest_urls_keep_the_routed_path_and_refuse_odd_authorities() {
        let url = |t: Option<&str>, h: Option<&str>, p: &str| {
            let target = t.map(|t| t.parse::<Authority>().unwrap());
            let pq: PathAndQuery = p.parse().unwrap();
            guest_url(&Scheme::HTTP, target.as_ref(), h.map(str::as_bytes), &pq).map(|(s, uri)| {
                assert_eq!(s.parse::<Uri>().unwrap(), uri, "the text and the Uri agree");
                s
            })
        };
        assert_eq!(url(None, Some("example.com:8080"), "/a?b=1").as_deref(), Some("http://example.com:8080/a?b=1"));
        assert_eq!(url(None, None, "/a").as_deref(), Some("http://localhost/a"));
        assert_eq!(url(Some("t.example"), Some("h.example"), "/a").as_deref(), Some("http://t.example/a"));
        for host in ["x/admin", "user@x", "x y", "", "x?y", "x#y", "[::1"] {
            assert_eq!(url(None, Some(host), "/a"), None, "Host: {host:?}");
        }
        assert_eq!(url(None, Some("[:::]"), "*"), None, "an asterisk target is no path");
    }

    #[test]
    fn client_spin_headers_are_replaced_with_exactly_one_value() {
        let m = RouteMatch { params: vec!["42"], path_info: "" };
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("spin-full-url", "http://evil/admin"),
            ("spin-path-info", "/admin"),
            ("spin-path-match-id", "0"),
            ("spin-client-addr", "10.0.0.1:1"),
            ("spin-made-up", "x"),
            ("x-other", "kept"),
        ] {
            h.append(name, HeaderValue::from_static(value));
            h.append(name, HeaderValue::from_static(value));
        }
        add(&mut h, "http://h/users/42", "/users/:id", m, "127.0.0.1:9");
        for (name, value) in [
            ("spin-full-url", "http://h/users/42"),
            ("spin-path-info", ""),
            ("spin-path-match-id", "42"),
            ("spin-client-addr", "127.0.0.1:9"),
        ] {
            let values: Vec<_> = h.get_all(name).iter().collect();
            assert_eq!(values, [value], "{name}");
        }
        assert!(h.get("spin-made-up").is_none());
        assert_eq!(h.get_all("x-other").iter().count(), 2);
    }

    #[test]
    fn param_headers_use_dashes() {
        let m = RouteMatch { params: vec!["42"], path_info: "" };
        let mut h = HeaderMap::new();
        add(&mut h, "http://h/users/42", "/users/:user_id", m, "[::1]:1");
        assert_eq!(h["spin-path-match-user-id"], "42");
        assert_eq!(h["spin-path-info"], "");
    }
}
