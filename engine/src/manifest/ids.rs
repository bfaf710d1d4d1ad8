//! Validation of the names used in a manifest: kebab-case component ids, lower_snake
//! variable names, and store/database labels.

/// Why a name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not a valid {kind}: {reason}")]
pub(crate) struct InvalidId {
    /// The rejected name.
    pub name: String,
    /// What the name was meant to be ("component id", "variable name", ...).
    pub kind: &'static str,
    /// What rule it breaks.
    pub reason: String,
}

/// Checks a kebab-case component id (see [`validate_kebab`]).
pub(crate) fn validate_component_id(id: &str) -> Result<(), InvalidId> {
    validate_kebab(id, "component id")
}

/// Checks a kebab-case name (a `kind` of name, for the error): `-`-separated
/// words, each starting with an ASCII letter, alphanumeric, and either all lower
/// case or all upper case.
pub(crate) fn validate_kebab(name: &str, kind: &'static str) -> Result<(), InvalidId> {
    check_words(name, '-', kind, |word| {
        let lower = word.chars().all(|c| !c.is_ascii_uppercase());
        let upper = word.chars().all(|c| !c.is_ascii_lowercase());
        if lower || upper {
            Ok(())
        } else {
            Err(format!("word `{word}` mixes upper and lower case"))
        }
    })
}

/// Checks a lower_snake variable name: `_`-separated words of lower-case letters and digits,
/// each starting with a letter.
pub(crate) fn validate_variable_name(name: &str) -> Result<(), InvalidId> {
    check_words(name, '_', "variable name", |word| {
        if word.chars().any(|c| c.is_ascii_uppercase()) {
            Err(format!("word `{word}` must be lower case"))
        } else {
            Ok(())
        }
    })
}

/// Checks a key-value store / SQLite database label (kebab-case or lower_snake).
pub(crate) fn validate_label(label: &str) -> Result<(), InvalidId> {
    let as_kebab = check_words(label, '-', "label", |_| Ok(()));
    let as_snake = check_words(label, '_', "label", |_| Ok(()));
    as_kebab.or(as_snake).map_err(|e| InvalidId {
        reason: "labels must be kebab-case or snake_case (words start with a letter and are alphanumeric)".into(),
        ..e
    })
}

/// Repairs an id the way V1 conversion does: `_` becomes `-` and the result is lower-cased.
pub(crate) fn repair_component_id(id: &str) -> String {
    id.replace('_', "-").to_ascii_lowercase()
}

/// Turns arbitrary text (e.g. a file stem) into a valid component id, if it can.
pub(crate) fn kebab_from(text: &str) -> Option<String> {
    let lowered = text.to_ascii_lowercase();
    let words: Vec<&str> = lowered.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let candidate = words.join("-");
    validate_component_id(&candidate).ok().map(|()| candidate)
}

fn check_words(
    name: &str,
    separator: char,
    kind: &'static str,
    word_rule: impl Fn(&str) -> Result<(), String>,
) -> Result<(), InvalidId> {
    let fail = |reason: String| InvalidId { name: name.to_owned(), kind, reason };
    if name.is_empty() {
        return Err(fail("it is empty".into()));
    }
    for word in name.split(separator) {
        let Some(first) = word.chars().next() else {
            return Err(fail(format!("it has an empty word (leading, trailing or doubled `{separator}`)")));
        };
        if !first.is_ascii_alphabetic() {
            return Err(fail(format!("word `{word}` must start with an ASCII letter")));
        }
        if let Some(bad) = word.chars().find(|c| !c.is_ascii_alphanumeric()) {
            return Err(fail(format!(
                "character `{bad}` is not allowed (use ASCII letters, digits and `{separator}`)"
            )));
        }
        word_rule(word).map_err(fail)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_ids() {
        for ok in ["hello", "hello-world", "HELLO-world", "a1-b2", "x"] {
            assert!(validate_component_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Hello", "hello_world", "-a", "a-", "a--b", "1abc", "a-1b", "a.b"] {
            assert!(validate_component_id(bad).is_err(), "{bad}");
        }
        let err = validate_component_id("my_comp").unwrap_err().to_string();
        assert!(err.contains("`my_comp` is not a valid component id"), "{err}");
    }

    #[test]
    fn variable_names() {
        for ok in ["a", "api_key", "v2_name"] {
            assert!(validate_variable_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "ApiKey", "api-key", "_a", "a__b", "2a", "a_2"] {
            assert!(validate_variable_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn labels() {
        for ok in ["default", "my-store", "my_store", "STORE"] {
            assert!(validate_label(ok).is_ok(), "{ok}");
        }
        for bad in ["", "my store", "-x", "a/b"] {
            assert!(validate_label(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn repair_and_kebab() {
        assert_eq!(repair_component_id("My_Comp"), "my-comp");
        assert_eq!(kebab_from("My_App.v2").as_deref(), Some("my-app-v2"));
        assert_eq!(kebab_from("hello world"), Some("hello-world".into()));
        assert_eq!(kebab_from("123"), None);
        assert_eq!(kebab_from("__"), None);
    }
}
