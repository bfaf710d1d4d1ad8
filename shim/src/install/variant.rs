//! Shim variants: the full shim and the slim per-trigger builds, and the names each
//! goes by (binary, containerd runtime, CRI handler, RuntimeClass).

use std::fmt;
use std::str::FromStr;

/// A shim build: `full` (every trigger) or one named slim variant (`http`, `redis`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant(Option<String>);

impl Variant {
    /// The full shim.
    pub(crate) fn full() -> Self {
        Self(None)
    }

    /// The binary name containerd looks for.
    pub fn binary(&self) -> String {
        match &self.0 {
            None => "containerd-shim-spin-v2".into(),
            Some(v) => format!("containerd-shim-spin-{v}-v2"),
        }
    }

    /// The containerd runtime name (`runtime_type`).
    pub(crate) fn runtime_type(&self) -> String {
        match &self.0 {
            None => "io.containerd.spin.v2".into(),
            Some(v) => format!("io.containerd.spin-{v}.v2"),
        }
    }

    /// The CRI handler a RuntimeClass names.
    pub(crate) fn handler(&self) -> String {
        match &self.0 {
            None => "spin".into(),
            Some(v) => format!("spin-{v}"),
        }
    }

    /// The RuntimeClass name (`wasmtime-spin-v2` for the full shim, as users know it).
    pub(crate) fn runtime_class(&self) -> String {
        match &self.0 {
            None => "wasmtime-spin-v2".into(),
            Some(v) => format!("wasmtime-spin-{v}"),
        }
    }
}

impl FromStr for Variant {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" | "" => Ok(Self::full()),
            v if v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') => {
                Ok(Self(Some(v.to_string())))
            }
            v => Err(format!("invalid variant name {v:?}: use lower-case letters, digits and '-'")),
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_deref().unwrap_or("full"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let full: Variant = "full".parse().unwrap();
        assert_eq!(
            (full.binary(), full.runtime_type(), full.handler(), full.runtime_class()),
            (
                "containerd-shim-spin-v2".into(),
                "io.containerd.spin.v2".into(),
                "spin".into(),
                "wasmtime-spin-v2".into()
            )
        );
        let http: Variant = "http".parse().unwrap();
        assert_eq!(http.binary(), "containerd-shim-spin-http-v2");
        assert_eq!(http.runtime_type(), "io.containerd.spin-http.v2");
        assert_eq!(http.handler(), "spin-http");
        assert!("Bad_Name".parse::<Variant>().is_err());
    }
}
