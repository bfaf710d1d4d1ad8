//! `containerd-shim-spin-v2`: the binary containerd starts for runtime
//! `io.containerd.spin.v2`.

use containerd_shim_spin::shim::SpinShim;
use containerd_shim_wasm::shim::{Cli as _, Config};

fn main() {
    // `error` keeps the shim's own log quiet: per-request logging costs throughput.
    SpinShim::run(Config {
        default_log_level: "error".to_string(),
        ..Default::default()
    });
}
