//! The one error format of trigger settings: ``trigger `<id>` (<type>): <problem>``,
//! with the problem typed (shape, field, component, binding, rule).

use std::error::Error as StdError;
use std::fmt;

use super::binding::BindError;

/// The deserialization error of a trigger table, with the path of the field at fault.
pub type ShapeError = serde_path_to_error::Error<serde_json::Error>;

/// A boxed reason a field's value cannot be used (a crate's own typed error, or a
/// rendered template's message).
pub type Reason = Box<dyn StdError + Send + Sync>;

/// One trigger entry that cannot run, and why; displayed in one line.
#[derive(Debug, thiserror::Error)]
#[error("trigger `{id}` ({trigger_type}): {problem}")]
pub struct TriggerConfigError {
    /// The trigger id (for an app-level table: the first trigger of its type).
    pub id: String,
    /// The trigger type (`http`, `redis`, ...).
    pub trigger_type: &'static str,
    /// What is wrong (boxed: errors stay small on the happy path).
    pub problem: Box<ConfigProblem>,
}

impl TriggerConfigError {
    /// The error of trigger `id` of `trigger_type`.
    pub fn new(id: impl Into<String>, trigger_type: &'static str, problem: impl Into<ConfigProblem>) -> Self {
        Self { id: id.into(), trigger_type, problem: Box::new(problem.into()) }
    }
}

/// What is wrong with one trigger entry.
#[derive(Debug, thiserror::Error)]
pub enum ConfigProblem {
    /// `[[trigger.<type>]]` does not have the type's shape (unknown, missing or mistyped field).
    #[error("{}", Shape(.0))]
    Shape(ShapeError),
    /// `[application.trigger.<type>]` does not have the type's shape.
    #[error("[application.trigger.{table}]: {}", Shape(.error))]
    AppTable {
        /// The trigger type whose app-level table this is.
        table: &'static str,
        /// The deserialization error.
        error: ShapeError,
    },
    /// A field holds a value the trigger cannot use.
    #[error("field `{field}`: {reason}")]
    Field {
        /// The field, as written in the manifest.
        field: &'static str,
        /// Why its value is refused.
        reason: Reason,
    },
    /// The entry names a component the app does not have.
    #[error("field `component`: no component `{0}` in the app")]
    UnknownComponent(String),
    /// The component lacks the export the trigger calls.
    #[error(transparent)]
    Bind(#[from] BindError),
    /// The entry breaks a rule about its fields together.
    #[error("{0}")]
    Rule(&'static str),
}

impl ConfigProblem {
    /// A field error with `reason` (a typed error or a message).
    pub fn field(field: &'static str, reason: impl Into<Reason>) -> Self {
        Self::Field { field, reason: reason.into() }
    }
}

/// Displays a shape error as ``field `<path>`: <serde's message>``, or serde's
/// message alone when it is about the table as a whole or already names the field.
struct Shape<'a>(&'a ShapeError);

impl fmt::Display for Shape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.0.path().to_string();
        // serde_json adds ` at line 0 column 0` for a value that has no text.
        let inner = self.0.inner().to_string();
        let inner = inner.strip_suffix(" at line 0 column 0").unwrap_or(&inner);
        if path == "." || inner.contains(&format!("`{path}`")) {
            f.write_str(inner)
        } else {
            write!(f, "field `{path}`: {inner}")
        }
    }
}
