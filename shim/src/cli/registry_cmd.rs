//! `spin-shim registry push | pull`: Spin OCI artifacts without the spin CLI.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use spin_engine::loader::AppSource;

use super::build::build_app;
use crate::registry::{build, Layout, Registry};

/// Variable that turns on archive layers for files, as for `spin registry push`.
pub(crate) const ARCHIVE_LAYERS_VAR: &str = "SPIN_OCI_ARCHIVE_LAYERS";

/// Arguments of `registry`.
#[derive(Args, Debug)]
pub(crate) struct RegistryArgs {
    #[command(subcommand)]
    command: RegistryCommand,
}

#[derive(Subcommand, Debug)]
enum RegistryCommand {
    /// Push an app as a Spin OCI artifact, as `spin registry push` lays it out.
    Push(PushArgs),
    /// Pull a Spin OCI artifact (or a wkg package) into a folder `up` runs.
    Pull(PullArgs),
}

#[derive(Args, Debug)]
struct PushArgs {
    /// The app: a spin.toml, or a directory holding one.
    #[arg(short = 'f', long = "from", default_value = ".")]
    app: PathBuf,
    /// Speak plain HTTP to the registry (a local one).
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Manifest annotation KEY=VALUE (repeatable; wins over the inferred ones).
    #[arg(long = "annotation", value_parser = super::parse_kv)]
    annotations: Vec<(String, String)>,
    /// Compose component dependencies into their component before the push
    /// (`--compose=false`: push each as a layer, composed at start).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    compose: bool,
    /// Push the app as this named profile has it (`[component.x.profile.<name>]`).
    #[arg(long)]
    profile: Option<String>,
    /// Run the components' build commands first (as `spin-shim build`).
    #[arg(long, env = "SPIN_ALWAYS_BUILD", value_parser = clap::builder::BoolishValueParser::new())]
    build: bool,
    /// The reference to push to, e.g. `registry.example/me/app:v1`.
    reference: String,
}

#[derive(Args, Debug)]
struct PullArgs {
    /// Speak plain HTTP to the registry (a local one).
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Folder to write `spin.lock` and `content/` into.
    #[arg(short, long, default_value = ".")]
    output: PathBuf,
    /// The reference to pull.
    reference: String,
}

impl RegistryArgs {
    /// Runs the subcommand.
    pub(crate) fn run(self) -> anyhow::Result<i32> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        match self.command {
            RegistryCommand::Push(a) => {
                let layout = Layout { archive: std::env::var_os(ARCHIVE_LAYERS_VAR).is_some(), compose: a.compose };
                if let Some(manifest) = AppSource::detect(&a.app).manifest().filter(|_| a.build) {
                    build_app(&manifest, a.profile.as_deref(), &[])?;
                }
                let annotations: BTreeMap<String, String> = a.annotations.into_iter().collect();
                let artifact = build(&a.app, a.profile.as_deref(), layout, &annotations)?;
                let digest = rt.block_on(Registry::new(a.insecure).push(&a.reference, &artifact))?;
                println!("Pushed with digest {digest}");
            }
            RegistryCommand::Pull(a) => {
                let loaded = rt.block_on(Registry::new(a.insecure).pull(&a.reference, &a.output))?;
                let lock = a.output.join("spin.lock");
                std::fs::write(&lock, loaded.locked.to_json_pretty()?)?;
                println!("Pulled {} into {}", a.reference, lock.display());
            }
        }
        Ok(0)
    }
}
