//! Conversion of the deprecated `allowed_http_hosts` field into `allowed_outbound_hosts`.

/// Converts `allowed_http_hosts` entries into equivalent `allowed_outbound_hosts` entries.
///
/// `host[:port]` becomes `http://` and `https://` of it, `self` becomes `http://self`, and
/// `insecure:allow-all` becomes `http://*:*`, `https://*:*` and `http://self`. An entry that
/// already has a scheme is kept as it is.
pub(crate) fn convert_allowed_http_hosts(entries: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for entry in entries.iter().map(|e| e.trim()) {
        match entry {
            "insecure:allow-all" => out.extend(["http://*:*", "https://*:*", "http://self"].map(String::from)),
            "self" => out.push("http://self".into()),
            e if e.contains("://") => out.push(e.to_owned()),
            e => out.extend([format!("http://{e}"), format!("https://{e}")]),
        }
    }
    out
}

/// Moves a component's `allowed_http_hosts` into its `allowed_outbound_hosts`, warning once.
pub(crate) fn migrate_component(
    component_id: &str,
    allowed_http_hosts: &mut Vec<String>,
    allowed_outbound_hosts: &mut Vec<String>,
) {
    if allowed_http_hosts.is_empty() {
        return;
    }
    let converted = convert_allowed_http_hosts(allowed_http_hosts);
    tracing::warn!(
        "component `{component_id}` uses the deprecated `allowed_http_hosts`; treating it as allowed_outbound_hosts = {converted:?}"
    );
    for entry in converted {
        if !allowed_outbound_hosts.contains(&entry) {
            allowed_outbound_hosts.push(entry);
        }
    }
    allowed_http_hosts.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_each_form() {
        let got = convert_allowed_http_hosts(&[
            "example.com".into(),
            "api.test:8080".into(),
            "self".into(),
            "https://kept.org".into(),
        ]);
        assert_eq!(
            got,
            vec![
                "http://example.com",
                "https://example.com",
                "http://api.test:8080",
                "https://api.test:8080",
                "http://self",
                "https://kept.org"
            ]
        );
        assert_eq!(
            convert_allowed_http_hosts(&["insecure:allow-all".into()]),
            vec!["http://*:*", "https://*:*", "http://self"]
        );
    }

    #[test]
    fn migrate_merges_without_duplicates() {
        let mut http = vec!["a.com".to_string()];
        let mut outbound = vec!["https://a.com".to_string()];
        migrate_component("c", &mut http, &mut outbound);
        assert!(http.is_empty());
        assert_eq!(outbound, vec!["https://a.com", "http://a.com"]);
    }
}
