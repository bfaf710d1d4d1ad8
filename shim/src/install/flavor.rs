//! Where each Kubernetes distribution keeps containerd's config, and how it wants
//! it changed.

use std::path::{Path, PathBuf};

/// A node's containerd packaging.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Flavor {
    /// Plain containerd: `/etc/containerd/config.toml`.
    Containerd,
    /// K3s: regenerates `config.toml` from `config.toml.tmpl`.
    K3s,
    /// RKE2: like K3s.
    Rke2,
    /// MicroK8s: `containerd-template.toml` under the snap.
    Microk8s,
    /// k0s: drop-in files in `/etc/k0s/containerd.d/`.
    K0s,
}

/// How the config change is written for a flavor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The file to edit (or create, for drop-ins).
    pub path: PathBuf,
    /// When the file does not exist yet, start from this one (K3s/RKE2 templates
    /// start as a copy of the generated config).
    pub seed_from: Option<PathBuf>,
    /// The file holds only our entries (k0s drop-in).
    pub drop_in: bool,
    /// The command that restarts containerd for this flavor.
    pub restart: &'static [&'static str],
}

impl Flavor {
    /// The edit target under `root` (`/` on a node; a fixture directory in tests).
    pub fn target(self, root: &Path) -> Target {
        let at = |p: &str| root.join(p.trim_start_matches('/'));
        match self {
            Flavor::Containerd => Target {
                path: at("/etc/containerd/config.toml"),
                seed_from: None,
                drop_in: false,
                restart: &["systemctl", "restart", "containerd"],
            },
            Flavor::K3s => Target {
                path: at("/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl"),
                seed_from: Some(at("/var/lib/rancher/k3s/agent/etc/containerd/config.toml")),
                drop_in: false,
                restart: &["systemctl", "restart", "k3s"],
            },
            Flavor::Rke2 => Target {
                path: at("/var/lib/rancher/rke2/agent/etc/containerd/config.toml.tmpl"),
                seed_from: Some(at("/var/lib/rancher/rke2/agent/etc/containerd/config.toml")),
                drop_in: false,
                restart: &["systemctl", "restart", "rke2-agent"],
            },
            Flavor::Microk8s => Target {
                path: at("/var/snap/microk8s/current/args/containerd-template.toml"),
                seed_from: None,
                drop_in: false,
                restart: &["snap", "restart", "microk8s.daemon-containerd"],
            },
            Flavor::K0s => Target {
                path: at("/etc/k0s/containerd.d/spin.toml"),
                seed_from: None,
                drop_in: true,
                restart: &["systemctl", "restart", "k0sworker"],
            },
        }
    }

    /// Guesses the flavor from which config files exist under `root`.
    pub(crate) fn detect(root: &Path) -> Flavor {
        let exists = |p: &str| root.join(p).exists();
        if exists("var/lib/rancher/k3s/agent/etc/containerd") {
            Flavor::K3s
        } else if exists("var/lib/rancher/rke2/agent/etc/containerd") {
            Flavor::Rke2
        } else if exists("var/snap/microk8s/current/args") {
            Flavor::Microk8s
        } else if exists("etc/k0s") {
            Flavor::K0s
        } else {
            Flavor::Containerd
        }
    }
}
