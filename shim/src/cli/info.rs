//! `spin-shim info`.

use clap::Args;
use spin_engine::runtime::{build_engine, compatibility_key};

use crate::build_info::{SPIN_COMPATIBILITY, VERSION, WASMTIME_VERSION};
use crate::triggers::compiled_types;
use crate::worlds::worlds;

/// Arguments of `info`.
#[derive(Args, Debug)]
pub(crate) struct InfoArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl InfoArgs {
    /// Prints the build description.
    pub(crate) fn run(self) -> anyhow::Result<i32> {
        let triggers = compiled_types();
        let worlds = worlds(&triggers);
        // Names the precompiled-artifact cache this build reads and writes: equal
        // keys mean artifacts compiled by one build (any variant) load in the other.
        let precompile_key =
            compatibility_key(&build_engine(&crate::settings::engine_options(&std::env::vars().collect())?)?);
        if self.json {
            let v = serde_json::json!({
                "version": VERSION,
                "triggers": triggers,
                "wasmtime": WASMTIME_VERSION,
                "spin_compatibility": SPIN_COMPATIBILITY,
                "worlds": worlds,
                "precompile_key": precompile_key,
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
        } else {
            println!("version: {VERSION}");
            println!("triggers: {}", triggers.join(", "));
            println!("wasmtime: {WASMTIME_VERSION}");
            println!("spin compatibility: {SPIN_COMPATIBILITY}");
            println!("worlds:");
            for w in &worlds {
                let status = if w.served { "served" } else { "refused (pre-release)" };
                println!("  {} [{}] exports {}: {status}; {}", w.world, w.trigger, w.export, w.sdks);
            }
            println!("precompile key: {precompile_key}");
        }
        Ok(0)
    }
}
