//! Where a locked content reference's bytes are: inline in the lock, a local
//! file (`file://` URL or absolute path), or a file named by its digest in the
//! app's content folder (OCI apps). The one resolution shared by component
//! sources and staged files.

use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::locked::{sha256_hex, ContentRef};

/// A resolved content reference.
#[derive(Debug)]
pub(crate) enum Content<'a> {
    /// Bytes held in the locked app.
    Inline(&'a [u8]),
    /// A local file or directory.
    File(PathBuf),
}

impl<'a> Content<'a> {
    /// Resolves `content`; digest-only references are looked up as
    /// `<content_dir>/sha256:<hex>`.
    pub(crate) fn locate(content: &'a ContentRef, content_dir: Option<&Path>) -> anyhow::Result<Self> {
        if let Some(bytes) = &content.inline {
            return Ok(Self::Inline(bytes));
        }
        if let Some(source) = content.source.as_deref().filter(|s| !s.is_empty()) {
            if let Some(path) = content.local_path() {
                return Ok(Self::File(path));
            }
            return match url::Url::parse(source) {
                Ok(url) if url.scheme() == "file" => bail!("invalid file URL `{source}`"),
                Ok(url) => {
                    bail!("unsupported content source `{source}` (scheme `{}`; expected a file:// URL)", url.scheme())
                }
                Err(_) if Path::new(source).is_absolute() => Ok(Self::File(PathBuf::from(source))),
                Err(_) => bail!("unsupported content source `{source}` (expected a file:// URL or an absolute path)"),
            };
        }
        match (content.digest.as_deref(), content_dir) {
            (Some(digest), Some(dir)) => {
                if sha256_hex(digest).is_none() {
                    bail!("{digest:?} is not a sha256 content digest");
                }
                let path = dir.join(digest);
                if !path.exists() {
                    bail!("content {digest} not found in {}", dir.display());
                }
                Ok(Self::File(path))
            }
            (Some(digest), None) => {
                bail!("content {digest} is referenced only by digest and no content directory was given")
            }
            (None, _) => bail!("the reference has neither inline content, a source nor a digest"),
        }
    }

    /// How errors name the content: its path, or `inline content`.
    pub(crate) fn origin(&self) -> String {
        match self {
            Self::Inline(_) => "inline content".into(),
            Self::File(path) => path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_reference_resolves_by_one_rule() {
        let dir = tempfile::tempdir().unwrap();
        let inline = ContentRef { inline: Some(b"x".to_vec()), ..Default::default() };
        assert!(matches!(Content::locate(&inline, None).unwrap(), Content::Inline(b"x")));
        let url = ContentRef { source: Some("file:///srv/app.wasm".into()), ..Default::default() };
        assert!(matches!(Content::locate(&url, None).unwrap(), Content::File(p) if p == Path::new("/srv/app.wasm")));
        let absolute = ContentRef { source: Some("/srv/app.wasm".into()), ..Default::default() };
        assert!(matches!(Content::locate(&absolute, None).unwrap(), Content::File(_)));
        let err = |c: &ContentRef, d: Option<&Path>| Content::locate(c, d).unwrap_err().to_string();
        let remote = ContentRef { source: Some("https://example.com/x".into()), ..Default::default() };
        assert!(err(&remote, None).contains("unsupported content source"));
        let relative = ContentRef { source: Some("app.wasm".into()), ..Default::default() };
        assert!(err(&relative, None).contains("absolute path"));
        let escape = ContentRef { digest: Some("../../etc/passwd".into()), ..Default::default() };
        assert!(err(&escape, Some(dir.path())).contains("not a sha256 content digest"));
        let digest = format!("sha256:{}", "0".repeat(64));
        let missing = ContentRef { digest: Some(digest.clone()), ..Default::default() };
        assert!(err(&missing, Some(dir.path())).contains("not found"));
        assert!(err(&missing, None).contains("no content directory"));
        std::fs::write(dir.path().join(&digest), b"x").unwrap();
        assert!(matches!(Content::locate(&missing, Some(dir.path())).unwrap(), Content::File(_)));
    }
}
