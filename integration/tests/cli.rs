//! Every guest served through `spin-shim up` (the CLI), as tools drive `spin up`.

use std::time::{Duration, Instant};

use integration::cli_app::{run_to_failure, serve};
use integration::fixtures::{bad_apps, check_refusal, copy_of, with_manifest, PROFILED_DEPS};
use integration::scenarios::{self, Inputs, Make};
use integration::services::tls_server::{Pki, TlsServer};
use integration::{guests, suite, upstream};

/// Serves the scenario `make` builds through `spin-shim up` and runs its checks.
fn run(make: Make) {
    let scenario = make(&Inputs::cli(upstream::start("upstream")));
    let env: Vec<(&str, &str)> = scenario.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (_copy, dir) = copy_of(scenario.guest);
    let mut app = serve(&dir, &env, &[]).unwrap();
    if let Err(e) = (scenario.check)(&app.base) {
        panic!("{}: {e:#}\n--- output ---\n{}", scenario.name, app.process.output());
    }
    if let Some(text) = scenario.expect_output {
        app.process.wait_for_line(text, Duration::from_secs(5)).unwrap();
    }
}

#[test]
fn rust_hello_answers_and_serves_the_well_known_paths() {
    run(scenarios::rust_hello);
}

#[test]
fn a_spin_sdk_2_module_of_the_2023_10_18_wasi_http_candidate_is_served() {
    run(scenarios::rust_sdk2_hello);
}

#[test]
fn a_componentize_py_0_7_component_of_the_2023_11_10_wasi_http_candidate_is_served() {
    run(scenarios::python_rc_hello);
}

#[test]
fn a_spin_sdk_6_component_of_the_last_wasi_0_3_candidate_is_served_as_0_3() {
    run(scenarios::rust_sdk6_hello);
}

#[test]
fn a_spin_sdk_7_wasi_http_0_3_component_answers_with_its_routed_path() {
    run(scenarios::rust_sdk7_hello);
}

#[test]
fn a_wasi_0_3_component_is_reused_as_the_environment_says() {
    run(scenarios::rust_sdk7_reuse);
}

#[test]
fn a_spin_sdk_7_key_value_counter_counts_on_the_default_store() {
    run(scenarios::rust_sdk7_key_value);
}

#[test]
fn spin_sdk_7_variables_resolve_defaults_the_environment_and_templates() {
    run(scenarios::rust_sdk7_variables);
}

#[test]
fn spin_sdk_7_sqlite_streams_rows_and_counts_its_own_changes() {
    run(scenarios::rust_sdk7_sqlite);
}

#[test]
fn spin_4_1_http_middleware_is_composed_in_front_of_the_handler_outermost_first() {
    run(scenarios::http_middleware);
}

#[test]
fn a_component_dependency_is_composed_into_its_component_without_its_configuration() {
    run(scenarios::component_dependencies);
}

/// The `rust-deps` manifest with `extra` in the component's table and `value`
/// as its one dependency's.
fn deps_manifest(extra: &str, name: &str, value: &str) -> String {
    format!(
        "spin_manifest_version = 2\n[application]\nname = \"deps\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"front\"\n\
         [component.front]\nsource = \"app.wasm\"\nenvironment = {{ GREETING = \"Howdy\" }}\n{extra}\n\
         [component.front.dependencies]\n\"{name}\" = {value}\n\
         [component.lib]\nsource = \"greeter.wasm\"\n"
    )
}

#[test]
fn a_component_dependency_inherits_configuration_and_names_what_does_not_fit() {
    let get = |manifest: String| {
        let (_copy, dir) = with_manifest("rust-deps", &manifest);
        let app = serve(&dir, &[], &[]).unwrap();
        integration::http::get(&format!("{}/bob", app.base)).unwrap()
    };
    // Inheriting the component's configuration, the greeter reads its environment;
    // the dependency may be another component's wasm, named by its package.
    let all =
        get(deps_manifest("dependencies_inherit_configuration = true", "demo:greeter", "{ component = \"lib\" }"));
    assert_eq!((all.status, all.body.as_str()), (200, "Howdy, bob!; front GREETING=Howdy"), "{all:?}");
    let env = get(deps_manifest(
        "",
        "demo:greeter/greet@0.1.0",
        "{ path = \"greeter.wasm\", inherit_configuration = [\"environment\"] }",
    ));
    assert_eq!((env.status, env.body.as_str()), (200, "Howdy, bob!; front GREETING=Howdy"), "{env:?}");

    // What cannot be composed stops the app with both names in one line.
    let refused = |name: &str, value: &str, expect: &str| {
        let (_copy, dir) = with_manifest("rust-deps", &deps_manifest("", name, value));
        let (code, output) = run_to_failure(&dir).unwrap();
        assert!(code != 0 && output.contains(expect), "{name} = {value}: exit {code}: {output}");
    };
    refused("demo:other", "{ path = \"greeter.wasm\" }", "dependency `demo:other` (");
    refused(
        "demo:greeter/greet",
        "{ path = \"greeter.wasm\", export = \"demo:greeter/nope\" }",
        "does not export `demo:greeter/nope` for the import `demo:greeter/greet@0.1.0`",
    );
    refused("demo:greeter/greet", "{ path = \"app.wasm\" }", "does not export `demo:greeter/greet@0.1.0`");
}

/// `{ url, digest }` sources (component and dependency) are downloaded once,
/// checked against their digest and served; a wrong digest stops the app.
#[test]
fn url_sources_are_downloaded_once_and_checked_against_their_digest() {
    use integration::services::file_server::FileServer;
    let (_copy, dir) = copy_of("rust-deps");
    let served = tempfile::tempdir().unwrap();
    let mut digests = Vec::new();
    for file in ["app.wasm", "greeter.wasm"] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        std::fs::write(served.path().join(file), &bytes).unwrap();
        digests.push(format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))));
        std::fs::remove_file(dir.join(file)).unwrap();
    }
    let cache = tempfile::tempdir().unwrap();
    let cache_env = [("XDG_CACHE_HOME", cache.path().to_str().unwrap())];
    let manifest = |server: &FileServer, app_digest: &str| {
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"remote\"\n\
             [[trigger.http]]\nroute = \"/...\"\ncomponent = \"front\"\n\
             [component.front]\nsource = {{ url = \"{}\", digest = \"{app_digest}\" }}\n\
             environment = {{ GREETING = \"Howdy\" }}\n\
             [component.front.dependencies]\n\"demo:greeter/greet\" = {{ url = \"{}\", digest = \"{}\" }}\n",
            server.url("app.wasm"),
            server.url("greeter.wasm"),
            digests[1]
        )
    };
    let server = FileServer::start(served.path()).unwrap();
    std::fs::write(dir.join("spin.toml"), manifest(&server, &digests[0])).unwrap();
    {
        let app = serve(&dir, &cache_env, &[]).unwrap();
        suite::component_dependencies(&app.base).unwrap();
    }
    // Stopped: the second start finds both in the cache.
    let url_of_gone_server = manifest(&server, &digests[0]);
    drop(server);
    std::fs::write(dir.join("spin.toml"), &url_of_gone_server).unwrap();
    let app = serve(&dir, &cache_env, &[]).unwrap();
    suite::component_dependencies(&app.base).unwrap();
    drop(app);

    // Bytes that do not match the digest never run.
    let server = FileServer::start(served.path()).unwrap();
    let other = format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"other bytes")));
    std::fs::write(dir.join("spin.toml"), manifest(&server, &other)).unwrap();
    let (code, output) = integration::cli_app::Up::new(&dir).env(&cache_env).run(Duration::from_secs(60)).unwrap();
    assert!(code != 0 && output.contains("does not match its digest"), "exit {code}: {output}");
}

/// Component sources and dependencies from a wasm package registry, reached
/// through wasm-pkg's own configuration file (a real OCI registry, packages
/// published with wasm-pkg-client): the component by its exact version, the
/// dependency as the newest release meeting its requirement, the registry
/// named by the config file or by the manifest. What cannot be resolved stops
/// the app and says why.
#[test]
fn registry_packages_are_fetched_where_wasm_pkg_configuration_says() {
    use integration::services::registry::Registry;
    let registry = Registry::start().unwrap();
    let (_copy, dir) = copy_of("rust-deps");
    registry.publish_package(&dir.join("app.wasm"), "demo:front", "1.0.0").unwrap();
    registry.publish_package(&dir.join("greeter.wasm"), "demo:greeter", "0.1.0").unwrap();
    // A newer release outside `^0.1`, which does not export the interface:
    // choosing it would fail the composition.
    registry.publish_package(&dir.join("app.wasm"), "demo:greeter", "0.2.0").unwrap();
    for file in ["app.wasm", "greeter.wasm"] {
        std::fs::remove_file(dir.join(file)).unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let (config, cache) = (home.path().join("config"), home.path().join("cache"));
    std::fs::create_dir_all(config.join("wasm-pkg")).unwrap();
    let env = [("XDG_CONFIG_HOME", config.to_str().unwrap()), ("XDG_CACHE_HOME", cache.to_str().unwrap())];
    let write = |wasm_pkg_config: &str, source_extra: &str, dependency: &str| {
        std::fs::write(config.join("wasm-pkg/config.toml"), wasm_pkg_config).unwrap();
        let manifest = format!(
            "spin_manifest_version = 2\n[application]\nname = \"from-registry\"\n\
             [[trigger.http]]\nroute = \"/...\"\ncomponent = \"front\"\n\
             [component.front]\nsource = {{ package = \"demo:front\", version = \"1.0.0\"{source_extra} }}\n\
             environment = {{ GREETING = \"Howdy\" }}\n\
             [component.front.dependencies]\n\"demo:greeter/greet\" = {dependency}\n"
        );
        std::fs::write(dir.join("spin.toml"), manifest).unwrap();
    };

    // The config file names the default registry.
    write(&registry.wasm_pkg_config(true), "", "\"^0.1\"");
    let app = serve(&dir, &env, &[]).unwrap();
    suite::component_dependencies(&app.base).unwrap();
    drop(app);

    // The manifest names the registry; the config file only says how to reach it.
    let named = format!(", registry = \"{}\"", registry.host());
    write(&registry.wasm_pkg_config(false), &named, &format!("{{ version = \"^0.1\"{named} }}"));
    let app = serve(&dir, &env, &[]).unwrap();
    suite::component_dependencies(&app.base).unwrap();
    drop(app);

    let refused = |wasm_pkg_config: &str, dependency: &str, expect: &str| {
        write(wasm_pkg_config, "", dependency);
        let (code, output) = integration::cli_app::Up::new(&dir).env(&env).run(Duration::from_secs(60)).unwrap();
        assert!(code != 0 && output.contains(expect), "{dependency}: exit {code}: {output}");
    };
    refused(&registry.wasm_pkg_config(true), "\"^9\"", "demo:greeter has no release that meets `^9`");
    refused("", "\"^0.1\"", "no registry configured for namespace");
}

/// `--profile` runs a component as its named profile has it (Spin 4): the
/// profile's source and environment, the component's own dependencies.
#[test]
fn a_named_profile_replaces_the_source_and_adds_to_the_environment() {
    use integration::cli_app::Up;
    let (_copy, dir) = with_manifest("rust-deps", PROFILED_DEPS);
    let app = Up::new(&dir).flags(&["--profile", "debug"]).serve().unwrap();
    let resp = integration::http::get(&format!("{}/alice", app.base)).unwrap();
    assert_eq!((resp.status, resp.body.as_str()), (200, "Hello, alice!; front GREETING=Debugging"));
    drop(app);
    let (code, output) = run_to_failure(&dir).unwrap();
    assert!(code != 0 && output.contains("source `release.wasm`"), "the default profile's source: {output}");
    let (code, output) = Up::new(&dir).flags(&["--profile", "deubg"]).run(Duration::from_secs(60)).unwrap();
    assert!(code != 0 && output.contains("profile `deubg` is not defined in this application"), "{output}");
}

/// `--format json` prints Spin 4's JSON object in place of the route lines:
/// the base URL, and each route's id, path, wildcard flag and description.
#[test]
fn format_json_prints_the_routes_as_one_json_object() {
    use integration::cli_app::Up;
    let dir = guests::app("rust-echo");
    let mut process = Up::new(&dir).flags(&["--format", "json"]).spawn().unwrap();
    process.wait_for_line("\"routes\"", Duration::from_secs(60)).unwrap();
    // The object ends with a line holding only `}`.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut output = process.output();
    while !output.contains("\n}") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        output = process.output();
    }
    let start = output.find("{\n").unwrap_or_else(|| panic!("no JSON object in:\n{output}"));
    let end = output.rfind("\n}").expect("the object's end") + 2;
    let banner: serde_json::Value = serde_json::from_str(&output[start..end]).unwrap();
    let base = banner["base_url"].as_str().unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{banner:#}");
    let routes = banner["routes"].as_array().unwrap();
    let route = |id: &str| routes.iter().find(|r| r["id"] == id).cloned().unwrap_or_else(|| panic!("{id}: {banner:#}"));
    assert_eq!(route("catchall"), serde_json::json!({ "id": "catchall", "route": "/", "wildcard": true }));
    assert_eq!(route("static"), serde_json::json!({ "id": "static", "route": "/static", "wildcard": true }));
    assert_eq!(route("exact"), serde_json::json!({ "id": "exact", "route": "/exact", "wildcard": false }));
    assert!(!output.contains("Available Routes"), "{output}");
    assert_eq!(integration::http::get(&format!("{base}/exact")).unwrap().status, 200);
}

/// App variables as `spin up` resolves them: `--variable` (values, `name=@file`,
/// `@file.json|toml`) wins over the environment, which wins over Spin's `.env`
/// file in the working directory, which wins over the manifest's default.
#[test]
fn variable_flags_win_over_the_environment_and_the_dotenv_file_fills_in() {
    use integration::cli_app::Up;
    let (_copy, dir) = copy_of("rust-variables");
    std::fs::write(dir.join(".env"), "SPIN_VARIABLE_SECRET_TOKEN=from-dotenv\nSPIN_VARIABLE_GREETING=hey\n").unwrap();
    let body = |up: Up| {
        let served = up.working_dir(&dir).serve().unwrap();
        integration::http::get(&format!("{}/", served.base)).unwrap().body
    };
    assert_eq!(body(Up::new(&dir)), "greeting=hey;token=from-dotenv;message=hey world");
    let env = [("SPIN_VARIABLE_GREETING", "from-env")];
    assert_eq!(body(Up::new(&dir).env(&env)), "greeting=from-env;token=from-dotenv;message=from-env world");
    std::fs::write(dir.join("vars.json"), r#"{"secret_token": "from-json"}"#).unwrap();
    std::fs::write(dir.join("greeting.txt"), "from-file").unwrap();
    let flags = ["--variable", "@vars.json", "--variable", "greeting=@greeting.txt"];
    assert_eq!(
        body(Up::new(&dir).env(&env).flags(&flags)),
        "greeting=from-file;token=from-json;message=from-file world"
    );
}

/// Files are read-only; `--allow-transient-write` lets the guest change private
/// copies for the run, and the app's own files never change.
#[test]
fn allow_transient_write_lets_guests_change_copies_of_their_files() {
    use integration::cli_app::Up;
    use integration::http::{get, request};
    let (_copy, dir) = copy_of("rust-echo");
    let original = std::fs::read_to_string(dir.join("assets/hello.txt")).unwrap();
    let write = |base: &str| request("PUT", &format!("{base}/files?path=/hello.txt"), &[], "changed").unwrap();
    let served = Up::new(&dir).serve().unwrap();
    let r = write(&served.base);
    assert_eq!(r.status, 403, "read-only without the flag: {r:?}");
    drop(served);
    let served = Up::new(&dir).flags(&["--allow-transient-write"]).serve().unwrap();
    let r = write(&served.base);
    assert_eq!((r.status, r.body.as_str()), (200, "written"), "{r:?}");
    assert_eq!(get(&format!("{}/files?path=/hello.txt", served.base)).unwrap().body, "changed");
    drop(served);
    assert_eq!(std::fs::read_to_string(dir.join("assets/hello.txt")).unwrap(), original);
}

/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set, each request is a server span sent
/// over OTLP/HTTP: named by its method and route, a child of the caller's
/// `traceparent`, with Spin's attributes, the service name and the exporter
/// headers the environment gives; the last spans leave when the app stops.
#[test]
fn requests_are_traced_to_an_otlp_collector_under_the_callers_trace() {
    use integration::cli_app::Up;
    use integration::services::otlp_receiver::OtlpReceiver;
    let receiver = OtlpReceiver::start().unwrap();
    let endpoint = receiver.endpoint();
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_SERVICE_NAME", "echo-test"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-team=web"),
    ];
    let mut served = Up::new(&guests::app("rust-echo")).env(&env).serve().unwrap();
    let (trace_id, parent_id) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let traceparent = format!("00-{trace_id}-{parent_id}-01");
    let r =
        integration::http::request("GET", &format!("{}/users/42", served.base), &[("traceparent", &traceparent)], "")
            .unwrap();
    assert_eq!(r.status, 200);
    served.process.signal(libc::SIGTERM);
    let (code, output) = served.process.wait(Duration::from_secs(30)).unwrap();
    assert_eq!(code, 0, "{output}");
    let spans = receiver.spans();
    let span = spans.iter().find(|s| s["name"] == "GET /users/:id").unwrap_or_else(|| panic!("{spans:#?}\n{output}"));
    assert_eq!(span["path"], "/v1/traces");
    assert_eq!(span["content_type"], "application/x-protobuf");
    assert_eq!(span["request_headers"]["x-team"], "web", "{span:#}");
    assert_eq!(span["service"], "echo-test");
    assert_eq!((span["trace_id"].as_str(), span["parent_span_id"].as_str()), (Some(trace_id), Some(parent_id)));
    assert_eq!(span["kind"], 2, "a server span: {span:#}");
    let attributes = &span["attributes"];
    assert_eq!(attributes["http.request.method"], "GET");
    assert_eq!(attributes["url.path"], "/users/42");
    assert_eq!(attributes["http.route"], "/users/:id");
    assert_eq!(attributes["spin.component_id"], "param");
    assert_eq!(attributes["http.response.status_code"], 200, "{span:#}");
}

/// An idle app sleeps: once no instance lives, the epoch ticker (which
/// interrupts running guests every 10 ms) stops, so the whole process wakes a
/// few times a second at most; a request wakes it again and is served.
#[test]
fn an_idle_app_sleeps() {
    let served = serve(&guests::app("rust-hello"), &[], &[]).unwrap();
    assert_eq!(integration::http::get(&format!("{}/hello", served.base)).unwrap().status, 200);
    std::thread::sleep(Duration::from_millis(300));
    let before = served.process.wakeups().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let woken = served.process.wakeups().unwrap() - before;
    assert!(woken <= 10, "{woken} wake-ups in 2 s of idling (the ticker alone made 200)");
    assert_eq!(integration::http::get(&format!("{}/hello", served.base)).unwrap().status, 200);
}

/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set, every request a component serves
/// counts in Spin's `spin.request_count` (a monotonic sum with the attributes
/// `trigger_type`, `app_id` and `component_id`), and every instance records
/// Spin 4.1's `spin.component_memory_used_on_init`, `spin.component_memory_used`
/// (bytes) and `spin.component_cpu_time` (seconds) histograms with its
/// `component_id`; all exported over OTLP/HTTP to `/v1/metrics` when the app
/// stops at the latest.
#[test]
fn requests_and_instances_are_measured_in_spins_metrics() {
    use integration::cli_app::Up;
    use integration::services::otlp_receiver::OtlpReceiver;
    let receiver = OtlpReceiver::start().unwrap();
    let endpoint = receiver.endpoint();
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_SERVICE_NAME", "echo-test")];
    let mut served = Up::new(&guests::app("rust-echo")).env(&env).serve().unwrap();
    for path in ["/users/1", "/users/2", "/users/3", "/exact"] {
        assert_eq!(integration::http::get(&format!("{}{path}", served.base)).unwrap().status, 200);
    }
    served.process.signal(libc::SIGTERM);
    let (code, output) = served.process.wait(Duration::from_secs(30)).unwrap();
    assert_eq!(code, 0, "{output}");
    let sums = receiver.sums();
    let count_of = |component: &str| {
        let points: Vec<_> = sums
            .iter()
            .filter(|p| p["name"] == "spin.request_count" && p["attributes"]["component_id"] == component)
            .collect();
        let last = points.last().unwrap_or_else(|| panic!("{component}: {sums:#?}\n{output}"));
        assert_eq!(last["attributes"]["trigger_type"], "http");
        assert_eq!(last["attributes"]["app_id"], "rust-echo");
        assert_eq!((&last["monotonic"], &last["service"]), (&serde_json::json!(true), &serde_json::json!("echo-test")));
        last["value"].as_i64().unwrap()
    };
    assert_eq!((count_of("param"), count_of("exact")), (3, 1), "{sums:#?}");
    // One instance per request (WASI 0.2): three of `param`.
    let histogram = |name: &str| {
        let points = receiver.metric_points(name);
        let last = points
            .iter()
            .rfind(|p| p["attributes"]["component_id"] == "param")
            .unwrap_or_else(|| panic!("{name}: {points:#?}\n{output}"))
            .clone();
        assert_eq!((&last["signal"], &last["count"]), (&"histogram".into(), &3.into()), "{name}: {last:#}");
        last
    };
    let on_init = histogram("spin.component_memory_used_on_init");
    let used = histogram("spin.component_memory_used");
    let cpu = histogram("spin.component_cpu_time");
    assert_eq!((&on_init["unit"], &used["unit"], &cpu["unit"]), (&"By".into(), &"By".into(), &"s".into()));
    let number = |p: &serde_json::Value, field: &str| p[field].as_f64().unwrap();
    // A Rust guest's memory starts at a whole number of 64 KiB pages and never shrinks.
    assert!(number(&on_init, "min") >= 65536.0 && number(&on_init, "min") % 65536.0 == 0.0, "{on_init:#}");
    assert!(number(&used, "min") >= number(&on_init, "min"), "{used:#}\n{on_init:#}");
    // Each instance ran some guest code, and not for long.
    assert!(number(&cpu, "min") > 0.0 && number(&cpu, "max") < 1.0, "{cpu:#}");
}

/// `OTEL_TRACES_SAMPLER` decides which request traces are recorded: with
/// `always_off` none is (the request count still arrives), with
/// `parentbased_always_off` a request follows its caller's sampled flag.
#[test]
fn the_trace_sampler_decides_which_requests_are_traced() {
    use integration::cli_app::Up;
    use integration::services::otlp_receiver::OtlpReceiver;
    for (sampler, traced) in [("always_off", false), ("parentbased_always_off", true)] {
        let receiver = OtlpReceiver::start().unwrap();
        let endpoint = receiver.endpoint();
        let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_TRACES_SAMPLER", sampler)];
        let mut served = Up::new(&guests::app("rust-echo")).env(&env).serve().unwrap();
        let sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let r = integration::http::request("GET", &format!("{}/exact", served.base), &[("traceparent", sampled)], "");
        assert_eq!(r.unwrap().status, 200);
        assert_eq!(integration::http::get(&format!("{}/exact", served.base)).unwrap().status, 200);
        served.process.signal(libc::SIGTERM);
        served.process.wait(Duration::from_secs(30)).unwrap();
        let spans = receiver.spans();
        let server_spans: Vec<_> = spans.iter().filter(|s| s["kind"] == 2).collect();
        let expected = if traced { vec!["4bf92f3577b34da6a3ce929d0e0e4736"] } else { vec![] };
        assert_eq!(
            server_spans.iter().map(|s| s["trace_id"].as_str().unwrap()).collect::<Vec<_>>(),
            expected,
            "{sampler}"
        );
        let count =
            receiver.sums().into_iter().rfind(|p| p["name"] == "spin.request_count").map(|p| p["value"].clone());
        assert_eq!(count, Some(2.into()), "{sampler}: the collector is reached");
    }
}

/// A traced request's guest sends each outbound HTTP request as a client span,
/// a child of the request's span, whose context the request carries as its
/// `traceparent`, so the next service continues the trace.
#[test]
fn a_traced_requests_outbound_calls_are_client_spans_the_next_service_continues() {
    use integration::cli_app::Up;
    use integration::services::otlp_receiver::OtlpReceiver;
    let receiver = OtlpReceiver::start().unwrap();
    let endpoint = receiver.endpoint();
    // The next service: rust-echo, which answers with the headers it got.
    let echo = serve(&guests::app("rust-echo"), &[], &[]).unwrap();
    let mut front = Up::new(&guests::app("rust-outbound"))
        .env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())])
        .serve()
        .unwrap();
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let traceparent = format!("00-{trace_id}-b7ad6b7169203331-01");
    let url = format!("{}/?url={}/exact", front.base, echo.base);
    let r = integration::http::request("GET", &url, &[("traceparent", &traceparent)], "").unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    let echoed: serde_json::Value = serde_json::from_str(r.body.split_once(";body=").unwrap().1).unwrap();
    front.process.signal(libc::SIGTERM);
    front.process.wait(Duration::from_secs(30)).unwrap();
    let spans = receiver.spans();
    let server =
        spans.iter().find(|s| s["trace_id"] == trace_id && s["kind"] == 2).unwrap_or_else(|| panic!("{spans:#?}"));
    let client =
        spans.iter().find(|s| s["trace_id"] == trace_id && s["kind"] == 3).unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(client["parent_span_id"], server["span_id"], "{spans:#?}");
    assert_eq!(client["name"], "GET");
    assert_eq!(client["attributes"]["http.request.method"], "GET");
    assert_eq!(client["attributes"]["url.full"], format!("{}/exact", echo.base).as_str());
    assert_eq!(client["attributes"]["http.response.status_code"], 200, "{client:#}");
    let expected = format!("00-{trace_id}-{}-01", client["span_id"].as_str().unwrap());
    assert_eq!(echoed["headers"]["traceparent"], expected.as_str(), "{echoed:#}");
}

/// A guest's own spans (`wasi:otel/tracing`, from a reused WASI 0.3 instance)
/// are exported in the request's trace: `outer-span-context` is the request's
/// span, the guest's span keeps its attributes and events, and an outbound
/// request sent while the guest's span is open is that span's child. Without
/// an exporter the guest sees no trace and still answers.
#[test]
fn a_guests_own_spans_join_the_request_trace() {
    use integration::cli_app::Up;
    use integration::services::otlp_receiver::OtlpReceiver;
    let receiver = OtlpReceiver::start().unwrap();
    let endpoint = receiver.endpoint();
    let echo = serve(&guests::app("rust-echo"), &[], &[]).unwrap();
    let app = guests::app("rust-sdk7-otel");
    let mut front = Up::new(&app).env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())]).serve().unwrap();
    let trace_id = "5b8efff798038103d269b633813fc60c";
    let traceparent = format!("00-{trace_id}-eee19b7ec3c1b174-01");
    let url = format!("{}/?url={}/exact", front.base, echo.base);
    let r = integration::http::request("GET", &url, &[("traceparent", &traceparent)], "").unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    front.process.signal(libc::SIGTERM);
    front.process.wait(Duration::from_secs(30)).unwrap();
    let spans = receiver.spans();
    let in_trace = |kind: i64| {
        spans.iter().find(|s| s["trace_id"] == trace_id && s["kind"] == kind).unwrap_or_else(|| panic!("{spans:#?}"))
    };
    let (server, guest, client) = (in_trace(2), in_trace(1), in_trace(3));
    let server_id = server["span_id"].as_str().unwrap();
    assert!(r.body.starts_with(&format!("outer={trace_id}/{server_id};guest=")), "{r:?}");
    assert_eq!(guest["name"], "guest-work");
    assert_eq!(guest["parent_span_id"], server_id);
    assert_eq!(guest["attributes"]["guest.flag"], true, "{guest:#}");
    assert_eq!(guest["attributes"]["guest.count"], 3);
    assert_eq!(guest["attributes"]["guest.words"], "a b");
    assert_eq!(guest["events"], serde_json::json!(["checkpoint"]));
    assert!(r.body.contains(&format!(";guest={};", guest["span_id"].as_str().unwrap())), "{r:?}");
    assert_eq!(client["parent_span_id"], guest["span_id"], "the outbound request is the guest span's child");
    let echoed: serde_json::Value = serde_json::from_str(r.body.split_once(";upstream=200 ").unwrap().1).unwrap();
    let expected = format!("00-{trace_id}-{}-01", client["span_id"].as_str().unwrap());
    assert_eq!(echoed["headers"]["traceparent"], expected.as_str(), "{echoed:#}");

    let untraced = serve(&app, &[], &[]).unwrap();
    let r = integration::http::get(&format!("{}/", untraced.base)).unwrap();
    let zeros = format!("outer={}/{};", "0".repeat(32), "0".repeat(16));
    assert!(r.status == 200 && r.body.starts_with(&zeros), "{r:?}");
    assert!(r.body.contains(";metrics=ok;"), "without a collector an export is taken and dropped: {r:?}");
}

/// A guest's output lines and its `wasi:otel/logs` records reach the collector
/// as log records in the request's trace (from a reused WASI 0.3 instance,
/// whose guest runs outside the request's task).
#[test]
fn a_guests_output_and_log_records_are_exported_in_the_request_trace() {
    use integration::cli_app::Up;
    use integration::services::otlp_receiver::OtlpReceiver;
    let receiver = OtlpReceiver::start().unwrap();
    let endpoint = receiver.endpoint();
    let mut app = Up::new(&guests::app("rust-sdk7-otel"))
        .env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_SERVICE_NAME", "shop")])
        .serve()
        .unwrap();
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let traceparent = format!("00-{trace_id}-b7ad6b7169203331-01");
    let r = integration::http::request("GET", &format!("{}/", app.base), &[("traceparent", &traceparent)], "").unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    app.process.signal(libc::SIGTERM);
    app.process.wait(Duration::from_secs(30)).unwrap();
    let (spans, logs) = (receiver.spans(), receiver.logs());
    let server = spans.iter().find(|s| s["trace_id"] == trace_id && s["kind"] == 2).expect("the request span");
    let guest = spans.iter().find(|s| s["name"] == "guest-work").expect("the guest span");
    let line = |text: &str| logs.iter().find(|l| l["body"] == text).unwrap_or_else(|| panic!("{text}: {logs:#?}"));
    for (text, stream) in [("guest says hello", "stdout"), ("guest warns", "stderr")] {
        let record = line(text);
        assert_eq!(record["attributes"]["component_id"], "otel", "{record:#}");
        assert_eq!(record["attributes"]["log.iostream"], stream, "{record:#}");
        assert_eq!((&record["trace_id"], &record["span_id"]), (&server["trace_id"], &server["span_id"]), "{record:#}");
        assert_eq!((&record["service"], &record["scope"]), (&"shop".into(), &"spin".into()), "{record:#}");
    }
    let emitted = logs.iter().find(|l| l["event_name"] == "order.paid").unwrap_or_else(|| panic!("{logs:#?}"));
    assert_eq!(emitted["body"], serde_json::json!({"order": 42, "note": "paid"}), "{emitted:#}");
    assert_eq!((&emitted["severity_number"], &emitted["severity_text"]), (&13.into(), &"WARN".into()));
    assert_eq!(emitted["attributes"]["shop.region"], "eu");
    assert_eq!(emitted["scope"], "rust-sdk7-otel");
    assert_eq!((&emitted["trace_id"], &emitted["span_id"]), (&guest["trace_id"], &guest["span_id"]), "{emitted:#}");
    assert!(emitted["time_unix_nano"].as_u64().unwrap() > 0);
}

/// A guest's `wasi:otel/metrics` exports reach the app's metrics collector while
/// the app runs, over `http/protobuf` and `http/json`: sums, histograms, gauges
/// and exemplars as the guest gave them, under the app's resource (its
/// `service.name` wins over the guest's; the guest's other attributes stay).
#[test]
fn a_guests_own_metrics_reach_the_collector_under_the_apps_resource() {
    use integration::cli_app::Up;
    use integration::services::otlp_receiver::OtlpReceiver;
    for protocol in ["http/protobuf", "http/json"] {
        let receiver = OtlpReceiver::start().unwrap();
        let endpoint = receiver.endpoint();
        let mut app = Up::new(&guests::app("rust-sdk7-otel"))
            .env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ("OTEL_SERVICE_NAME", "shop"),
            ])
            .serve()
            .unwrap();
        let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
        let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
        let r =
            integration::http::request("GET", &format!("{}/", app.base), &[("traceparent", &traceparent)], "").unwrap();
        assert!(r.status == 200 && r.body.contains(";metrics=ok;"), "{protocol}: {r:?}");
        let guest_span = r.body.split(";guest=").nth(1).and_then(|rest| rest.split(';').next()).unwrap().to_owned();
        // Sent as they come, not at shutdown.
        receiver.wait_until(Duration::from_secs(10), |r| !r.metric_points("shop.queue").is_empty());
        let point = |name: &str| {
            let points = receiver.metric_points(name);
            assert_eq!(points.len(), 1, "{protocol} {name}: {points:#?}");
            points.into_iter().next().unwrap()
        };
        let orders = point("shop.orders");
        assert_eq!(
            (&orders["signal"], &orders["value"], &orders["monotonic"]),
            (&"sum".into(), &42.into(), &true.into())
        );
        assert_eq!((&orders["temporality"], &orders["unit"]), (&2.into(), &"1".into()), "cumulative: {orders:#}");
        assert_eq!(orders["attributes"]["shop.region"], "eu");
        assert_eq!((&orders["scope"], &orders["scope_version"]), (&"rust-sdk7-otel".into(), &"0.1".into()));
        assert_eq!((&orders["service"], &orders["resource"]["guest.resource"]), (&"shop".into(), &"present".into()));
        assert_eq!(
            orders["content_type"],
            if protocol == "http/json" { "application/json" } else { "application/x-protobuf" }
        );
        let exemplar = serde_json::json!([{"value": 42, "trace_id": trace_id, "span_id": guest_span}]);
        assert_eq!(orders["exemplars"], exemplar, "{protocol}: {orders:#}");
        let latency = point("shop.latency");
        assert_eq!(
            (&latency["signal"], &latency["count"], &latency["sum"]),
            (&"histogram".into(), &2.into(), &57.5.into())
        );
        assert_eq!((&latency["min"], &latency["max"], &latency["unit"]), (&7.5.into(), &50.0.into(), &"ms".into()));
        assert_eq!(
            (&latency["bucket_counts"], &latency["bounds"]),
            (&serde_json::json!([1, 1, 0]), &serde_json::json!([10.0, 100.0]))
        );
        let queue = point("shop.queue");
        assert_eq!((&queue["signal"], &queue["value"]), (&"gauge".into(), &(-3).into()));
        app.process.signal(libc::SIGTERM);
        let (code, output) = app.process.wait(Duration::from_secs(30)).unwrap();
        assert_eq!(code, 0, "{output}");
    }
}

/// With `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`, traces, the request count, logs and the guest's metrics
/// reach a real OTLP/gRPC collector at the endpoint as given, with the headers
/// as gRPC metadata; over TLS, the collector's certificate is checked against
/// the system's store (`SSL_CERT_FILE`).
#[test]
fn every_signal_reaches_a_grpc_collector_in_plain_and_over_tls() {
    use integration::cli_app::Up;
    use integration::services::otlp_receiver::OtlpReceiver;
    let pki = Pki::new().unwrap();
    let ca = pki.dir().join("ca.pem");
    for receiver in [OtlpReceiver::start_grpc().unwrap(), OtlpReceiver::start_grpc_tls(&pki).unwrap()] {
        let endpoint = receiver.endpoint();
        let mut app = Up::new(&guests::app("rust-sdk7-otel"))
            .env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "x-team=web"),
                ("SSL_CERT_FILE", ca.to_str().unwrap()),
            ])
            .serve()
            .unwrap();
        let r = integration::http::get(&format!("{}/", app.base)).unwrap();
        assert_eq!(r.status, 200, "{r:?}");
        app.process.signal(libc::SIGTERM);
        app.process.wait(Duration::from_secs(30)).unwrap();
        let spans = receiver.spans();
        let server = spans.iter().find(|s| s["kind"] == 2).unwrap_or_else(|| panic!("{endpoint}: {spans:#?}"));
        assert_eq!((&server["protocol"], &server["name"]), (&"grpc".into(), &"GET /...".into()), "{server:#}");
        assert_eq!(server["request_headers"]["x-team"], "web", "{server:#}");
        assert!(spans.iter().any(|s| s["name"] == "guest-work"), "{spans:#?}");
        let count = receiver.sums().into_iter().find(|s| s["name"] == "spin.request_count");
        assert_eq!(count.map(|c| c["value"].clone()), Some(1.into()), "{endpoint}");
        let logs = receiver.logs();
        let line = logs.iter().find(|l| l["body"] == "guest says hello").unwrap_or_else(|| panic!("{logs:#?}"));
        assert_eq!((&line["protocol"], &line["trace_id"]), (&"grpc".into(), &server["trace_id"]), "{line:#}");
        let orders = receiver.metric_points("shop.orders");
        assert_eq!(orders.iter().map(|p| p["value"].clone()).collect::<Vec<_>>(), [42], "{endpoint}: {orders:#?}");
        assert_eq!((&orders[0]["protocol"], &orders[0]["request_headers"]["x-team"]), (&"grpc".into(), &"web".into()));
    }
}

/// A collector that cannot be reached costs the app nothing but a warning in its
/// log: requests are answered, and the failed export is named.
#[test]
fn an_unreachable_collector_is_reported_and_requests_still_answer() {
    use integration::cli_app::Up;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{closed}");
    let mut app =
        Up::new(&guests::app("rust-hello")).env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())]).serve().unwrap();
    let r = integration::http::get(&format!("{}/", app.base)).unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    app.process.signal(libc::SIGTERM);
    app.process.wait(Duration::from_secs(30)).unwrap();
    let output = app.process.output();
    assert!(output.contains(&format!("exporting traces to {endpoint}/v1/traces failed")), "{output}");
}

/// A chained request (`http://<component>.spin.internal`) stays in the trace:
/// the frontend's server span, its client span, then the backend's server span.
#[test]
fn a_chained_request_is_traced_from_frontend_to_backend() {
    use integration::cli_app::Up;
    use integration::services::otlp_receiver::OtlpReceiver;
    let receiver = OtlpReceiver::start().unwrap();
    let endpoint = receiver.endpoint();
    let mut app = Up::new(&guests::app("rust-sdk7-chain"))
        .env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())])
        .serve()
        .unwrap();
    let trace_id = "9c3b1d6e0f0a4b8e8d7c6b5a49382716";
    let traceparent = format!("00-{trace_id}-1111222233334444-01");
    let url = format!("{}/front/?url=http://backend.spin.internal/x", app.base);
    let r = integration::http::request("GET", &url, &[("traceparent", &traceparent)], "").unwrap();
    assert!(r.status == 200 && r.body.contains("-> 200 backend"), "{r:?}");
    app.process.signal(libc::SIGTERM);
    app.process.wait(Duration::from_secs(30)).unwrap();
    let spans = receiver.spans();
    let find = |kind: i64, component: Option<&str>| {
        spans
            .iter()
            .find(|s| {
                s["trace_id"] == trace_id
                    && s["kind"] == kind
                    && component.is_none_or(|c| s["attributes"]["spin.component_id"] == c)
            })
            .unwrap_or_else(|| panic!("{spans:#?}"))
    };
    let (front, client, back) = (find(2, Some("frontend")), find(3, None), find(2, Some("backend")));
    assert_eq!(front["parent_span_id"], "1111222233334444");
    assert_eq!(client["parent_span_id"], front["span_id"]);
    assert_eq!(client["attributes"]["url.full"], "http://backend.spin.internal/x");
    assert_eq!(back["parent_span_id"], client["span_id"], "{spans:#?}");
}

/// A real TCP server on 127.0.0.1 that answers each line with `pong: <line>`.
fn tcp_echo() -> u16 {
    use std::io::{BufRead as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut line = String::new();
            let mut reader = std::io::BufReader::new(&stream);
            if reader.read_line(&mut line).is_ok() {
                let _ = writeln!(&stream, "pong: {}", line.trim_end());
            }
        }
    });
    port
}

/// `wasi:sockets` follows `allowed_outbound_hosts`: a `tcp://` rule opens that
/// destination only, and a component without one has no sockets.
#[test]
fn outbound_tcp_reaches_the_destinations_its_rules_name_only() {
    let port = tcp_echo();
    let other = tcp_echo();
    let manifest = |rules: &str| {
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"tcp\"\n\
             [[trigger.http]]\nroute = \"/...\"\ncomponent = \"tcp\"\n\
             [component.tcp]\nsource = \"app.wasm\"\nallowed_outbound_hosts = [{rules}]\n"
        )
    };
    let connect = |base: &str, port: u16| integration::http::get(&format!("{base}/?addr=127.0.0.1:{port}")).unwrap();

    let (_copy, dir) = with_manifest("rust-tcp", &manifest(&format!("\"tcp://127.0.0.1:{port}\"")));
    let app = serve(&dir, &[], &[]).unwrap();
    let allowed = connect(&app.base, port);
    assert_eq!((allowed.status, allowed.body.as_str()), (200, "pong: ping"), "{allowed:?}");
    let denied = connect(&app.base, other);
    assert_eq!((denied.status, denied.body.as_str()), (502, "connect failed: PermissionDenied"), "{denied:?}");
    drop(app);

    let (_copy, dir) = with_manifest("rust-tcp", &manifest("\"https://example.com\""));
    let app = serve(&dir, &[], &[]).unwrap();
    let none = connect(&app.base, port);
    assert_eq!(none.status, 502, "{none:?}");
    assert!(none.body.starts_with("connect failed:"), "{none:?}");
}

/// Spin 2's `[application.trigger.http] base`: `/` is served with Spin's
/// deprecation warning (any other base is refused: see `bad_apps`).
#[test]
fn an_http_base_of_slash_is_served_with_a_warning() {
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"based\"\n\
                    [application.trigger.http]\nbase = \"/\"\n\
                    [[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n\
                    [component.hello]\nsource = \"app.wasm\"\n";
    let (_copy, dir) = with_manifest("rust-hello", manifest);
    let mut app = serve(&dir, &[], &[]).unwrap();
    assert_eq!(integration::http::get(&format!("{}/", app.base)).unwrap().status, 200);
    app.process
        .wait_for_line("deprecated trigger 'base' set to the default value '/'", Duration::from_secs(5))
        .unwrap();
}

/// Spin's WAGI executor: a WASI preview1 program (rust-wagi) run once per
/// request as a CGI program: argv from the template, the CGI environment with
/// Spin's routing values and the client's headers, the body on stdin, and the
/// printed headers (Status, Location, Content-Type) and body as the response.
#[test]
fn a_wagi_program_answers_as_a_cgi_program() {
    use integration::http::request;
    let mut app = serve(&guests::app("rust-wagi"), &[], &[]).unwrap();
    let base = app.base.clone();
    let hello = integration::http::get(&format!("{base}/wagi/hi")).unwrap();
    assert_eq!((hello.status, hello.body.as_str()), (200, "hello from wagi"), "{hello:?}");
    assert_eq!(hello.headers["content-type"], "text/plain");
    let echo = request("POST", &format!("{base}/wagi/echo"), &[], "ping\npong").unwrap();
    assert_eq!((echo.status, echo.body.as_str()), (200, "ping\npong"));
    let names = "GREETING&REQUEST_METHOD&PATH_INFO&SCRIPT_NAME&X_FULL_URL&X_MATCHED_ROUTE&QUERY_STRING\
                 &CONTENT_LENGTH&HTTP_X_THING&SERVER_SOFTWARE&GATEWAY_INTERFACE&HTTP_AUTHORIZATION";
    let env =
        request("GET", &format!("{base}/wagi/env?{names}"), &[("x-thing", "yes"), ("authorization", "secret")], "")
            .unwrap();
    let host = base.trim_start_matches("http://");
    let expected = format!(
        "argv=/wagi/env|{}\nGREETING=hi\nREQUEST_METHOD=GET\nPATH_INFO=/env\nSCRIPT_NAME=/wagi\n\
         X_FULL_URL=http://{host}/wagi/env?{names}\nX_MATCHED_ROUTE=/wagi/...\nQUERY_STRING={names}\n\
         CONTENT_LENGTH=0\nHTTP_X_THING=yes\nSERVER_SOFTWARE=WAGI/1\nGATEWAY_INTERFACE=CGI/1.1\n\
         HTTP_AUTHORIZATION=<unset>\n",
        names.replace('&', "|")
    );
    assert_eq!((env.status, env.body.as_str()), (200, expected.as_str()));
    let teapot = integration::http::get(&format!("{base}/wagi/status")).unwrap();
    assert_eq!((teapot.status, teapot.body.as_str()), (418, "teapot"));
    let no_redirects = ureq::AgentBuilder::new().redirects(0).build();
    let moved = match no_redirects.get(&format!("{base}/wagi/redirect")).call() {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!((moved.status(), moved.header("location")), (302, Some("/elsewhere")));
    for (path, why) in [("silent", "printed nothing"), ("exit", "exited with status 3")] {
        let r = integration::http::get(&format!("{base}/wagi/{path}")).unwrap();
        assert_eq!(r.status, 500, "a program that {why}: {r:?}");
    }
    app.process.wait_for_line("uses the WAGI executor", Duration::from_secs(5)).unwrap();
}

/// A taken listen port: `spin up`'s message naming `--find-free-port`, and with
/// the flag the next free port is served.
#[test]
fn a_taken_port_is_refused_or_searched_past_with_find_free_port() {
    use integration::cli_app::Up;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let hello = guests::app("rust-hello");
    let (code, out) = Up::new(&hello).listen(&addr).run(Duration::from_secs(60)).unwrap();
    assert!(code != 0 && out.contains(&format!("{addr} is already in use")), "exit {code}: {out}");
    assert!(out.contains("use the --find-free-port option"), "{out}");
    let app = Up::new(&hello).listen(&addr).flags(&["--find-free-port"]).serve().unwrap();
    assert_ne!(app.base, format!("http://{addr}"));
    assert_eq!(integration::http::get(&format!("{}/", app.base)).unwrap().status, 200);
}

/// `--tls-cert`/`--tls-key`: HTTPS with that certificate, HTTP/1.1 and HTTP/2
/// offered in the handshake; the banner and the guest's `spin-full-url` say
/// `https`.
#[test]
fn tls_flags_serve_https_and_the_guest_sees_an_https_url() {
    use integration::cli_app::Up;
    let pki = Pki::new().unwrap();
    let [cert, key, ca] = ["server.pem", "server.key", "ca.pem"].map(|f| pki.dir().join(f));
    let flags = ["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()];
    let app = Up::new(&guests::app("rust-echo")).flags(&flags).serve().unwrap();
    assert!(app.base.starts_with("https://127.0.0.1:"), "{}", app.base);
    let url = format!("{}/exact", app.base);
    for (flag, version) in [("--http1.1", "1.1"), ("--http2", "2")] {
        let out = std::process::Command::new("curl")
            .args(["-s", "--fail", flag, "--cacert", ca.to_str().unwrap(), "-w", "\n%{http_version}", &url])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "curl {flag}: {text}{}", String::from_utf8_lossy(&out.stderr));
        let (body, spoken) = text.rsplit_once('\n').unwrap();
        assert_eq!(spoken, version);
        let echoed: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(echoed["headers"]["spin-full-url"], url.as_str(), "{echoed}");
    }
    let (code, out) = Up::new(&guests::app("rust-echo")).flags(&flags[..2]).run(Duration::from_secs(60)).unwrap();
    assert!(code != 0 && out.contains("--tls-key"), "one of the pair alone is refused: {out}");
}

/// A TCP server that answers each line `pong: <line>` after holding the
/// connection for `hold`.
fn tcp_echo_holding(hold: Duration) -> u16 {
    use std::io::{BufRead as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut line = String::new();
                if std::io::BufReader::new(&stream).read_line(&mut line).is_ok() {
                    std::thread::sleep(hold);
                    let _ = writeln!(&stream, "pong: {}", line.trim_end());
                }
            });
        }
    });
    port
}

/// `[outbound_networking] max_socket_connections` (and `max_total_connections`)
/// cap the `wasi:sockets` sockets all instances hold at once: with a cap of 1, a
/// second request's socket is refused at once while the first holds its own,
/// and the place comes back when that socket is dropped; without a cap both
/// connect.
#[test]
fn the_socket_cap_refuses_a_socket_while_another_is_held() {
    let port = tcp_echo_holding(Duration::from_millis(1500));
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"tcp\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"tcp\"\n\
         [component.tcp]\nsource = \"app.wasm\"\nallowed_outbound_hosts = [\"tcp://127.0.0.1:{port}\"]\n"
    );
    let (_copy, dir) = with_manifest("rust-tcp", &manifest);
    let config_dir = tempfile::tempdir().unwrap();
    for (config, capped) in [
        ("[outbound_networking]\nmax_socket_connections = 1\n", true),
        ("[outbound_networking]\nmax_total_connections = 1\n", true),
        ("[outbound_networking]\nmax_socket_connections = 2\n", false),
    ] {
        let path = config_dir.path().join("rc.toml");
        std::fs::write(&path, config).unwrap();
        let mut app = serve(&dir, &[], &["--runtime-config-file", path.to_str().unwrap()]).unwrap();
        let url = format!("{}/?addr=127.0.0.1:{port}", app.base);
        let (first, second) = std::thread::scope(|scope| {
            let first = scope.spawn(|| integration::http::get(&url).unwrap());
            std::thread::sleep(Duration::from_millis(500));
            let started = std::time::Instant::now();
            let second = integration::http::get(&url).unwrap();
            if capped {
                assert!(started.elapsed() < Duration::from_millis(800), "{config}: a refused socket does not wait");
            }
            (first.join().unwrap(), second)
        });
        assert_eq!((first.status, first.body.as_str()), (200, "pong: ping"), "{config}");
        if capped {
            assert_eq!(second.status, 502, "{config}: {second:?}");
            assert!(second.body.starts_with("connect failed:"), "{config}: {second:?}");
            assert!(!second.body.contains("PermissionDenied"), "{config}: a limit, not a rule: {second:?}");
            app.process.wait_for_line("socket refused", Duration::from_secs(5)).expect("the refusal is logged");
        } else {
            assert_eq!((second.status, second.body.as_str()), (200, "pong: ping"), "{config}");
        }
        let after = integration::http::get(&url).unwrap();
        assert_eq!((after.status, after.body.as_str()), (200, "pong: ping"), "{config}: the place came back");
    }
}

/// The runtime config's caps on outbound connections across the whole app
/// (`[outbound_networking] max_total_connections`, `[outbound_http]
/// max_connections`): four requests at once, each making an outbound request
/// the upstream holds, reach it one at a time with a cap of 1 (the others wait,
/// and all answer), together without one; a cap of 0 refuses at once.
#[test]
fn the_app_wide_connection_caps_make_outbound_requests_take_turns() {
    let config_dir = tempfile::tempdir().unwrap();
    let (_copy, dir) = copy_of("rust-outbound");
    for (config, at_once) in [
        ("[outbound_networking]\nmax_total_connections = 1\n", 1),
        ("[outbound_http]\nmax_connections = 1\n[outbound_networking]\nmax_total_connections = 8\n", 1),
        ("[outbound_networking]\nblock_networks = []\n", 4),
        ("[outbound_http]\nmax_connections = 0\n", 0),
    ] {
        let upstream = upstream::start_holding(Duration::from_millis(300));
        let path = config_dir.path().join("rc.toml");
        std::fs::write(&path, config).unwrap();
        let flags = ["--runtime-config-file", path.to_str().unwrap()];
        let app = serve(&dir, &[], &flags).unwrap();
        let url = format!("{}/?url=http://127.0.0.1:{}/", app.base, upstream.port);
        let answers: Vec<_> = std::thread::scope(|scope| {
            let calls: Vec<_> = (0..4).map(|_| scope.spawn(|| integration::http::get(&url).unwrap())).collect();
            calls.into_iter().map(|call| call.join().unwrap()).collect()
        });
        for r in &answers {
            if at_once == 0 {
                assert!(r.status == 502 && r.body.contains("ConnectionLimitReached"), "{config}: {r:?}");
            } else {
                assert_eq!((r.status, r.body.as_str()), (200, "status=200;body=held"), "{config}");
            }
        }
        assert_eq!(upstream.most_at_once(), at_once, "{config}: requests the upstream held at once");
    }
}

/// Outbound HTTPS: without `[[client_tls]]` a server whose authority is
/// private fails the guest's request with a TLS error (the host does not
/// panic); with the authority in `ca_roots_file` for this component and host it
/// answers; a server that requires a client certificate answers only when the
/// entry gives one.
#[test]
fn client_tls_sets_the_authorities_and_certificate_of_a_components_https_requests() {
    let pki = Pki::new().unwrap();
    let (open, mutual) = (TlsServer::start(&pki, false).unwrap(), TlsServer::start(&pki, true).unwrap());
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"tls\"\n\
                    [[trigger.http]]\nroute = \"/...\"\ncomponent = \"outbound\"\n\
                    [component.outbound]\nsource = \"app.wasm\"\nallowed_outbound_hosts = [\"https://127.0.0.1:*\"]\n";
    let (_copy, dir) = with_manifest("rust-outbound", manifest);
    let entry = |extra: &str| {
        format!("[[client_tls]]\ncomponent_ids = [\"outbound\"]\nhosts = [\"127.0.0.1\"]\nca_roots_file = \"ca.pem\"\n{extra}")
    };
    let get = |config: &str, port: u16| {
        let path = pki.dir().join("rc.toml");
        std::fs::write(&path, config).unwrap();
        let app = serve(&dir, &[], &["--runtime-config-file", path.to_str().unwrap()]).unwrap();
        integration::http::get(&format!("{}/?url=https://127.0.0.1:{port}/", app.base)).unwrap()
    };
    let answered = |r: &integration::http::Response| r.status == 200 && r.body == "status=200;body=secure";

    let unknown = get("", open.port);
    assert!(unknown.status == 502 && unknown.body.contains("Tls"), "{unknown:?}");
    // Without an entry the system's store is trusted, as Spin trusts it by default.
    let ca = pki.dir().join("ca.pem");
    let system = serve(&dir, &[("SSL_CERT_FILE", ca.to_str().unwrap())], &[]).unwrap();
    let by_system = integration::http::get(&format!("{}/?url=https://127.0.0.1:{}/", system.base, open.port)).unwrap();
    assert!(answered(&by_system), "{by_system:?}");
    let trusted = get(&entry(""), open.port);
    assert!(answered(&trusted), "{trusted:?}");
    let other_host = get(&entry("").replace("\"127.0.0.1\"]", "\"localhost\"]"), open.port);
    assert!(other_host.status == 502 && other_host.body.contains("Tls"), "{other_host:?}");
    let no_certificate = get(&entry(""), mutual.port);
    assert_eq!(no_certificate.status, 502, "{no_certificate:?}");
    let certificate =
        get(&entry("client_cert_file = \"client.pem\"\nclient_private_key_file = \"client.key\"\n"), mutual.port);
    assert!(answered(&certificate), "{certificate:?}");

    // The connection, and so its TLS handshake, is kept for the next requests.
    let kept = TlsServer::start(&pki, false).unwrap();
    let path = pki.dir().join("kept.toml");
    std::fs::write(&path, entry("")).unwrap();
    let app = serve(&dir, &[], &["--runtime-config-file", path.to_str().unwrap()]).unwrap();
    let call = |path: &str| {
        integration::http::get(&format!("{}/?url=https://127.0.0.1:{}{path}", app.base, kept.port)).unwrap()
    };
    // The client puts a connection back for reuse a moment after its response
    // ends; requests a little apart always find it.
    for _ in 0..3 {
        let r = call("/");
        assert!(answered(&r), "{r:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let handshakes = call("/connections");
    assert_eq!(handshakes.body, "status=200;body=1", "{handshakes:?}");
}

/// Outbound HTTP connections are kept and reused across requests (and so
/// across instances), as Spin keeps them, unless the runtime config's
/// `[outbound_http] connection_pooling = false` turns it off.
#[test]
fn outbound_connections_are_kept_across_requests_unless_pooling_is_off() {
    let (_copy, dir) = copy_of("rust-outbound");
    let config_dir = tempfile::tempdir().unwrap();
    let off = config_dir.path().join("off.toml");
    std::fs::write(&off, "[outbound_http]\nconnection_pooling = false\n").unwrap();
    for (flags, expected) in [(vec![], 1), (vec!["--runtime-config-file", off.to_str().unwrap()], 4)] {
        let upstream = upstream::start_keep_alive("kept");
        let app = serve(&dir, &[], &flags).unwrap();
        for _ in 0..4 {
            let url = format!("{}/?url=http://127.0.0.1:{}/", app.base, upstream.port);
            let r = integration::http::get(&url).unwrap();
            assert!(r.status == 200 && r.body == "status=200;body=kept", "{r:?}");
            // A connection goes back for reuse a moment after its response ends.
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(upstream.connections(), expected, "{flags:?}");
    }
}

/// Outbound HTTPS speaks HTTP/2 with a server that chooses it in the TLS
/// handshake (this one speaks nothing else), on one kept connection.
#[test]
fn outbound_https_speaks_http2_when_the_server_chooses_it() {
    use integration::services::h2_server::H2Server;
    let pki = Pki::new().unwrap();
    let server = H2Server::start(&pki).unwrap();
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"h2\"\n\
                    [[trigger.http]]\nroute = \"/...\"\ncomponent = \"outbound\"\n\
                    [component.outbound]\nsource = \"app.wasm\"\nallowed_outbound_hosts = [\"https://127.0.0.1:*\"]\n";
    let (_copy, dir) = with_manifest("rust-outbound", manifest);
    let ca = pki.dir().join("ca.pem");
    let app = serve(&dir, &[("SSL_CERT_FILE", ca.to_str().unwrap())], &[]).unwrap();
    for _ in 0..3 {
        let r = integration::http::get(&format!("{}/?url=https://127.0.0.1:{}/", app.base, server.port)).unwrap();
        assert!(r.status == 200 && r.body == "status=200;body=HTTP/2.0", "{r:?}");
    }
    assert_eq!(server.connections(), 1);
}

/// `SPIN_OUTBOUND_H2C_PRIOR_KNOWLEDGE` names the one authority that plain HTTP
/// requests reach over HTTP/2 with prior knowledge (a real h2c server, which
/// refuses HTTP/1.1): three requests on one connection; without it, or for
/// another authority, the request is HTTP/1.1 and fails.
#[test]
fn plain_http2_with_prior_knowledge_reaches_the_authority_the_setting_names() {
    use integration::services::h2_server::H2Server;
    let server = H2Server::start_plain().unwrap();
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"h2c\"\n\
                    [[trigger.http]]\nroute = \"/...\"\ncomponent = \"outbound\"\n\
                    [component.outbound]\nsource = \"app.wasm\"\nallowed_outbound_hosts = [\"http://127.0.0.1:*\"]\n";
    let (_copy, dir) = with_manifest("rust-outbound", manifest);
    let authority = format!("127.0.0.1:{}", server.port);
    let url = |app: &str| format!("{app}/?url=http://{authority}/");
    let app = serve(&dir, &[("SPIN_OUTBOUND_H2C_PRIOR_KNOWLEDGE", authority.as_str())], &[]).unwrap();
    for _ in 0..3 {
        let r = integration::http::get(&url(&app.base)).unwrap();
        assert!(r.status == 200 && r.body == "status=200;body=HTTP/2.0", "{r:?}");
    }
    assert_eq!(server.connections(), 1);
    for env in [&[][..], &[("SPIN_OUTBOUND_H2C_PRIOR_KNOWLEDGE", "127.0.0.1:1")][..]] {
        let app = serve(&dir, env, &[]).unwrap();
        let r = integration::http::get(&url(&app.base)).unwrap();
        assert!(!r.body.contains("HTTP/2.0"), "{env:?}: {r:?}");
    }
}

/// The runtime config's `block_networks` refuses destinations the rules allow:
/// outbound HTTP with `DestinationIpProhibited`, sockets with access denied;
/// a network that is not the destination's changes nothing.
#[test]
fn blocked_networks_are_refused_whatever_the_rules_allow() {
    let upstream_port = upstream::start("upstream");
    let tcp_port = tcp_echo();
    let config_dir = tempfile::tempdir().unwrap();
    let config = |blocked: &str| {
        let path = config_dir.path().join(format!("{}.toml", blocked.len()));
        std::fs::write(&path, format!("[outbound_networking]\nblock_networks = {blocked}\n")).unwrap();
        path.to_string_lossy().into_owned()
    };
    let (_http_copy, http_dir) = copy_of("rust-outbound");
    let tcp_manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"tcp\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"tcp\"\n\
         [component.tcp]\nsource = \"app.wasm\"\nallowed_outbound_hosts = [\"tcp://127.0.0.1:{tcp_port}\"]\n"
    );
    let (_tcp_copy, tcp_dir) = with_manifest("rust-tcp", &tcp_manifest);
    let http_target = format!("http://127.0.0.1:{upstream_port}/hi");

    for (blocked, refused) in [(r#"["private"]"#, true), (r#"["127.0.0.0/8"]"#, true), (r#"["10.0.0.0/8"]"#, false)] {
        let flags = ["--runtime-config-file".to_string(), config(blocked)];
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let app = serve(&http_dir, &[], &flags).unwrap();
        let r = integration::http::get(&format!("{}/?url={http_target}", app.base)).unwrap();
        if refused {
            assert!(r.status == 502 && r.body.contains("DestinationIpProhibited"), "{blocked}: {r:?}");
        } else {
            assert_eq!((r.status, r.body.as_str()), (200, "status=200;body=upstream"), "{blocked}");
        }
        drop(app);
        let app = serve(&tcp_dir, &[], &flags).unwrap();
        let r = integration::http::get(&format!("{}/?addr=127.0.0.1:{tcp_port}", app.base)).unwrap();
        if refused {
            assert_eq!((r.status, r.body.as_str()), (502, "connect failed: PermissionDenied"), "{blocked}");
        } else {
            assert_eq!((r.status, r.body.as_str()), (200, "pong: ping"), "{blocked}");
        }
    }
}

#[test]
fn a_locked_app_with_dependencies_is_composed_at_start() {
    let lock = serde_json::json!({
        "spin_lock_version": 1,
        "metadata": { "name": "deps-locked" },
        "triggers": [ { "id": "t", "trigger_type": "http",
                        "trigger_config": { "component": "front", "route": "/..." } } ],
        "components": [ {
            "id": "front",
            "source": { "content_type": "application/wasm", "source": "app.wasm" },
            "env": { "GREETING": "Howdy" },
            "dependencies": { "demo:greeter/greet": {
                "source": { "content_type": "application/wasm", "source": "greeter.wasm" },
                "export": null,
                "inherit": "All"
            } }
        } ]
    });
    let (_copy, dir) = copy_of("rust-deps");
    std::fs::write(dir.join("spin.lock"), lock.to_string()).unwrap();
    let app = serve(&dir.join("spin.lock"), &[], &[]).unwrap();
    let r = integration::http::get(&format!("{}/carol", app.base)).unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, "Howdy, carol!; front GREETING=Howdy"), "{r:?}");
}

#[test]
fn a_rust_core_module_is_componentized_and_served() {
    run(scenarios::rust_hello_core);
}

#[test]
fn python_hello_answers() {
    run(scenarios::python_hello);
}

#[test]
fn python_sdk_5_hello_answers() {
    run(scenarios::python_sdk5_hello);
}

#[test]
fn python_sdk_5_key_value_works_on_the_default_store() {
    run(scenarios::python_sdk5_key_value);
}

#[test]
fn js_hello_answers() {
    run(scenarios::js_hello);
}

#[test]
fn routes_set_every_spin_header_and_files_are_mounted() {
    run(scenarios::routes_and_spin_headers);
}

#[test]
fn variables_resolve_defaults_the_environment_and_templates() {
    run(scenarios::variables);
}

#[test]
fn outbound_http_of_a_wasi_0_3_guest_reaches_listed_hosts_only() {
    run(scenarios::rust_sdk7_outbound_http);
}

#[test]
fn service_chaining_and_self_requests_stay_in_process_and_follow_the_manifest() {
    run(scenarios::service_chaining);
}

/// A request to the app itself that the manifest does not allow is refused,
/// and Spin's warning for it says how to allow it.
#[test]
fn a_denied_self_request_gets_spins_warning() {
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"selfless\"\n\
                    [[trigger.http]]\nroute = \"/...\"\ncomponent = \"front\"\n\
                    [component.front]\nsource = \"app.wasm\"\nallowed_outbound_hosts = [\"http://back.spin.internal\"]\n";
    let (_copy, dir) = with_manifest("rust-outbound", manifest);
    let mut app = integration::cli_app::serve(&dir, &[], &[]).unwrap();
    let r = integration::http::get(&format!("{}/?url=http://self/", app.base)).unwrap();
    assert!(r.status == 502 && r.body.contains("HttpRequestDenied"), "{r:?}");
    let warning = "A component tried to make an HTTP request to its own app but it does not have permission.";
    app.process.wait_for_line(warning, Duration::from_secs(5)).unwrap();
    app.process.wait_for_line("allowed_outbound_hosts = [\"http://self\"]", Duration::from_secs(5)).unwrap();
}

#[test]
fn a_wasi_0_2_guest_chains_to_another_component_in_process() {
    // The 0.2 outbound guest as frontend and, without a `url`, as backend (400).
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"chain02\"\n\
                    [[trigger.http]]\nroute = \"/...\"\ncomponent = \"front\"\n\
                    [[trigger.http]]\nroute = { private = true }\ncomponent = \"back\"\n\
                    [component.front]\nsource = \"app.wasm\"\nallowed_outbound_hosts = [\"http://back.spin.internal\"]\n\
                    [component.back]\nsource = \"app.wasm\"\n";
    let (_copy, dir) = with_manifest("rust-outbound", manifest);
    let app = integration::cli_app::serve(&dir, &[], &[]).unwrap();
    let r = integration::http::get(&format!("{}/?url=http://back.spin.internal/", app.base)).unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, "status=400;body=missing url query parameter"), "{r:?}");
    let r = integration::http::get(&format!("{}/?url=http://other.spin.internal/", app.base)).unwrap();
    assert!(r.status == 502 && r.body.contains("HttpRequestDenied"), "{r:?}");
}

#[test]
fn outbound_http_reaches_listed_hosts_only() {
    run(scenarios::outbound_http);
}

#[test]
fn rust_key_value_works_on_the_default_store() {
    run(scenarios::rust_key_value);
}

#[test]
fn python_key_value_works_on_the_default_store() {
    run(scenarios::python_key_value);
}

#[test]
fn rust_sqlite_works_on_the_default_database() {
    run(scenarios::rust_sqlite);
}

#[test]
fn a_trap_is_a_500_and_an_unrouted_path_a_404() {
    run(scenarios::trap_and_404);
}

#[test]
fn unrouted_path_is_404() {
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"only\"\n[[trigger.http]]\nroute = \"/only\"\ncomponent = \"hello\"\n[component.hello]\nsource = \"app.wasm\"\n";
    let (_tmp, dir) = with_manifest("rust-hello", manifest);
    let app = serve(&dir, &[], &[]).unwrap();
    suite::not_found(&app.base).unwrap();
    let r = integration::http::get(&format!("{}/only", app.base)).unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, "Hello, Fermyon"));
}

#[test]
fn banner_lists_routes_like_spin_up() {
    let mut app = serve(&guests::app("rust-echo"), &[], &[]).unwrap();
    let out = app.process.wait_for_line("catchall:", Duration::from_secs(5)).unwrap();
    assert_eq!(out, format!("  catchall: {} (wildcard)", app.base));
    let out = app.process.output();
    assert!(out.contains("Available Routes:"), "{out}");
    assert!(out.contains(&format!("  exact: {}/exact\n", app.base)), "{out}");
    assert!(out.contains(&format!("  param: {}/users/:id\n", app.base)), "{out}");
    assert!(out.contains(&format!("  static: {}/static (wildcard)\n", app.base)), "{out}");
}

#[test]
fn bare_wasm_is_served_on_every_route() {
    let wasm = guests::app("rust-hello").join("app.wasm");
    let app = serve(&wasm, &[], &[]).unwrap();
    suite::hello(&app.base, "Hello, Fermyon").unwrap();
}

#[test]
fn bad_apps_are_refused_with_one_line() {
    let mut failures = Vec::new();
    for app in bad_apps() {
        let (code, output) = run_to_failure(&app.dir).unwrap();
        if let Err(e) = check_refusal(&app, code, &output) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn sigterm_finishes_in_flight_request_then_exits_0() {
    let mut app = serve(&guests::app("rust-echo"), &[], &[]).unwrap();
    let url = format!("{}/slow?ms=1500", app.base);
    let slow = std::thread::spawn(move || integration::http::get(&url).unwrap());
    std::thread::sleep(Duration::from_millis(400));
    app.process.signal(libc::SIGTERM);
    let resp = slow.join().unwrap();
    assert_eq!((resp.status, resp.body.as_str()), (200, "slept"));
    let (code, out) = app.process.wait(Duration::from_secs(5)).unwrap();
    assert_eq!(code, 0, "{out}");
}

#[test]
fn h2c_prior_knowledge_is_served() {
    let app = serve(&guests::app("rust-hello"), &[], &[]).unwrap();
    let out = std::process::Command::new("curl")
        .args(["-sS", "--http2-prior-knowledge", "-o", "-", "-w", "\n%{http_version}"])
        .arg(format!("{}/", app.base))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text, "Hello, Fermyon\n2", "stderr: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let app = serve(&guests::app("rust-hello"), &[], &[]).unwrap();
    let url = format!("{}/", app.base);
    let out = std::process::Command::new("curl")
        .args(["-sS", "-w", "%{num_connects} "])
        .args(["-o", "/dev/null", &url, "-o", "/dev/null", &url, "-o", "/dev/null", &url])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1 0 0 ");
}

#[test]
fn info_lists_the_guest_worlds_it_serves() {
    let out = std::process::Command::new(integration::paths::cli()).args(["info", "--json"]).output().unwrap();
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let worlds = info["worlds"].as_array().expect("a worlds list");
    let find = |name: &str| worlds.iter().find(|w| w["world"] == name).unwrap_or_else(|| panic!("{name}: {worlds:#?}"));
    for served in [
        "spin:up/http-trigger@4.1.0",
        "spin:up/http-trigger@4.0.0",
        "spin:up/http-trigger@3.x",
        "fermyon:spin/http-trigger@2.0.0",
        "fermyon:spin/http-trigger@2.0.0 (rc-2023-10-18)",
        "fermyon:spin/http-trigger@2.0.0 (rc-2023-11-10)",
    ] {
        assert_eq!(find(served)["served"], true, "{served}");
    }
    // A slim variant (the variant tests run this file with the HTTP-only one)
    // lists only the worlds of its trigger types.
    let redis = info["triggers"].as_array().unwrap().iter().any(|t| t == "redis");
    assert_eq!(worlds.iter().any(|w| w["world"] == "spin:up/redis-trigger@4.1.0"), redis, "{worlds:#?}");
    assert_eq!(find("spin:up/http-trigger@4.1.0")["export"], "wasi:http/handler@0.3.0");
}
