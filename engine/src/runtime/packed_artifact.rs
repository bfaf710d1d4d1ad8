//! The form of the compiled components the shim's precompiler hands runwasi.
//! runwasi stores each in containerd's content store and, at every start of the
//! image, reads it back whole through containerd's gRPC API and passes it to the
//! container's processes through its zygote: packed with zstd, an artifact is a
//! third of its size, and unpacking it costs less than moving the bytes it saves
//! (README, Starting a Pod). Unpacked artifacts load as they are, but runwasi
//! keeps the packed ones under a label of their own ([`ARTIFACT_FORM`] is part
//! of the precompiler's key), so a build from before packing that a node rolls
//! back to never meets one.

use std::borrow::Cow;

use anyhow::Context as _;

/// The form of the artifacts [`super::precompile`] makes: part of the key runwasi
/// labels them with.
pub const ARTIFACT_FORM: &str = "zstd-packed-1";

/// What a packed artifact begins with; the unpacked size (u64, little-endian)
/// and one zstd frame follow.
const MAGIC: &[u8] = b"spin-shim packed artifact 1\n";

/// zstd's fastest level: a Python hello's 35 MB artifact packs to 12 MB in a
/// quarter of a second; the next levels save a tenth more for half as much again.
const LEVEL: i32 = 1;

/// Packs a wasmtime artifact.
pub(crate) fn pack(artifact: &[u8]) -> anyhow::Result<Vec<u8>> {
    let frame = zstd::bulk::compress(artifact, LEVEL).context("packing the artifact")?;
    Ok([MAGIC, &(artifact.len() as u64).to_le_bytes(), &frame].concat())
}

/// The wasmtime artifact in `bytes`: unpacked when [`pack`] made them, else
/// `bytes` themselves.
pub(crate) fn unpack(bytes: &[u8]) -> anyhow::Result<Cow<'_, [u8]>> {
    let Some(rest) = bytes.strip_prefix(MAGIC) else { return Ok(Cow::Borrowed(bytes)) };
    let (size, frame) = rest.split_at_checked(8).context("a packed artifact without its size")?;
    let size = u64::from_le_bytes(size.try_into().expect("eight bytes"));
    let size = usize::try_from(size).context("a packed artifact larger than memory")?;
    let artifact = zstd::bulk::decompress(frame, size).context("unpacking the artifact")?;
    anyhow::ensure!(artifact.len() == size, "a packed artifact of {} bytes where {size} were recorded", artifact.len());
    Ok(Cow::Owned(artifact))
}

/// Whether `bytes` are a packed artifact (never WebAssembly).
pub(crate) fn is_packed(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_artifact_comes_back_as_it_was_packed() {
        let artifact: Vec<u8> = (0..100_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        let packed = pack(&artifact).unwrap();
        assert!(is_packed(&packed));
        assert!(packed.len() < artifact.len() / 4, "{} bytes", packed.len());
        assert_eq!(unpack(&packed).unwrap().as_ref(), &artifact[..]);
    }

    #[test]
    fn an_unpacked_artifact_loads_as_it_is() {
        let stored_by_an_earlier_build = b"\x7fELF...";
        assert!(
            matches!(unpack(stored_by_an_earlier_build).unwrap(), Cow::Borrowed(b) if b == stored_by_an_earlier_build)
        );
    }

    #[test]
    fn a_damaged_pack_is_an_error() {
        let packed = pack(&[7u8; 4096]).unwrap();
        let mut wrong_size = packed.clone();
        wrong_size[MAGIC.len()] ^= 1;
        assert!(unpack(&wrong_size).is_err());
        assert!(unpack(&packed[..MAGIC.len() + 4]).is_err());
        assert!(unpack(&packed[..packed.len() - 3]).is_err());
    }
}
