//! The container's environment as the app sees it: read once into a map that
//! settings are parsed from (the process environment is left alone), and each
//! app variable `name` readable from a container variable `NAME` as well as
//! `SPIN_VARIABLE_NAME`.

use std::collections::BTreeMap;

use spin_engine::locked::LockedApp;

/// Parses OCI `KEY=VALUE` strings (entries without `=` are ignored).
pub(crate) fn parse(envs: &[String]) -> BTreeMap<String, String> {
    envs.iter().filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Adds `SPIN_VARIABLE_<NAME>` for each app variable that the container sets as
/// `<NAME>` (upper case), unless `SPIN_VARIABLE_<NAME>` is set already.
pub(crate) fn with_variable_aliases(app: &LockedApp, mut env: BTreeMap<String, String>) -> BTreeMap<String, String> {
    for name in app.variables.keys() {
        let upper = name.to_ascii_uppercase();
        let key = format!("SPIN_VARIABLE_{upper}");
        if let (Some(v), false) = (env.get(&upper).cloned(), env.contains_key(&key)) {
            env.insert(key, v);
        }
    }
    env
}

/// wasm-pkg's config file as the container's environment places it (for
/// registry packages): `$XDG_CONFIG_HOME/wasm-pkg/config.toml`, else
/// `$HOME/.config/...`, else `/.config/...`, in the container's filesystem.
pub(crate) fn wasm_pkg_config(env: &BTreeMap<String, String>) -> std::path::PathBuf {
    let non_empty = |key: &str| env.get(key).filter(|v| !v.is_empty()).map(std::path::PathBuf::from);
    let config_home = non_empty("XDG_CONFIG_HOME")
        .or_else(|| non_empty("HOME").map(|home| home.join(".config")))
        .unwrap_or_else(|| std::path::PathBuf::from("/.config"));
    config_home.join("wasm-pkg").join("config.toml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wasm_pkg_config_file_follows_the_containers_environment() {
        let at = |envs: &[&str]| {
            let envs: Vec<String> = envs.iter().map(|e| e.to_string()).collect();
            wasm_pkg_config(&parse(&envs)).display().to_string()
        };
        assert_eq!(at(&["XDG_CONFIG_HOME=/cfg", "HOME=/home/app"]), "/cfg/wasm-pkg/config.toml");
        assert_eq!(at(&["XDG_CONFIG_HOME=", "HOME=/home/app"]), "/home/app/.config/wasm-pkg/config.toml");
        assert_eq!(at(&[]), "/.config/wasm-pkg/config.toml");
    }

    #[test]
    fn aliases_upper_case_names_without_overriding() {
        let mut app: LockedApp = serde_json::from_str(
            r#"{"spin_lock_version":1,"metadata":{"name":"a"},"variables":{"api_key":{"secret":true},"mode":{"default":"x"}},"triggers":[],"components":[]}"#,
        )
        .unwrap();
        app.variables.get_mut("api_key").unwrap().secret = true;
        let env = parse(&["API_KEY=k1".into(), "MODE=fast".into(), "SPIN_VARIABLE_MODE=slow".into(), "junk".into()]);
        let env = with_variable_aliases(&app, env);
        assert_eq!(env["SPIN_VARIABLE_API_KEY"], "k1");
        assert_eq!(env["SPIN_VARIABLE_MODE"], "slow");
    }
}
