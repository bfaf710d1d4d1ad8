//! Slim variants: an HTTP-only build reports what it contains and refuses an app
//! that needs a trigger it lacks, in one line naming the type and the feature.
//! Every shim binary, full or slim, is linked position-dependent (`shim/build.rs`).

use std::process::Command;

use integration::cli_app::{Up, START_TIMEOUT};
use integration::fixtures::{assert_refused, redis_only_app, MISSING_REDIS_TRIGGER};
use integration::paths;

fn http_variant(bin: &str) -> std::path::PathBuf {
    paths::variant_dir("http").join(bin)
}

#[test]
fn http_variant_describes_itself() {
    let out = Command::new(http_variant("spin-shim")).args(["info", "--json"]).output().unwrap();
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["triggers"], serde_json::json!(["http"]));
    assert_eq!(info["wasmtime"], "48.0.8");
    let full = Command::new(paths::cli()).args(["info", "--json"]).output().unwrap();
    let full: serde_json::Value = serde_json::from_slice(&full.stdout).unwrap();
    assert!(info["precompile_key"].is_string(), "{info}");
    assert_eq!(
        info["precompile_key"], full["precompile_key"],
        "components precompiled by one variant must load in the other"
    );
    let out = Command::new(http_variant("containerd-shim-spin-http-v2")).arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("triggers: http;"), "{text}");
    let full = Command::new(paths::binary("containerd-shim-spin-v2")).arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&full.stdout);
    assert!(text.contains("triggers: http,redis,sqs,command,cron,mqtt;"), "{text}");
}

/// ELF `e_type` of the file at `path`: 2 is a fixed-address executable, 3 a
/// position-independent one (or a shared library).
fn elf_type(path: &std::path::Path) -> u16 {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF", "{}", path.display());
    u16::from_le_bytes([bytes[16], bytes[17]])
}

/// A position-independent shim would carry 1.9 MiB of loader-written pages per Pod.
#[test]
fn every_shim_binary_is_linked_at_a_fixed_address() {
    for path in [
        paths::binary("containerd-shim-spin-v2"),
        paths::cli(),
        http_variant("containerd-shim-spin-http-v2"),
        http_variant("spin-shim"),
    ] {
        assert_eq!(elf_type(&path), 2, "{} is not linked with -no-pie", path.display());
    }
}

#[test]
fn http_variant_refuses_a_redis_app() {
    let (_tmp, dir) = redis_only_app();
    let (code, out) = Up::with_binary(http_variant("spin-shim"), &dir).run(START_TIMEOUT).unwrap();
    assert_refused("a redis app on the http variant", code, &out, &[MISSING_REDIS_TRIGGER, "compiled in: http"]);
}
