//! The `Serving http://...` / `Available Routes:` lines that `spin up` prints and
//! test harnesses scrape, or Spin 4's `--format json` object in their place.

use std::fmt::Write as _;
use std::net::SocketAddr;

use crate::routes::Route;

/// One printable route: component id, route, optional description.
pub(crate) struct RouteLine<'a> {
    /// Component id (or trigger id for static responses).
    pub id: &'a str,
    /// The parsed route.
    pub route: &'a Route,
    /// The component description, if any.
    pub description: Option<&'a str>,
}

/// How the start-up banner is printed (`spin up --format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BannerFormat {
    /// Spin's lines for people.
    #[default]
    Plain,
    /// One JSON object: `base_url`, and each route's `id`, `route`, `wildcard`
    /// and `description` (when the component has one).
    Json,
}

/// Renders Spin's start-up banner for `addr` in `format`.
pub(crate) fn render(
    scheme: &http::uri::Scheme,
    addr: SocketAddr,
    routes: &[RouteLine<'_>],
    format: BannerFormat,
) -> String {
    let base = format!("{scheme}://{addr}");
    match format {
        BannerFormat::Plain => plain(&base, routes),
        BannerFormat::Json => json(&base, routes),
    }
}

fn plain(base: &str, routes: &[RouteLine<'_>]) -> String {
    let mut out = format!("\nServing {base}\nAvailable Routes:\n");
    for line in routes {
        let url = format!("{base}{}", line.route.component_route());
        let suffix = if line.route.is_wildcard() { " (wildcard)" } else { "" };
        let _ = writeln!(out, "  {}: {url}{suffix}", line.id);
        if let Some(d) = line.description.filter(|d| !d.is_empty()) {
            let _ = writeln!(out, "    {d}");
        }
    }
    out
}

/// Spin's JSON banner, its fields in Spin's order.
#[derive(serde::Serialize)]
struct JsonBanner<'a> {
    base_url: String,
    routes: Vec<JsonRoute<'a>>,
}

#[derive(serde::Serialize)]
struct JsonRoute<'a> {
    id: &'a str,
    route: &'a str,
    wildcard: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

fn json(base: &str, routes: &[RouteLine<'_>]) -> String {
    let routes = routes
        .iter()
        .map(|line| JsonRoute {
            id: line.id,
            route: match line.route.component_route() {
                "" => "/",
                route => route,
            },
            wildcard: line.route.is_wildcard(),
            description: line.description.filter(|d| !d.is_empty()),
        })
        .collect();
    let banner = JsonBanner { base_url: base.to_owned(), routes };
    // Strings and booleans always serialise.
    format!("{}\n", serde_json::to_string_pretty(&banner).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_three(format: BannerFormat) -> String {
        let all = Route::parse("/...");
        let hello = Route::parse("/hello");
        let stat = Route::parse("/static/...");
        render(
            &http::uri::Scheme::HTTP,
            "127.0.0.1:3000".parse().unwrap(),
            &[
                RouteLine { id: "all", route: &all, description: None },
                RouteLine { id: "hello", route: &hello, description: Some("Says hi") },
                RouteLine { id: "files", route: &stat, description: None },
            ],
            format,
        )
    }

    #[test]
    fn the_json_form_has_spins_fields() {
        let text = render_three(BannerFormat::Json);
        assert!(
            text.starts_with(
                "{\n  \"base_url\": \"http://127.0.0.1:3000\",\n  \"routes\": [\n    {\n      \"id\": \"all\","
            ),
            "{text}"
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "base_url": "http://127.0.0.1:3000",
                "routes": [
                    { "id": "all", "route": "/", "wildcard": true },
                    { "id": "hello", "route": "/hello", "wildcard": false, "description": "Says hi" },
                    { "id": "files", "route": "/static", "wildcard": true },
                ],
            })
        );
    }

    #[test]
    fn matches_spin_output() {
        let text = render_three(BannerFormat::Plain);
        assert_eq!(
            text,
            "\nServing http://127.0.0.1:3000\nAvailable Routes:\n  all: http://127.0.0.1:3000 (wildcard)\n  hello: http://127.0.0.1:3000/hello\n    Says hi\n  files: http://127.0.0.1:3000/static (wildcard)\n"
        );
    }
}
