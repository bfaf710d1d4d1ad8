//! Outbound TCP through `wasi:sockets` (Rust std's `TcpStream` on wasm32-wasip2):
//! `GET /?addr=<ip>:<port>` connects, sends `ping\n` and answers 200 with the
//! line it reads back; a refused or denied connection answers 502
//! `connect failed: <io::ErrorKind>`.
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let addr = req.query().strip_prefix("addr=").unwrap_or_default().to_owned();
    let (status, body) = match exchange(&addr) {
        Ok(line) => (200, line),
        Err(e) => (502, format!("connect failed: {:?}", e.kind())),
    };
    Ok(Response::builder().status(status).header("content-type", "text/plain").body(body).build())
}

fn exchange(addr: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.write_all(b"ping\n")?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    Ok(line.trim_end().to_owned())
}
