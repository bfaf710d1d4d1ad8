//! The `Serving http://...` / `Available Routes:` lines that `spin up` prints and
//! test harnesses scrape.

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

/// Renders Spin's start-up banner for `addr`.
pub(crate) fn render(addr: SocketAddr, routes: &[RouteLine<'_>]) -> String {
    let base = format!("http://{addr}");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_spin_output() {
        let all = Route::parse("/...");
        let hello = Route::parse("/hello");
        let stat = Route::parse("/static/...");
        let text = render(
            "127.0.0.1:3000".parse().unwrap(),
            &[
                RouteLine { id: "all", route: &all, description: None },
                RouteLine { id: "hello", route: &hello, description: Some("Says hi") },
                RouteLine { id: "files", route: &stat, description: None },
            ],
        );
        assert_eq!(
            text,
            "\nServing http://127.0.0.1:3000\nAvailable Routes:\n  all: http://127.0.0.1:3000 (wildcard)\n  hello: http://127.0.0.1:3000/hello\n    Says hi\n  files: http://127.0.0.1:3000/static (wildcard)\n"
        );
    }
}
