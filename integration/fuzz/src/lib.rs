//! The checks behind each fuzz target: every parser and matcher that sees bytes
//! from an image, a manifest or a client, with the properties that must hold
//! for any input (no panic, and where stated, agreement with another parser).
//! `cargo fuzz run <name>` drives them with libFuzzer (`make fuzz`); the test in
//! `tests/corpus.rs` replays the committed corpus on every test run.

use std::path::Path;

use spin_engine::allowed_hosts::{AllowedHost, AllowedHosts};

/// One fuzz target: takes any bytes, panics only on a broken property.
pub type Target = fn(&[u8]);

/// The targets by name, for the corpus replay.
pub const TARGETS: &[(&str, Target)] = &[
    ("allowed_hosts", allowed_hosts),
    ("guest_url", guest_url),
    ("router", router),
    ("templates", templates),
    ("manifest", manifest),
    ("locked_app", locked_app),
    ("runtime_config", runtime_config),
    ("trigger_configs", trigger_configs),
    ("wasm_sniffing", wasm_sniffing),
];

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// First line: an `allowed_outbound_hosts` entry; second: an address a guest
/// dials. Outbound Redis checks the address as `url::Url` reads it and then
/// connects where the redis crate reads it: whenever the check allows, the
/// redis crate's destination must be allowed too, or a guest could reach a host
/// the check never saw. (Outbound HTTP checks and connects on the same
/// `http::Uri`.)
pub fn allowed_hosts(data: &[u8]) {
    let Some((entry, address)) = text(data).and_then(|t| t.split_once('\n')) else { return };
    let _ = AllowedHost::parse(entry);
    let Ok(hosts) = AllowedHosts::parse(&[entry.to_string()], |t| Ok(t.to_string())) else { return };
    let Ok(url) = url::Url::parse(address) else { return };
    let checked = hosts.allows_url(&url);
    if checked && url.scheme() == "redis" {
        if let Ok(info) = redis::IntoConnectionInfo::into_connection_info(address) {
            match info.addr {
                redis::ConnectionAddr::Tcp(host, port) => assert!(
                    hosts.allows("redis", host.trim_matches(['[', ']']), port),
                    "{address:?} passes the check under {entry:?} but the redis crate dials {host}:{port}"
                ),
                other => panic!("{address:?} passes the check under {entry:?} but the redis crate dials {other:?}"),
            }
        }
    }
}

/// `Host` header bytes, then a path and query: the URL the guest sees keeps
/// exactly the routed path.
pub fn guest_url(data: &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (host, rest) = data.split_at(split);
    let Some(path_and_query) = text(rest.get(1..).unwrap_or_default()) else { return };
    let Ok(pq) = path_and_query.parse::<http::uri::PathAndQuery>() else { return };
    if let Some((url, uri)) = spin_trigger_http::guest_url(&http::uri::Scheme::HTTP, None, Some(host), &pq) {
        assert_eq!(uri.path(), pq.path(), "{url}");
        assert!(url.starts_with("http://"), "{url}");
        assert_eq!(url.parse::<http::Uri>().ok().as_ref(), Some(&uri));
    }
}

/// Lines: routes, then the last line is a request path. `find` returns a route
/// that matches, and none of the matching routes ranks better.
pub fn router(data: &[u8]) {
    use spin_trigger_http::{Route, Router};
    let Some(t) = text(data) else { return };
    let mut lines: Vec<&str> = t.lines().collect();
    let Some(path) = lines.pop() else { return };
    let routes: Vec<Route> = lines.iter().take(32).map(|r| Route::parse(r)).collect();
    let (router, _) = Router::build(routes.iter().cloned().enumerate().map(|(i, r)| (r, i)));
    let best = router.routes().filter(|(r, _)| r.matches(path).is_some()).map(|(r, _)| r.rank()).min();
    match router.find(path) {
        Some((route, _, _)) => {
            assert!(route.matches(path).is_some());
            assert_eq!(Some(route.rank()), best, "find chose {} for {path:?}", route.raw);
        }
        None => assert_eq!(best, None, "a route matches {path:?} but find returned none"),
    }
}

/// Variable templates parse or fail cleanly, and render what they parsed.
pub fn templates(data: &[u8]) {
    let Some(t) = text(data) else { return };
    if let Ok(template) = spin_engine::variables::Template::parse(t) {
        let rendered = template.render(|name| Ok(format!("<{name}>"))).unwrap();
        for name in template.variables() {
            assert!(rendered.contains(&format!("<{name}>")));
        }
    }
}

/// spin.toml text through the whole pipeline: parse (v1 -> v2), normalise, apply
/// a profile (when the text names one), validate.
pub fn manifest(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = spin_engine::manifest::parse_manifest(t, Path::new("spin.toml"), Some("debug"));
    if let Ok(mut m) = spin_engine::manifest::parse_manifest(t, Path::new("spin.toml"), None) {
        spin_engine::manifest::normalize(&mut m);
        let _ = spin_engine::manifest::validate(&m);
    }
}

/// Locked-app JSON: what parses writes back and parses to the same app.
pub fn locked_app(data: &[u8]) {
    if let Ok(app) = spin_engine::locked::LockedApp::from_json(data) {
        let again = app.to_json_pretty().unwrap();
        let back = spin_engine::locked::LockedApp::from_json(again.as_bytes()).unwrap();
        assert_eq!(back.to_json_pretty().unwrap(), again);
    }
}

/// Runtime-config TOML parses or fails with an error.
pub fn runtime_config(data: &[u8]) {
    if let Some(t) = text(data) {
        let _ = spin_engine::runtime_config::RuntimeConfig::parse(t, Path::new("/runtime-config.toml"));
    }
}

/// JSON trigger configs of every type parse or fail with an error.
pub fn trigger_configs(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    use spin_engine::trigger::TriggerEntry;
    let _ = TriggerEntry::<spin_trigger_http::HttpTriggerConfig>::parse("t", &value);
    if let Ok(c) = TriggerEntry::<spin_trigger_cron::CronTriggerConfig>::parse("t", &value) {
        let _ = c.config.schedule();
    }
    let _ = TriggerEntry::<spin_trigger_command::CommandTriggerConfig>::parse("t", &value);
    let _ = TriggerEntry::<spin_trigger_mqtt::RawTriggerConfig>::parse("t", &value);
    let _ = serde_json::from_value::<spin_trigger_mqtt::RawAppConfig>(value);
}

/// Export sniffing and classification of bytes that claim to be wasm.
pub fn wasm_sniffing(data: &[u8]) {
    let _ = spin_engine::loader::is_command(data);
    let _ = spin_engine::runtime::wasm_kind(data);
    let _ = spin_engine::runtime::refuse_native(data, "fuzz");
}
