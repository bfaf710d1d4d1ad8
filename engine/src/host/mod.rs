//! Host capabilities a guest imports. Each module follows one shape: configuration
//! (manifest permissions + runtime config) -> per-instance state -> linker registration.

mod connections;
mod destination;
pub mod key_value;
pub mod labelled;
mod linker;
mod memory;
mod outbound_http;
mod outbound_mqtt;
mod outbound_redis;
pub mod sqlite;
mod state;
#[cfg(test)]
mod test_redis;
mod unsupported;
mod variables;
mod wasi;

pub use connections::{ConnectionBudget, ConnectionPermit};
pub use linker::build_linker;
pub use memory::InstanceMemory;
pub use outbound_http::OutboundHttp;
pub use state::{HostState, InstanceTemplate};
pub use unsupported::linker_for;
pub use variables::ComponentVariables;
pub use wasi::{Mount, StdioMode, WasiTemplate};
