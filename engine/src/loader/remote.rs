//! Component sources given as `{ url, digest }` (spec §1.3), as Spin's loader
//! takes them: downloaded once into a cache folder under the name of their
//! digest, and checked against that digest before anything uses them. A cached
//! file that no longer matches its name is downloaded again.
//!
//! The caller names the cache folder. By default ([`cache_dir`]) it is
//! `$XDG_CACHE_HOME/spin-shim/downloads` (else `~/.cache/...`, else the
//! temporary folder's `spin-shim-downloads`); the shim gives a rootfs
//! container the node's cache instead, so each source is downloaded once per
//! node. An OCI artifact (`spin-shim registry push`) carries them as layers.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use sha2::Digest as _;

use crate::limits::GuestLimits;
use crate::locked::sha256_hex;

/// The longest a download may take.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// The local file in `dir` holding the content of `url`, which must hash to
/// `digest` (`sha256:<hex>`); downloaded unless it is there already.
pub(super) fn fetch(dir: &Path, url: &str, digest: &str) -> anyhow::Result<PathBuf> {
    fetch_into(dir, url, digest, GuestLimits::default().max_component_size)
}

/// [`fetch`] into `dir`, refusing content over `max_bytes`.
fn fetch_into(dir: &Path, url: &str, digest: &str, max_bytes: u64) -> anyhow::Result<PathBuf> {
    let Some(hex) = sha256_hex(digest) else {
        bail!("`digest = \"{digest}\"` is not `sha256:` and 64 hex digits");
    };
    let parsed = url::Url::parse(url).with_context(|| format!("`{url}` is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("`{url}`: only http and https sources are downloaded");
    }
    if let Some(path) = cached(dir, &hex)? {
        return Ok(path);
    }
    let bytes = download(url, max_bytes).with_context(|| format!("downloading {url}"))?;
    store(dir, &hex, &bytes).with_context(|| format!("{url} (digest {digest})"))
}

/// The file in `dir` named by the sha256 digest `hex`, when it is there and
/// still matches it.
pub(super) fn cached(dir: &Path, hex: &str) -> anyhow::Result<Option<PathBuf>> {
    let path = dir.join(format!("sha256:{hex}"));
    if !path.is_file() {
        return Ok(None);
    }
    let mut file = std::fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if sha256_of(&mut file)? != hex {
        return Ok(None);
    }
    // Used now, for the cache's bound (the node's cache holds downloads too).
    crate::runtime::touch(&file);
    Ok(Some(path))
}

/// Writes `bytes` into `dir` under the name of their sha256 digest, which must
/// be `hex`.
pub(super) fn store(dir: &Path, hex: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    let actual = hex::encode(sha2::Sha256::digest(bytes));
    if actual != hex {
        bail!("the content does not match its digest (it is sha256:{actual})");
    }
    let path = dir.join(format!("sha256:{hex}"));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.persist(&path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Runs the future `make` gives on a runtime of its own on a thread of its
/// own, so loading an app works the same from synchronous and asynchronous
/// callers.
pub(super) fn block_on_own_thread<T, F>(make: impl FnOnce() -> F + Send) -> anyhow::Result<T>
where
    T: Send,
    F: std::future::Future<Output = anyhow::Result<T>>,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(make()))
            .join()
            .map_err(|_| anyhow::anyhow!("the download thread panicked"))?
    })
}

/// The body of a GET of `url`, at most `max_bytes`.
fn download(url: &str, max_bytes: u64) -> anyhow::Result<Vec<u8>> {
    block_on_own_thread(|| async {
        let client = reqwest::Client::builder().timeout(DOWNLOAD_TIMEOUT).build()?;
        let mut response = client.get(url).send().await?.error_for_status()?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            append_capped(&mut body, &chunk, max_bytes)?;
        }
        Ok(body)
    })
}

/// Adds `chunk` to a download's `body`, refusing a body over `max_bytes`.
pub(super) fn append_capped(body: &mut Vec<u8>, chunk: &[u8], max_bytes: u64) -> anyhow::Result<()> {
    if (body.len() + chunk.len()) as u64 > max_bytes {
        bail!("it is over the {} MiB limit for one component", max_bytes >> 20);
    }
    body.extend_from_slice(chunk);
    Ok(())
}

/// The sha256 digest of what is left to read in `file`, as hex.
fn sha256_of(file: &mut std::fs::File) -> anyhow::Result<String> {
    let mut hasher = sha2::Sha256::new();
    std::io::copy(file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Where downloads are kept by default (see the module's doc).
pub fn cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".cache")));
    match base {
        Some(base) => base.join("spin-shim").join("downloads"),
        None => std::env::temp_dir().join("spin-shim-downloads"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_that_cannot_be_downloaded_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let digest = format!("sha256:{}", "ab".repeat(32));
        let err = |url: &str, digest: &str| format!("{:#}", fetch_into(dir.path(), url, digest, 1 << 20).unwrap_err());
        assert!(err("https://example.invalid/a.wasm", "sha256:00").contains("is not `sha256:` and 64 hex digits"));
        assert!(err("ftp://example.invalid/a.wasm", &digest).contains("only http and https"));
        assert!(err("not a url", &digest).contains("is not a URL"));
        // Nothing listens on port 9 of the loopback: the error names the URL.
        let e = err("http://127.0.0.1:9/a.wasm", &digest);
        assert!(e.starts_with("downloading http://127.0.0.1:9/a.wasm"), "{e}");
    }

    #[test]
    fn a_cached_file_is_used_only_while_it_matches_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(b"wasm")));
        let cached = dir.path().join(&digest);
        std::fs::write(&cached, b"wasm").unwrap();
        // No download: the URL is never reached.
        assert_eq!(fetch_into(dir.path(), "http://127.0.0.1:9/a.wasm", &digest, 1 << 20).unwrap(), cached);
        std::fs::write(&cached, b"tampered").unwrap();
        let e = format!("{:#}", fetch_into(dir.path(), "http://127.0.0.1:9/a.wasm", &digest, 1 << 20).unwrap_err());
        assert!(e.starts_with("downloading"), "{e}");
    }
}
