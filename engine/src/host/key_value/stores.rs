//! The app's key-value stores by label: those the runtime config configures, and
//! Spin's `default` (SQLite in the state directory, or memory without one).

use std::collections::BTreeMap;
use std::path::Path;

use super::backend::{KeyValueStore, RedisStore, SqliteStore};
use super::dynamo::{DynamoConfig, DynamoStore};
use crate::host::labelled::{Access, LabelKind, Labelled, OpenSet, DEFAULT_LABEL};
use super::config::KeyValueStoreConfig;
use crate::host::seeds::{run_at_start, warn_unused};

/// The default store's file name under the state directory (as Spin names it).
pub(crate) const DEFAULT_FILE: &str = "sqlite_key_value.db";

/// Every store the app's components can open, by label.
pub(crate) type KeyValueStores = Labelled<KeyValueStore>;
/// The stores one component may open.
pub(crate) type KeyValueAccess = Access<KeyValueStore>;
/// The stores one instance holds open.
pub(crate) type KeyValueInstance = OpenSet<KeyValueStore>;

const KIND: LabelKind =
LabelKind {
    noun: "key-value store",
    data: "key-value",
    manifest_field: "key_value_stores",
    config_table: "key_value_store",
    unknown_lead: None,
};

impl Labelled<KeyValueStore> {
    /// Builds the stores some component lists (`used`): those configured in
    /// `configs` (`[key_value_store.<label>]`), and `default` when not configured
    /// there. Unused stores are not opened; Redis and DynamoDB stores connect on
    /// first use.
    pub(crate) fn key_value(
        configs: &BTreeMap<String, KeyValueStoreConfig>,
        state_dir: Option<&Path>,
        used: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> anyhow::Result<Self> {
        Labelled::from_used(KIND, used, |label| match (configs.get(label), label) {
            (Some(KeyValueStoreConfig::Spin { path }), _) => {
                Some(SqliteStore::open(path.as_deref(), label).map(KeyValueStore::Sqlite))
            }
            (Some(KeyValueStoreConfig::Redis { url }), _) => Some(RedisStore::new(url).map(KeyValueStore::Redis)),
            (Some(KeyValueStoreConfig::AwsDynamo { region, table, access_key, secret_key, token, consistent_read }), _) => {
                let credentials = match (access_key, secret_key) {
                    (Some(access_key), Some(secret_key)) => Some((access_key.clone(), secret_key.clone(), token.clone())),
                    _ => None,
                };
                let config = DynamoConfig {
                    region: region.clone(),
                    table: table.clone(),
                    credentials,
                    consistent_read: consistent_read.unwrap_or(false),
                };
                Some(Ok(KeyValueStore::Dynamo(DynamoStore::new(config))))
            }
            (None, DEFAULT_LABEL) => {
                let path = state_dir.map(|d| d.join(DEFAULT_FILE));
                Some(SqliteStore::open(path.as_deref(), label).map(KeyValueStore::Sqlite))
            }
            (None, _) => None,
        })
    }
}

impl KeyValueStores {
    /// Sets `pairs` in the default store, in order (`spin up --key-value`).
    pub(crate) fn seed_default(&self, pairs: &[(String, String)]) -> anyhow::Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let Some(store) = self.get(DEFAULT_LABEL) else {
            warn_unused("--key-value", "key-value store");
            return Ok(());
        };
        run_at_start(async {
            for (key, value) in pairs {
                store.set(key, value.as_bytes()).await.map_err(|e| anyhow::anyhow!("--key-value {key}: {e}"))?;
            }
            Ok(())
        })?
    }
}

impl Default for KeyValueStores {
    fn default() -> Self {
        Labelled::new(KIND, BTreeMap::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn labels_sharing_a_file_keep_separate_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut configs = BTreeMap::new();
        configs.insert("other".to_string(), KeyValueStoreConfig::Spin { path: Some(dir.path().join(DEFAULT_FILE)) });
        let all = KeyValueStores::key_value(&configs, Some(dir.path()), ["default", "other"]).unwrap();
        let (default, other) = (all.get("default").unwrap(), all.get("other").unwrap());
        default.set("k", b"v1").await.unwrap();
        other.set("k", b"v2").await.unwrap();
        default.set("k", b"v3").await.unwrap();
        assert_eq!(default.get("k").await.unwrap().as_deref(), Some(&b"v3"[..]));
        assert_eq!(other.get("k").await.unwrap().as_deref(), Some(&b"v2"[..]));
        assert_eq!(default.keys().await.unwrap(), ["k"]);
        default.delete("k").await.unwrap();
        default.delete("k").await.unwrap();
        assert!(!default.exists("k").await.unwrap());
        assert!(other.exists("k").await.unwrap());
    }

    #[test]
    fn unused_and_unconfigured_stores_are_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let all = KeyValueStores::key_value(&BTreeMap::new(), Some(dir.path()), ["cache"]).unwrap();
        assert!(all.get("cache").is_none());
        assert!(!dir.path().join(DEFAULT_FILE).exists());
        let e = all.access_for("web", &["cache".into()]).err().unwrap().to_string();
        assert!(e.starts_with(r#"unknown key_value_stores label "cache" for component "web""#), "{e}");
        assert!(e.contains("[key_value_store.cache]"), "{e}");
    }
}
