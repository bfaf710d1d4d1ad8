//! containerd-shim-spin: runs Spin applications as containerd tasks (runwasi), and
//! the companion CLI that runs, packages and inspects apps without containerd.

pub mod app_source;
pub mod build_info;
pub mod cli;
pub mod container_env;
pub mod install;
pub mod launcher;
pub mod logging;
pub mod node_key;
pub mod oci_layout;
pub mod package;
pub mod sandbox;
pub mod shim;
pub mod trigger_settings;
pub mod triggers;
