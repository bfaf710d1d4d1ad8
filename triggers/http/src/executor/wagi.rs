//! Spin's WAGI executor (`executor = { type = "wagi" }`, deprecated in Spin and
//! still served there): the component is a WASI command, run once per request
//! as a CGI program. Its argv is the trigger's template with `${SCRIPT_NAME}`
//! (the request path) and `${ARGS}` (the query, `&` made spaces) filled in; its
//! environment is the component's plus the CGI variables, Spin's routing values
//! under their WAGI names (`X_FULL_URL`, `PATH_INFO`, `X_MATCHED_ROUTE`, ...) and
//! each client header as `HTTP_<NAME>`; stdin is the request body. What it
//! prints is the response: CGI headers, a blank line, the body.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use percent_encoding::percent_decode_str;
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use spin_engine::host::{EventStdio, HostState};
use spin_engine::runtime::PreparedComponent;
use spin_engine::trigger::{BindError, Binding, WASI_CLI_RUN_02};

use crate::body::{full, Body, RequestBody};
use crate::executor::{whole_body, within};
use crate::headers;

/// The most a WAGI program may print for one response; past it, its writes fail.
const MAX_OUTPUT: usize = 64 << 20;

/// Executor for WAGI components.
pub(crate) struct WagiExecutor {
    binding: Binding<CommandPre<HostState>>,
    argv: String,
}

impl WagiExecutor {
    /// Binds the component's `wasi:cli/run` export; `argv` is the trigger's template.
    pub(crate) fn new(component: Arc<PreparedComponent>, argv: &str) -> Result<Self, BindError> {
        let binding = Binding::new(&component, WASI_CLI_RUN_02, |pre| CommandPre::new(pre.clone()))?;
        Ok(Self { binding, argv: argv.to_owned() })
    }

    /// Runs the program for one request (413 for a body over `max_body` bytes:
    /// the body is handed over whole, on stdin).
    pub(crate) async fn execute(
        &self,
        req: http::Request<RequestBody>,
        deadline: Option<Instant>,
        max_body: u64,
    ) -> anyhow::Result<http::Response<Body>> {
        let (parts, body) = req.into_parts();
        let body = match whole_body(body, deadline, max_body).await? {
            Ok(body) => body,
            Err(too_large) => return Ok(too_large),
        };
        let stdout = MemoryOutputPipe::new(MAX_OUTPUT);
        let argv = argv(&self.argv, &parts.uri);
        let event = EventStdio { env: cgi_environment(&parts, body.len()), stdin: body, stdout: stdout.clone() };
        let id = self.binding.component().id();
        let bound = self.binding.current();
        let mut store = bound.new_store_for(&argv, deadline, &event)?;
        let command = bound.pre().instantiate_async(&mut store).await?;
        store.data_mut().instantiated();
        match within(deadline, command.wasi_cli_run().call_run(&mut store)).await {
            Ok(Ok(())) => {}
            Ok(Err(())) => tracing::error!("component `{id}`: the WAGI program returned an error"),
            Err(e) if e.downcast_ref::<wasmtime_wasi::I32Exit>().is_some_and(|exit| exit.0 == 0) => {}
            Err(e) => return Err(e.into()),
        }
        drop(store);
        let output = stdout.contents();
        anyhow::ensure!(
            !output.is_empty(),
            "The {id:?} component is configured to use the WAGI executor but did not write to stdout. \
             Check the `executor` in spin.toml."
        );
        cgi_response(&output)
    }
}

/// The program's argv: `template` with the request path for `${SCRIPT_NAME}`
/// and its query, `&` made spaces, for `${ARGS}`, split at spaces (as Spin).
fn argv(template: &str, uri: &http::Uri) -> Vec<String> {
    let args = uri.query().unwrap_or_default().replace('&', " ");
    template.replace("${SCRIPT_NAME}", uri.path()).replace("${ARGS}", &args).split(' ').map(str::to_owned).collect()
}

/// Spin's `spin-*` request headers and the CGI variables that carry them.
const ROUTING_VARIABLES: [(HeaderName, &str); 7] = [
    (headers::FULL_URL, "X_FULL_URL"),
    (headers::PATH_INFO, "PATH_INFO"),
    (headers::MATCHED_ROUTE, "X_MATCHED_ROUTE"),
    (headers::COMPONENT_ROUTE, "X_COMPONENT_ROUTE"),
    (headers::RAW_COMPONENT_ROUTE, "X_RAW_COMPONENT_ROUTE"),
    (headers::BASE_PATH, "X_BASE_PATH"),
    (headers::CLIENT_ADDR, "X_CLIENT_ADDR"),
];

/// The CGI environment of a request whose body is `content_length` bytes.
/// `parts` carries the routing headers the server added (`spin-*`).
fn cgi_environment(parts: &http::request::Parts, content_length: usize) -> Vec<(String, String)> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let (server_name, server_port) = match header("host").rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => (host, port),
        _ => (header("host"), "80"),
    };
    let client_ip = header(headers::CLIENT_ADDR.as_str()).rsplit_once(':').map_or("", |(ip, _)| ip);
    let client_ip = client_ip.trim_start_matches('[').trim_end_matches(']');
    let path_info = header(headers::PATH_INFO.as_str());
    let script_name = header(headers::MATCHED_ROUTE.as_str()).trim_end_matches("/...");
    let mut env: Vec<(String, String)> = [
        ("AUTH_TYPE", ""),
        ("CONTENT_TYPE", header("content-type")),
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("QUERY_STRING", parts.uri.query().unwrap_or_default()),
        ("REMOTE_ADDR", client_ip),
        ("REMOTE_HOST", client_ip),
        ("REMOTE_USER", ""),
        ("REQUEST_METHOD", parts.method.as_str()),
        ("SCRIPT_NAME", script_name),
        ("X_RAW_PATH_INFO", path_info),
        ("SERVER_NAME", server_name),
        ("SERVER_PORT", server_port),
        ("SERVER_SOFTWARE", "WAGI/1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.push(("CONTENT_LENGTH".to_owned(), content_length.to_string()));
    env.push(("PATH_TRANSLATED".to_owned(), percent_decode_str(path_info).decode_utf8_lossy().into_owned()));
    env.push(("SERVER_PROTOCOL".to_owned(), format!("{:?}", parts.version)));
    for (header_name, variable) in ROUTING_VARIABLES {
        env.push((variable.to_owned(), header(header_name.as_str()).to_owned()));
    }
    for (name, value) in &parts.headers {
        let name = name.as_str();
        if let Some(param) = name.strip_prefix("spin-path-match-") {
            env.push((format!("X_PATH_MATCH_{}", cgi_name(param)), value.to_str().unwrap_or_default().to_owned()));
        } else if !(name.starts_with("spin-") || name == "authorization" || name == "connection") {
            env.push((format!("HTTP_{}", cgi_name(name)), value.to_str().unwrap_or("CORRUPT VALUE").to_owned()));
        }
    }
    env
}

/// `name` as a CGI variable name: upper case, `-` made `_`.
fn cgi_name(name: &str) -> String {
    name.to_ascii_uppercase().replace('-', "_")
}

/// The response a CGI program printed: header lines up to the first empty line
/// (carriage returns ignored there), then the body. `Status: <code> ...` sets the
/// status, `Location` without a status makes it 302, and one of `Content-Type`,
/// `Status` or `Location` must be there (else 500, as Spin answers).
fn cgi_response(output: &[u8]) -> anyhow::Result<http::Response<Body>> {
    let (head, body) = split_head(output);
    let mut response = http::Response::new(full(Bytes::copy_from_slice(body)));
    let head = std::str::from_utf8(&head).context("the WAGI program's headers are not UTF-8")?;
    let (mut sufficient, mut explicit_status) = (false, false);
    for line in head.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            tracing::warn!("the WAGI program printed a corrupt header line: {line:?}");
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "status" => {
                sufficient = true;
                explicit_status = true;
                let code = value.split_once(' ').map_or(value, |(code, _)| code);
                *response.status_mut() = code.parse().unwrap_or_else(|_| {
                    tracing::warn!("the WAGI program printed an invalid status: {value:?}");
                    StatusCode::BAD_GATEWAY
                });
            }
            "location" | "content-type" => {
                sufficient = true;
                if name == "location" && !explicit_status {
                    *response.status_mut() = StatusCode::FOUND;
                }
                response.headers_mut().insert(HeaderName::try_from(name)?, HeaderValue::from_str(value)?);
            }
            _ => match HeaderName::try_from(name.as_str()) {
                Ok(header) => {
                    response.headers_mut().insert(header, HeaderValue::from_str(value)?);
                }
                Err(e) => tracing::error!("the WAGI program printed an invalid header name {name:?}: {e}"),
            },
        }
    }
    if !sufficient {
        tracing::error!("the WAGI program's response has none of Content-Type, Status and Location");
        let mut error = http::Response::new(full("Exactly one of 'location' or 'content-type' must be specified"));
        *error.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        return Ok(error);
    }
    Ok(response)
}

/// The header block (without carriage returns) and the body of `output`: the
/// head ends at the first empty line; without one, everything is head.
fn split_head(output: &[u8]) -> (Vec<u8>, &[u8]) {
    let mut head = Vec::new();
    for (i, &byte) in output.iter().enumerate() {
        match byte {
            b'\r' => {}
            b'\n' if head.last() == Some(&b'\n') => return (head, &output[i + 1..]),
            _ => head.push(byte),
        }
    }
    (head, &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    async fn body_of(response: http::Response<Body>) -> String {
        String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn cgi_output_becomes_the_response() {
        let r = cgi_response(b"Content-Type: text/plain\r\nX-Extra: 1\r\n\r\nhello\n\nworld").unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/plain");
        assert_eq!(r.headers()["x-extra"], "1");
        assert_eq!(body_of(r).await, "hello\n\nworld");
        let r = cgi_response(b"Status: 404 Not Found\nContent-Type: text/plain\n\ngone").unwrap();
        assert_eq!(r.status(), 404);
        let r = cgi_response(b"Location: /elsewhere\n\n").unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (302, "/elsewhere"));
        let r = cgi_response(b"Status: 201\nLocation: /made\n\n").unwrap();
        assert_eq!(r.status(), 201);
        let r = cgi_response(b"X-Only: this\n\nbody").unwrap();
        assert_eq!(r.status(), 500);
        assert!(body_of(r).await.contains("'location' or 'content-type'"));
    }

    #[test]
    fn argv_fills_in_the_script_name_and_the_query() {
        let uri: http::Uri = "/wagi/run?a=1&b".parse().unwrap();
        assert_eq!(argv("${SCRIPT_NAME} ${ARGS}", &uri), ["/wagi/run", "a=1", "b"]);
        assert_eq!(argv("tool ${ARGS}", &"/x".parse().unwrap()), ["tool", ""]);
    }

    #[test]
    fn the_environment_has_the_cgi_variables_and_the_client_headers() {
        let req = http::Request::builder()
            .method("POST")
            .uri("/wagi/run%20it?q=1")
            .header("host", "example.com:8080")
            .header("content-type", "text/plain")
            .header("x-custom-thing", "yes")
            .header("authorization", "secret")
            .header("spin-full-url", "http://example.com:8080/wagi/run%20it?q=1")
            .header("spin-path-info", "/run%20it")
            .header("spin-matched-route", "/wagi/...")
            .header("spin-client-addr", "[::1]:5000")
            .header("spin-path-match-user-id", "7")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let env: std::collections::HashMap<String, String> = cgi_environment(&parts, 5).into_iter().collect();
        for (key, value) in [
            ("REQUEST_METHOD", "POST"),
            ("CONTENT_LENGTH", "5"),
            ("CONTENT_TYPE", "text/plain"),
            ("QUERY_STRING", "q=1"),
            ("SCRIPT_NAME", "/wagi"),
            ("PATH_INFO", "/run%20it"),
            ("PATH_TRANSLATED", "/run it"),
            ("X_FULL_URL", "http://example.com:8080/wagi/run%20it?q=1"),
            ("X_MATCHED_ROUTE", "/wagi/..."),
            ("X_PATH_MATCH_USER_ID", "7"),
            ("SERVER_NAME", "example.com"),
            ("SERVER_PORT", "8080"),
            ("SERVER_PROTOCOL", "HTTP/1.1"),
            ("REMOTE_ADDR", "::1"),
            ("GATEWAY_INTERFACE", "CGI/1.1"),
            ("HTTP_X_CUSTOM_THING", "yes"),
            ("HTTP_HOST", "example.com:8080"),
        ] {
            assert_eq!(env.get(key).map(String::as_str), Some(value), "{key}");
        }
        assert!(!env.contains_key("HTTP_AUTHORIZATION"));
        assert!(!env.keys().any(|k| k.starts_with("HTTP_SPIN_")), "{env:?}");
    }
}
