//! The app's key-value stores by label (from the runtime config, plus Spin's
//! `default`), what each component may open, and what one instance has open.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use super::backend::{KeyValueStore, RedisStore, SqliteStore};
use crate::runtime_config::KeyValueStoreConfig;

/// The label every app has without configuring it.
pub const DEFAULT_LABEL: &str = "default";
/// The default store's file name under the state directory (as Spin names it).
pub const DEFAULT_FILE: &str = "sqlite_key_value.db";
/// Most stores one instance may hold open at once.
pub const MAX_OPEN_STORES: usize = 256;

/// Every store the app's components can open, by label.
#[derive(Default)]
pub struct KeyValueStores {
    stores: BTreeMap<String, Arc<KeyValueStore>>,
}

impl KeyValueStores {
    /// Builds the stores some component lists (`used`): those configured in
    /// `configs` (`[key_value_store.<label>]`), and `default` when not configured
    /// there, SQLite in `state_dir` or in memory without one. Unused stores are not
    /// opened; Redis stores connect on first use.
    pub fn new<'a>(
        configs: &BTreeMap<String, KeyValueStoreConfig>,
        state_dir: Option<&Path>,
        used: impl IntoIterator<Item = &'a str>,
    ) -> anyhow::Result<Self> {
        let mut stores = BTreeMap::new();
        for label in used {
            if stores.contains_key(label) {
                continue;
            }
            let store = match (configs.get(label), label) {
                (Some(KeyValueStoreConfig::Spin { path }), _) => {
                    SqliteStore::open(path.as_deref(), label).map(KeyValueStore::Sqlite)
                }
                (Some(KeyValueStoreConfig::Redis { url }), _) => RedisStore::new(url).map(KeyValueStore::Redis),
                (None, DEFAULT_LABEL) => {
                    let path = state_dir.map(|d| d.join(DEFAULT_FILE));
                    SqliteStore::open(path.as_deref(), label).map(KeyValueStore::Sqlite)
                }
                (None, _) => continue,
            }
            .map_err(|e| anyhow::anyhow!("key-value store `{label}`: {e:#}"))?;
            stores.insert(label.to_string(), Arc::new(store));
        }
        Ok(Self { stores })
    }

    /// What component `component`, which lists `labels` in `key_value_stores`,
    /// may open; a listed label that is not configured is an error.
    pub fn access_for(&self, component: &str, labels: &[String]) -> anyhow::Result<KeyValueAccess> {
        let mut allowed = HashMap::new();
        for label in labels {
            let store = self.stores.get(label).ok_or_else(|| {
                anyhow::anyhow!(
                    "component `{component}`: unknown key_value_stores label `{label}` \
                     (configure it as [key_value_store.{label}] in the runtime config)"
                )
            })?;
            allowed.insert(label.clone(), store.clone());
        }
        Ok(KeyValueAccess { allowed })
    }

    /// Where the store `label` keeps its data, if it exists.
    pub fn describe(&self, label: &str) -> Option<String> {
        self.stores.get(label).map(|s| s.describe())
    }
}

/// The stores one component may open.
#[derive(Default)]
pub struct KeyValueAccess {
    allowed: HashMap<String, Arc<KeyValueStore>>,
}

/// Why an instance cannot open a store.
pub enum OpenError {
    /// The component does not list the label.
    AccessDenied,
    /// [`MAX_OPEN_STORES`] are open already.
    TableFull,
}

/// The stores one instance has open (counted against [`MAX_OPEN_STORES`]).
pub struct KeyValueInstance {
    access: Arc<KeyValueAccess>,
    open: usize,
    /// Spin 1 handles (`fermyon:spin/key-value` addresses stores by number).
    pub(super) v1_handles: HashMap<u32, Arc<KeyValueStore>>,
    next_v1_handle: u32,
}

impl KeyValueInstance {
    /// An instance with nothing open yet.
    pub fn new(access: Arc<KeyValueAccess>) -> Self {
        Self { access, open: 0, v1_handles: HashMap::new(), next_v1_handle: 0 }
    }

    /// Opens `label` and counts it as open.
    pub(super) fn open(&mut self, label: &str) -> Result<Arc<KeyValueStore>, OpenError> {
        let store = self.access.allowed.get(label).ok_or(OpenError::AccessDenied)?;
        if self.open >= MAX_OPEN_STORES {
            return Err(OpenError::TableFull);
        }
        self.open += 1;
        Ok(store.clone())
    }

    /// Counts one store as closed.
    pub(super) fn close(&mut self) {
        self.open = self.open.saturating_sub(1);
    }

    /// Opens `label` under a new Spin 1 handle.
    pub(super) fn open_v1(&mut self, label: &str) -> Result<u32, OpenError> {
        let store = self.open(label)?;
        let handle = self.next_v1_handle;
        self.next_v1_handle = self.next_v1_handle.wrapping_add(1);
        self.v1_handles.insert(handle, store);
        Ok(handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stores(dir: &Path, used: &[&str]) -> KeyValueStores {
        let mut configs = BTreeMap::new();
        configs.insert("other".to_string(), KeyValueStoreConfig::Spin { path: Some(dir.join(DEFAULT_FILE)) });
        KeyValueStores::new(&configs, Some(dir), used.iter().copied()).unwrap()
    }

    #[tokio::test]
    async fn labels_sharing_a_file_keep_separate_rows() {
        let dir = tempfile::tempdir().unwrap();
        let all = stores(dir.path(), &["default", "other"]);
        let access = Arc::new(all.access_for("c", &["default".into(), "other".into()]).unwrap());
        let mut instance = KeyValueInstance::new(access);
        let (Ok(default), Ok(other)) = (instance.open("default"), instance.open("other")) else { panic!() };
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
    fn unlisted_labels_are_denied_and_unconfigured_ones_refused() {
        let dir = tempfile::tempdir().unwrap();
        let all = stores(dir.path(), &["default", "cache"]);
        let e = all.access_for("web", &["cache".into()]).err().unwrap().to_string();
        assert!(e.contains("component `web`") && e.contains("unknown key_value_stores label `cache`"), "{e}");
        let mut instance = KeyValueInstance::new(Arc::new(all.access_for("web", &["default".into()]).unwrap()));
        assert!(matches!(instance.open("other"), Err(OpenError::AccessDenied)));
        assert!(instance.open("default").is_ok());
    }

    #[test]
    fn unused_stores_are_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let _ = stores(dir.path(), &[]);
        assert!(!dir.path().join(DEFAULT_FILE).exists());
    }

    #[test]
    fn an_instance_holds_at_most_256_stores() {
        let all = KeyValueStores::new(&BTreeMap::new(), None, ["default"]).unwrap();
        let mut instance = KeyValueInstance::new(Arc::new(all.access_for("c", &["default".into()]).unwrap()));
        for _ in 0..MAX_OPEN_STORES {
            assert!(instance.open("default").is_ok());
        }
        assert!(matches!(instance.open("default"), Err(OpenError::TableFull)));
        instance.close();
        assert!(instance.open_v1("default").is_ok());
    }
}
