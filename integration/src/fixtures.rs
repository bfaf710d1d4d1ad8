//! Broken apps every entry point must refuse with one clear line.

use std::path::{Path, PathBuf};

use crate::guests;

/// An app that must fail at start, and the words its error line must contain.
pub struct BadApp {
    /// What is wrong, for test messages.
    pub name: &'static str,
    /// The app directory (holds `spin.toml`).
    pub dir: PathBuf,
    /// Substrings the error line must contain.
    pub expect: Vec<&'static str>,
    _tmp: tempfile::TempDir,
}

const HEADER: &str = "spin_manifest_version = 2\n[application]\nname = \"bad\"\n";

fn app(name: &'static str, manifest: &str, files: &[(&str, &[u8])], expect: Vec<&'static str>) -> BadApp {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("spin.toml"), manifest).unwrap();
    for (f, bytes) in files {
        std::fs::write(tmp.path().join(f), bytes).unwrap();
    }
    BadApp { name, dir: tmp.path().to_path_buf(), expect, _tmp: tmp }
}

fn http_app(component: &str, extra: &str) -> String {
    format!(
        "{HEADER}[[trigger.http]]\nroute = \"/...\"\ncomponent = \"{component}\"\n[component.{component}]\nsource = \"app.wasm\"\n{extra}"
    )
}

/// Every broken app: malformed TOML, unknown field, missing wasm, not wasm, no
/// handler export, unknown trigger type, and HTTP middleware of another role,
/// naming a missing component, or not shaped like a middleware.
pub fn bad_apps() -> Vec<BadApp> {
    let no_handler = std::fs::read(guests::app("rust-no-handler").join("app.wasm")).unwrap();
    let hello7 = std::fs::read(guests::app("rust-sdk7-hello").join("app.wasm")).unwrap();
    vec![
        app("malformed toml", "spin_manifest_version = 2\n[application\nname = 1\n", &[], vec!["spin.toml"]),
        app("unknown field", &http_app("hello", "sorce = \"x\"\n"), &[("app.wasm", b"")], vec!["spin.toml", "sorce"]),
        app("missing wasm", &http_app("ghost", ""), &[], vec!["ghost", "app.wasm"]),
        app("not wasm", &http_app("textual", ""), &[("app.wasm", b"hello, I am text")], vec!["textual", "WebAssembly"]),
        app("no handler export", &http_app("plain", ""), &[("app.wasm", &no_handler)], vec!["plain", "export"]),
        app(
            "unknown trigger type",
            &format!("{HEADER}[[trigger.teleport]]\ncomponent = \"c\"\n[component.c]\nsource = \"app.wasm\"\n"),
            &[("app.wasm", &no_handler)],
            vec!["`teleport`"],
        ),
        app(
            "trigger dependency of another role",
            &format!(
                "{HEADER}[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\ndependencies.auth = [{{ component = \"c\" }}]\n[component.c]\nsource = \"app.wasm\"\n"
            ),
            &[("app.wasm", &hello7)],
            vec!["`dependencies.auth`", "`middleware`"],
        ),
        app(
            "missing middleware component",
            &format!(
                "{HEADER}[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\ndependencies.middleware = [{{ component = \"ghost\" }}]\n[component.c]\nsource = \"app.wasm\"\n"
            ),
            &[("app.wasm", &hello7)],
            vec!["middleware component `ghost` is not defined"],
        ),
        app(
            "middleware that is not one",
            &format!(
                "{HEADER}[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\ndependencies.middleware = [{{ path = \"mw.wasm\" }}]\n[component.c]\nsource = \"app.wasm\"\n"
            ),
            &[("app.wasm", &hello7), ("mw.wasm", &no_handler)],
            vec!["middleware 1", "must import and export `wasi:http/handler@0.3.0`"],
        ),
        app(
            "an HTTP base other than /",
            &http_app("c", "").replace("[[trigger.http]]", "[application.trigger.http]\nbase = \"/api\"\n[[trigger.http]]"),
            &[("app.wasm", &hello7)],
            vec!["deprecated trigger 'base' field", "prepended to each [[trigger.http]]'s 'route'"],
        ),
    ]
}

/// Checks the output of a refused start: a non-zero exit, exactly one `Error:`
/// line holding every word of `expect`, and no panic or backtrace.
pub fn refusal(code: i32, output: &str, expect: &[&str]) -> Result<(), String> {
    if code == 0 {
        return Err(format!("exited 0; output:\n{output}"));
    }
    let errors: Vec<&str> = output.lines().filter(|l| l.contains("Error:")).collect();
    if errors.len() != 1 {
        return Err(format!("expected one Error: line, got {}:\n{output}", errors.len()));
    }
    if let Some(word) = expect.iter().find(|w| !errors[0].contains(*w)) {
        return Err(format!("error line lacks {word:?}: {}", errors[0]));
    }
    if output.contains("panicked") || output.contains("stack backtrace") {
        return Err(format!("panicked:\n{output}"));
    }
    Ok(())
}

/// [`refusal`], panicking with `name` in the message.
pub fn assert_refused(name: &str, code: i32, output: &str, expect: &[&str]) {
    if let Err(e) = refusal(code, output, expect) {
        panic!("{name}: {e}");
    }
}

/// [`refusal`] for one of [`bad_apps`].
pub fn check_refusal(app: &BadApp, code: i32, output: &str) -> Result<(), String> {
    refusal(code, output, &app.expect).map_err(|e| format!("{}: {e}", app.name))
}

/// Copies a built guest into a fresh directory, so what the app writes (its
/// `.spin` state directory) stays with the test.
pub fn copy_of(guest: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&guests::app(guest), tmp.path());
    let dir = tmp.path().to_path_buf();
    (tmp, dir)
}

/// [`copy_of`] with `manifest` as its spin.toml.
pub fn with_manifest(guest: &str, manifest: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = copy_of(guest);
    std::fs::write(dir.join("spin.toml"), manifest).unwrap();
    (tmp, dir)
}

/// rust-deps whose `front` component has a `debug` profile: another source
/// (the built one; the default's is never built), another `GREETING`.
pub const PROFILED_DEPS: &str = "spin_manifest_version = 2\n[application]\nname = \"profiled\"\n\
     [[trigger.http]]\nroute = \"/...\"\ncomponent = \"front\"\n\
     [component.front]\nsource = \"release.wasm\"\nenvironment = { GREETING = \"Howdy\" }\n\
     [component.front.dependencies]\n\"demo:greeter/greet\" = { path = \"greeter.wasm\" }\n\
     [component.front.profile.debug]\nsource = \"app.wasm\"\nenvironment = { GREETING = \"Debugging\" }\n";

/// An app with only a Redis trigger (rust-hello's wasm as the component): what
/// an HTTP-only variant must refuse, naming the missing trigger type.
pub fn redis_only_app() -> (tempfile::TempDir, PathBuf) {
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"r\"\n[application.trigger.redis]\n\
                    address = \"redis://127.0.0.1:6379\"\n[[trigger.redis]]\nchannel = \"c\"\ncomponent = \"hello\"\n\
                    [component.hello]\nsource = \"app.wasm\"\n";
    with_manifest("rust-hello", manifest)
}

/// What the refusal of [`redis_only_app`] by an HTTP-only build says.
pub const MISSING_REDIS_TRIGGER: &str = "`redis` (cargo feature `redis`)";

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_name() == ".spin" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// Writes `files` (`(relative path, bytes)`) under `root`, creating folders.
pub fn write_tree(root: &Path, files: &[(&str, Vec<u8>)]) {
    for (path, bytes) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("a relative path under root")).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}
