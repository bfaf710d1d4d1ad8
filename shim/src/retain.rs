//! Selective deployment: running some of an app's components
//! (`SPIN_COMPONENTS_TO_RETAIN` in a container, `spin-shim up -c` on the CLI).

use spin_engine::locked::LockedApp;

/// Keeps only the components named in `keep` (`SPIN_COMPONENTS_TO_RETAIN`,
/// `spin-shim up -c`) and the triggers that use them. As Spin, a kept
/// component may not chain to one that is dropped, nor to any component
/// (`*.spin.internal`): that refuses the start rather than failing its requests.
pub(crate) fn retain_components(app: &mut LockedApp, keep: &[&str]) -> anyhow::Result<()> {
    for id in keep {
        if app.component(id).is_none() {
            anyhow::bail!("Specified component \"{id}\" not found in application");
        }
    }
    for component in app.components.iter().filter(|c| keep.contains(&c.id.as_str())) {
        for target in component.allowed_outbound_hosts().iter().filter_map(|host| chaining_target(host)) {
            if target == "*" {
                anyhow::bail!(
                    "Selected component '{}' cannot use wildcard service chaining: \
                     allowed_outbound_hosts = [\"http://*.spin.internal\"]",
                    component.id
                );
            }
            if !keep.contains(&target.as_str()) {
                anyhow::bail!(
                    "Selected component '{}' cannot use service chaining to unselected component: \
                     allowed_outbound_hosts = [\"http://{target}.spin.internal\"]",
                    component.id
                );
            }
        }
    }
    app.components.retain(|c| keep.contains(&c.id.as_str()));
    app.triggers.retain(|t| t.component_id().map(|c| keep.contains(&c)).unwrap_or(false));
    Ok(())
}

/// The component an `allowed_outbound_hosts` entry chains to (`*` for every
/// one), if it is a service-chaining entry; templated entries are not yet
/// resolved and are passed over, as Spin passes them over.
fn chaining_target(entry: &str) -> Option<String> {
    let uri: http::Uri = entry.parse().ok()?;
    let target = uri.host()?.strip_suffix(spin_engine::host::SPIN_INTERNAL_SUFFIX)?;
    Some(target.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_component_may_chain_only_to_kept_ones() {
        let app = |hosts: &str| -> LockedApp {
            let component = |id: &str, hosts: &str| {
                format!(
                    r#"{{"id":"{id}","metadata":{{"allowed_outbound_hosts":{hosts}}},"source":{{"content_type":"application/wasm","content":{{}}}}}}"#
                )
            };
            let trigger = |id: &str| {
                format!(
                    r#"{{"id":"t-{id}","trigger_type":"http","trigger_config":{{"component":"{id}","route":"/{id}"}}}}"#
                )
            };
            let text = format!(
                r#"{{"spin_lock_version":1,"metadata":{{"name":"a"}},"triggers":[{},{},{}],"components":[{},{},{}]}}"#,
                trigger("front"),
                trigger("back"),
                trigger("other"),
                component("front", hosts),
                component("back", "[]"),
                component("other", "[]")
            );
            serde_json::from_str(&text).unwrap()
        };
        let retained = |hosts: &str, ids: &str| {
            let mut app = app(hosts);
            retain_components(&mut app, &ids.split(',').collect::<Vec<_>>())
                .map(|()| app.components.iter().map(|c| c.id.clone()).collect::<Vec<_>>())
        };
        assert_eq!(retained(r#"["http://back.spin.internal"]"#, "front,back").unwrap(), ["front", "back"]);
        let dropped = retained(r#"["http://back.spin.internal"]"#, "front").unwrap_err().to_string();
        assert_eq!(
            dropped,
            "Selected component 'front' cannot use service chaining to unselected component: \
             allowed_outbound_hosts = [\"http://back.spin.internal\"]"
        );
        let wildcard = retained(r#"["http://*.spin.internal"]"#, "front,back,other").unwrap_err().to_string();
        assert!(wildcard.contains("cannot use wildcard service chaining"), "{wildcard}");
        // A template is not resolved yet, and a dropped component's own chaining does not matter.
        assert!(retained(r#"["http://{{ host }}.spin.internal"]"#, "front").is_ok());
        assert_eq!(retained(r#"["http://back.spin.internal"]"#, "back").unwrap(), ["back"]);
        assert_eq!(
            retained("[]", "ghost").unwrap_err().to_string(),
            "Specified component \"ghost\" not found in application"
        );
    }
}
