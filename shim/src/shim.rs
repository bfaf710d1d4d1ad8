//! runwasi's `Shim` and `Compiler`: the shim's name, the OCI layer types it wants,
//! and ahead-of-time compilation of wasm layers into containerd's content store.

use std::collections::HashSet;
use std::sync::OnceLock;

use containerd_shim_wasm::sandbox::context::WasmLayer;
use containerd_shim_wasm::shim::{Compiler, Shim, Version};
use wasmtime::Engine;

use spin_engine::limits::GuestLimits;
use spin_engine::locked::LockedApp;
use spin_engine::runtime::{build_engine, compatibility_key, precompile, refuse_native, EngineOptions, ARTIFACT_FORM};

use crate::logging::log_error;
use crate::registry::media_types::{is_wasm_layer, LAYER_TYPES, SPIN_APP_CONFIG};
use crate::sandbox::SpinSandbox;

/// The Spin shim.
pub struct SpinShim;

impl Shim for SpinShim {
    fn name() -> &'static str {
        // runwasi's one call into a container's parent process, as it sets the
        // container up: the parent arms the release of its start-up memory there.
        crate::start_up_memory::release_container_parent_later();
        "spin"
    }

    fn version() -> Version {
        containerd_shim_wasm::shim::version!()
    }

    type Sandbox = SpinSandbox;

    async fn compiler() -> Option<impl Compiler> {
        // runwasi's one call into this process at its first container: the shim's
        // own start-up code (ttrpc, container set-up) is done with soon after.
        crate::start_up_memory::release_daemon_later();
        // The shim's own process environment (containerd's), never a container's.
        // It only compiles, so it needs no instance pool, whose set-up every shim
        // process would pay on its first container (the pool is not part of the
        // compatibility key: see engine_config.rs).
        match crate::settings::engine_options(&std::env::vars().collect()) {
            Ok(options) => Some(SpinCompiler::new(EngineOptions { pooling: false, ..options })),
            Err(e) => {
                log_error(&format!("precompilation disabled: {e:#}"));
                None
            }
        }
    }

    fn supported_layers_types() -> &'static [&'static str] {
        LAYER_TYPES
    }
}

/// Precompiles wasm layers with the same engine configuration the sandbox runs.
///
/// runwasi asks for a compiler when the shim process creates its first
/// container, but uses it only for images with wasm layers: the engine is made
/// on that first use, so a rootfs image's start never pays for one.
pub(crate) struct SpinCompiler {
    options: EngineOptions,
    engine: OnceLock<Result<Engine, String>>,
}

impl SpinCompiler {
    fn new(options: EngineOptions) -> Self {
        Self { options, engine: OnceLock::new() }
    }

    /// The compiling engine, made on the first call.
    fn engine(&self) -> anyhow::Result<&Engine> {
        let made = self.engine.get_or_init(|| {
            build_engine(&self.options).map_err(|e| {
                let msg = format!("precompilation unavailable: {e:#}");
                log_error(&msg);
                msg
            })
        });
        made.as_ref().map_err(|msg| anyhow::anyhow!("{msg}"))
    }
}

impl Compiler for SpinCompiler {
    /// The engine's compatibility key and the form of the artifacts (packed),
    /// so a build that stores unpacked artifacts, rolled back to, never meets a
    /// packed one under its own label; a fixed word when no engine can be made
    /// (then `compile` fails and the Pod compiles its own wasm).
    fn cache_key(&self) -> impl std::hash::Hash {
        let engine_key = self.engine().map(compatibility_key).unwrap_or_else(|_| "no-engine".to_string());
        (engine_key, ARTIFACT_FORM)
    }

    /// Precompiles the wasm layers of a Spin app (one with its locked-app config
    /// layer), each at most the default component size; larger ones and plain
    /// wasm images are left to the sandbox, which compiles inside the Pod's cgroup
    /// under the Pod's own limits. Bytes that are already a native artifact are
    /// refused: runwasi would otherwise store them as ours. Wasm that the app
    /// composes at start (a component with dependencies or middleware, and those)
    /// stays wasm: runwasi hands the sandbox a precompiled layer instead of its wasm.
    ///
    /// Every layer gets an output: one that is not compiled (the config, files,
    /// wasm left to the Pod) is handed back as it is. runwasi looks for a
    /// precompiled copy of each layer it reads, and a layer without one sends
    /// every later start of the image down this path again (all its layers
    /// copied, hashed and written back to the content store: 90 ms of each start
    /// of the Python hello). The sandbox tells a compiled layer from one handed
    /// back by its bytes (`registry::unpack`).
    async fn compile(&self, layers: &[WasmLayer]) -> anyhow::Result<Vec<Option<Vec<u8>>>> {
        let config = layers.iter().find(|l| l.config.media_type().as_ref() == SPIN_APP_CONFIG);
        let has_config = config.is_some();
        let composed = config.map(|c| composed_at_start(&c.layer)).unwrap_or_default();
        let max = GuestLimits::default().max_component_size;
        layers
            .iter()
            .map(|layer| {
                let as_it_is = || Some(layer.layer.clone());
                if !is_wasm_layer(layer.config.media_type().as_ref()) || layer.precompiled {
                    // Not ours to compile, or read back from our own earlier
                    // output in the content store.
                    return Ok(as_it_is());
                }
                let origin = format!("layer {}", layer.config.digest());
                // Refused here too when the Pod would compile it: runwasi keeps what we accept.
                refuse_native(&layer.layer, &origin)?;
                if !has_config
                    || layer.layer.len() as u64 > max
                    || composed.contains(&layer.config.digest().to_string())
                {
                    return Ok(as_it_is());
                }
                precompile(self.engine()?, &layer.layer, &origin).map(Some)
            })
            .collect()
    }
}

/// The digests of the wasm an app (its locked-app layer's bytes) composes at
/// start: every component with dependencies or middleware, and theirs. A
/// locked app that does not parse composes nothing here (the sandbox then says
/// what is wrong with it).
fn composed_at_start(locked_app: &[u8]) -> HashSet<String> {
    let Ok(app) = LockedApp::from_json(locked_app) else {
        return HashSet::new();
    };
    let trigger_deps = app.triggers.iter().flat_map(|t| t.trigger_dependencies.values().flatten());
    let mut digests: HashSet<String> = trigger_deps.filter_map(|d| d.source.content.digest.clone()).collect();
    for c in &app.components {
        let deps: Vec<_> = c.composed_in().collect();
        if deps.is_empty() {
            continue;
        }
        let sources = std::iter::once(&c.source).chain(deps.into_iter().map(|d| &d.source));
        digests.extend(sources.filter_map(|s| s.content.digest.clone()));
    }
    digests
}

#[cfg(test)]
pub(crate) mod tests {
    use containerd_shim_wasm::shim::Compiler as _;

    use super::*;
    use crate::registry::media_types::{PLAIN_WASM, WASM_LAYER};

    /// The smallest component: `(component)`.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    pub(crate) fn layer(media_type: &str, bytes: &[u8], precompiled: bool) -> WasmLayer {
        use sha2::Digest as _;
        let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)));
        serde_json::from_value(serde_json::json!({
            "config": { "mediaType": media_type, "digest": digest, "size": bytes.len() },
            "precompiled": precompiled,
            "layer": bytes,
        }))
        .unwrap()
    }

    #[test]
    fn the_compiling_engine_is_made_on_first_use_only() {
        let compiler = SpinCompiler::new(EngineOptions { pooling: false, ..Default::default() });
        assert!(compiler.engine.get().is_none(), "a rootfs image's start would pay for an engine");
        // runwasi asks for the key only for an image with wasm layers.
        let _key = compiler.cache_key();
        assert!(compiler.engine.get().is_some_and(|made| made.is_ok()));
    }

    #[tokio::test]
    async fn an_image_supplied_artifact_is_refused_and_only_our_own_output_passes() {
        let compiler = SpinCompiler::new(EngineOptions { pooling: false, ..Default::default() });
        let artifact = compiler.engine().unwrap().precompile_component(EMPTY_COMPONENT).unwrap();
        let config = layer(SPIN_APP_CONFIG, b"{}", false);

        let native = layer(WASM_LAYER, &artifact, false);
        let err = compiler.compile(&[config.clone(), native.clone()]).await.unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "layer {} is a precompiled native artifact, not WebAssembly; ship the .wasm",
                native.config.digest()
            )
        );

        // Read back from the content store, where only this compiler writes.
        let ours = compiler.compile(&[config.clone(), layer(WASM_LAYER, &artifact, true)]).await.unwrap();
        assert_eq!(ours[1].as_deref(), Some(&artifact[..]));

        // A Spin app's wasm is compiled here; a plain wasm image compiles in its
        // Pod. What is not compiled comes back as it is.
        let compiled = compiler.compile(&[config, layer(WASM_LAYER, EMPTY_COMPONENT, false)]).await.unwrap();
        assert_eq!(compiled[0].as_deref(), Some(&b"{}"[..]));
        assert!(compiled[1].as_deref().is_some_and(is_artifact));
        let plain = compiler.compile(&[layer(PLAIN_WASM, EMPTY_COMPONENT, false)]).await.unwrap();
        assert_eq!(plain[0].as_deref(), Some(EMPTY_COMPONENT));
    }

    /// runwasi labels artifacts with a hash of the key: a build from before
    /// packing hashed the engine's key alone, so after a rollback it finds none
    /// of the packed artifacts, which it could not load, and compiles its own.
    #[test]
    fn packed_artifacts_are_labelled_apart_from_unpacked_ones() {
        use std::hash::{DefaultHasher, Hash as _, Hasher as _};
        let compiler = SpinCompiler::new(EngineOptions { pooling: false, ..Default::default() });
        let (mut ours, mut before) = (DefaultHasher::new(), DefaultHasher::new());
        compiler.cache_key().hash(&mut ours);
        compatibility_key(compiler.engine().unwrap()).hash(&mut before);
        assert_ne!(ours.finish(), before.finish());
    }

    /// Whether `bytes` are compiled code (packed as the precompiler hands it over).
    fn is_artifact(bytes: &[u8]) -> bool {
        refuse_native(bytes, "output").is_err()
    }

    /// `(component)` with an empty custom section named `tag`: a distinct digest.
    fn tagged_component(tag: u8) -> Vec<u8> {
        [EMPTY_COMPONENT, &[0, 2, 1, tag]].concat()
    }

    #[tokio::test]
    async fn wasm_the_app_composes_at_start_stays_wasm() {
        let compiler = SpinCompiler::new(EngineOptions { pooling: false, ..Default::default() });
        let [front, greeter, plain] = [b'f', b'g', b'p'].map(|t| layer(WASM_LAYER, &tagged_component(t), false));
        let source = |l: &WasmLayer| serde_json::json!({ "content_type": "application/wasm", "digest": l.config.digest().to_string() });
        let locked = serde_json::json!({
            "spin_lock_version": 1,
            "triggers": [],
            "components": [
                { "id": "front", "source": source(&front),
                  "dependencies": { "demo:greeter": { "source": source(&greeter), "export": null } } },
                { "id": "plain", "source": source(&plain) }
            ]
        });
        let config = layer(SPIN_APP_CONFIG, locked.to_string().as_bytes(), false);
        let layers = [config, front, greeter, plain];
        let compiled = compiler.compile(&layers).await.unwrap();
        let as_it_is: Vec<bool> =
            layers.iter().zip(&compiled).map(|(l, c)| c.as_deref() == Some(&l.layer[..])).collect();
        assert_eq!(as_it_is, [true, true, true, false]);
        assert!(is_artifact(compiled[3].as_deref().unwrap()));
    }

    /// runwasi finds a copy of every layer after the first start, so the second
    /// does not compile again (it would for any layer the compiler left out).
    #[tokio::test]
    async fn every_layer_gets_an_output() {
        let compiler = SpinCompiler::new(EngineOptions { pooling: false, ..Default::default() });
        let layers = [
            layer(SPIN_APP_CONFIG, b"{}", false),
            layer(crate::registry::media_types::DATA_LAYER, b"a file", false),
            layer(crate::registry::media_types::ARCHIVE_LAYER, b"\x1f\x8b", false),
            layer(WASM_LAYER, EMPTY_COMPONENT, false),
        ];
        let compiled = compiler.compile(&layers).await.unwrap();
        assert!(compiled.iter().all(Option::is_some), "{compiled:?}");
    }
}
