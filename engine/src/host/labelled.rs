//! Resources components open by label (key-value stores, SQLite databases): the
//! app's set, what each component may open (the labels its manifest lists), and
//! what one instance holds open.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The label every app has without configuring it (Spin's default store and database).
pub(crate) const DEFAULT_LABEL: &str = "default";

/// Most resources of one kind an instance may hold open at once.
pub(crate) const MAX_OPEN: usize = 256;

/// A labelled resource that can say where its data lives.
pub(crate) trait DataPlace {
    /// Where the data lives, for start-up messages.
    fn describe(&self) -> String;
}

/// How a kind of labelled resource is named in errors and start-up messages.
pub(crate) struct LabelKind {
    /// What one is (`key-value store`).
    pub noun: &'static str,
    /// What its data is called in Spin's start-up line (`key-value`).
    pub data: &'static str,
    /// The component field that lists labels (`key_value_stores`).
    pub manifest_field: &'static str,
    /// The runtime config table that configures one (`key_value_store`).
    pub config_table: &'static str,
    /// The sentence Spin starts its refusal of an unconfigured label with,
    /// when it has one for this kind (SQLite's); the error stays one line.
    pub unknown_lead: Option<&'static str>,
}

/// The app's resources of one kind, by label.
pub(crate) struct Labelled<T> {
    kind: LabelKind,
    items: BTreeMap<String, Arc<T>>,
}

impl<T> Labelled<T> {
    /// A set of `kind` holding `items`.
    pub(crate) fn new(kind: LabelKind, items: BTreeMap<String, Arc<T>>) -> Self {
        Self { kind, items }
    }

    /// The set of `kind` for the labels components list (`used`, each opened
    /// once): `open` returns `None` for a label the app has nothing under (the
    /// components listing it are refused by [`Self::access_for`]); its errors are
    /// reported with the noun and the label.
    pub(crate) fn from_used(
        kind: LabelKind,
        used: impl IntoIterator<Item = impl AsRef<str>>,
        mut open: impl FnMut(&str) -> Option<anyhow::Result<T>>,
    ) -> anyhow::Result<Self> {
        let mut items = BTreeMap::new();
        for label in used {
            let label = label.as_ref();
            if items.contains_key(label) {
                continue;
            }
            if let Some(item) = open(label) {
                let item = item.map_err(|e| anyhow::anyhow!("{} `{label}`: {e:#}", kind.noun))?;
                items.insert(label.to_string(), Arc::new(item));
            }
        }
        Ok(Self::new(kind, items))
    }

    /// The resource with `label`, if the app has it.
    pub(crate) fn get(&self, label: &str) -> Option<&Arc<T>> {
        self.items.get(label)
    }

    /// What `component`, which lists `labels`, may open; a listed label the app
    /// does not have is an error naming the component, label and config table.
    pub(crate) fn access_for(&self, component: &str, labels: &[String]) -> anyhow::Result<Access<T>> {
        let mut allowed = HashMap::new();
        for label in labels {
            let item = self.items.get(label).ok_or_else(|| {
                let LabelKind { manifest_field, config_table, unknown_lead, .. } = self.kind;
                let lead = unknown_lead.map(|line| format!("{line}: ")).unwrap_or_default();
                anyhow::anyhow!(
                    "{lead}unknown {manifest_field} label {label:?} for component {component:?} \
                     (configure it as [{config_table}.{label}] in the runtime config)"
                )
            })?;
            allowed.insert(label.clone(), item.clone());
        }
        Ok(Access { allowed })
    }
}

impl<T: DataPlace> Labelled<T> {
    /// Spin's start-up line for the `default` resource, printed when the app has
    /// one and the runtime config does not configure it (`configured`).
    pub(crate) fn announce_default(&self, configured: bool) {
        if let (false, Some(item)) = (configured, self.get(DEFAULT_LABEL)) {
            println!("Storing default {} data to {}.", self.kind.data, item.describe());
        }
    }
}

/// The resources of one kind a component may open.
pub(crate) struct Access<T> {
    allowed: HashMap<String, Arc<T>>,
}

impl<T> Default for Access<T> {
    fn default() -> Self {
        Self { allowed: HashMap::new() }
    }
}

/// Why an instance cannot open a resource.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// The component does not list the label.
    AccessDenied,
    /// [`MAX_OPEN`] are open already.
    TableFull,
}

/// What one instance holds open, counted against [`MAX_OPEN`]. Spin 1 interfaces
/// address resources by number; those handles live here too.
pub(crate) struct OpenSet<T> {
    access: Arc<Access<T>>,
    open: usize,
    handles: HashMap<u32, Arc<T>>,
    next_handle: u32,
}

impl<T> OpenSet<T> {
    /// Nothing open yet.
    pub(crate) fn new(access: Arc<Access<T>>) -> Self {
        Self { access, open: 0, handles: HashMap::new(), next_handle: 0 }
    }

    /// Opens `label` and counts it as open.
    pub(crate) fn open(&mut self, label: &str) -> Result<Arc<T>, OpenError> {
        let item = self.access.allowed.get(label).ok_or(OpenError::AccessDenied)?;
        if self.open >= MAX_OPEN {
            return Err(OpenError::TableFull);
        }
        self.open += 1;
        Ok(item.clone())
    }

    /// Counts one as closed.
    pub(crate) fn close(&mut self) {
        self.open = self.open.saturating_sub(1);
    }

    /// Opens `label` under a new numeric handle.
    pub(crate) fn open_handle(&mut self, label: &str) -> Result<u32, OpenError> {
        let item = self.open(label)?;
        let handle = self.next_handle;
        self.next_handle = self.next_handle.wrapping_add(1);
        self.handles.insert(handle, item);
        Ok(handle)
    }

    /// The resource behind a numeric handle.
    pub(crate) fn by_handle(&self, handle: u32) -> Option<Arc<T>> {
        self.handles.get(&handle).cloned()
    }

    /// Closes a numeric handle (unknown handles are ignored).
    pub(crate) fn close_handle(&mut self, handle: u32) {
        if self.handles.remove(&handle).is_some() {
            self.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: LabelKind =
        LabelKind { noun: "thing", data: "thing", manifest_field: "things", config_table: "thing", unknown_lead: None };

    fn set() -> Labelled<u8> {
        Labelled::new(KIND, [("a".to_string(), Arc::new(1)), ("b".to_string(), Arc::new(2))].into())
    }

    #[test]
    fn unlisted_labels_are_denied_and_unknown_ones_refused() {
        let e = set().access_for("web", &["c".into()]).err().unwrap().to_string();
        assert_eq!(
            e,
            "unknown things label \"c\" for component \"web\" (configure it as [thing.c] in the runtime config)"
        );
        let mut open = OpenSet::new(Arc::new(set().access_for("web", &["a".into()]).unwrap()));
        assert!(matches!(open.open("b"), Err(OpenError::AccessDenied)));
        assert_eq!(*open.open("a").unwrap(), 1);
    }

    #[test]
    fn at_most_256_open_and_handles_count() {
        let mut open = OpenSet::new(Arc::new(set().access_for("c", &["a".into()]).unwrap()));
        for _ in 0..MAX_OPEN - 1 {
            open.open("a").unwrap();
        }
        let h = open.open_handle("a").unwrap();
        assert!(matches!(open.open("a"), Err(OpenError::TableFull)));
        assert_eq!(open.by_handle(h).as_deref(), Some(&1));
        open.close_handle(h);
        open.close_handle(h);
        assert!(open.by_handle(h).is_none());
        assert!(open.open("a").is_ok());
        assert!(open.open("a").is_err());
    }
}
