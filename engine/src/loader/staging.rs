//! Turning a locked component's `files` into directories the runtime can preopen.
//!
//! Directory entries are mounted directly. Per-file entries (and inline or digest-addressed
//! content) are materialised under `<staging_root>/<component-id>/<guest path>` — hard links
//! where possible, copies otherwise — and that directory is mounted at `/`.
//!
//! Because hard links share the original file, the runtime must keep staged mounts read-only
//! (spec §5.2: files are read-only unless transient writes are explicitly allowed). With
//! transient writes (`spin up --allow-transient-write`) every file and directory is copied
//! into the staging directory instead, and the guest may change the copies, never the
//! originals.

use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};

use super::Content;
use crate::locked::LockedComponent;

/// A host directory to preopen at a guest path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    /// Directory on the host.
    pub host_dir: PathBuf,
    /// Absolute guest path.
    pub guest_path: String,
    /// Whether the guest may change what is there (a private copy).
    pub writable: bool,
}

/// Prepares the mounts of `component`: direct directory mounts plus, when any file needs
/// staging, one mount of `staging_root/<component-id>` at `/` (listed first). With
/// `writable`, everything is copied into that one writable mount.
///
/// Digest-only references are looked up as `<content_dir>/<digest>`.
pub(crate) fn prepare_mounts(
    component: &LockedComponent,
    staging_root: &Path,
    content_dir: Option<&Path>,
    writable: bool,
) -> anyhow::Result<Vec<Mount>> {
    let stage_dir = staging_root.join(single_component(&component.id)?);
    let mut staged = false;
    let mut dir_mounts = Vec::new();
    for entry in &component.files {
        let guest = guest_path(&entry.path)?;
        let located = Content::locate(&entry.content, content_dir)
            .with_context(|| format!("file entry for guest path `{guest}`"))?;
        let is_dir = matches!(&located, Content::File(path) if path.is_dir());
        if is_dir && !writable {
            if let Content::File(path) = located {
                dir_mounts.push(Mount { host_dir: path, guest_path: guest, writable: false });
            }
            continue;
        }
        if !staged {
            reset_dir(&stage_dir)?;
            staged = true;
        }
        let relative = guest.trim_start_matches('/');
        if let (true, Content::File(path)) = (is_dir, &located) {
            copy_tree(path, &stage_dir.join(relative))
                .with_context(|| format!("copying {} for guest path `{guest}`", path.display()))?;
            continue;
        }
        if relative.is_empty() {
            bail!("a file cannot be placed at the guest root `/`");
        }
        let dest = stage_dir.join(relative);
        if entry.content.digest.is_some() {
            let bytes = match &located {
                Content::Inline(b) => b.to_vec(),
                Content::File(p) => fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
            };
            entry.content.verify(&bytes, &format!("guest file `{guest}`"))?;
        }
        materialise(&located, &dest, writable)
            .with_context(|| format!("staging guest file `{guest}` at {}", dest.display()))?;
    }
    let mut mounts = Vec::new();
    if staged {
        mounts.push(Mount { host_dir: stage_dir, guest_path: "/".into(), writable });
    }
    mounts.extend(dir_mounts);
    Ok(mounts)
}

/// Validates a guest path and returns it normalised as an absolute string. An
/// absolute path is the guest path; a relative one (how `spin registry push`
/// writes each file of an OCI artifact: `static/a.txt`) is taken from `/`.
/// Neither may contain `..`.
fn guest_path(path: &Path) -> anyhow::Result<String> {
    let mut out = String::new();
    for component in path.components() {
        match component {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(part) => {
                out.push('/');
                out.push_str(part.to_str().context("guest paths must be UTF-8")?);
            }
            Component::ParentDir | Component::Prefix(_) => {
                bail!("guest path `{}` must not contain `..`", path.display())
            }
        }
    }
    Ok(if out.is_empty() { "/".into() } else { out })
}

/// A component id usable as one directory name.
fn single_component(id: &str) -> anyhow::Result<&str> {
    let mut parts = Path::new(id).components();
    match (parts.next(), parts.next()) {
        (Some(Component::Normal(_)), None) => Ok(id),
        _ => bail!("component id `{id}` cannot be used as a staging directory name"),
    }
}

fn reset_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("cannot clear staging directory {}", dir.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create staging directory {}", dir.display()))
}

/// Largest single file staged for a guest.
const MAX_STAGED_FILE: u64 = 1 << 30;

/// Copies the regular files and folders under `src` into `dest`. Links and
/// special files are left out: a link could lead outside the app's files.
fn copy_tree(src: &Path, dest: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dest)?;
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let to = dest.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &to)?;
        } else if kind.is_file() {
            materialise(&Content::File(entry.path()), &to, true)?;
        }
    }
    Ok(())
}

/// Places `located` at `dest`: a copy when `copy` is set (or linking fails), else a hard link.
fn materialise(located: &Content<'_>, dest: &Path, copy: bool) -> anyhow::Result<()> {
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent)?;
    }
    if dest.exists() {
        fs::remove_file(dest)?;
    }
    match located {
        Content::Inline(bytes) => fs::write(dest, bytes)?,
        Content::File(src) => {
            // Only regular files: a FIFO would hang the start, a device would expose the host.
            let meta = fs::metadata(src).with_context(|| format!("cannot read {}", src.display()))?;
            if !meta.is_file() {
                bail!("{} is not a regular file", src.display());
            }
            if meta.len() > MAX_STAGED_FILE {
                bail!("{} is {} bytes, over the {MAX_STAGED_FILE}-byte limit for one file", src.display(), meta.len());
            }
            if copy || fs::hard_link(src, dest).is_err() {
                fs::copy(src, dest).with_context(|| format!("cannot copy {}", src.display()))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locked::{ContentPath, ContentRef};
    use std::os::unix::fs::MetadataExt;

    fn entry(content: ContentRef, path: &str) -> ContentPath {
        ContentPath { content, path: path.into() }
    }

    fn file_ref(path: &Path) -> ContentRef {
        ContentRef::from_path(path).unwrap()
    }

    #[test]
    fn only_regular_files_are_staged() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let err = materialise(&Content::File(fifo), &dir.path().join("out/pipe"), false).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err:#}");
    }

    #[test]
    fn stages_files_by_hard_link_and_mounts_dirs_directly() {
        let src = tempfile::tempdir().unwrap();
        let staging = tempfile::tempdir().unwrap();
        let content = tempfile::tempdir().unwrap();
        let file = src.path().join("index.html");
        fs::write(&file, "<h1>hi</h1>").unwrap();
        let dir = src.path().join("assets");
        fs::create_dir(&dir).unwrap();
        let digest = {
            use sha2::Digest as _;
            format!("sha256:{}", hex::encode(sha2::Sha256::digest(b"by digest")))
        };
        fs::write(content.path().join(&digest), "by digest").unwrap();
        // Content that does not match its digest is refused.
        let forged =
            ContentRef { digest: Some(digest.clone()), inline: Some(b"forged".to_vec()), ..Default::default() };
        let tampered = LockedComponent { id: "t".into(), files: vec![entry(forged, "/f")], ..Default::default() };
        let err = prepare_mounts(&tampered, staging.path(), None, false).unwrap_err();
        assert!(format!("{err:#}").contains("does not match its digest"), "{err:#}");

        let component = LockedComponent {
            id: "web".into(),
            files: vec![
                entry(file_ref(&file), "/www/index.html"),
                entry(file_ref(&dir), "/assets"),
                entry(ContentRef { inline: Some(b"inline!".to_vec()), ..ContentRef::default() }, "/cfg/./a.txt"),
                entry(ContentRef { digest: Some(digest.clone()), ..ContentRef::default() }, "/d.txt"),
                // As `spin registry push` writes a file's place: relative to `/`.
                entry(ContentRef { inline: Some(b"pushed".to_vec()), ..ContentRef::default() }, "static/p.txt"),
            ],
            ..LockedComponent::default()
        };
        // Stale content from a previous run is removed.
        fs::create_dir_all(staging.path().join("web")).unwrap();
        fs::write(staging.path().join("web/stale"), "x").unwrap();

        let mounts = prepare_mounts(&component, staging.path(), Some(content.path()), false).unwrap();
        let stage = staging.path().join("web");
        assert_eq!(
            mounts,
            vec![
                Mount { host_dir: stage.clone(), guest_path: "/".into(), writable: false },
                Mount { host_dir: dir.clone(), guest_path: "/assets".into(), writable: false },
            ]
        );
        let staged = stage.join("www/index.html");
        assert_eq!(fs::read_to_string(&staged).unwrap(), "<h1>hi</h1>");
        assert_eq!(
            fs::metadata(&staged).unwrap().ino(),
            fs::metadata(&file).unwrap().ino(),
            "staged file should be a hard link"
        );
        assert_eq!(fs::read_to_string(stage.join("cfg/a.txt")).unwrap(), "inline!");
        assert_eq!(fs::read_to_string(stage.join("d.txt")).unwrap(), "by digest");
        assert_eq!(fs::read_to_string(stage.join("static/p.txt")).unwrap(), "pushed");
        assert!(!stage.join("stale").exists());
    }

    #[test]
    fn transient_writes_get_one_writable_mount_of_copies() {
        let src = tempfile::tempdir().unwrap();
        let staging = tempfile::tempdir().unwrap();
        let file = src.path().join("index.html");
        fs::write(&file, "<h1>hi</h1>").unwrap();
        let dir = src.path().join("assets");
        fs::create_dir_all(dir.join("css")).unwrap();
        fs::write(dir.join("css/site.css"), "body {}").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.join("outside")).unwrap();
        let component = LockedComponent {
            id: "web".into(),
            files: vec![entry(file_ref(&file), "/www/index.html"), entry(file_ref(&dir), "/assets")],
            ..LockedComponent::default()
        };
        let mounts = prepare_mounts(&component, staging.path(), None, true).unwrap();
        let stage = staging.path().join("web");
        assert_eq!(mounts, vec![Mount { host_dir: stage.clone(), guest_path: "/".into(), writable: true }]);
        let staged = stage.join("www/index.html");
        assert_ne!(fs::metadata(&staged).unwrap().ino(), fs::metadata(&file).unwrap().ino(), "a copy, not a link");
        assert_eq!(fs::read_to_string(stage.join("assets/css/site.css")).unwrap(), "body {}");
        assert!(!stage.join("assets/outside").exists(), "links are left out");
    }

    #[test]
    fn no_files_no_mounts() {
        let staging = tempfile::tempdir().unwrap();
        let component = LockedComponent { id: "c".into(), ..LockedComponent::default() };
        assert!(prepare_mounts(&component, staging.path(), None, false).unwrap().is_empty());
        assert!(!staging.path().join("c").exists());
    }

    #[test]
    fn rejects_bad_guest_paths_ids_and_sources() {
        let staging = tempfile::tempdir().unwrap();
        let inline = ContentRef { inline: Some(vec![1]), ..ContentRef::default() };
        let with = |id: &str, content: ContentRef, path: &str| LockedComponent {
            id: id.into(),
            files: vec![entry(content, path)],
            ..LockedComponent::default()
        };
        let err = |c: LockedComponent| format!("{:#}", prepare_mounts(&c, staging.path(), None, false).unwrap_err());
        assert!(err(with("c", inline.clone(), "../x")).contains("must not contain `..`"));
        assert!(err(with("c", inline.clone(), "/a/../../etc/x")).contains("must not contain `..`"));
        assert!(err(with("c", inline.clone(), "/")).contains("guest root"));
        assert!(err(with("../evil", inline.clone(), "/x")).contains("staging directory name"));
        let digest_only = ContentRef { digest: Some(format!("sha256:{}", "0".repeat(64))), ..ContentRef::default() };
        assert!(err(with("c", digest_only, "/x")).contains("no content directory"));
        let remote = ContentRef { source: Some("https://example.com/x".into()), ..ContentRef::default() };
        assert!(err(with("c", remote, "/x")).contains("unsupported content source"));
    }
}
