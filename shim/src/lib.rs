//! containerd-shim-spin: runs Spin applications as containerd tasks (runwasi), and
//! the companion CLI that runs, packages and inspects apps without containerd.
//! Its face: the shim and the CLI the two binaries start, the node installer,
//! and the OCI image writer the integration tests build images with.

mod app_source;
mod build_info;
mod cli;
mod container_env;
mod install;
mod launcher;
mod logging;
mod node_cache;
mod node_key;
mod oci_layout;
mod package;
mod registry;
mod retain;
mod sandbox;
mod settings;
mod shim;
mod start_up_memory;
mod termination_message;
mod triggers;
mod worlds;

pub use build_info::version_line;
pub use cli::Cli;
pub use install::{install, Flavor, InstallOptions, Report, Target, Variant};
pub use logging::init as init_logging;
pub use node_cache::open as open_node_cache;
pub use node_key::load as load_node_key;
pub use oci_layout::{host_architecture, LayerFile, SingleLayerImage};
pub use shim::SpinShim;
pub use spin_engine::host::install_crypto_provider;
pub use start_up_memory::mark_shim_daemon;
