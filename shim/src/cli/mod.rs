//! The companion CLI (`spin-shim`): build and run an app without containerd,
//! package it as an OCI image, and describe this build.

mod build;
mod info;
mod install;
mod package_cmd;
mod registry_cmd;
mod up;
mod variable_arg;

use clap::{Parser, Subcommand};

/// Run, package and inspect Spin apps with the runtime of containerd-shim-spin.
#[derive(Parser, Debug)]
#[command(name = "spin-shim", version = crate::build_info::version_line(), about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run an app, like `spin up`.
    Up(Box<up::UpArgs>),
    /// Run the components' build commands, like `spin build`.
    Build(build::BuildArgs),
    /// Pack an app directory into an OCI image layout tar for `ctr images import`.
    Package(package_cmd::PackageArgs),
    /// Push or pull Spin OCI artifacts, as `spin registry push | pull`.
    Registry(registry_cmd::RegistryArgs),
    /// Print what this build contains: trigger types, wasmtime version, Spin level.
    Info(info::InfoArgs),
    /// Install shim variants onto this node: binaries, containerd config, RuntimeClasses.
    Install(install::InstallArgs),
}

/// Parses `KEY=VALUE`.
fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))
}

impl Cli {
    /// Runs the chosen command; returns the process exit code.
    pub fn run(self) -> anyhow::Result<i32> {
        match self.command {
            Command::Up(a) => a.run(),
            Command::Build(a) => a.run(),
            Command::Package(a) => a.run(),
            Command::Registry(a) => a.run(),
            Command::Info(a) => a.run(),
            Command::Install(a) => a.run(),
        }
    }
}
