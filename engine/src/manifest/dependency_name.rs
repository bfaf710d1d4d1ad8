//! The key of a component dependency (spec §1.3): which of the component's
//! imports the dependency satisfies.

use anyhow::Context as _;

use super::ids::validate_kebab;

/// A component dependency's name: a plain kebab name matching the import of
/// that name, or a package (`ns:pkg`), optionally narrowed to one interface
/// and one version, matching every import of that package it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DependencyName {
    /// `my-dep`: the import named exactly that.
    Plain(String),
    /// `ns:pkg[/interface][@version]`.
    Package {
        /// `ns:pkg`.
        package: String,
        /// Only imports of this interface of the package.
        interface: Option<String>,
        /// Only imports of this version.
        version: Option<semver::Version>,
    },
}

impl std::str::FromStr for DependencyName {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        let Some((namespace, rest)) = s.split_once(':') else {
            validate_kebab(s, "dependency name")?;
            return Ok(Self::Plain(s.to_owned()));
        };
        let (path, version) = match rest.split_once('@') {
            Some((path, version)) => {
                (path, Some(semver::Version::parse(version).with_context(|| format!("`{version}` is not a version"))?))
            }
            None => (rest, None),
        };
        let (name, interface) = match path.split_once('/') {
            Some((name, interface)) => (name, Some(interface)),
            None => (path, None),
        };
        for part in [namespace, name].into_iter().chain(interface) {
            validate_kebab(part, "package, namespace or interface name")?;
        }
        Ok(Self::Package { package: format!("{namespace}:{name}"), interface: interface.map(str::to_owned), version })
    }
}

impl DependencyName {
    /// Whether this dependency satisfies the component's import `import`
    /// (`ns:pkg/interface[@version]`, or a plain name).
    pub fn matches(&self, import: &str) -> bool {
        match self {
            Self::Plain(name) => name == import,
            Self::Package { package, interface, version } => {
                let (path, import_version) = match import.split_once('@') {
                    Some((path, v)) => (path, semver::Version::parse(v).ok()),
                    None => (import, None),
                };
                let Some((import_package, import_interface)) = path.split_once('/') else {
                    return false;
                };
                import_package == package
                    && interface.as_deref().is_none_or(|i| i == import_interface)
                    && version.as_ref().is_none_or(|v| import_version.as_ref() == Some(v))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> DependencyName {
        s.parse().unwrap()
    }

    #[test]
    fn names_match_the_imports_they_cover() {
        let matching = [
            ("demo:greeter/greet@0.1.0", "demo:greeter/greet@0.1.0"),
            ("demo:greeter/greet", "demo:greeter/greet@0.1.0"),
            ("demo:greeter/greet", "demo:greeter/greet"),
            ("demo:greeter", "demo:greeter/greet@0.1.0"),
            ("demo:greeter", "demo:greeter/other"),
            ("demo:greeter@0.1.0", "demo:greeter/greet@0.1.0"),
            ("my-dep", "my-dep"),
        ];
        for (dep, import) in matching {
            assert!(name(dep).matches(import), "{dep} should match {import}");
        }
        let not_matching = [
            ("demo:greeter/greet@0.1.0", "demo:greeter/greet"),
            ("demo:greeter/greet@0.1.0", "demo:greeter/greet@0.2.0"),
            ("demo:greeter/greet", "demo:greeter/greetings"),
            ("demo:greeter", "demo:greeters/greet"),
            ("demo:greeter@0.1.0", "demo:greeter/greet"),
            ("demo:greeter/greet", "my-dep"),
            ("my-dep", "demo:my-dep/x"),
        ];
        for (dep, import) in not_matching {
            assert!(!name(dep).matches(import), "{dep} should not match {import}");
        }
    }

    #[test]
    fn malformed_names_are_refused() {
        for bad in ["", "Not_Kebab", "demo:", "demo:greeter/", "demo:greeter@one", ":x", "demo:greet er"] {
            assert!(bad.parse::<DependencyName>().is_err(), "{bad:?}");
        }
        assert_eq!(
            name("demo:greeter/greet@1.2.3"),
            DependencyName::Package {
                package: "demo:greeter".into(),
                interface: Some("greet".into()),
                version: Some(semver::Version::new(1, 2, 3)),
            }
        );
    }
}
