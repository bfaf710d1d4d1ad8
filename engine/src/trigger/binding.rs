//! Binding a component to the export an executor calls: pick the one it has among
//! those an executor accepts, or fail with one message naming the component, what
//! it exports and what was expected.

use std::fmt;

use wasmtime::component::InstancePre;

use crate::host::HostState;
use crate::runtime::PreparedComponent;

/// An export an executor accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// An interface by its exact name: `fermyon:spin/inbound-redis`.
    Interface(&'static str),
    /// A function a world exports: `handle-queue-message` of `fermyon:spin-sqs@2.0.0`.
    Func {
        /// The function name.
        name: &'static str,
        /// The world (package and version) it belongs to, for messages.
        world: &'static str,
    },
    /// Any release (no pre-release) of an interface in a version line: for
    /// `wasi:cli/run@0.2`, `wasi:cli/run@0.2.0` and later patches.
    Release(&'static str),
}

/// A WASI 0.2 command's `wasi:cli/run` export (any 0.2.x patch): the command
/// trigger's, and what a WAGI program exports once componentized.
pub const WASI_CLI_RUN_02: Export = Export::Release("wasi:cli/run@0.2");

impl Export {
    /// Whether the component export `name` is this one.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Self::Interface(n) | Self::Func { name: n, .. } => name == *n,
            Self::Release(_) => self.patch(name).is_some_and(|patch| !patch.contains('-')),
        }
    }

    /// Whether `name` is a pre-release in this export's version line.
    pub fn is_pre_release(&self, name: &str) -> bool {
        self.patch(name).is_some_and(|patch| patch.contains('-'))
    }

    /// What follows `<line>.` in `name`, for a [`Export::Release`].
    fn patch<'n>(&self, name: &'n str) -> Option<&'n str> {
        let Self::Release(line) = self else { return None };
        name.strip_prefix(line)?.strip_prefix('.').filter(|patch| !patch.is_empty())
    }
}

impl fmt::Display for Export {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Interface(name) => write!(f, "`{name}`"),
            Self::Func { name, world } => write!(f, "`{name}` of {world}"),
            Self::Release(line) => write!(f, "`{line}.x`"),
        }
    }
}

/// Why a component cannot be bound to a trigger's executor.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// The component has none of the exports the executor accepts.
    #[error("Expected component `{component}` to export {expected}; it exports {exports}")]
    Missing {
        /// The component id.
        component: String,
        /// What the executor accepts.
        expected: String,
        /// What the component exports.
        exports: String,
    },
    /// The component has the export, with another signature.
    #[error("component `{component}`: its {export} export does not match the interface: {reason}")]
    Mismatch {
        /// The component id.
        component: String,
        /// The export.
        export: Export,
        /// The first line of wasmtime's type error.
        reason: String,
    },
    /// The component has only a pre-release of an export the executor accepts.
    #[error("component `{component}` exports `{export}`, a pre-release this runtime does not serve; rebuild it with a current SDK")]
    PreRelease {
        /// The component id.
        component: String,
        /// The pre-release export.
        export: String,
    },
    /// The component has several of the exports, so which to call is ambiguous.
    #[error("component `{component}` exports multiple different handlers ({found})")]
    Several {
        /// The component id.
        component: String,
        /// The exports found.
        found: String,
    },
}

/// The index in `accepted` of the one export `component` has; an error when it
/// has none or several.
pub fn pick_export(component: &PreparedComponent, accepted: &[Export]) -> Result<usize, BindError> {
    let names = component.export_names();
    let found: Vec<(usize, &String)> = accepted
        .iter()
        .enumerate()
        .filter_map(|(i, export)| names.iter().find(|n| export.matches(n)).map(|n| (i, n)))
        .collect();
    match found.as_slice() {
        [(index, _)] => Ok(*index),
        [] => match names.iter().find(|n| accepted.iter().any(|e| e.is_pre_release(n))) {
            Some(export) => {
                Err(BindError::PreRelease { component: component.id().to_string(), export: export.clone() })
            }
            None => Err(missing(component, accepted)),
        },
        several => Err(BindError::Several {
            component: component.id().to_string(),
            found: several.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join(", "),
        }),
    }
}

/// Binds `pre`, an instance pre of `component`, to `export` with `bind` (a
/// generated `*Pre::new`); a failure is [`BindError::Mismatch`] when the
/// component has the export, else [`BindError::Missing`].
pub(crate) fn bind_export<P>(
    component: &PreparedComponent,
    pre: &InstancePre<HostState>,
    export: Export,
    bind: impl FnOnce(&InstancePre<HostState>) -> wasmtime::Result<P>,
) -> Result<P, BindError> {
    bind(pre).map_err(|e| {
        if component.export_names().iter().any(|n| export.matches(n)) {
            let reason = e.to_string().lines().next().unwrap_or_default().to_string();
            BindError::Mismatch { component: component.id().to_string(), export, reason }
        } else {
            missing(component, &[export])
        }
    })
}

fn missing(component: &PreparedComponent, accepted: &[Export]) -> BindError {
    let list: Vec<String> = accepted.iter().map(Export::to_string).collect();
    let expected = match list.as_slice() {
        [one] => one.clone(),
        [first @ .., last] => format!("one of {} or {last}", first.join(", ")),
        [] => "nothing".to_string(),
    };
    BindError::Missing { component: component.id().to_string(), expected, exports: component.describe_exports() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_match_patches_but_not_pre_releases() {
        let run = Export::Release("wasi:cli/run@0.2");
        assert!(run.matches("wasi:cli/run@0.2.0") && run.matches("wasi:cli/run@0.2.6"));
        assert!(!run.matches("wasi:cli/run@0.2.0-rc-2023-11-10") && !run.matches("wasi:cli/run@0.2"));
        assert!(run.is_pre_release("wasi:cli/run@0.2.0-rc-2023-11-10") && !run.is_pre_release("wasi:cli/run@0.2.1"));
        assert!(!run.matches("wasi:cli/run@0.20.1") && !run.matches("wasi:cli/run@0.3.0"));
        assert_eq!(run.to_string(), "`wasi:cli/run@0.2.x`");
        let func = Export::Func { name: "handle-message", world: "spin:mqtt-trigger" };
        assert!(func.matches("handle-message") && !func.matches("handle-messages"));
        assert_eq!(func.to_string(), "`handle-message` of spin:mqtt-trigger");
    }

    #[test]
    fn errors_name_the_component_what_it_exports_and_what_was_expected() {
        let e = BindError::Missing { component: "web".into(), expected: "`x`".into(), exports: "nothing".into() };
        assert_eq!(e.to_string(), "Expected component `web` to export `x`; it exports nothing");
        let e = BindError::Mismatch {
            component: "c".into(),
            export: Export::Interface("fermyon:spin/inbound-redis"),
            reason: "type mismatch".into(),
        };
        assert_eq!(
            e.to_string(),
            "component `c`: its `fermyon:spin/inbound-redis` export does not match the interface: type mismatch"
        );
    }
}
