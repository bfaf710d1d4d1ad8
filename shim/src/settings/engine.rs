//! The wasmtime engine's tunables from the documented `SPIN_WASMTIME_*`
//! variables, over the engine's defaults.

use std::collections::BTreeMap;

use spin_engine::runtime::EngineOptions;

use super::env::env_value;

/// `0`, `false` or `off` allocates instances on demand (`spin-shim up --disable-pooling`).
pub(crate) const WASMTIME_POOLING: &str = "SPIN_WASMTIME_POOLING";

/// [`EngineOptions`] with the variables in `env` applied.
pub(crate) fn engine_options(env: &BTreeMap<String, String>) -> anyhow::Result<EngineOptions> {
    let mut opts = EngineOptions::default();
    if let Some(v) = parsed::<u32>(env, "SPIN_WASMTIME_INSTANCE_COUNT")? {
        opts.pool_instances = Some(v);
    }
    if let Some(v) = parsed::<usize>(env, "SPIN_WASMTIME_KEEP_RESIDENT")? {
        opts.pool_keep_resident = v;
    }
    if let Some(v) = parsed(env, "SPIN_WASMTIME_FIRST_START_COMPILER")? {
        opts.first_start_compiler = v;
    }
    if let Some(v) = env_value(env, WASMTIME_POOLING) {
        opts.pooling = !matches!(v, "0" | "false" | "off");
    }
    Ok(opts)
}

fn parsed<T: std::str::FromStr>(env: &BTreeMap<String, String>, name: &str) -> anyhow::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    env_value(env, name)
        .map(|v| v.parse().map_err(|e| anyhow::anyhow!("environment variable {name}={v:?} is invalid: {e}")))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_engine::runtime::FirstStartCompiler;

    #[test]
    fn wasmtime_variables_override_the_defaults_and_name_themselves_when_wrong() {
        let env = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let opts =
            engine_options(&env(&[("SPIN_WASMTIME_INSTANCE_COUNT", "7"), ("SPIN_WASMTIME_POOLING", "off")])).unwrap();
        assert_eq!((opts.pool_instances, opts.pooling), (Some(7), false));
        let err = engine_options(&env(&[("SPIN_WASMTIME_KEEP_RESIDENT", "lots")])).unwrap_err().to_string();
        assert!(err.contains("SPIN_WASMTIME_KEEP_RESIDENT"), "{err}");
        assert_eq!(engine_options(&env(&[])).unwrap().first_start_compiler, FirstStartCompiler::Winch);
        let opts = engine_options(&env(&[("SPIN_WASMTIME_FIRST_START_COMPILER", "cranelift")])).unwrap();
        assert_eq!(opts.first_start_compiler, FirstStartCompiler::Cranelift);
        let err = engine_options(&env(&[("SPIN_WASMTIME_FIRST_START_COMPILER", "llvm")])).unwrap_err().to_string();
        assert_eq!(
            err,
            "environment variable SPIN_WASMTIME_FIRST_START_COMPILER=\"llvm\" is invalid: expected `winch` or `cranelift`"
        );
    }
}
