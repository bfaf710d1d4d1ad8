//! The media types of Spin OCI artifacts (spec section 2.2).

/// The locked app layer of a `spin registry push` artifact.
pub(crate) const SPIN_APP_CONFIG: &str = "application/vnd.fermyon.spin.application.v1+config";
/// A component's wasm.
pub(crate) const WASM_LAYER: &str = "application/vnd.wasm.content.layer.v1+wasm";
/// Wasm pushed by `wkg`.
pub(crate) const PLAIN_WASM: &str = "application/wasm";
/// One static file.
pub(crate) const DATA_LAYER: &str = "application/vnd.wasm.content.layer.v1+data";
/// A component's files as one gzipped tar (archive mode).
pub(crate) const ARCHIVE_LAYER: &str = "application/vnd.wasm.content.bundle.v1.tar+gzip";

/// Every layer type the shim asks containerd for.
pub(crate) const LAYER_TYPES: &[&str] = &[WASM_LAYER, PLAIN_WASM, ARCHIVE_LAYER, DATA_LAYER, SPIN_APP_CONFIG];

/// The image config label naming the locked app layer's digest.
pub(crate) const LOCKED_APP_DIGEST_LABEL: &str = "com.fermyon.spin.lockedAppDigest";

/// Whether a layer media type carries a wasm component or module.
pub(crate) fn is_wasm_layer(media_type: &str) -> bool {
    media_type == WASM_LAYER || media_type == PLAIN_WASM
}
