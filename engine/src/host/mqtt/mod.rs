//! Outbound MQTT for guests (`fermyon:spin/mqtt@2.0.0`), gated by the
//! component's `allowed_outbound_hosts` and the instance's connection budget.
//! Nothing to configure.

mod connection;

super::outbound::gate_only_capability!(
    /// The outbound MQTT capability.
    OutboundMqtt,
    &["fermyon:spin/mqtt@2.0.0"],
    connection::add_to_linker
);
