//! Detection of the manifest format version (`spin_manifest_version`, alias `spin_version`).

/// The manifest format a spin.toml uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ManifestVersion {
    /// `spin_manifest_version = "1"`.
    V1,
    /// `spin_manifest_version = 2`.
    V2,
}

/// Why the version could not be determined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum VersionError {
    /// Neither `spin_manifest_version` nor `spin_version` is present.
    #[error("missing `spin_manifest_version` (expected `spin_manifest_version = 2`)")]
    Missing,
    /// The version key has a value other than `"1"` or `2`.
    #[error(
        "InvalidVersion: `spin_manifest_version = {0}` is not supported (expected the string \"1\" or the integer 2)"
    )]
    Invalid(String),
}

/// Reads the format version from an already-parsed manifest table.
pub(crate) fn detect_version(table: &toml::Table) -> Result<ManifestVersion, VersionError> {
    let version = table.get("spin_manifest_version").or_else(|| table.get("spin_version"));
    match version {
        None => Err(VersionError::Missing),
        Some(toml::Value::String(s)) if s.as_str() == "1" => Ok(ManifestVersion::V1),
        Some(toml::Value::Integer(2)) => Ok(ManifestVersion::V2),
        Some(other) => Err(VersionError::Invalid(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str) -> Result<ManifestVersion, VersionError> {
        detect_version(&text.parse::<toml::Table>().unwrap())
    }

    #[test]
    fn versions() {
        assert_eq!(detect("spin_manifest_version = 2"), Ok(ManifestVersion::V2));
        assert_eq!(detect("spin_manifest_version = \"1\""), Ok(ManifestVersion::V1));
        assert_eq!(detect("spin_version = \"1\""), Ok(ManifestVersion::V1));
        assert_eq!(detect("name = \"x\""), Err(VersionError::Missing));
        assert!(matches!(detect("spin_manifest_version = 3"), Err(VersionError::Invalid(_))));
        assert!(matches!(detect("spin_manifest_version = \"2\""), Err(VersionError::Invalid(_))));
        assert!(matches!(detect("spin_manifest_version = 1"), Err(VersionError::Invalid(_))));
    }
}
