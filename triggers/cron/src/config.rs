//! The `[[trigger.cron]]` entry as it appears in the locked app's `trigger_config`.

use std::str::FromStr as _;

use chrono::Utc;
use cron::Schedule;
use serde::Deserialize;
use spin_engine::trigger::{ConfigProblem, TriggerConfig};

/// One cron trigger's configuration (Spin's fields; unknown fields are rejected).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronTriggerConfig {
    /// The component called on every tick.
    pub component: String,
    /// Seconds-first schedule: `sec min hour day-of-month month day-of-week [year]`.
    pub cron_expression: String,
}

impl TriggerConfig for CronTriggerConfig {
    const TYPE: &'static str = "cron";

    fn component(&self) -> Option<&str> {
        Some(&self.component)
    }
}

/// Why a `cron_expression` cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ScheduleError {
    /// It does not parse.
    #[error(
        "invalid expression {expression:?}: {reason} (expected `sec min hour day-of-month month day-of-week [year]`)"
    )]
    Invalid {
        /// The expression as written.
        expression: String,
        /// The parser's reason, in one line.
        reason: String,
    },
    /// It parses but has no tick from now on (February 30, a year gone by).
    #[error("{0:?} never fires (no such date from now on)")]
    NeverFires(String),
}

impl CronTriggerConfig {
    /// The parsed schedule; an invalid expression, or one that never fires from now
    /// on, is a problem of the `cron_expression` field.
    pub fn schedule(&self) -> Result<Schedule, ConfigProblem> {
        let expression = &self.cron_expression;
        let schedule = Schedule::from_str(expression).map_err(|e| {
            let reason = e.to_string().replace('\n', " ");
            ConfigProblem::field("cron_expression", ScheduleError::Invalid { expression: expression.clone(), reason })
        })?;
        if schedule.upcoming(Utc).next().is_none() {
            return Err(ConfigProblem::field("cron_expression", ScheduleError::NeverFires(expression.clone())));
        }
        Ok(schedule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use spin_engine::trigger::TriggerEntry;

    fn parse(id: &str, value: serde_json::Value) -> Result<TriggerEntry<CronTriggerConfig>, String> {
        TriggerEntry::parse(id, &value).map_err(|e| e.to_string())
    }

    fn schedule_error(id: &str, expr: &str) -> String {
        let entry = parse(id, json!({"component": "c", "cron_expression": expr})).unwrap();
        entry.error(entry.config.schedule().unwrap_err()).to_string()
    }

    #[test]
    fn parses_both_fields() {
        let c = parse("t", json!({"component": "c", "cron_expression": "1/2 * * * * *"})).unwrap().config;
        assert_eq!(c.component, "c");
        c.schedule().unwrap();
    }

    #[test]
    fn both_fields_are_required() {
        let e = parse("t1", json!({"component": "c"})).unwrap_err();
        assert!(e.contains("t1") && e.contains("cron_expression"), "{e}");
        let e = parse("t2", json!({"cron_expression": "* * * * * *"})).unwrap_err();
        assert!(e.contains("t2") && e.contains("component"), "{e}");
    }

    #[test]
    fn rejects_unknown_field() {
        let e =
            parse("t3", json!({"component": "c", "cron_expression": "* * * * * *", "timezone": "UTC"})).unwrap_err();
        assert!(e.contains("t3") && e.contains("timezone"), "{e}");
    }

    #[test]
    fn invalid_expression_is_one_line_naming_trigger_and_field() {
        for expr in ["every second", "61 * * * * *", "* * * * *", ""] {
            let e = schedule_error("tick", expr);
            assert!(e.contains("`tick`") && e.contains("cron_expression") && !e.contains('\n'), "{expr}: {e}");
        }
    }

    #[test]
    fn a_schedule_that_never_fires_is_refused_naming_trigger_and_field() {
        for expr in ["0 0 0 30 2 *", "0 0 0 31 4 *", "0 0 0 1 1 * 2001"] {
            let e = schedule_error("feb", expr);
            assert!(e.contains("`feb`") && e.contains("never fires") && !e.contains('\n'), "{expr}: {e}");
        }
    }

    #[test]
    fn accepts_seconds_first_with_optional_year() {
        for expr in ["*/1 * * * * *", "0 30 9 * * Mon-Fri", "0 0 0 1 1 * 2099"] {
            let c = parse("t", json!({"component": "c", "cron_expression": expr})).unwrap().config;
            c.schedule().unwrap_or_else(|e| panic!("{expr}: {e}"));
        }
    }
}
