//! A small blocking HTTP client for assertions.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A received response.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, lower-cased names (last value wins).
    pub headers: BTreeMap<String, String>,
    /// Body as text.
    pub body: String,
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build()
}

/// Sends `method url` with `body`; any status is a response, only I/O fails.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> anyhow::Result<Response> {
    let mut req = agent().request(method, url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let resp = match if body.is_empty() { req.call() } else { req.send_string(body) } {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.into()),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| resp.header(&n).map(|v| (n.to_ascii_lowercase(), v.to_string())))
        .collect();
    let body = resp.into_string()?;
    Ok(Response { status, headers, body })
}

/// `GET url`.
pub fn get(url: &str) -> anyhow::Result<Response> {
    request("GET", url, &[], "")
}

/// `GET url`'s body as bytes; any status but 200 is an error.
pub fn get_bytes(url: &str) -> anyhow::Result<Vec<u8>> {
    let resp = match agent().get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(code, _)) => anyhow::bail!("GET {url}: {code}"),
        Err(e) => return Err(e.into()),
    };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes)?;
    Ok(bytes)
}

/// Polls `url` until it answers at all (any status), for up to `timeout`.
pub fn wait_until_up(url: &str, timeout: Duration) -> anyhow::Result<()> {
    let end = Instant::now() + timeout;
    loop {
        match get(url) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > end => anyhow::bail!("{url} did not come up within {timeout:?}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}
