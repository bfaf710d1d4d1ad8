//! The HTTP scenarios every entry point (CLI, containerd) must pass: each a guest
//! app, the environment it runs with, and the checks on its responses.

use crate::suite;

/// Assertions on a served app, given its base URL.
pub type Check = Box<dyn Fn(&str) -> anyhow::Result<()> + Send + Sync>;

/// One app to serve and what it must answer.
pub struct Scenario {
    /// Name for test output.
    pub name: &'static str,
    /// Guest app directory name under the built guests.
    pub guest: &'static str,
    /// Environment for the app (CLI process env, or container env).
    pub env: Vec<(String, String)>,
    /// The checks, given the base URL.
    pub check: Check,
    /// Text the guest writes to stdout/stderr that must reach the process output.
    pub expect_output: Option<&'static str>,
}

/// The token the variables scenario passes through the environment.
pub const SECRET_TOKEN: &str = "tok-3141";

fn scenario(
    name: &'static str,
    guest: &'static str,
    env: &[(&str, &str)],
    check: impl Fn(&str) -> anyhow::Result<()> + Send + Sync + 'static,
) -> Scenario {
    Scenario {
        name,
        guest,
        env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        check: Box::new(check),
        expect_output: None,
    }
}

/// What a scenario depends on that differs by entry point.
pub struct Inputs {
    /// The port of a real HTTP server for outbound requests ([`crate::upstream`]).
    pub upstream_port: u16,
    /// How the variables scenario passes its required variable.
    pub variable_env: &'static str,
}

impl Inputs {
    /// For `spin-shim up`: the variable as `SPIN_VARIABLE_SECRET_TOKEN`.
    pub fn cli(upstream_port: u16) -> Self {
        Self { upstream_port, variable_env: "SPIN_VARIABLE_SECRET_TOKEN" }
    }

    /// For a container: the variable as the plain upper-case `SECRET_TOKEN`, as
    /// the existing shim reads the container env.
    pub fn container(upstream_port: u16) -> Self {
        Self { upstream_port, variable_env: "SECRET_TOKEN" }
    }
}

/// Builds one scenario: one of the functions below.
pub type Make = fn(&Inputs) -> Scenario;

/// Every scenario, in the order the loops run them.
pub const ALL: [Make; 26] = [
    rust_hello,
    rust_sdk2_hello,
    python_rc_hello,
    rust_sdk6_hello,
    rust_sdk7_hello,
    rust_sdk7_reuse,
    rust_sdk7_key_value,
    rust_sdk7_variables,
    rust_sdk7_sqlite,
    rust_hello_core,
    rust_wagi,
    python_hello,
    python_sdk5_hello,
    js_hello,
    routes_and_spin_headers,
    variables,
    outbound_http,
    rust_sdk7_outbound_http,
    service_chaining,
    http_middleware,
    component_dependencies,
    rust_key_value,
    python_key_value,
    python_sdk5_key_value,
    rust_sqlite,
    trap_and_404,
];

/// Every scenario built for `inputs`.
pub fn all(inputs: &Inputs) -> Vec<Scenario> {
    ALL.iter().map(|make| make(inputs)).collect()
}

/// The Rust SDK's hello app, and the well-known health and info paths.
pub fn rust_hello(_: &Inputs) -> Scenario {
    scenario("rust hello", "rust-hello", &[], |b| {
        suite::hello(b, "Hello, Fermyon")?;
        suite::well_known(b, "rust-hello")
    })
}

/// The Rust SDK 2.2 app (Spin 2.x): a `wasm32-wasip1` module exporting the
/// WASI HTTP pre-release `0.2.0-rc-2023-10-18`, componentized at load, with
/// its route header, a streamed request body, the key-value counter
/// (`fermyon:spin/key-value@2.0.0`) and outbound HTTP allowed and denied.
pub fn rust_sdk2_hello(inputs: &Inputs) -> Scenario {
    let upstream_port = inputs.upstream_port;
    scenario("rust sdk 2 hello (wasi:http 0.2.0-rc-2023-10-18)", "rust-sdk2-hello", &[], move |b| {
        suite::hello(b, "Hello from spin-sdk 2 at / route=")?;
        suite::answers(b, "/denied/x", "Hello from spin-sdk 2 at /denied/x route=/denied")?;
        suite::echo_body(b)?;
        let key = suite::unique("sdk2");
        suite::answers(b, &format!("/counter/{key}"), "1")?;
        suite::answers(b, &format!("/counter/{key}"), "2")?;
        suite::outbound(b, upstream_port)?;
        suite::well_known(b, "rust-sdk2-hello")
    })
}

/// componentize-py 0.7.1's app over `wasi:http` 0.2.0-rc-2023-11-10, whose
/// interfaces but `wasi:http/types` are served as 0.2.0: its route header, a
/// streamed request body and its trailers, and outbound HTTP (with request
/// options) allowed and denied.
pub fn python_rc_hello(inputs: &Inputs) -> Scenario {
    let upstream_port = inputs.upstream_port;
    scenario("python componentize-py 0.7 (wasi:http 0.2.0-rc-2023-11-10)", "python-rc-hello", &[], move |b| {
        suite::hello(b, "Hello from componentize-py 0.7 at / route=")?;
        suite::answers(b, "/denied/x", "Hello from componentize-py 0.7 at /denied/x route=/denied")?;
        suite::echo_body(b)?;
        suite::outbound(b, upstream_port)?;
        suite::well_known(b, "python-rc-hello")
    })
}

/// The Rust SDK 6 (Spin 4.0) app: WASI 0.3's last release candidate
/// (`wasi:http/handler@0.3.0-rc-2026-03-15`) served as 0.3.0, its key-value
/// counter on `spin:key-value@3.0.0`, and the well-known paths.
pub fn rust_sdk6_hello(_: &Inputs) -> Scenario {
    scenario("rust sdk 6 hello (wasi:http 0.3.0-rc-2026-03-15)", "rust-sdk6-hello", &[], |b| {
        suite::hello(b, "Hello from spin-sdk 6 at /")?;
        let key = suite::unique("sdk6");
        suite::answers(b, &format!("/counter/{key}"), "1")?;
        suite::answers(b, &format!("/counter/{key}"), "2")?;
        suite::well_known(b, "rust-sdk6-hello")
    })
}

/// The Rust SDK 7 hello app: a WASI 0.3 `wasi:http/handler@0.3.0` component,
/// its routed path as the guest saw it, and the well-known paths.
pub fn rust_sdk7_hello(_: &Inputs) -> Scenario {
    scenario("rust sdk 7 hello (wasi:http 0.3)", "rust-sdk7-hello", &[], |b| {
        suite::hello(b, "Hello from spin-sdk 7 at /")?;
        suite::answers(b, "/deep/path?q=1", "Hello from spin-sdk 7 at /deep/path")?;
        suite::well_known(b, "rust-sdk7-hello")
    })
}

/// A WASI 0.3 guest's instances reused as `SPIN_MAX_INSTANCE_REUSE_COUNT` says
/// (from the process or container environment): two requests each. One
/// serving thread, so every request (each on a new connection) meets the same
/// instances; with more, each thread keeps its own.
pub fn rust_sdk7_reuse(_: &Inputs) -> Scenario {
    let env = [("SPIN_MAX_INSTANCE_REUSE_COUNT", "2"), ("SPIN_HTTP_THREADS", "1")];
    scenario("rust sdk 7 instance reuse", "rust-sdk7-reuse", &env, |b| {
        let served = crate::reuse::sequential(b, 5)?;
        let numbers = crate::reuse::request_numbers(&served);
        anyhow::ensure!(numbers == [1, 2, 1, 2, 1], "request numbers {numbers:?}: {served:?}");
        Ok(())
    })
}

/// The Rust SDK 7 key-value counter (`spin:key-value@3.0.0`) on the default
/// store, its key listing (a stream) and a store it may not open.
pub fn rust_sdk7_key_value(_: &Inputs) -> Scenario {
    scenario("rust sdk 7 key-value (spin:key-value@3.0.0)", "rust-sdk7-kv", &[], suite::key_value_counter)
}

/// The Rust SDK 7 variables app (`spin:variables@3.0.0`): what `variables`
/// checks, and an undeclared variable's error.
pub fn rust_sdk7_variables(inputs: &Inputs) -> Scenario {
    scenario(
        "rust sdk 7 variables (spin:variables@3.0.0)",
        "rust-sdk7-variables",
        &[(inputs.variable_env, SECRET_TOKEN)],
        |b| {
            suite::variables(b, SECRET_TOKEN)?;
            suite::undefined_variable(b)
        },
    )
}

/// The Rust SDK 7 SQLite app (`spin:sqlite@3.1.0`, async with streamed rows):
/// what `rust_sqlite` checks, and a connection's own changes and last rowid.
pub fn rust_sdk7_sqlite(_: &Inputs) -> Scenario {
    scenario("rust sdk 7 sqlite (spin:sqlite@3.1.0)", "rust-sdk7-sqlite", &[], |b| {
        suite::sqlite(b, None)?;
        suite::sqlite_changes(b)
    })
}

/// The Rust hello app built as a core module, componentized by the engine.
pub fn rust_hello_core(_: &Inputs) -> Scenario {
    scenario("rust hello as a core module", "rust-hello-core", &[], |b| suite::hello(b, "Hello, Fermyon"))
}

/// A WAGI program (the HTTP trigger's `wagi` executor): its CGI response,
/// the request body on stdin, the component's environment beside the CGI
/// variables, and a status of its own.
pub fn rust_wagi(_: &Inputs) -> Scenario {
    scenario("rust wagi program (executor = wagi)", "rust-wagi", &[], |b| {
        let hello = crate::http::get(&format!("{b}/wagi/hi"))?;
        anyhow::ensure!(hello.status == 200 && hello.body == "hello from wagi", "{hello:?}");
        let echo = crate::http::request("POST", &format!("{b}/wagi/echo"), &[], "ping")?;
        anyhow::ensure!(echo.status == 200 && echo.body == "ping", "{echo:?}");
        let env = crate::http::get(&format!("{b}/wagi/env?GREETING&PATH_INFO"))?;
        let expected = "argv=/wagi/env|GREETING|PATH_INFO\nGREETING=hi\nPATH_INFO=/env\n";
        anyhow::ensure!(env.status == 200 && env.body == expected, "{env:?}");
        let teapot = crate::http::get(&format!("{b}/wagi/status"))?;
        anyhow::ensure!(teapot.status == 418 && teapot.body == "teapot", "{teapot:?}");
        Ok(())
    })
}

/// The Python SDK's hello app.
pub fn python_hello(_: &Inputs) -> Scenario {
    scenario("python hello", "python-hello", &[], |b| suite::hello(b, "Hello from Python"))
}

/// The Python SDK 5 hello app (componentize-py 0.25.1, `wasi:http/handler@0.3.0`,
/// importing the whole `spin:up@4.1.0` platform world).
pub fn python_sdk5_hello(_: &Inputs) -> Scenario {
    scenario("python sdk 5 hello (wasi:http 0.3)", "python-sdk5-hello", &[], |b| {
        suite::hello(b, "Hello from Python SDK 5 at /")?;
        suite::answers(b, "/a/b?c=d", "Hello from Python SDK 5 at /a/b")?;
        Ok(())
    })
}

/// The JavaScript SDK's hello app.
pub fn js_hello(_: &Inputs) -> Scenario {
    scenario("js hello", "js-hello", &[], |b| suite::hello(b, "Hello from JavaScript"))
}

/// Exact, parameter and wildcard routes with every `spin-*` header, and mounted files.
pub fn routes_and_spin_headers(_: &Inputs) -> Scenario {
    scenario("routes and spin headers", "rust-echo", &[], |b| {
        suite::echo_routes(b)?;
        suite::files(b)
    })
}

/// A default, a required variable from the environment, and a template.
pub fn variables(inputs: &Inputs) -> Scenario {
    scenario("variables", "rust-variables", &[(inputs.variable_env, SECRET_TOKEN)], |b| {
        suite::variables(b, SECRET_TOKEN)
    })
}

/// Outbound HTTP to the upstream: allowed where listed, denied elsewhere.
pub fn outbound_http(inputs: &Inputs) -> Scenario {
    let upstream_port = inputs.upstream_port;
    scenario("outbound http", "rust-outbound", &[], move |b| suite::outbound(b, upstream_port))
}

/// Outbound HTTP from a WASI 0.3 guest (`wasi:http/client@0.3.0`): the same
/// allowed and denied requests as the 0.2 guest's.
pub fn rust_sdk7_outbound_http(inputs: &Inputs) -> Scenario {
    let upstream_port = inputs.upstream_port;
    scenario("outbound http (wasi:http 0.3)", "rust-sdk7-outbound", &[], move |b| suite::outbound(b, upstream_port))
}

/// Service chaining (`*.spin.internal`) and self requests between WASI 0.3 guests.
pub fn service_chaining(_: &Inputs) -> Scenario {
    scenario("service chaining and self requests (wasi:http 0.3)", "rust-sdk7-chain", &[], suite::service_chaining)
}

/// Spin 4.1 HTTP middleware (spin-sdk 7 `http-middleware`) composed in front of a
/// handler: order, request rewriting, response headers and `inherit_configuration`.
pub fn http_middleware(_: &Inputs) -> Scenario {
    scenario("http middleware (spin-sdk 7)", "rust-sdk7-middleware", &[], suite::http_middleware)
}

/// Spin 3 component dependencies: a spin-sdk HTTP component whose import is
/// filled by a wit-bindgen library component, composed at start.
pub fn component_dependencies(_: &Inputs) -> Scenario {
    scenario("component dependencies", "rust-deps", &[], suite::component_dependencies)
}

/// The Rust key-value app on the default store (Spin's and `wasi:keyvalue`), and
/// a fresh instance per request.
pub fn rust_key_value(_: &Inputs) -> Scenario {
    scenario("rust key-value (default store)", "rust-kv", &[], |b| {
        suite::key_value(b, None)?;
        suite::wasi_keyvalue(b, None)?;
        suite::fresh_instances(b)
    })
}

/// The Python key-value app on the default store.
pub fn python_key_value(_: &Inputs) -> Scenario {
    scenario("python key-value (default store)", "python-kv", &[], |b| suite::key_value(b, None))
}

/// The Python SDK 5 key-value app (`spin:key-value/key-value@3.0.0`, async) on
/// the default store, with the same checks as the SDK 3 app.
pub fn python_sdk5_key_value(_: &Inputs) -> Scenario {
    scenario("python sdk 5 key-value (default store)", "python-sdk5-kv", &[], |b| suite::key_value(b, None))
}

/// The Rust SQLite app on the default database.
pub fn rust_sqlite(_: &Inputs) -> Scenario {
    scenario("rust sqlite (default database)", "rust-sqlite", &[], |b| suite::sqlite(b, None))
}

/// A trapping guest answers 500 and its panic message reaches the output; an
/// unrouted path answers 404.
pub fn trap_and_404(_: &Inputs) -> Scenario {
    Scenario {
        // The guest's panic message goes to its stderr, which must reach the log.
        expect_output: Some("boom"),
        ..scenario("trap and 404", "rust-trap", &[], suite::trap)
    }
}
