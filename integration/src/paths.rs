//! Where the binaries under test and the built guests live.

use std::path::PathBuf;

/// The workspace root. Read at run time (cargo sets `CARGO_MANIFEST_DIR` for test
/// runs): a compile-time path goes stale when two checkouts share a target folder.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    PathBuf::from(manifest_dir).parent().unwrap().to_path_buf()
}

/// The directory holding `spin-shim` and `containerd-shim-spin-v2`
/// (`SPIN_SHIM_BIN_DIR`, else `$CARGO_TARGET_DIR/debug`, else `target/debug`).
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SPIN_SHIM_BIN_DIR") {
        return d.into();
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug")
}

/// A binary in [`bin_dir`]; panics with a hint when it was not built.
pub fn binary(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.is_file(),
        "{} not found: build it first (`cargo build -p containerd-shim-spin --bins`) or set SPIN_SHIM_BIN_DIR",
        p.display()
    );
    p
}

/// The CLI binary.
pub fn cli() -> PathBuf {
    binary("spin-shim")
}

/// Where `make build` keeps a slim variant's debug binaries (`spin-shim` and
/// `containerd-shim-spin-<variant>-v2`); panics with a hint when it was not built.
pub fn variant_dir(variant: &str) -> PathBuf {
    let dir = bin_dir().parent().unwrap().join("variants").join(variant);
    assert!(dir.is_dir(), "{} not built: run `make build`", dir.display());
    dir
}
