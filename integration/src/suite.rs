//! Assertions on a served app, shared by the CLI and the containerd tests so both
//! entry points are held to exactly the same behaviour.

use serde_json::Value;

use crate::http::{get, request, Response};

/// Fails with the response in the message when `cond` is false.
fn ensure(cond: bool, what: &str, resp: &Response) -> anyhow::Result<()> {
    anyhow::ensure!(cond, "{what}: got {} {:?} body {:?}", resp.status, resp.headers, resp.body);
    Ok(())
}

/// `GET /` answers 200 with exactly `body`.
pub fn hello(base: &str, body: &str) -> anyhow::Result<()> {
    let r = get(&format!("{base}/"))?;
    ensure(r.status == 200 && r.body == body, &format!("GET / should answer {body:?}"), &r)
}

/// `GET <path>` answers 200 with exactly `body`.
pub fn answers(base: &str, path: &str, body: &str) -> anyhow::Result<()> {
    let r = get(&format!("{base}{path}"))?;
    ensure(r.status == 200 && r.body == body, &format!("GET {path} should answer {body:?}"), &r)
}

/// Health and info endpoints, and 404 for other well-known paths.
pub fn well_known(base: &str, app_name: &str) -> anyhow::Result<()> {
    let r = get(&format!("{base}/.well-known/spin/health"))?;
    ensure(r.status == 200 && r.body == "OK", "health", &r)?;
    let r = get(&format!("{base}/.well-known/spin/info"))?;
    let info: Value = serde_json::from_str(&r.body)?;
    ensure(r.status == 200 && info["name"] == app_name && r.headers["content-type"] == "application/json", "info", &r)?;
    let r = get(&format!("{base}/.well-known/spin/other"))?;
    ensure(r.status == 404, "other well-known path", &r)
}

/// One echo request: the JSON the guest saw.
fn echo(base: &str, path: &str) -> anyhow::Result<(Response, Value)> {
    let r = request("GET", &format!("{base}{path}"), &[("host", "spin.example:3000")], "")?;
    ensure(r.status == 200, &format!("GET {path}"), &r)?;
    let v: Value = serde_json::from_str(&r.body)?;
    Ok((r, v))
}

/// Checks the component reached and every `spin-*` header value it saw;
/// `expected` lists `(header, value)`; any other `spin-*` header is an error.
fn check_spin_headers(path: &str, v: &Value, component: &str, expected: &[(&str, &str)]) -> anyhow::Result<()> {
    anyhow::ensure!(v["component"] == component, "GET {path}: reached {} not {component}", v["component"]);
    let headers = v["headers"].as_object().unwrap();
    for (name, value) in expected {
        anyhow::ensure!(
            headers.get(*name).and_then(Value::as_str) == Some(value),
            "GET {path}: header {name} is {:?}, expected {value:?}",
            headers.get(*name)
        );
    }
    let client = headers.get("spin-client-addr").and_then(Value::as_str).unwrap_or("");
    anyhow::ensure!(client.starts_with("127.0.0.1:"), "GET {path}: spin-client-addr {client:?}");
    let extra: Vec<&String> = headers
        .keys()
        .filter(|k| k.starts_with("spin-") && *k != "spin-client-addr" && !expected.iter().any(|(n, _)| n == k))
        .collect();
    anyhow::ensure!(extra.is_empty(), "GET {path}: unexpected headers {extra:?}");
    Ok(())
}

/// Exact, `:param` and wildcard routes of the echo app with every `spin-*` value.
pub fn echo_routes(base: &str) -> anyhow::Result<()> {
    let (_, v) = echo(base, "/exact?x=1")?;
    check_spin_headers(
        "/exact",
        &v,
        "exact",
        &[
            ("spin-full-url", "http://spin.example:3000/exact?x=1"),
            ("spin-path-info", ""),
            ("spin-matched-route", "/exact"),
            ("spin-raw-component-route", "/exact"),
            ("spin-component-route", "/exact"),
            ("spin-base-path", "/"),
        ],
    )?;
    anyhow::ensure!(v["query"] == "x=1" && v["path"] == "/exact", "query/path seen: {v}");

    let (_, v) = echo(base, "/users/42")?;
    check_spin_headers(
        "/users/42",
        &v,
        "param",
        &[
            ("spin-full-url", "http://spin.example:3000/users/42"),
            ("spin-path-info", ""),
            ("spin-matched-route", "/users/:id"),
            ("spin-raw-component-route", "/users/:id"),
            ("spin-component-route", "/users/:id"),
            ("spin-base-path", "/"),
            ("spin-path-match-id", "42"),
        ],
    )?;

    let (_, v) = echo(base, "/static/a/b")?;
    check_spin_headers(
        "/static/a/b",
        &v,
        "static",
        &[
            ("spin-full-url", "http://spin.example:3000/static/a/b"),
            ("spin-path-info", "/a/b"),
            ("spin-matched-route", "/static/..."),
            ("spin-raw-component-route", "/static/..."),
            ("spin-component-route", "/static"),
            ("spin-base-path", "/"),
        ],
    )?;

    let (_, v) = echo(base, "/static")?;
    check_spin_headers(
        "/static",
        &v,
        "static",
        &[
            ("spin-full-url", "http://spin.example:3000/static"),
            ("spin-path-info", ""),
            ("spin-matched-route", "/static/..."),
            ("spin-raw-component-route", "/static/..."),
            ("spin-component-route", "/static"),
            ("spin-base-path", "/"),
        ],
    )?;

    let (_, v) = echo(base, "/users/42/more")?;
    check_spin_headers(
        "/users/42/more",
        &v,
        "catchall",
        &[
            ("spin-full-url", "http://spin.example:3000/users/42/more"),
            ("spin-path-info", "/users/42/more"),
            ("spin-matched-route", "/..."),
            ("spin-raw-component-route", "/..."),
            ("spin-component-route", ""),
            ("spin-base-path", "/"),
        ],
    )?;

    // Route `/`: Spin strips only a trailing `/...` from the route, so the
    // component route is `/`, while the matched route is empty.
    let (_, v) = echo(base, "/")?;
    check_spin_headers(
        "/",
        &v,
        "root",
        &[
            ("spin-full-url", "http://spin.example:3000/"),
            ("spin-path-info", ""),
            ("spin-matched-route", ""),
            ("spin-raw-component-route", "/"),
            ("spin-component-route", "/"),
            ("spin-base-path", "/"),
        ],
    )?;

    let r = request("POST", &format!("{base}/exact"), &[("content-type", "text/plain")], "payload")?;
    let v: Value = serde_json::from_str(&r.body)?;
    anyhow::ensure!(v["method"] == "POST" && v["body"] == "payload", "POST body echo: {v}");
    Ok(())
}

/// Files mounted read-only at their guest paths: a whole directory, and globs
/// with `exclude_files`.
pub fn files(base: &str) -> anyhow::Result<()> {
    for (path, status, body) in [
        ("/files?path=/hello.txt", 200, "hello from a mounted file\n"),
        ("/files?path=/secret.txt", 200, "do not serve\n"),
        ("/globbed?path=/assets/hello.txt", 200, "hello from a mounted file\n"),
    ] {
        let r = get(&format!("{base}{path}"))?;
        ensure(r.status == status && r.body == body, &format!("GET {path}"), &r)?;
    }
    let r = get(&format!("{base}/globbed?path=/assets/secret.txt"))?;
    ensure(r.status == 404, "an excluded file must not be mounted", &r)
}

/// Variables: the default, a required one from the environment, and a template.
pub fn variables(base: &str, token: &str) -> anyhow::Result<()> {
    let r = get(&format!("{base}/"))?;
    let want = format!("greeting=hello;token={token};message=hello world");
    ensure(r.status == 200 && r.body == want, &format!("variables should be {want:?}"), &r)
}

/// An undeclared variable is the interface's `undefined` error (the
/// variables guests built with spin-sdk 7 print it as `undefined:<message>`).
pub fn undefined_variable(base: &str) -> anyhow::Result<()> {
    let r = get(&format!("{base}/missing"))?;
    ensure(
        r.status == 200 && r.body.starts_with("error=undefined:") && r.body.contains("not_declared"),
        "an undeclared variable should be undefined",
        &r,
    )
}

/// Outbound HTTP: allowed to the upstream, denied without permission.
pub fn outbound(base: &str, upstream_port: u16) -> anyhow::Result<()> {
    let target = format!("http://127.0.0.1:{upstream_port}/hi");
    let r = get(&format!("{base}/?url={target}"))?;
    ensure(r.status == 200 && r.body == "status=200;body=upstream", "allowed outbound request", &r)?;
    let r = get(&format!("{base}/denied/?url={target}"))?;
    ensure(r.status == 502 && r.body.contains("HttpRequestDenied"), "denied outbound request", &r)
}

/// A POST of 256 KiB (more than one stream read) comes back byte for byte,
/// with its length in `x-echo-length`.
pub fn echo_body(base: &str) -> anyhow::Result<()> {
    let body: String = (0..256 * 1024).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let r = request("POST", &format!("{base}/echo"), &[], &body)?;
    let length = r.headers.get("x-echo-length").map(String::as_str);
    anyhow::ensure!(r.status == 200 && length == Some("262144"), "echo: {} {:?}", r.status, r.headers);
    anyhow::ensure!(r.body == body, "echo: the body came back changed ({} bytes)", r.body.len());
    Ok(())
}

/// A trapping guest (route `/boom/...`) answers 500 with an empty body, the server
/// keeps serving, and a path no route matches answers 404.
pub fn trap(base: &str) -> anyhow::Result<()> {
    for _ in 0..2 {
        let r = get(&format!("{base}/boom/now"))?;
        ensure(r.status == 500 && r.body.is_empty(), "trap should be 500", &r)?;
    }
    let r = get(&format!("{base}/.well-known/spin/health"))?;
    ensure(r.status == 200, "health after traps", &r)?;
    not_found(base)
}

/// No route matches: 404 with an empty body.
pub fn not_found(base: &str) -> anyhow::Result<()> {
    let r = get(&format!("{base}/nowhere"))?;
    ensure(r.status == 404 && r.body.is_empty(), "unrouted path should be 404", &r)
}

/// `prefix` followed by this process's id and the time in nanoseconds: a key no
/// earlier run or other test in the same store has used.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{prefix}{}-{nanos}", std::process::id())
}

/// The key-value guest against the store `store` (`default` when `None`): a
/// value set under a fresh key reads back, shows in `exists` and the key list,
/// and is gone after delete; a store the component does not list is denied.
pub fn key_value(base: &str, store: Option<&str>) -> anyhow::Result<()> {
    let query = store.map(|s| format!("?store={s}")).unwrap_or_default();
    let key = unique("k");
    let url = |route: &str| format!("{base}/{route}/{key}{query}");
    let r = request("PUT", &url("kv"), &[], "value \u{e9}")?;
    ensure(r.status == 200 && r.body == "stored", "set", &r)?;
    let r = get(&url("kv"))?;
    ensure(r.status == 200 && r.body == "value \u{e9}", "get after set", &r)?;
    let r = get(&url("exists"))?;
    ensure(r.status == 200 && r.body == "true", "exists after set", &r)?;
    let r = get(&format!("{base}/keys{query}"))?;
    ensure(r.status == 200 && r.body.lines().any(|k| k == key), "keys after set", &r)?;
    let r = request("DELETE", &url("kv"), &[], "")?;
    ensure(r.status == 200, "delete", &r)?;
    let r = get(&url("kv"))?;
    ensure(r.status == 404, "get after delete", &r)?;
    let r = get(&url("exists"))?;
    ensure(r.status == 200 && r.body == "false", "exists after delete", &r)?;
    let r = get(&format!("{base}/open/not-listed"))?;
    ensure(r.body == "error=Error::AccessDenied", "a store the component does not list", &r)
}

/// The SQLite guest against the database `db` (`default` when `None`): a note
/// inserted with a bound parameter reads back by its rowid, every value type
/// crosses the interface both ways, a malformed statement is an `io` error
/// naming it, and a database the component does not list is denied.
pub fn sqlite(base: &str, db: Option<&str>) -> anyhow::Result<()> {
    let query = db.map(|d| format!("?db={d}")).unwrap_or_default();
    let note = format!("{} \u{e9}", unique("note "));
    let r = request("POST", &format!("{base}/notes{query}"), &[], &note)?;
    ensure(r.status == 200 && r.body.starts_with("id="), "insert", &r)?;
    let line = format!("{}:{note}", &r.body[3..]);
    let r = get(&format!("{base}/notes{query}"))?;
    ensure(r.status == 200 && r.body.lines().any(|l| l == line), &format!("select should list {line:?}"), &r)?;
    let r = get(&format!("{base}/types{query}"))?;
    ensure(r.body == "i,r,t,b,n|int:42,real:2.5,text:abc,blob:0102,null", "values from SQLite", &r)?;
    let r = get(&format!("{base}/params{query}"))?;
    ensure(r.body == "a,b,c,d,e|int:-1,real:0.5,text:\u{e9},blob:ff,null", "bound parameters", &r)?;
    let r = get(&format!("{base}/bad{query}"))?;
    ensure(r.body.starts_with("io:") && r.body.contains("SELEKT"), "malformed statement", &r)?;
    let r = get(&format!("{base}/open/not-listed"))?;
    ensure(r.body == "access-denied", "a database the component does not list", &r)
}

/// The spin-sdk 7 key-value counter: a fresh key counts 1, 2, 3, its neighbour
/// counts on its own, both show in the streamed key listing, a deleted key is
/// gone and starts again at 1, and a store the component does not list is the
/// interface's `access-denied`.
pub fn key_value_counter(base: &str) -> anyhow::Result<()> {
    let prefix = unique("c");
    let (a, b) = (format!("{prefix}-a"), format!("{prefix}-b"));
    for n in 1..=3 {
        let r = get(&format!("{base}/counter/{a}"))?;
        ensure(r.status == 200 && r.body == n.to_string(), &format!("count {n}"), &r)?;
    }
    let r = get(&format!("{base}/counter/{b}"))?;
    ensure(r.status == 200 && r.body == "1", "another key counts on its own", &r)?;
    let r = get(&format!("{base}/keys/{prefix}"))?;
    ensure(r.status == 200 && r.body == format!("{a}\n{b}"), "keys from the stream", &r)?;
    let r = request("DELETE", &format!("{base}/counter/{a}"), &[], "")?;
    ensure(r.status == 200 && r.body == "deleted;exists=false", "delete", &r)?;
    let r = get(&format!("{base}/counter/{a}"))?;
    ensure(r.status == 200 && r.body == "1", "a deleted key starts again", &r)?;
    let r = get(&format!("{base}/open/not-listed"))?;
    ensure(r.status == 200 && r.body == "error=access-denied", "a store the component does not list", &r)
}

/// The spin-sdk 7 SQLite guest's `/changes`: `changes` counts the rows of the
/// connection's own last INSERT, UPDATE or DELETE (a SELECT leaves it), and
/// `last-insert-rowid` is the newest row the connection inserted.
pub fn sqlite_changes(base: &str) -> anyhow::Result<()> {
    let r = get(&format!("{base}/changes"))?;
    ensure(r.status == 200 && r.body == "inserted=2;after-select=2;deleted=2;rowid=ok", "changes and rowid", &r)
}

/// The Rust key-value guest through `wasi:keyvalue@0.2.0-draft2` on store
/// `store` (`default` when `None`): counters add up, a compare-and-swap that
/// lost a race fails with the fresh value and the retry wins, and batches set,
/// read and delete.
pub fn wasi_keyvalue(base: &str, store: Option<&str>) -> anyhow::Result<()> {
    let store = store.map(|s| format!("&store={s}")).unwrap_or_default();
    let unique = format!("{}-", unique("w"));
    let r = request("POST", &format!("{base}/wasi/counter/{unique}n?by=5{store}"), &[], "")?;
    ensure(r.status == 200 && r.body == "5", "increment from nothing", &r)?;
    let r = request("POST", &format!("{base}/wasi/counter/{unique}n?by=-2{store}"), &[], "")?;
    ensure(r.status == 200 && r.body == "3", "increment by a negative delta", &r)?;
    let r = get(&format!("{base}/wasi/cas/{unique}k?x=1{store}"))?;
    ensure(r.status == 200 && r.body == "failed current=changed;won value=won", "compare-and-swap", &r)?;
    let batch = format!("{unique}batch-");
    let r = get(&format!("{base}/wasi/batch/{batch}?x=1{store}"))?;
    let expected = format!("{batch}a=1,{batch}b=2,{batch}c=none;left=");
    ensure(r.status == 200 && r.body == expected, "batch", &r)
}

/// Every request gets a fresh instance: the key-value guest's zero-initialised
/// and data-initialised statics read as new on every one of 20 requests (the
/// pooling allocator reuses memory slots, so this is what proves the reset).
pub fn fresh_instances(base: &str) -> anyhow::Result<()> {
    for _ in 0..20 {
        let r = get(&format!("{base}/statics"))?;
        ensure(r.status == 200 && r.body == "bss=1 data=24301", "statics of a fresh instance", &r)?;
    }
    Ok(())
}

/// The chaining guest (`rust-sdk7-chain`): the frontend's answer for `urls`,
/// one line per URL.
fn chain(base: &str, frontend: &str, urls: &[&str]) -> anyhow::Result<Vec<String>> {
    let query: Vec<String> =
        urls.iter().map(|u| format!("url={}", u.replace('?', "%3F").replace('&', "%26"))).collect();
    let r = get(&format!("{base}/{frontend}/?{}", query.join("&")))?;
    ensure(r.status == 200, "frontend answer", &r)?;
    Ok(r.body.lines().map(str::to_string).collect())
}

/// Service chaining and self requests: `*.spin.internal` reaches a component
/// in-process with its route's `spin-*` headers (Spin's `/...` for a private
/// one) and client `0.0.0.0:0`, without the internal `Host`; `http://self`
/// reaches the app's routes; a host the manifest does not allow is denied.
pub fn service_chaining(base: &str) -> anyhow::Result<()> {
    let lines = chain(
        base,
        "front",
        &[
            "http://backend.spin.internal/back/x?q=1",
            "http://hidden.spin.internal/deep/path",
            "http://self/back/self-path",
            "http://nothere.spin.internal/",
        ],
    )?;
    let expect = |i: usize, parts: &[&str], absent: &[&str]| -> anyhow::Result<()> {
        let line = lines.get(i).map(String::as_str).unwrap_or_default();
        anyhow::ensure!(
            parts.iter().all(|p| line.contains(p)) && !absent.iter().any(|a| line.contains(a)),
            "line {i}: {line:?} should contain {parts:?} and none of {absent:?} (all: {lines:#?})"
        );
        Ok(())
    };
    expect(
        0,
        &[
            "-> 200 backend",
            "spin-component-route: /back |",
            "spin-matched-route: /back/...",
            "spin-path-info: /x",
            "spin-client-addr: 0.0.0.0:0",
            "spin-full-url: http://backend.spin.internal/back/x?q=1",
        ],
        &["host:"],
    )?;
    expect(1, &["-> 200 backend", "spin-matched-route: /...", "spin-path-info: /deep/path"], &[])?;
    expect(2, &["-> 200 backend", "spin-component-route: /back |", "spin-path-info: /self-path"], &[])?;
    expect(3, &["error=ErrorCode::HttpRequestDenied"], &[])?;
    let denied = chain(base, "unchained", &["http://backend.spin.internal/back/x", "http://self/back/y"])?;
    anyhow::ensure!(
        denied.len() == 2 && denied.iter().all(|l| l.ends_with("error=ErrorCode::HttpRequestDenied")),
        "a component the manifest allows nothing must be denied: {denied:#?}"
    );
    // A private component is reachable only through chaining.
    not_found(base)
}

/// The `rust-sdk7-middleware` app: one middleware on `/one`, two on `/two`
/// (outermost inheriting the handler's configuration), none on `/plain`.
pub fn http_middleware(base: &str) -> anyhow::Result<()> {
    let get = |path: &str, headers: &[(&str, &str)]| request("GET", &format!("{base}{path}"), headers, "");
    let expect = |resp: &Response, body: &str, trail: Option<&str>| -> anyhow::Result<()> {
        anyhow::ensure!(
            resp.status == 200 && resp.body == body && resp.headers.get("x-mw-trail").map(String::as_str) == trail,
            "expected 200 {body:?} with x-mw-trail {trail:?}, got {resp:?}"
        );
        Ok(())
    };
    // The handler alone: no middleware ran.
    let plain = get("/plain/p", &[])?;
    expect(&plain, "handler at /plain/p depth=- GREETING=hello from the handler", None)?;
    // One middleware: it rewrote the request (depth 1) and stamped the response;
    // the composed component's handler still has its own environment.
    let one = get("/one/a?q=1", &[])?;
    expect(&one, "handler at /one/a depth=1 GREETING=hello from the handler", Some("0"))?;
    // Two: outermost first, so the inner one (depth 1) unwinds first.
    let two = get("/two/b", &[])?;
    expect(&two, "handler at /two/b depth=2 GREETING=hello from the handler", Some("1,0"))?;
    // The outer one inherits the handler's configuration: it reads the handler's
    // environment, not its own component's.
    let inherited = get("/two/b", &[("x-mw-env", "GREETING")])?;
    expect(&inherited, "handler at /two/b depth=2 GREETING=hello from the handler", Some("1,0"))?;
    anyhow::ensure!(
        inherited.headers.get("x-mw-env-0").map(String::as_str) == Some("hello from the handler"),
        "the outer middleware inherits the handler's environment: {inherited:?}"
    );
    // A middleware without `inherit_configuration` is cut off from it: it sees an
    // empty environment, while the handler behind it keeps its own.
    let denied = get("/one/c", &[("x-mw-env", "GREETING")])?;
    expect(&denied, "handler at /one/c depth=1 GREETING=hello from the handler", Some("0"))?;
    anyhow::ensure!(
        denied.headers.get("x-mw-env-0").map(String::as_str) == Some("unset"),
        "a middleware without inherit_configuration read the environment: {denied:?}"
    );
    Ok(())
}

/// The `rust-deps` app: its greeting comes from the `greeter` component composed
/// into its import. The greeter does not inherit the component's configuration,
/// so it sees no `GREETING` (and says `Hello`) while the component sees its own.
pub fn component_dependencies(base: &str) -> anyhow::Result<()> {
    let resp = crate::http::get(&format!("{base}/alice"))?;
    let body = "Hello, alice!; front GREETING=Howdy";
    anyhow::ensure!(resp.status == 200 && resp.body == body, "expected 200 {body:?}, got {resp:?}");
    Ok(())
}
