//! Outbound Redis for guests (`spin:redis/redis@3.0.0`, `fermyon:spin/redis@2.0.0`,
//! and the function-less
//! Spin 1 `redis-types`), gated by the component's `allowed_outbound_hosts` and
//! the instance's connection budget. Nothing to configure.

mod connection;
mod v3;

pub(crate) use connection::check_tcp_scheme;

super::outbound::gate_only_capability!(
    /// The outbound Redis capability.
    OutboundRedis,
    &["spin:redis/redis@3.0.0", "fermyon:spin/redis@2.0.0", connection::V1_REDIS_TYPES],
    add_to_linker
);

/// Adds both versions of the interface to `linker`.
fn add_to_linker<T: super::capability::HasCapability<OutboundRedis>>(
    linker: &mut wasmtime::component::Linker<T>,
) -> anyhow::Result<()> {
    v3::add_to_linker(linker)?;
    connection::add_to_linker(linker)
}
