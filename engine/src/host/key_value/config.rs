//! The `[key_value_store.<label>]` tables of the runtime config, as this
//! capability reads them: Spin's `spin` (SQLite), `redis` and `aws_dynamo`
//! types; a relative `path` is taken from the runtime config file's folder.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::runtime_config::RuntimeConfig;

/// The runtime config's table name.
const TABLE: &str = "key_value_store";

/// One `[key_value_store.<label>]` table.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum KeyValueStoreConfig {
    /// SQLite at `path`, in memory without one.
    Spin {
        /// The database file.
        #[serde(default)]
        path: Option<PathBuf>,
    },
    /// A Redis server (`redis://host[:port][/db]`).
    Redis {
        /// The server's URL.
        url: String,
    },
    /// An AWS DynamoDB table (see `dynamo.rs`).
    AwsDynamo {
        /// The table's region.
        region: String,
        /// The table.
        table: String,
        /// An access key id; with `secret_key`, instead of the SDK's default chain.
        #[serde(default)]
        access_key: Option<String>,
        /// The secret access key.
        #[serde(default)]
        secret_key: Option<String>,
        /// A session token for temporary credentials.
        #[serde(default)]
        token: Option<String>,
        /// Strongly consistent reads (false by default, as in Spin).
        #[serde(default)]
        consistent_read: Option<bool>,
    },
}

/// Every `[key_value_store.<label>]` table of `config`, paths resolved.
pub(crate) fn store_configs(config: &RuntimeConfig) -> anyhow::Result<BTreeMap<String, KeyValueStoreConfig>> {
    let mut configs: BTreeMap<String, KeyValueStoreConfig> = config.labelled_tables(TABLE, &config.key_value_store)?;
    for store in configs.values_mut() {
        if let KeyValueStoreConfig::Spin { path: Some(path) } = store {
            *path = config.base_dir.join(&*path);
        }
    }
    Ok(configs)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(text: &str) -> anyhow::Result<BTreeMap<String, KeyValueStoreConfig>> {
        store_configs(&RuntimeConfig::parse(text, Path::new("/etc/app/rc.toml"))?)
    }

    #[test]
    fn spin_and_redis_stores_with_paths_from_the_file_folder() {
        let c = parse(
            "[key_value_store.a]\ntype = \"spin\"\npath = \"kv/a.db\"\n\
             [key_value_store.b]\ntype = \"redis\"\nurl = \"redis://127.0.0.1\"\n[key_value_store.c]\ntype = \"spin\"\n",
        )
        .unwrap();
        assert!(matches!(&c["a"], KeyValueStoreConfig::Spin { path: Some(x) } if x == Path::new("/etc/app/kv/a.db")));
        assert!(matches!(&c["b"], KeyValueStoreConfig::Redis { url } if url == "redis://127.0.0.1"));
        assert!(matches!(&c["c"], KeyValueStoreConfig::Spin { path: None }));
    }

    #[test]
    fn unknown_store_types_name_the_file_table_and_type() {
        let e = parse("[key_value_store.x]\ntype = \"azure_cosmos\"\naccount = \"a\"\n").unwrap_err().to_string();
        assert!(e.contains("rc.toml") && e.contains("[key_value_store.x]") && e.contains("azure_cosmos"), "{e}");
    }
}
