//! The `[[trigger.cron]]` entry as it appears in the locked app's `trigger_config`.

use std::str::FromStr as _;

use chrono::Utc;
use cron::Schedule;
use serde::Deserialize;

/// One cron trigger's configuration (Spin's fields; unknown fields are rejected).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronTriggerConfig {
    /// The component called on every tick.
    pub component: String,
    /// Seconds-first schedule: `sec min hour day-of-month month day-of-week [year]`.
    pub cron_expression: String,
}

impl CronTriggerConfig {
    /// Parses one trigger's `trigger_config`; errors name the trigger id.
    pub fn parse(trigger_id: &str, value: &serde_json::Value) -> anyhow::Result<Self> {
        serde_json::from_value(value.clone()).map_err(|e| anyhow::anyhow!("trigger `{trigger_id}` (cron): {e}"))
    }

    /// The parsed schedule; an invalid expression, or one that never fires from now
    /// on (February 30, a year gone by), is one line naming the trigger id and
    /// `cron_expression`.
    pub fn schedule(&self, trigger_id: &str) -> anyhow::Result<Schedule> {
        let schedule = Schedule::from_str(&self.cron_expression).map_err(|e| {
            let reason = e.to_string().replace('\n', " ");
            anyhow::anyhow!(
                "trigger `{trigger_id}` (cron): invalid `cron_expression` {:?}: {reason} \
                 (expected `sec min hour day-of-month month day-of-week [year]`)",
                self.cron_expression
            )
        })?;
        if schedule.upcoming(Utc).next().is_none() {
            anyhow::bail!(
                "trigger `{trigger_id}` (cron): `cron_expression` {:?} never fires (no such date from now on)",
                self.cron_expression
            );
        }
        Ok(schedule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_both_fields() {
        let c = CronTriggerConfig::parse("t", &json!({"component": "c", "cron_expression": "1/2 * * * * *"})).unwrap();
        assert_eq!(c.component, "c");
        c.schedule("t").unwrap();
    }

    #[test]
    fn both_fields_are_required() {
        let e = CronTriggerConfig::parse("t1", &json!({"component": "c"})).unwrap_err().to_string();
        assert!(e.contains("t1") && e.contains("cron_expression"), "{e}");
        let e = CronTriggerConfig::parse("t2", &json!({"cron_expression": "* * * * * *"})).unwrap_err().to_string();
        assert!(e.contains("t2") && e.contains("component"), "{e}");
    }

    #[test]
    fn rejects_unknown_field() {
        let e = CronTriggerConfig::parse(
            "t3",
            &json!({"component": "c", "cron_expression": "* * * * * *", "timezone": "UTC"}),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("t3") && e.contains("timezone"), "{e}");
    }

    #[test]
    fn invalid_expression_is_one_line_naming_trigger_and_field() {
        for expr in ["every second", "61 * * * * *", "* * * * *", ""] {
            let c = CronTriggerConfig::parse("tick", &json!({"component": "c", "cron_expression": expr})).unwrap();
            let e = c.schedule("tick").unwrap_err().to_string();
            assert!(e.contains("`tick`") && e.contains("cron_expression") && !e.contains('\n'), "{expr}: {e}");
        }
    }

    #[test]
    fn a_schedule_that_never_fires_is_refused_naming_trigger_and_field() {
        for expr in ["0 0 0 30 2 *", "0 0 0 31 4 *", "0 0 0 1 1 * 2001"] {
            let c = CronTriggerConfig::parse("feb", &json!({"component": "c", "cron_expression": expr})).unwrap();
            let e = c.schedule("feb").unwrap_err().to_string();
            assert!(e.contains("`feb`") && e.contains("never fires") && !e.contains('\n'), "{expr}: {e}");
        }
    }

    #[test]
    fn accepts_seconds_first_with_optional_year() {
        for expr in ["*/1 * * * * *", "0 30 9 * * Mon-Fri", "0 0 0 1 1 * 2099"] {
            let c = CronTriggerConfig::parse("t", &json!({"component": "c", "cron_expression": expr})).unwrap();
            c.schedule("t").unwrap_or_else(|e| panic!("{expr}: {e}"));
        }
    }
}
