//! `spin-shim`: the companion CLI of containerd-shim-spin.

use clap::Parser as _;

fn main() {
    containerd_shim_spin::init_logging(std::env::var("RUST_LOG").ok().as_deref());
    containerd_shim_spin::install_crypto_provider();
    let code = match containerd_shim_spin::Cli::parse().run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            1
        }
    };
    std::process::exit(code);
}
