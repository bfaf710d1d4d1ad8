//! Host capabilities a guest imports. Each capability is one folder with four
//! stages (app, component, instance, link; see `capability.rs`), listed with one
//! line below; `app_host.rs` builds them all for an app, `state.rs` holds them in
//! the store.

mod app_host;
mod capability;
mod case_map;
mod channel_stream;
mod labelled;
mod linker;
mod memory;
mod outbound;
mod rdbms_v2;
mod seeds;
mod state;
mod stdio;
#[cfg(test)]
mod test_redis;
mod unsupported;
mod wasi;
mod wasi_http_rc;

// The capabilities, one line each: `folder::Type` (its `Capability` impl).
state::capabilities! {
    variables::Variables,
    key_value::KeyValue,
    sqlite::Sqlite,
    redis::OutboundRedis,
    mqtt::OutboundMqtt,
    postgres::OutboundPostgres,
    mysql::OutboundMysql,
    otel::Otel,
}

pub(crate) use app_host::AppHost;
pub use app_host::{check_runtime_config, HostOptions};
pub(crate) use linker::build_linker;
#[cfg(test)]
pub(crate) use linker::is_provided;
pub use outbound::{
    install_crypto_provider, pem_certificates, LocalHttp, LocalRoutes, LocalTarget, SPIN_INTERNAL_SUFFIX,
};
pub use seeds::StartupSeeds;
pub use state::HostState;
pub(crate) use state::InstanceTemplate;
pub use stdio::{Echo, LogDir};
pub(crate) use unsupported::linker_for;
pub use wasi::EventStdio;
pub use wasi_http_rc::{Rc20231018Proxy, Rc20231018ProxyPre};
