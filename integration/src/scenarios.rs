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

/// Every scenario; `upstream_port` is a real HTTP server for outbound requests.
/// `variable_env` is how the required variable is passed: `SPIN_VARIABLE_SECRET_TOKEN`
/// (CLI) or the plain upper-case `SECRET_TOKEN` (container env, as the existing shim).
pub fn all(upstream_port: u16, variable_env: &'static str) -> Vec<Scenario> {
    vec![
        scenario("rust hello", "rust-hello", &[], |b| {
            suite::hello(b, "Hello, Fermyon")?;
            suite::well_known(b, "rust-hello")
        }),
        scenario("rust hello as a core module", "rust-hello-core", &[], |b| suite::hello(b, "Hello, Fermyon")),
        scenario("python hello", "python-hello", &[], |b| suite::hello(b, "Hello from Python")),
        scenario("js hello", "js-hello", &[], |b| suite::hello(b, "Hello from JavaScript")),
        scenario("routes and spin headers", "rust-echo", &[], |b| {
            suite::echo_routes(b)?;
            suite::files(b)
        }),
        scenario("variables", "rust-variables", &[(variable_env, SECRET_TOKEN)], |b| suite::variables(b, SECRET_TOKEN)),
        scenario("outbound http", "rust-outbound", &[], move |b| suite::outbound(b, upstream_port)),
        scenario("rust key-value (default store)", "rust-kv", &[], |b| {
            suite::key_value(b, None)?;
            suite::wasi_keyvalue(b, None)?;
            suite::fresh_instances(b)
        }),
        scenario("python key-value (default store)", "python-kv", &[], |b| suite::key_value(b, None)),
        scenario("rust sqlite (default database)", "rust-sqlite", &[], |b| suite::sqlite(b, None)),
        Scenario {
            // The guest's panic message goes to its stderr, which must reach the log.
            expect_output: Some("boom"),
            ..scenario("trap and 404", "rust-trap", &[], suite::trap)
        },
    ]
}
