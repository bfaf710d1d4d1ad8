//! `up --variable`, as `spin up` takes it: `name=value`, `name=@file` (the
//! file's text is the value), or `@file.json` / `@file.toml` (a table of names
//! to string values). Later values of a name win over earlier ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// One `--variable` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum VariableArg {
    /// `name=value`.
    Value(String, String),
    /// `name=@file`: the file's whole text.
    FileText(String, PathBuf),
    /// `@file.json` or `@file.toml`: names to values.
    Table(PathBuf),
}

/// Parses one argument (clap's value parser).
pub(crate) fn parse_variable(arg: &str) -> Result<VariableArg, String> {
    if let Some(file) = arg.strip_prefix('@') {
        let path = PathBuf::from(file);
        return match path.extension().and_then(|e| e.to_str()) {
            Some("json" | "toml") => Ok(VariableArg::Table(path)),
            _ => Err(format!("`{arg}`: a file of variables must end in .json or .toml")),
        };
    }
    match arg.split_once('=') {
        Some((name, value)) => Ok(match value.strip_prefix('@') {
            Some(file) => VariableArg::FileText(name.to_string(), file.into()),
            None => VariableArg::Value(name.to_string(), value.to_string()),
        }),
        None => Err(format!("`{arg}`: expected name=value, name=@file or @file.json|toml")),
    }
}

/// The values of every argument, in order, the last value of a name winning.
pub(crate) fn variable_values(args: &[VariableArg]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    for arg in args {
        match arg {
            VariableArg::Value(name, value) => {
                values.insert(name.clone(), value.clone());
            }
            VariableArg::FileText(name, path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                values.insert(name.clone(), text);
            }
            VariableArg::Table(path) => values.extend(read_table(path)?),
        }
    }
    Ok(values)
}

fn read_table(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let table = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(anyhow::Error::from)
    } else {
        toml::from_str(&text).map_err(anyhow::Error::from)
    };
    table.with_context(|| format!("{}: expected a table of variable names to string values", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_parse_as_spin_takes_them() {
        assert_eq!(parse_variable("k=v=w"), Ok(VariableArg::Value("k".into(), "v=w".into())));
        assert_eq!(parse_variable("k=@v.txt"), Ok(VariableArg::FileText("k".into(), "v.txt".into())));
        assert_eq!(parse_variable("@vars.json"), Ok(VariableArg::Table("vars.json".into())));
        assert_eq!(parse_variable("@vars.toml"), Ok(VariableArg::Table("vars.toml".into())));
        assert!(parse_variable("@vars.yaml").unwrap_err().contains(".json or .toml"));
        assert!(parse_variable("novalue").unwrap_err().contains("expected name=value"));
    }

    #[test]
    fn files_are_read_and_the_last_value_wins() {
        let dir = tempfile::tempdir().unwrap();
        let (text, json, toml) = (dir.path().join("t.txt"), dir.path().join("v.json"), dir.path().join("v.toml"));
        std::fs::write(&text, "from a file\n").unwrap();
        std::fs::write(&json, r#"{"a": "json", "b": "json"}"#).unwrap();
        std::fs::write(&toml, "b = \"toml\"\n").unwrap();
        let args = [
            VariableArg::Value("a".into(), "first".into()),
            VariableArg::Table(json),
            VariableArg::Table(toml.clone()),
            VariableArg::FileText("c".into(), text),
        ];
        let values = variable_values(&args).unwrap();
        assert_eq!(values["a"], "json");
        assert_eq!(values["b"], "toml");
        assert_eq!(values["c"], "from a file\n");
        std::fs::write(&toml, "b = 1\n").unwrap();
        let err = format!("{:#}", variable_values(&[VariableArg::Table(toml)]).unwrap_err());
        assert!(err.contains("expected a table of variable names to string values"), "{err}");
    }
}
