//! The runtime config file (`--runtime-config-file`, `/runtime-config.toml` in a
//! container): Spin's schema, unknown top-level keys rejected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Parsed runtime configuration.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    /// State directory (`""` = unset; relative to the file's folder).
    #[serde(default)]
    pub state_dir: Option<String>,
    /// Directory for component stdout/stderr logs.
    #[serde(default)]
    pub log_dir: Option<String>,
    /// Cap on one instance's linear memory, in bytes.
    #[serde(default)]
    pub max_instance_memory: Option<usize>,
    /// Variable providers in priority order (after loading, also holds the
    /// legacy `[[config_provider]]` entries).
    #[serde(default)]
    pub variables_provider: Vec<VariablesProvider>,
    /// Legacy name of `[[variables_provider]]`.
    #[serde(default)]
    config_provider: Vec<VariablesProvider>,
    /// `[key_value_store.<label>]` tables, parsed by the key-value capability
    /// (see [`RuntimeConfig::labelled_tables`]).
    #[serde(default)]
    pub key_value_store: BTreeMap<String, toml::Table>,
    /// `[sqlite_database.<label>]` tables, parsed by the SQLite capability.
    #[serde(default)]
    pub sqlite_database: BTreeMap<String, toml::Table>,
    /// `[llm_compute]` (not served by this runtime).
    #[serde(default)]
    pub llm_compute: Option<toml::Value>,
    /// `[outbound_networking]`.
    #[serde(default)]
    pub outbound_networking: Option<toml::Value>,
    /// `[[client_tls]]`.
    #[serde(default)]
    pub client_tls: Vec<toml::Value>,
    /// `[outbound_http]`.
    #[serde(default)]
    pub outbound_http: Option<toml::Value>,
    /// `[outbound_redis]`.
    #[serde(default)]
    pub outbound_redis: Option<toml::Value>,
    /// `[outbound_pg]`.
    #[serde(default)]
    pub outbound_pg: Option<toml::Value>,
    /// `[outbound_mysql]`.
    #[serde(default)]
    pub outbound_mysql: Option<toml::Value>,
    /// `[outbound_mqtt]`.
    #[serde(default)]
    pub outbound_mqtt: Option<toml::Value>,
    /// Directory of the file, for relative paths.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The file itself, for errors.
    #[serde(skip)]
    pub path: PathBuf,
}

/// One `[[variables_provider]]` entry.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum VariablesProvider {
    /// Fixed values.
    Static {
        /// Name -> value.
        values: BTreeMap<String, String>,
    },
    /// Environment variables `<prefix>_<NAME>`.
    Env {
        /// Defaults to `SPIN_VARIABLE`.
        #[serde(default)]
        prefix: Option<String>,
        /// A dotenv file read for names the environment does not hold
        /// (relative to the working directory, as Spin takes it).
        #[serde(default)]
        dotenv_path: Option<PathBuf>,
    },
    /// HashiCorp Vault (not supported by this runtime).
    Vault {
        /// The provider's settings (accepted, refused at load).
        #[serde(flatten)]
        #[allow(dead_code)]
        rest: BTreeMap<String, toml::Value>,
    },
    /// Azure Key Vault (not supported by this runtime).
    AzureKeyVault {
        /// The provider's settings (accepted, refused at load).
        #[serde(flatten)]
        #[allow(dead_code)]
        rest: BTreeMap<String, toml::Value>,
    },
}

impl RuntimeConfig {
    /// Reads and validates `path`; errors name the file.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read runtime config {}", path.display()))?;
        Self::parse(&text, path)
    }

    /// Parses and validates the text of the runtime config at `path` (relative
    /// paths in it are relative to its folder; errors name it).
    pub fn parse(text: &str, path: &Path) -> anyhow::Result<Self> {
        let mut cfg: Self =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim()))?;
        cfg.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        cfg.path = path.to_path_buf();
        let legacy = std::mem::take(&mut cfg.config_provider);
        cfg.variables_provider.extend(legacy);
        for p in &cfg.variables_provider {
            match p {
                VariablesProvider::Vault { .. } | VariablesProvider::AzureKeyVault { .. } => anyhow::bail!(
                    "{}: this runtime does not support vault or azure_key_vault variable providers",
                    path.display()
                ),
                _ => {}
            }
        }
        for table in cfg.unserved_tables() {
            tracing::warn!(
                "{}: `{table}` is accepted but not served by this runtime yet; it has no effect",
                path.display()
            );
        }
        Ok(cfg)
    }

    /// The `[<table>.<label>]` tables in `tables`, each parsed as `T` by the
    /// capability that serves them; an error names the file, the table and the label.
    pub fn labelled_tables<T: DeserializeOwned>(
        &self,
        table: &str,
        tables: &BTreeMap<String, toml::Table>,
    ) -> anyhow::Result<BTreeMap<String, T>> {
        tables
            .iter()
            .map(|(label, raw)| {
                let parsed = toml::Value::Table(raw.clone()).try_into::<T>().map_err(|e| {
                    anyhow::anyhow!("{}: [{table}.{label}]: {}", self.path.display(), e.to_string().trim())
                })?;
                Ok((label.clone(), parsed))
            })
            .collect()
    }

    /// The `state_dir` setting; relative paths are taken from the file's folder.
    pub fn state_dir(&self) -> StateDir {
        match self.state_dir.as_deref() {
            None => StateDir::Default,
            Some("") => StateDir::Disabled,
            Some(dir) => StateDir::At(self.base_dir.join(dir)),
        }
    }

    /// The `log_dir` setting, if set; relative paths are taken from the file's
    /// folder, and `""` (kept empty) turns the log files off.
    pub fn log_dir(&self) -> Option<PathBuf> {
        self.log_dir.as_deref().map(|dir| if dir.is_empty() { PathBuf::new() } else { self.base_dir.join(dir) })
    }

    /// Spin's start-up line naming the stores, databases and LLM engine the file
    /// configures (`Using runtime config [key_value_store.cache: redis], ... from
    /// "path"`), or `None` when it configures none of them.
    pub fn summary(&self) -> Option<String> {
        let kind = |table: &toml::Table| table.get("type").and_then(toml::Value::as_str).unwrap_or("?").to_owned();
        let labelled = |name: &str, tables: &BTreeMap<String, toml::Table>| {
            tables.iter().map(|(label, table)| format!("[{name}.{label}: {}]", kind(table))).collect::<Vec<_>>()
        };
        let mut parts = labelled("key_value_store", &self.key_value_store);
        parts.extend(labelled("sqlite_database", &self.sqlite_database));
        if let Some(llm) = self.llm_compute.as_ref().and_then(toml::Value::as_table) {
            parts.push(format!("[llm_compute: {}]", kind(llm)));
        }
        (!parts.is_empty())
            .then(|| format!("Using runtime config {} from {:?}", parts.join(", "), self.path.display().to_string()))
    }

    /// The tables and settings present in the file that this runtime accepts but
    /// does not serve yet, by name (each is warned about at start).
    pub fn unserved_tables(&self) -> Vec<&'static str> {
        let tables = [("llm_compute", self.llm_compute.is_some())];
        tables.into_iter().filter_map(|(name, present)| present.then_some(name)).collect()
    }
}

/// The runtime config's `state_dir` setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateDir {
    /// Not set: the runner's default (Spin's `<app dir>/.spin`, the container's
    /// state folder).
    Default,
    /// Set to `""`: no state directory (default stores live in memory).
    Disabled,
    /// Set to this folder.
    At(PathBuf),
}

impl StateDir {
    /// The folder to use, given the runner's `default`.
    pub fn or(self, default: Option<PathBuf>) -> Option<PathBuf> {
        match self {
            StateDir::Default => default,
            StateDir::Disabled => None,
            StateDir::At(dir) => Some(dir),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spin_schema_and_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rc.toml");
        std::fs::write(
            &p,
            "max_instance_memory = 1000000\n[[variables_provider]]\ntype = \"static\"\nvalues = { a = \"1\" }\n[[config_provider]]\ntype = \"env\"\nprefix = \"X\"\n",
        )
        .unwrap();
        let c = RuntimeConfig::from_file(&p).unwrap();
        assert_eq!(c.max_instance_memory, Some(1_000_000));
        assert_eq!(c.variables_provider.len(), 2);
        std::fs::write(&p, "bogus = 1\n").unwrap();
        let e = RuntimeConfig::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("rc.toml") && e.contains("bogus"), "{e}");
    }

    #[test]
    fn accepted_but_unserved_tables_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rc.toml");
        std::fs::write(
            &p,
            "log_dir = \"logs\"\n[[client_tls]]\ncomponent_ids = [\"a\"]\n[llm_compute]\ntype = \"spin\"\n",
        )
        .unwrap();
        let c = RuntimeConfig::from_file(&p).unwrap();
        assert_eq!(c.unserved_tables(), ["llm_compute"]);
        assert_eq!(c.log_dir(), Some(dir.path().join("logs")));
        let served =
            "[outbound_networking]\nmax_total_connections = 9\nmax_socket_connections = 9\nblock_networks = []\n\
                      [outbound_http]\nmax_connections = 2\n[outbound_redis]\nmax_connections = 2\n\
                      [outbound_mqtt]\nmax_connections = 2\n";
        std::fs::write(&p, served).unwrap();
        assert!(RuntimeConfig::from_file(&p).unwrap().unserved_tables().is_empty());
        std::fs::write(&p, "log_dir = \"\"\n").unwrap();
        assert_eq!(RuntimeConfig::from_file(&p).unwrap().log_dir(), Some(PathBuf::new()));
        std::fs::write(&p, "[sqlite_database.a]\ntype = \"spin\"\n").unwrap();
        assert!(RuntimeConfig::from_file(&p).unwrap().unserved_tables().is_empty());
    }

    #[test]
    fn the_summary_names_each_store_database_and_llm_engine_with_its_type() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rc.toml");
        std::fs::write(
            &p,
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://x\"\n[key_value_store.a]\ntype = \"spin\"\n\
             [sqlite_database.db]\ntype = \"spin\"\n[llm_compute]\ntype = \"remote_http\"\n",
        )
        .unwrap();
        let expected = format!(
            "Using runtime config [key_value_store.a: spin], [key_value_store.default: redis], \
             [sqlite_database.db: spin], [llm_compute: remote_http] from {:?}",
            p.display().to_string()
        );
        assert_eq!(RuntimeConfig::from_file(&p).unwrap().summary(), Some(expected));
        std::fs::write(&p, "state_dir = \"s\"\n").unwrap();
        assert_eq!(RuntimeConfig::from_file(&p).unwrap().summary(), None);
    }

    #[test]
    fn state_dir_is_relative_to_the_file_or_disabled() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rc.toml");
        std::fs::write(&p, "state_dir = \"state\"\n[key_value_store.a]\ntype = \"spin\"\n").unwrap();
        let c = RuntimeConfig::from_file(&p).unwrap();
        assert_eq!(c.state_dir(), StateDir::At(dir.path().join("state")));
        assert_eq!(c.key_value_store["a"]["type"].as_str(), Some("spin"));
        std::fs::write(&p, "state_dir = \"\"\n").unwrap();
        assert_eq!(RuntimeConfig::from_file(&p).unwrap().state_dir(), StateDir::Disabled);
        assert_eq!(StateDir::Disabled.or(Some("x".into())), None);
        assert_eq!(StateDir::Default.or(Some("x".into())), Some("x".into()));
    }
}
