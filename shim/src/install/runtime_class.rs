//! RuntimeClass manifests for the installed variants.

use super::variant::Variant;

/// One RuntimeClass per variant, as a multi-document YAML stream; with a node
/// label, Pods are scheduled only onto nodes that carry it.
pub(crate) fn manifests(variants: &[Variant], node_label: Option<(&str, &str)>) -> String {
    variants
        .iter()
        .map(|v| {
            let mut doc = format!(
                "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: {}\nhandler: {}\n",
                v.runtime_class(),
                v.handler()
            );
            if let Some((k, val)) = node_label {
                doc.push_str(&format!("scheduling:\n  nodeSelector:\n    {k}: \"{val}\"\n"));
            }
            doc
        })
        .collect::<Vec<_>>()
        .join("---\n")
}
