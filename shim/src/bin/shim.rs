//! `containerd-shim-spin-v2`: the binary containerd starts for runtime
//! `io.containerd.spin.v2` (slim variants are installed as
//! `containerd-shim-spin-<variant>-v2`).

use containerd_shim_spin::SpinShim;
use containerd_shim_wasm::shim::{Cli as _, Config};

fn main() {
    // containerd never passes `--version`; people do. runwasi's own `-v` still works.
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("containerd-shim-spin {}", containerd_shim_spin::version_line());
        return;
    }
    // Before runwasi forks anything: its forks know they are not the daemon,
    // containers find the key in memory only.
    containerd_shim_spin::mark_shim_daemon();
    containerd_shim_spin::load_node_key();
    containerd_shim_spin::open_node_cache();
    // `error` keeps the shim's own log quiet: per-request logging costs throughput.
    SpinShim::run(Config { default_log_level: "error".to_string(), ..Default::default() });
}
