//! Image layout tars for the tests: Spin apps packed by `spin-shim package`, and
//! the pod sandbox (pause) image built from `integration/images/pause.c`.

use std::path::{Path, PathBuf};
use std::process::Command;

use containerd_shim_spin::{host_architecture, LayerFile, SingleLayerImage};

use crate::paths;

/// Packs the app in `app` (a directory holding `spin.toml`) as `reference` into a
/// tar under `dir` with `spin-shim package`; `raw` packs the directory as it is,
/// without validating the app (for apps that must fail later).
pub fn package_app(app: &Path, reference: &str, raw: bool, dir: &Path) -> anyhow::Result<PathBuf> {
    let tar = dir.join(format!("{}.tar", reference.replace(['/', ':'], "_")));
    let mut cmd = Command::new(paths::cli());
    cmd.arg("package");
    if raw {
        cmd.arg("--raw");
    }
    let out = cmd.arg("-f").arg(app).args(["-r", reference, "-o"]).arg(&tar).output()?;
    anyhow::ensure!(
        out.status.success(),
        "spin-shim package {}: {}",
        app.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(tar)
}

/// A plain WASI image (no spin.toml): `wasm` at `/app.wasm`, the entrypoint, as a
/// `FROM scratch` build with the wasm as its command writes it; into a tar under `dir`.
pub fn plain_wasm_image(reference: &str, wasm: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
    let tar = dir.join(format!("{}.tar", reference.replace(['/', ':'], "_")));
    SingleLayerImage {
        reference: reference.to_string(),
        architecture: host_architecture().to_string(),
        entrypoint: vec!["/app.wasm".to_string()],
        files: vec![LayerFile { path: "app.wasm".into(), bytes: std::fs::read(wasm)?, mode: 0o755 }],
    }
    .write(&tar)?;
    Ok(tar)
}

/// Compiles `pause.c` statically and packs it as `reference` with entrypoint
/// `/pause` into a tar under `dir`.
pub fn pause_image(reference: &str, dir: &Path) -> anyhow::Result<PathBuf> {
    let source = paths::workspace_root().join("integration/images/pause.c");
    let binary = dir.join("pause");
    let out = Command::new("gcc").args(["-static", "-O2", "-o"]).arg(&binary).arg(&source).output()?;
    anyhow::ensure!(out.status.success(), "gcc -static pause.c: {}", String::from_utf8_lossy(&out.stderr));
    let tar = dir.join("pause.tar");
    SingleLayerImage {
        reference: reference.to_string(),
        architecture: host_architecture().to_string(),
        entrypoint: vec!["/pause".to_string()],
        files: vec![LayerFile { path: "pause".into(), bytes: std::fs::read(&binary)?, mode: 0o755 }],
    }
    .write(&tar)?;
    Ok(tar)
}
