//! The `spin-*` request headers Spin adds for the Spin and wasi-http executors.

use std::net::SocketAddr;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::routes::{Route, RouteMatch};

/// Appends Spin's routing headers to `headers` (and drops hop-by-hop `connection`).
pub fn add_spin_headers(
    headers: &mut HeaderMap,
    full_url: &str,
    route: &Route,
    matched: &RouteMatch,
    client: SocketAddr,
) {
    headers.remove(http::header::CONNECTION);
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.append(HeaderName::from_static(name), v);
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
            headers.append(n, v);
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
    fn param_headers_use_dashes() {
        let route = Route::parse("/users/:user_id");
        let m = RouteMatch { params: vec![("user_id".into(), "42".into())], path_info: String::new() };
        let mut h = HeaderMap::new();
        add_spin_headers(&mut h, "http://h/users/42", &route, &m, "[::1]:1".parse().unwrap());
        assert_eq!(h["spin-path-match-user-id"], "42");
        assert_eq!(h["spin-path-info"], "");
    }
}
