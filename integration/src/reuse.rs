//! Reading the instance-reuse guest (`rust-sdk7-reuse`): each answer names the
//! instance that served it, how many requests that instance has served, and
//! the most it served at once.

use std::collections::BTreeMap;

use anyhow::Context as _;

/// One answer of the reuse guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    /// The instance's random id.
    pub instance: String,
    /// The n-th request this instance served.
    pub request: u64,
    /// The most requests this instance had in flight at once.
    pub peak: u64,
}

impl Served {
    /// Parses `instance=<id> request=<n> peak=<p>`.
    pub fn parse(body: &str) -> anyhow::Result<Self> {
        let fields: BTreeMap<&str, &str> = body.split_whitespace().filter_map(|kv| kv.split_once('=')).collect();
        let field = |name: &str| fields.get(name).copied().with_context(|| format!("no {name}= in {body:?}"));
        Ok(Self {
            instance: field("instance")?.to_string(),
            request: field("request")?.parse()?,
            peak: field("peak")?.parse()?,
        })
    }
}

/// `GET <base><path>` of the reuse guest, which must answer 200.
pub fn get(base: &str, path: &str) -> anyhow::Result<Served> {
    let r = crate::http::get(&format!("{base}{path}"))?;
    anyhow::ensure!(r.status == 200, "GET {path}: {} {:?}", r.status, r.body);
    Served::parse(&r.body)
}

/// `n` requests to `/count`, one after another.
pub fn sequential(base: &str, n: usize) -> anyhow::Result<Vec<Served>> {
    (0..n).map(|_| get(base, "/count")).collect()
}

/// `n` requests to `path` sent at the same time.
pub fn concurrent(base: &str, path: &str, n: usize) -> anyhow::Result<Vec<Served>> {
    std::thread::scope(|s| {
        let sent: Vec<_> = (0..n).map(|_| s.spawn(|| get(base, path))).collect();
        sent.into_iter().map(|t| t.join().expect("request thread panicked")).collect()
    })
}

/// The request numbers of `served`, in order.
pub fn request_numbers(served: &[Served]) -> Vec<u64> {
    served.iter().map(|s| s.request).collect()
}
