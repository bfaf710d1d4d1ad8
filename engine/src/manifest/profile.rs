//! Named profiles (Spin 4): `[component.x.profile.<name>]` replaces the
//! component's `source` and adds to its `environment` and `dependencies` when
//! that profile is chosen. A component without the profile keeps its own
//! settings; a profile no component defines is a mistake and is refused.

use anyhow::bail;

use super::v2::AppManifest;

/// Applies `profile`'s overrides to every component that defines it.
pub(crate) fn apply_profile(manifest: &mut AppManifest, profile: &str) -> anyhow::Result<()> {
    if !manifest.components.values().any(|c| c.profile.contains_key(profile)) {
        bail!("profile `{profile}` is not defined in this application");
    }
    for component in manifest.components.values_mut() {
        let Some(overrides) = component.profile.get(profile).cloned() else { continue };
        if let Some(source) = overrides.source {
            component.source = source;
        }
        component.environment.extend(overrides.environment);
        component.dependencies.extend(overrides.dependencies);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::manifest::parse_manifest;
    use crate::manifest::v2::ComponentSource;

    const APP: &str = r#"spin_manifest_version = 2
[application]
name = "profiles"
[[trigger.http]]
route = "/..."
component = "api"
[[trigger.http]]
route = "/static/..."
component = { source = "static.wasm", profile.debug.environment = { LEVEL = "trace" } }
[component.api]
source = "release.wasm"
environment = { LEVEL = "info", KEPT = "yes" }
dependencies = { "a:b/c" = { path = "release-dep.wasm" } }
[component.api.profile.debug]
source = "debug.wasm"
environment = { LEVEL = "debug" }
dependencies = { "a:b/c" = { path = "debug-dep.wasm" }, "x:y/z" = { path = "extra.wasm" } }
build.command = "cargo build"
"#;

    fn parse(profile: Option<&str>) -> anyhow::Result<crate::manifest::AppManifest> {
        parse_manifest(APP, Path::new("/app/spin.toml"), profile)
    }

    #[test]
    fn a_profile_replaces_the_source_and_adds_environment_and_dependencies() {
        let m = parse(Some("debug")).unwrap();
        let api = &m.components["api"];
        assert_eq!(api.source, ComponentSource::Local("debug.wasm".into()));
        assert_eq!(api.environment["LEVEL"], "debug");
        assert_eq!(api.environment["KEPT"], "yes");
        assert_eq!(api.dependencies.len(), 2);
        // The inline component was hoisted first, and its profile applies too.
        let inline = m.components.values().find(|c| c.source == ComponentSource::Local("static.wasm".into())).unwrap();
        assert_eq!(inline.environment["LEVEL"], "trace");
    }

    #[test]
    fn without_a_profile_nothing_changes_and_an_unknown_profile_is_refused() {
        let m = parse(None).unwrap();
        assert_eq!(m.components["api"].source, ComponentSource::Local("release.wasm".into()));
        assert_eq!(m.components["api"].environment["LEVEL"], "info");
        let err = format!("{:#}", parse(Some("deubg")).unwrap_err());
        assert_eq!(err, "/app/spin.toml: profile `deubg` is not defined in this application");
    }

    #[test]
    fn unknown_fields_of_a_profile_are_refused() {
        let text = APP.replace("build.command = \"cargo build\"", "sorce = \"x.wasm\"");
        let err = format!("{:#}", parse_manifest(&text, Path::new("/app/spin.toml"), None).unwrap_err());
        assert!(err.contains("unknown field `sorce`"), "{err}");
    }
}
