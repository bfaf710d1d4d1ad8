//! Outbound MQTT for guests (`spin:mqtt/mqtt@3.0.0`, `fermyon:spin/mqtt@2.0.0`), gated by the
//! component's `allowed_outbound_hosts` and the instance's connection budget.
//! Nothing to configure.

mod connection;
mod v3;

super::outbound::gate_only_capability!(
    /// The outbound MQTT capability.
    OutboundMqtt,
    &["spin:mqtt/mqtt@3.0.0", "fermyon:spin/mqtt@2.0.0"],
    add_to_linker
);

/// Adds both versions of the interface to `linker`.
fn add_to_linker<T: super::capability::HasCapability<OutboundMqtt>>(
    linker: &mut wasmtime::component::Linker<T>,
) -> anyhow::Result<()> {
    v3::add_to_linker(linker)?;
    connection::add_to_linker(linker)
}
