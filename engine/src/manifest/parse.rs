//! The manifest entry point: detect the version, deserialise, convert V1, normalise, validate,
//! and report any failure as one readable line naming the file, position, section and field.

use std::path::Path;

use anyhow::anyhow;

use super::http_hosts::migrate_component;
use super::normalize::normalize;
use super::profile::apply_profile;
use super::v1::AppManifestV1;
use super::v2::AppManifest;
use super::validate::validate;
use super::version::{detect_version, ManifestVersion};

/// Parses spin.toml text (V1 or V2) into a normalised, validated V2 manifest,
/// with the overrides of `profile` (Spin 4's `--profile`) applied.
///
/// `path_for_errors` only prefixes error messages, e.g.
/// `/app/spin.toml: line 9, column 1: in component `hello`: unknown field `sorce`, expected one of ...`.
pub fn parse_manifest(text: &str, path_for_errors: &Path, profile: Option<&str>) -> anyhow::Result<AppManifest> {
    let file = path_for_errors.display();
    let in_file = |e: anyhow::Error| anyhow!("{file}: {e:#}");
    let table: toml::Table = text.parse().map_err(|e| toml_error(path_for_errors, text, &e))?;
    let mut manifest = match detect_version(&table).map_err(|e| in_file(e.into()))? {
        ManifestVersion::V1 => toml::from_str::<AppManifestV1>(text)
            .map_err(|e| toml_error(path_for_errors, text, &e))?
            .into_v2()
            .map_err(in_file)?,
        ManifestVersion::V2 => {
            toml::from_str::<AppManifest>(text).map_err(|e| toml_error(path_for_errors, text, &e))?
        }
    };
    normalize(&mut manifest);
    if let Some(profile) = profile {
        apply_profile(&mut manifest, profile).map_err(in_file)?;
    }
    for (id, component) in manifest.components.iter_mut() {
        migrate_component(id, &mut component.allowed_http_hosts, &mut component.allowed_outbound_hosts);
    }
    validate(&manifest).map_err(in_file)?;
    Ok(manifest)
}

/// Formats a TOML error as `<file>: line L, column C: in <section>: <message>`.
fn toml_error(path: &Path, text: &str, err: &toml::de::Error) -> anyhow::Error {
    let message = err.message().trim().replace('\n', " ");
    let Some(span) = err.span() else {
        return anyhow!("{}: {message}", path.display());
    };
    let offset = span.start.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let section = section_at(text, offset).map(|s| format!(" in {s}:")).unwrap_or_default();
    anyhow!("{}: line {line}, column {column}:{section} {message}", path.display())
}

/// Describes the table (by its last header before `offset`) that a position belongs to.
fn section_at(text: &str, offset: usize) -> Option<String> {
    let mut section = None;
    let mut array_counts = std::collections::HashMap::<String, usize>::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if start > offset {
            break;
        }
        start += line.len();
        let Some((keys, is_array)) = parse_header(line) else {
            continue;
        };
        let joined = keys.join(".");
        let index = if is_array {
            let n = array_counts.entry(joined.clone()).or_default();
            *n += 1;
            *n
        } else {
            0
        };
        let v1_component = array_counts.contains_key("component");
        section = Some(match keys.as_slice() {
            [c] if c == "component" && is_array => format!("[[component]] #{index}"),
            [c, ..] if c == "component" && v1_component => {
                format!("[[component]] #{}", array_counts["component"])
            }
            [c, id, ..] if c == "component" => format!("component `{id}`"),
            [v, name, ..] if v == "variables" => format!("variable `{name}`"),
            [t, ty] if t == "trigger" && is_array => format!("[[trigger.{ty}]] #{index}"),
            _ if is_array => format!("[[{joined}]] #{index}"),
            _ => format!("[{joined}]"),
        });
    }
    section
}

/// Parses a `[a.b]` / `[[a.b]]` header line into its (unquoted) keys.
fn parse_header(line: &str) -> Option<(Vec<String>, bool)> {
    let line = line.trim();
    let (inner, is_array) = if let Some(rest) = line.strip_prefix("[[") {
        (rest.split("]]").next()?, true)
    } else {
        (line.strip_prefix('[')?.split(']').next()?, false)
    };
    let mut keys = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for ch in inner.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '"' | '\'') => quote = Some(ch),
            (None, '.') => keys.push(std::mem::take(&mut current).trim().to_owned()),
            (None, c) => current.push(c),
        }
    }
    keys.push(current.trim().to_owned());
    let valid = keys.iter().all(|k| !k.is_empty() && !k.contains(['=', ',', '[', '{']));
    valid.then_some((keys, is_array))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::v2::{ComponentSource, FileMount};

    const HTTP_RUST: &str = r#"spin_manifest_version = 2

[application]
name = "hello-rust"
version = "0.1.0"
authors = ["Jane Doe <jane@example.com>"]
description = "A Spin HTTP app"

[variables]
greeting = { default = "hello" }
api_token = { required = true, secret = true }

[[trigger.http]]
route = "/..."
component = "hello-rust"

[component.hello-rust]
source = "target/wasm32-wasip1/release/hello_rust.wasm"
allowed_outbound_hosts = []
files = ["static/**/*", { source = "assets", destination = "/assets" }]
[component.hello-rust.variables]
greeting = "{{ greeting }} world"
[component.hello-rust.build]
command = "cargo build --target wasm32-wasip1 --release"
watch = ["src/**/*.rs", "Cargo.toml"]
"#;

    fn parse(text: &str) -> anyhow::Result<AppManifest> {
        parse_manifest(text, Path::new("/app/spin.toml"), None)
    }

    #[test]
    fn parses_a_template_v2_manifest() {
        let m = parse(HTTP_RUST).unwrap();
        assert_eq!(m.application.name, "hello-rust");
        assert!(m.variables["api_token"].secret);
        let t = &m.triggers["http"][0];
        assert_eq!(t.id, "hello-rust-http-trigger");
        assert_eq!(t.config["route"].as_str(), Some("/..."));
        let c = &m.components["hello-rust"];
        assert_eq!(c.source, ComponentSource::Local("target/wasm32-wasip1/release/hello_rust.wasm".into()));
        assert_eq!(
            c.files,
            vec![
                FileMount::Pattern("static/**/*".into()),
                FileMount::Placement { source: "assets".into(), destination: "/assets".into() }
            ]
        );
        assert_eq!(c.variables["greeting"], "{{ greeting }} world");
    }

    #[test]
    fn parses_a_v1_manifest_and_migrates_http_hosts() {
        let text = r#"spin_manifest_version = "1"
name = "spin-hello"
trigger = { type = "http", base = "/" }
version = "1.0.0"

[[component]]
id = "hello"
source = "hello.wasm"
allowed_http_hosts = ["insecure:allow-all"]
[component.trigger]
route = "/hello"
"#;
        let m = parse(text).unwrap();
        let c = &m.components["hello"];
        assert!(c.allowed_http_hosts.is_empty());
        assert_eq!(
            c.allowed_outbound_hosts,
            vec!["redis://*:*", "mysql://*:*", "postgres://*:*", "http://*:*", "https://*:*", "http://self"]
        );
        assert_eq!(m.triggers["http"][0].id, "trigger-hello");
    }

    #[test]
    fn unknown_component_field_names_file_field_and_component() {
        let text = HTTP_RUST.replace("allowed_outbound_hosts = []", "sorce = \"x.wasm\"");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.starts_with("/app/spin.toml: line 19, column 1: in component `hello-rust`:"), "{err}");
        assert!(err.contains("unknown field `sorce`"), "{err}");
        assert!(err.contains("expected one of"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn unknown_application_and_top_level_fields() {
        let text = HTTP_RUST.replace("version = \"0.1.0\"", "verison = \"0.1.0\"");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("in [application]: unknown field `verison`"), "{err}");
        let text = format!("{HTTP_RUST}\n[extra]\nx = 1\n");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("unknown field `extra`"), "{err}");
    }

    #[test]
    fn unknown_field_in_inline_component() {
        let text = r#"spin_manifest_version = 2
[application]
name = "x"
[[trigger.http]]
route = "/"
component = { source = "a.wasm", enviroment = { A = "b" } }
"#;
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("unknown field `enviroment`"), "{err}");
        assert!(err.starts_with("/app/spin.toml: "), "{err}");
    }

    #[test]
    fn bad_source_table_and_syntax_errors() {
        let text = HTTP_RUST.replace(
            "source = \"target/wasm32-wasip1/release/hello_rust.wasm\"",
            "source = { url = \"https://x/a.wasm\" }",
        );
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("invalid component source"), "{err}");
        let err = parse("spin_manifest_version = 2\n[application\n").unwrap_err().to_string();
        assert!(err.starts_with("/app/spin.toml: line 2"), "{err}");
    }

    #[test]
    fn version_errors_name_the_file() {
        let err = parse("spin_manifest_version = 3\n").unwrap_err().to_string();
        assert!(err.starts_with("/app/spin.toml: InvalidVersion"), "{err}");
    }

    #[test]
    fn registry_and_remote_sources_parse() {
        let text = r#"spin_manifest_version = 2
[application]
name = "x"
[[trigger.http]]
route = "/"
component = "a"
[component.a]
source = { url = "https://example.com/a.wasm", digest = "sha256:abc" }
[component.b]
source = { package = "ns:pkg", version = "1.0.0" }
"#;
        let m = parse(text).unwrap();
        assert!(matches!(m.components["a"].source, ComponentSource::Remote { .. }));
        assert!(matches!(m.components["b"].source, ComponentSource::Registry { .. }));
    }

    #[test]
    fn header_parsing() {
        assert_eq!(
            parse_header("[component.\"my-comp\".build] # c"),
            Some((vec!["component".into(), "my-comp".into(), "build".into()], false))
        );
        assert_eq!(parse_header("[[trigger.http]]"), Some((vec!["trigger".into(), "http".into()], true)));
        assert_eq!(parse_header("route = \"/\""), None);
        assert_eq!(parse_header("[1, 2]"), None);
    }
}
