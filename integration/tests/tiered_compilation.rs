//! Fast first starts (`engine/src/runtime/tiered.rs`): a start that finds no
//! compiled artifact serves from Winch's code, Cranelift's replaces it in the
//! background and fills the compile cache, and the next start loads that. The
//! logs (`RUST_LOG=spin_engine=info`) say which code a start got; requests are
//! answered before, during and after the switch, by both the 0.2 executor and
//! the 0.3 one (whose instances outlive a request).

use std::time::{Duration, Instant};

use integration::cli_app::{ServedApp, Up};
use integration::compile_cache::entry_files;
use integration::{guests, suite};

const LOG: (&str, &str) = ("RUST_LOG", "spin_engine=info");
const WINCH: &str = "compiled from wasm by Winch";
const SWITCHED: &str = "now serving Cranelift's code";

fn serve(app: &str, cache: &std::path::Path, env: &[(&str, &str)]) -> ServedApp {
    let cache = cache.display().to_string();
    let mut all = vec![LOG];
    all.extend_from_slice(env);
    Up::new(&guests::app(app)).flags(&["--cache-dir", &cache]).env(&all).serve().unwrap()
}

/// How many cache entries' files have `extension`.
fn count_files(dir: &std::path::Path, extension: &str) -> usize {
    entry_files(dir, extension).len()
}

#[test]
fn a_first_start_serves_winch_code_until_cranelift_code_replaces_it_and_fills_the_cache() {
    for (app, body) in [("rust-hello", "Hello, Fermyon"), ("rust-sdk7-hello", "Hello from spin-sdk 7 at /")] {
        let cache = tempfile::tempdir().unwrap();
        let mut served = serve(app, cache.path(), &[]);
        let started = served.process.output();
        assert!(started.contains(WINCH), "{app}: the first start should serve Winch's code:\n{started}");
        // Answered from Winch's code (the background compile has barely begun)...
        suite::hello(&served.base, body).unwrap();
        served.process.wait_for_line(SWITCHED, Duration::from_secs(120)).unwrap();
        // ...and from Cranelift's, by instances made after the switch.
        for _ in 0..20 {
            suite::hello(&served.base, body).unwrap();
        }
        let out = served.process.output();
        assert!(out.contains("compiled from wasm in"), "{app}: Cranelift's compile is logged:\n{out}");
        assert_eq!(count_files(cache.path(), "cwasm"), 1, "{app}: Cranelift's code is cached");
        assert_eq!(count_files(cache.path(), "seal"), 1, "{app}: and sealed");
        drop(served);

        let mut again = serve(app, cache.path(), &[]);
        suite::hello(&again.base, body).unwrap();
        let out = again.process.output();
        assert!(out.contains("loaded from the compile cache"), "{app}: the second start loads it:\n{out}");
        assert!(!out.contains("Winch") && !out.contains("compiled from wasm"), "{app}: and compiles nothing:\n{out}");
    }
}

#[test]
fn cranelift_as_first_start_compiler_compiles_before_serving() {
    let cache = tempfile::tempdir().unwrap();
    let mut served = serve("rust-hello", cache.path(), &[("SPIN_WASMTIME_FIRST_START_COMPILER", "cranelift")]);
    let out = served.process.output();
    assert!(out.contains("compiled from wasm in") && !out.contains("Winch"), "{out}");
    // Cached before the first request could be answered.
    assert_eq!(count_files(cache.path(), "cwasm"), 1);
    suite::hello(&served.base, "Hello, Fermyon").unwrap();
}

#[test]
fn sigterm_during_the_background_compile_exits_promptly_and_leaves_no_entry() {
    // Cranelift takes seconds on the 40 MB Python component, at idle priority.
    let cache = tempfile::tempdir().unwrap();
    let mut served = serve("python-hello", cache.path(), &[]);
    suite::hello(&served.base, "Hello from Python").unwrap();
    let signalled = Instant::now();
    served.process.signal(libc::SIGTERM);
    // Serving, so it drains (no request in flight) and exits 0.
    let (code, out) = served.process.wait(Duration::from_secs(3)).unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(SWITCHED), "Cranelift finished before the signal; the test proves nothing:\n{out}");
    eprintln!("exited {:?} after SIGTERM", signalled.elapsed());
    // An entry is written whole or not at all (temporary file, then rename):
    // Cranelift's has none; Winch's may be there, for the next start to serve.
    let cranelift = cache.path().join(precompile_key());
    let files: Vec<_> = std::fs::read_dir(&cranelift).into_iter().flatten().flatten().map(|e| e.path()).collect();
    assert!(files.iter().all(|f| f.extension().is_none_or(|x| x != "cwasm" && x != "seal")), "{files:?}");
}

/// The folder Cranelift's entries live in (`spin-shim info`'s precompile key).
fn precompile_key() -> String {
    let info = std::process::Command::new(integration::paths::cli()).args(["info", "--json"]).output().unwrap();
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    info["precompile_key"].as_str().unwrap().to_string()
}

/// The CLI's cache keeps within `SPIN_COMPILE_CACHE_MAX`: bounded to one entry,
/// a second app's artifact pushes out the first's. A malformed bound stops the
/// start with one line naming the variable.
#[test]
fn the_cache_keeps_within_spin_compile_cache_max() {
    let cache = tempfile::tempdir().unwrap();
    let bounded = [("SPIN_WASMTIME_FIRST_START_COMPILER", "cranelift"), ("SPIN_COMPILE_CACHE_MAX", "1")];
    drop(serve("rust-hello", cache.path(), &bounded));
    assert_eq!(count_files(cache.path(), "cwasm"), 1);
    let mut second = serve("rust-sdk7-hello", cache.path(), &bounded);
    let out = second.process.output();
    assert!(out.contains("removed the 1 entry used least recently"), "{out}");
    assert_eq!(count_files(cache.path(), "cwasm"), 1, "only the newer entry stays");
    drop(second);

    let (code, out) = Up::new(&guests::app("rust-hello"))
        .flags(&["--cache-dir", &cache.path().display().to_string()])
        .env(&[("SPIN_COMPILE_CACHE_MAX", "lots")])
        .run(Duration::from_secs(30))
        .unwrap();
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("SPIN_COMPILE_CACHE_MAX=\"lots\" is invalid"), "{out}");
}
