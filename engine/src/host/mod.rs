//! Host capabilities a guest imports. Each capability is one folder with four
//! stages (app, component, instance, link; see `capability.rs`), registered with
//! one line in `state.rs`; `app_host.rs` builds them all for an app.

mod app_host;
mod capability;
mod key_value;
mod labelled;
mod linker;
mod memory;
mod mqtt;
mod outbound;
mod redis;
mod sqlite;
mod state;
#[cfg(test)]
mod test_redis;
mod unsupported;
mod variables;
mod wasi;

pub(crate) use app_host::AppHost;
pub use app_host::HostOptions;
pub(crate) use linker::build_linker;
pub use state::HostState;
pub(crate) use state::InstanceTemplate;
pub(crate) use unsupported::linker_for;
pub use wasi::StdioMode;
