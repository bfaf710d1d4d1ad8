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

#[cfg(test)]
mod tests {
    use super::*;

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
