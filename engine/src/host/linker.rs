//! The one linker every component is pre-instantiated against.

use wasmtime::component::Linker;
use wasmtime::Engine;

use super::state::HostState;

/// A linker with WASI 0.2, `wasi:http`, and the Spin host interfaces.
pub fn build_linker(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    super::variables::add_to_linker(&mut linker)?;
    super::outbound_redis::add_to_linker(&mut linker)?;
    super::outbound_mqtt::add_to_linker(&mut linker)?;
    super::key_value::add_to_linker(&mut linker)?;
    super::sqlite::add_to_linker(&mut linker)?;
    Ok(linker)
}
