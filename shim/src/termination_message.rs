//! The container's termination message: Kubernetes binds a file of the kubelet's
//! at `/dev/termination-log` (a Pod's `terminationMessagePath`, by default) and
//! shows what the container wrote there in `kubectl describe pod` and the Pod's
//! status. The shim writes why the app stopped, so a start-up error is seen
//! there as well as in the container's log.

use std::io::Write as _;
use std::path::Path;

/// Kubernetes' default `terminationMessagePath`.
pub(crate) const DEFAULT_PATH: &str = "/dev/termination-log";

/// The most the kubelet keeps of a message.
const MAX_BYTES: usize = 4096;

/// Writes `message` (cut to what the kubelet keeps) to the file at `path` when
/// that file exists: the shim never creates it outside a Pod.
pub(crate) fn write(path: &Path, message: &str) {
    if !path.is_file() {
        return;
    }
    let mut end = message.len().min(MAX_BYTES);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let written = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .and_then(|mut file| file.write_all(&message.as_bytes()[..end]));
    if let Err(e) = written {
        tracing::debug!("termination message not written to {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_goes_only_to_a_file_that_exists_and_fits_the_kubelets_limit() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("termination-log");
        write(&missing, "Error: nope");
        assert!(!missing.exists(), "no file is created");
        std::fs::write(&missing, "old text that is longer").unwrap();
        write(&missing, "Error: nope");
        assert_eq!(std::fs::read_to_string(&missing).unwrap(), "Error: nope");
        let long = format!("Error: {}", "é".repeat(3000));
        write(&missing, &long);
        let kept = std::fs::read_to_string(&missing).unwrap();
        assert!(kept.len() <= MAX_BYTES && long.starts_with(&kept) && kept.len() > 4000, "{}", kept.len());
    }
}
