//! Outbound Redis for guests (`fermyon:spin/redis@2.0.0`, and the function-less
//! Spin 1 `redis-types`), gated by the component's `allowed_outbound_hosts` and
//! the instance's connection budget. Nothing to configure.

mod connection;

pub(crate) use connection::check_tcp_scheme;

super::outbound::gate_only_capability!(
    /// The outbound Redis capability.
    OutboundRedis,
    &["fermyon:spin/redis@2.0.0", connection::V1_REDIS_TYPES],
    connection::add_to_linker
);
