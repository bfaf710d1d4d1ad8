//! `spin-shim install`: put shim variants onto a node.

use std::path::PathBuf;

use clap::Args;

use crate::install::{install, manifests, Flavor, InstallOptions, Variant};

/// Arguments of `install`.
#[derive(Args, Debug)]
pub(crate) struct InstallArgs {
    /// Variants to install: `full` and/or slim ones (`http`, `redis`, `sqs`, `command`, `cron`, `mqtt`).
    #[arg(long, value_delimiter = ',', default_value = "full")]
    variants: Vec<Variant>,
    /// Distribution; detected from the config files present when omitted.
    #[arg(long, value_enum)]
    flavor: Option<Flavor>,
    /// Directory containing the built shim binaries (default: this program's directory).
    #[arg(long)]
    from: Option<PathBuf>,
    /// Where to put the binaries (must be on containerd's PATH).
    #[arg(long, default_value = "/usr/local/bin")]
    bin_dir: PathBuf,
    /// Filesystem root of the node (for installing from a container with the host mounted).
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// Print the config diff and the binaries to copy; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Restart containerd (or the distribution's service) after a config change.
    #[arg(long)]
    restart: bool,
    /// Write RuntimeClass manifests to this file (default: print them).
    #[arg(long)]
    runtime_classes: Option<PathBuf>,
    /// Label (KEY=VALUE) the RuntimeClasses require on nodes, via scheduling.nodeSelector.
    #[arg(long)]
    node_label: Option<String>,
}

impl InstallArgs {
    /// Installs and reports what changed.
    pub(crate) fn run(self) -> anyhow::Result<i32> {
        let source_dir = match self.from {
            Some(d) => d,
            None => std::env::current_exe()?.parent().map(PathBuf::from).unwrap_or_default(),
        };
        let flavor = self.flavor.unwrap_or_else(|| Flavor::detect(&self.root));
        let opts = InstallOptions {
            root: self.root,
            flavor,
            bin_dir: self.bin_dir,
            source_dir,
            variants: self.variants.clone(),
            dry_run: self.dry_run,
        };
        let report = install(&opts)?;
        let verb = if self.dry_run { "would copy" } else { "copied" };
        for b in &report.copied {
            eprintln!("{verb} {}", b.display());
        }
        match &report.config_changed {
            Some(path) => {
                eprintln!(
                    "{} {} ({flavor:?}):\n{}",
                    if self.dry_run { "would change" } else { "changed" },
                    path.display(),
                    report.diff
                );
                if let Some(b) = &report.backup {
                    eprintln!("backup: {}", b.display());
                }
            }
            None => eprintln!("containerd config already has every runtime; nothing to change"),
        }
        if report.config_changed.is_some() && !self.dry_run {
            if self.restart {
                let status = std::process::Command::new(&report.restart[0]).args(&report.restart[1..]).status()?;
                anyhow::ensure!(status.success(), "`{}` failed", report.restart.join(" "));
            } else {
                eprintln!("restart containerd to apply: {}", report.restart.join(" "));
            }
        }
        let label = self.node_label.as_deref().map(|l| l.split_once('=').unwrap_or((l, "true")));
        let yaml = manifests(&self.variants, label);
        match self.runtime_classes {
            Some(path) => std::fs::write(path, yaml)?,
            None => print!("{yaml}"),
        }
        Ok(0)
    }
}
