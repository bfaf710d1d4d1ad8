//! Adds runtime handlers to a containerd config, in the schema the file uses:
//! 1.x (`version = 2`) `plugins."io.containerd.grpc.v1.cri".containerd.runtimes.<h>`,
//! 2.x (`version = 3`) `plugins."io.containerd.cri.v1.runtime".containerd.runtimes.<h>`.
//! Formatting and comments of the rest of the file are kept.
//!
//! A node whose runc runs with `SystemdCgroup = true` (the kubelet's systemd
//! cgroup driver) has its Pods' cgroups named as systemd slices; our handlers
//! get the same `options.SystemdCgroup = true` (runwasi reads it from the
//! runtime's options), or their containers would be placed by cgroupfs rules
//! under a slice name. A handler whose options already say it is left alone.

use anyhow::Context as _;
use toml_edit::{value, DocumentMut, Item, Table};

/// One runtime handler to add: `handler` -> `runtime_type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RuntimeEntry {
    /// The CRI handler name a RuntimeClass uses (`spin`, `spin-http`, ...).
    pub handler: String,
    /// containerd's runtime name (`io.containerd.spin.v2`, ...).
    pub runtime_type: String,
}

/// The CRI plugin key for a config of `version`.
pub(crate) fn cri_plugin_key(version: i64) -> &'static str {
    if version >= 3 {
        "io.containerd.cri.v1.runtime"
    } else {
        "io.containerd.grpc.v1.cri"
    }
}

/// Returns `text` with `entries` present (an existing handler is updated in place).
/// An empty `text` becomes a minimal `version = 2` config.
pub(crate) fn add_runtimes(text: &str, entries: &[RuntimeEntry]) -> anyhow::Result<String> {
    let mut doc: DocumentMut = if text.trim().is_empty() {
        "version = 2\n".parse()?
    } else {
        text.parse().context("the containerd config is not valid TOML")?
    };
    let version = doc.get("version").and_then(Item::as_integer).unwrap_or(1);
    let key = cri_plugin_key(version);
    let containerd = table_path(doc.as_table_mut(), &["plugins", key, "containerd"])?;
    let default_runtime = containerd.get("default_runtime_name").and_then(Item::as_str).map(str::to_owned);
    let runtimes = table_path(containerd, &["runtimes"])?;
    let systemd = uses_systemd_cgroup(runtimes, default_runtime.as_deref());
    for e in entries {
        let entry = table_path(runtimes, &[e.handler.as_str()])?;
        if entry.get("runtime_type").and_then(Item::as_str) != Some(e.runtime_type.as_str()) {
            entry.insert("runtime_type", value(e.runtime_type.as_str()));
        }
        if systemd {
            let options = table_path(entry, &["options"])?;
            options.set_implicit(false);
            if !options.contains_key(SYSTEMD_CGROUP) {
                options.insert(SYSTEMD_CGROUP, value(true));
            }
        }
    }
    Ok(doc.to_string())
}

/// The runc option (and runwasi's) that puts containers in systemd-managed cgroups.
const SYSTEMD_CGROUP: &str = "SystemdCgroup";

/// Whether the node's runc (the default runtime, else `runc`) runs with
/// `options.SystemdCgroup = true`.
fn uses_systemd_cgroup(runtimes: &Table, default_runtime: Option<&str>) -> bool {
    let runc = default_runtime.and_then(|name| runtimes.get(name)).or_else(|| runtimes.get("runc"));
    runc.and_then(|r| r.get("options")).and_then(|o| o.get(SYSTEMD_CGROUP)).and_then(Item::as_bool) == Some(true)
}

/// Walks (creating as needed) nested tables; implicit parents stay out of the file.
fn table_path<'a>(mut table: &'a mut Table, path: &[&str]) -> anyhow::Result<&'a mut Table> {
    for (i, key) in path.iter().enumerate() {
        let item = table.entry(key).or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        table = item
            .as_table_mut()
            .with_context(|| format!("`{}` in the containerd config is not a table", path[..=i].join(".")))?;
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin() -> Vec<RuntimeEntry> {
        vec![
            RuntimeEntry { handler: "spin".into(), runtime_type: "io.containerd.spin.v2".into() },
            RuntimeEntry { handler: "spin-http".into(), runtime_type: "io.containerd.spin-http.v2".into() },
        ]
    }

    #[test]
    fn keeps_comments_and_is_idempotent() {
        let text =
            "# node config\nversion = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"pause:3.9\"\n";
        let once = add_runtimes(text, &spin()).unwrap();
        assert!(once.starts_with("# node config\n"), "{once}");
        assert_eq!(add_runtimes(&once, &spin()).unwrap(), once);
        let parsed: toml::Table = toml::from_str(&once).unwrap();
        let rt = &parsed["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"];
        assert_eq!(rt["spin"]["runtime_type"].as_str(), Some("io.containerd.spin.v2"));
        assert_eq!(parsed["plugins"]["io.containerd.grpc.v1.cri"]["sandbox_image"].as_str(), Some("pause:3.9"));
    }

    #[test]
    fn version_3_uses_the_containerd_2_key() {
        let out = add_runtimes("version = 3\n", &spin()).unwrap();
        let parsed: toml::Table = toml::from_str(&out).unwrap();
        assert!(parsed["plugins"]["io.containerd.cri.v1.runtime"]["containerd"]["runtimes"]["spin-http"].is_table());
        assert!(parsed["plugins"].get("io.containerd.grpc.v1.cri").is_none());
    }

    #[test]
    fn handlers_follow_runcs_systemd_cgroup_setting() {
        let systemd = "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n";
        let out = add_runtimes(systemd, &spin()).unwrap();
        let parsed: toml::Table = toml::from_str(&out).unwrap();
        let rt = &parsed["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"];
        assert_eq!(rt["spin"]["options"]["SystemdCgroup"].as_bool(), Some(true), "{out}");
        assert_eq!(rt["spin-http"]["options"]["SystemdCgroup"].as_bool(), Some(true), "{out}");
        assert_eq!(add_runtimes(&out, &spin()).unwrap(), out);
        // The admin's own choice for a handler stays.
        let chosen = format!("{systemd}[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.spin.options]\n  SystemdCgroup = false\n");
        let parsed: toml::Table = toml::from_str(&add_runtimes(&chosen, &spin()).unwrap()).unwrap();
        let rt = &parsed["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"];
        assert_eq!(rt["spin"]["options"]["SystemdCgroup"].as_bool(), Some(false));
        let cgroupfs = add_runtimes("version = 2\n", &spin()).unwrap();
        assert!(!cgroupfs.contains("SystemdCgroup"), "{cgroupfs}");
    }

    #[test]
    fn refuses_invalid_toml() {
        assert!(add_runtimes("version = = 2", &spin()).is_err());
    }
}
