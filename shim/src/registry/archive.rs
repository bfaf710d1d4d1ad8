//! Archive layers (`application/vnd.wasm.content.bundle.v1.tar+gzip`): one
//! component's files as a gzipped tar.
//!
//! Unpacking never creates a path the archive names: every regular file is
//! hashed and stored as `<content_dir>/sha256:<hex>`, where the locked app's file
//! references (digests) find it. Anything else an archive may hold is refused
//! with the entry's name: absolute or `..` paths, links, devices, FIFOs; and the
//! bytes unpacked from one layer are capped, so a small gzip bomb cannot fill the
//! node's disk.

use std::io::Read as _;
use std::path::{Component, Path};

use anyhow::{bail, Context as _};
use sha2::Digest as _;

/// Most bytes one archive layer may unpack to.
pub(crate) const MAX_UNPACKED_BYTES: u64 = 1 << 30;

/// Writes each regular file of the gzipped tar `archive` to `content_dir` by its
/// digest; returns how many files it held.
pub(crate) fn unpack_by_digest(archive: &[u8], content_dir: &Path, limit: u64) -> anyhow::Result<usize> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut left = limit;
    let mut files = 0;
    for entry in tar.entries().context("reading the archive")? {
        let mut entry = entry.context("reading the archive")?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        check_path(&name)?;
        match entry.header().entry_type() {
            tar::EntryType::Directory => continue,
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            other => bail!("archive entry `{name}` is a {other:?}; only regular files and directories are accepted"),
        }
        let size = entry.header().size().with_context(|| format!("archive entry `{name}`"))?;
        if size > left {
            bail!("the archive unpacks to more than {limit} bytes (at `{name}`)");
        }
        let mut bytes = Vec::with_capacity(size as usize);
        (&mut entry).take(size).read_to_end(&mut bytes).with_context(|| format!("reading archive entry `{name}`"))?;
        left -= bytes.len() as u64;
        let path = content_dir.join(format!("sha256:{}", hex::encode(sha2::Sha256::digest(&bytes))));
        if !path.exists() {
            std::fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
        }
        files += 1;
    }
    Ok(files)
}

/// Refuses absolute paths and `..` in an archive entry's name.
fn check_path(name: &str) -> anyhow::Result<()> {
    for part in Path::new(name).components() {
        match part {
            Component::Normal(_) | Component::CurDir => {}
            _ => bail!("archive entry `{name}` is not a relative path inside the archive"),
        }
    }
    Ok(())
}

/// `files` (relative paths with `/`, in the order given) as a gzipped tar
/// with fixed times, owners and modes, so the same files give the same layer.
pub(crate) fn pack_files(files: &[(String, Vec<u8>)]) -> anyhow::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, path, bytes.as_slice()).with_context(|| format!("archiving `{path}`"))?;
    }
    Ok(tar.into_inner()?.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gzipped tar holding one entry written raw, so names and types the
    /// `tar` crate's safe builders refuse can be tested.
    fn raw_archive(name: &str, kind: tar::EntryType, bytes: &[u8]) -> Vec<u8> {
        let mut header = tar::Header::new_gnu();
        header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(kind);
        if kind == tar::EntryType::Symlink {
            header.set_link_name("/etc/passwd").unwrap();
        }
        header.set_cksum();
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        tar.append(&header, bytes).unwrap();
        tar.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn files_land_by_digest_and_nowhere_else() {
        let dir = tempfile::tempdir().unwrap();
        let archive = pack_files(&[("a.txt".into(), b"A".to_vec()), ("sub/b.txt".into(), b"B".to_vec())]).unwrap();
        assert_eq!(
            pack_files(&[("a.txt".into(), b"A".to_vec()), ("sub/b.txt".into(), b"B".to_vec())]).unwrap(),
            archive
        );
        assert_eq!(unpack_by_digest(&archive, dir.path(), MAX_UNPACKED_BYTES).unwrap(), 2);
        let mut names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        let digest = |b: &[u8]| format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)));
        let mut expected = vec![digest(b"A"), digest(b"B")];
        expected.sort();
        assert_eq!(names, expected);
    }

    #[test]
    fn escapes_links_devices_and_bombs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = |a: Vec<u8>, limit| format!("{:#}", unpack_by_digest(&a, dir.path(), limit).unwrap_err());
        assert!(err(raw_archive("../x", tar::EntryType::Regular, b"x"), 10).contains("not a relative path"));
        assert!(err(raw_archive("/etc/x", tar::EntryType::Regular, b"x"), 10).contains("not a relative path"));
        assert!(err(raw_archive("l", tar::EntryType::Symlink, b""), 10).contains("Symlink"));
        assert!(err(raw_archive("d", tar::EntryType::Char, b""), 10).contains("Char"));
        let big = pack_files(&[("zeros".into(), vec![0; 4096])]).unwrap();
        assert!(big.len() < 200, "compresses well");
        assert!(err(big, 1024).contains("more than 1024 bytes"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written");
    }
}
