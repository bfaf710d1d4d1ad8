//! The one linker every component is pre-instantiated against: WASI 0.2 and
//! 0.3, `wasi:http` (with the pre-releases' own interfaces) and every registered
//! capability, and the test of whether an import is one of theirs.

use wasmtime::component::Linker;
use wasmtime::Engine;

use super::state::HostState;
use super::{add_capabilities_to_linker, CAPABILITY_INTERFACES};

/// The WASI 0.2 packages wasmtime links (any 0.2.x patch, no pre-releases).
const WASI_02_PACKAGES: &[&str] =
    &["wasi:cli/", "wasi:clocks/", "wasi:filesystem/", "wasi:io/", "wasi:random/", "wasi:sockets/", "wasi:http/"];

/// The WASI 0.3 packages wasmtime links (exactly 0.3.0).
const WASI_03_PACKAGES: &[&str] =
    &["wasi:cli/", "wasi:clocks/", "wasi:filesystem/", "wasi:random/", "wasi:sockets/", "wasi:http/"];

/// A linker with WASI 0.2 and 0.3, `wasi:http` of both and the pre-releases'
/// own interfaces, and every capability's interfaces.
pub(crate) fn build_linker(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    super::outbound::add_counted_sockets_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    super::wasi_http_rc::add_to_linker(&mut linker)?;
    add_capabilities_to_linker(&mut linker)?;
    Ok(linker)
}

/// Whether `import` names an interface the linker provides.
pub(crate) fn is_provided(import: &str) -> bool {
    let wasi = (is_wasi_02(import) && WASI_02_PACKAGES.iter().any(|p| import.starts_with(p)))
        || (import.ends_with("@0.3.0") && WASI_03_PACKAGES.iter().any(|p| import.starts_with(p)));
    let pre_release = super::wasi_http_rc::is_linked(import);
    wasi || pre_release
        || CAPABILITY_INTERFACES.iter().flat_map(|names| names.iter()).any(|name| import.starts_with(name))
}

fn is_wasi_02(import: &str) -> bool {
    import.rsplit_once('@').is_some_and(|(_, v)| v.starts_with("0.2.") && !v.contains('-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::component::Component;

    /// Stand-in guests (see `testdata/README.md`): components whose core module
    /// imports every function of a world written over the WIT that Spin's SDKs
    /// publish, so linking them checks this runtime's WIT name for name and type
    /// for type against the published one.
    const PUBLISHED_WORLDS: [(&str, &[u8]); 2] = [
        ("spin4", include_bytes!("../../testdata/spin4-imports.wasm")),
        ("older-minors", include_bytes!("../../testdata/older-minors-imports.wasm")),
    ];

    #[test]
    fn guests_of_the_published_spin4_wit_link_and_older_minors_resolve_to_the_newest() {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model_async(true);
        let engine = Engine::new(&config).unwrap();
        let linker = build_linker(&engine).unwrap();
        for (world, bytes) in PUBLISHED_WORLDS {
            let guest = Component::new(&engine, bytes).unwrap();
            let imports: Vec<String> = guest.component_type().imports(&engine).map(|(n, _)| n.to_string()).collect();
            assert!(imports.iter().filter(|i| i.starts_with("spin:")).count() >= 2, "{world}: {imports:?}");
            for import in &imports {
                assert!(is_provided(import), "{world}: {import}");
            }
            if let Err(e) = linker.instantiate_pre(&guest) {
                panic!("{world}: {e:?}");
            }
        }
    }

    #[test]
    fn provided_interfaces() {
        assert!(is_provided("wasi:http/types@0.2.0"));
        assert!(is_provided("wasi:cli/environment@0.2.12"));
        assert!(is_provided("wasi:http/types@0.2.0-rc-2023-11-10"));
        assert!(!is_provided("wasi:http/outgoing-handler@0.2.0-rc-2023-11-10"));
        assert!(is_provided("wasi:http/types@0.2.0-rc-2023-10-18"));
        assert!(is_provided("wasi:io/streams@0.2.0-rc-2023-10-18"));
        assert!(!is_provided("wasi:cli/environment@0.2.0-rc-2023-10-18"));
        assert!(is_provided("wasi:http/types@0.3.0"));
        assert!(!is_provided("wasi:http/types@0.3.0-rc-2026-03-15"));
        assert!(is_provided("wasi:keyvalue/store@0.2.0-draft2"));
        assert!(!is_provided("wasi:keyvalue/watcher@0.2.0-draft2"));
        assert!(is_provided("fermyon:spin/variables@2.0.0"));
        assert!(is_provided("fermyon:spin/key-value@2.0.0"));
        assert!(is_provided("fermyon:spin/key-value"));
        assert!(is_provided("fermyon:spin/sqlite@2.0.0"));
        assert!(is_provided("fermyon:spin/redis-types"));
        assert!(is_provided("fermyon:spin/mqtt@2.0.0"));
        assert!(is_provided("fermyon:spin/postgres@2.0.0"));
        assert!(is_provided("fermyon:spin/mysql@2.0.0"));
        assert!(is_provided("fermyon:spin/rdbms-types@2.0.0"));
        assert!(!is_provided("fermyon:spin/llm@2.0.0"));
        for spin4 in [
            "spin:key-value/key-value@3.0.0",
            "spin:variables/variables@3.0.0",
            "spin:sqlite/sqlite@3.1.0",
            "spin:sqlite/sqlite@3.0.0",
            "spin:redis/redis@3.0.0",
            "spin:mqtt/mqtt@3.0.0",
            "spin:postgres/postgres@4.2.0",
            "spin:postgres/postgres@4.0.0",
            "spin:postgres/postgres@3.0.0",
            "spin:mysql/mysql@3.0.0",
            "wasi:otel/tracing@0.2.0-rc.2",
            "wasi:otel/types@0.2.0-rc.2",
        ] {
            assert!(is_provided(spin4), "{spin4}");
        }
        assert!(!is_provided("wasi:otel/tracing@0.2.0-rc.1"));
        assert!(is_provided("wasi:config/store@0.2.0-draft-2024-09-27"));
    }
}
