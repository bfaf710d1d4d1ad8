//! The `spin-*` request headers Spin adds for the Spin and wasi-http executors.

use std::net::SocketAddr;

use http::uri::Authority;
use http::{HeaderMap, HeaderName, HeaderValue, Uri};

use crate::routes::{Route, RouteMatch};

/// The URL the guest sees, as text and parsed: `http://`, the request's authority
/// (its target's, else the `Host` header, else `localhost`), then the request's
/// own path and query, which the router matched. `None` (a 400) unless the
/// authority is a plain `host[:port]`: a `Host` such as `x/admin` or `user@x`
/// must neither change the guest's path nor reach it unvalidated.
pub fn guest_url(target: Option<&str>, host_header: Option<&[u8]>, path_and_query: &str) -> Option<(String, Uri)> {
    let authority: Authority = match (target, host_header) {
        (Some(a), _) => a.parse().ok()?,
        (None, Some(h)) => Authority::try_from(h).ok()?,
        (None, None) => Authority::from_static("localhost"),
    };
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return None;
    }
    let url = format!("http://{authority}{path_and_query}");
    let uri: Uri = url.parse().ok()?;
    let routed = path_and_query.split_once('?').map_or(path_and_query, |(p, _)| p);
    (uri.path() == routed).then_some((url, uri))
}

/// Sets Spin's routing headers on `headers`, each with exactly one value: any
/// `spin-*` header the client sent is removed first, so a client can neither
/// spoof nor add to them (and drops hop-by-hop `connection`).
pub fn add_spin_headers(
    headers: &mut HeaderMap,
    full_url: &str,
    route: &Route,
    matched: &RouteMatch,
    client: SocketAddr,
) {
    headers.remove(http::header::CONNECTION);
    let spoofed: Vec<HeaderName> = headers.keys().filter(|n| n.as_str().starts_with("spin-")).cloned().collect();
    for name in spoofed {
        headers.remove(name);
    }
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    put("spin-full-url", full_url);
    put("spin-path-info", &matched.path_info);
    put("spin-matched-route", &route.based);
    put("spin-raw-component-route", &route.raw);
    put("spin-component-route", route.component_route());
    put("spin-base-path", "/");
    put("spin-client-addr", &client.to_string());
    for (name, value) in &matched.params {
        let header = format!("spin-path-match-{}", name.to_ascii_lowercase().replace('_', "-"));
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(header), HeaderValue::from_str(value)) {
            headers.insert(n, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_route_headers() {
        let route = Route::parse("/static/...");
        let m = RouteMatch { params: vec![], path_info: "/a/b".into() };
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("keep-alive"));
        add_spin_headers(&mut h, "http://localhost:3000/static/a/b?x=1", &route, &m, "127.0.0.1:5555".parse().unwrap());
        assert!(h.get("connection").is_none());
        assert_eq!(h["spin-full-url"], "http://localhost:3000/static/a/b?x=1");
        assert_eq!(h["spin-path-info"], "/a/b");
        assert_eq!(h["spin-matched-route"], "/static/...");
        assert_eq!(h["spin-raw-component-route"], "/static/...");
        assert_eq!(h["spin-component-route"], "/static");
        assert_eq!(h["spin-base-path"], "/");
        assert_eq!(h["spin-client-addr"], "127.0.0.1:5555");
    }

    #[test]
    fn guest_urls_keep_the_routed_path_and_refuse_odd_authorities() {
        let url = |t: Option<&str>, h: Option<&str>, p: &str| guest_url(t, h.map(str::as_bytes), p).map(|(s, _)| s);
        assert_eq!(url(None, Some("example.com:8080"), "/a?b=1").as_deref(), Some("http://example.com:8080/a?b=1"));
        assert_eq!(url(None, None, "/a").as_deref(), Some("http://localhost/a"));
        assert_eq!(url(Some("t.example"), Some("h.example"), "/a").as_deref(), Some("http://t.example/a"));
        for host in ["x/admin", "user@x", "x y", "", "x?y", "x#y", "[::1"] {
            assert_eq!(url(None, Some(host), "/a"), None, "Host: {host:?}");
        }
    }

    #[test]
    fn client_spin_headers_are_replaced_with_exactly_one_value() {
        let route = Route::parse("/users/:id");
        let m = RouteMatch { params: vec![("id".into(), "42".into())], path_info: String::new() };
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
        add_spin_headers(&mut h, "http://h/users/42", &route, &m, "127.0.0.1:9".parse().unwrap());
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
        let route = Route::parse("/users/:user_id");
        let m = RouteMatch { params: vec![("user_id".into(), "42".into())], path_info: String::new() };
        let mut h = HeaderMap::new();
        add_spin_headers(&mut h, "http://h/users/42", &route, &m, "[::1]:1".parse().unwrap());
        assert_eq!(h["spin-path-match-user-id"], "42");
        assert_eq!(h["spin-path-info"], "");
    }
}
