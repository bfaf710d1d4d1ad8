//! Turning the trigger entries into what to subscribe to: the entries grouped by
//! (server address, channel), with templates rendered and addresses checked.

use redis::IntoConnectionInfo as _;
use spin_engine::trigger::{ConfigProblem, TriggerConfigError, TriggerEntry};

use crate::config::{RedisAppConfig, RedisTriggerConfig};

/// One Redis server and the channels to subscribe to on it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ServerPlan {
    /// The rendered address, as given (`redis://[user:pass@]host[:port][/db]`).
    pub address: String,
    /// `host:port` of the server, for output (never the credentials).
    pub display: String,
    /// The channels, in the order they first appear in the manifest.
    pub channels: Vec<ChannelPlan>,
}

/// One channel on one server and the components its messages go to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ChannelPlan {
    /// The rendered channel name.
    pub channel: String,
    /// Component ids, one per trigger entry, in manifest order.
    pub components: Vec<String>,
}

/// Why a Redis server address cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AddressError {
    /// Neither the trigger nor the app sets one.
    #[error("missing; set it on the trigger or as [application.trigger.redis] address")]
    Missing,
    /// It renders to nothing.
    #[error("is empty")]
    Empty,
    /// The redis client does not take it.
    #[error("`{address}` is not a valid Redis address: {reason}")]
    Invalid {
        /// The rendered address.
        address: String,
        /// The client's reason.
        reason: String,
    },
}

/// Groups `triggers` (in manifest order) by server and channel. `render` resolves
/// `{{ var }}` templates; every error names the trigger id and the field.
pub(crate) fn build_plan(
    app: &RedisAppConfig,
    triggers: &[TriggerEntry<RedisTriggerConfig>],
    render: impl Fn(&str) -> anyhow::Result<String>,
) -> Result<Vec<ServerPlan>, TriggerConfigError> {
    let mut servers: Vec<ServerPlan> = Vec::new();
    for entry in triggers {
        let cfg = &entry.config;
        let fail = |field, why: String| entry.error(ConfigProblem::field(field, why));
        let (template, origin) = match (&cfg.address, &app.address) {
            (Some(a), _) => (a, ""),
            (None, Some(a)) => (a, " (from [application.trigger.redis])"),
            (None, None) => return Err(entry.error(ConfigProblem::field("address", AddressError::Missing))),
        };
        let address = render(template).map_err(|e| fail("address", format!("{e:#}{origin}")))?.trim().to_string();
        let display = server_display(&address).map_err(|e| fail("address", format!("{e}{origin}")))?;
        let channel = render(&cfg.channel).map_err(|e| fail("channel", format!("{e:#}")))?;
        if channel.is_empty() {
            return Err(fail("channel", "must not be empty".into()));
        }
        let server = match servers.iter().position(|s| s.address == address) {
            Some(i) => &mut servers[i],
            None => {
                servers.push(ServerPlan { address, display, channels: Vec::new() });
                servers.last_mut().expect("just pushed")
            }
        };
        match server.channels.iter_mut().find(|c| c.channel == channel) {
            Some(c) => c.components.push(cfg.component.clone()),
            None => server.channels.push(ChannelPlan { channel, components: vec![cfg.component.clone()] }),
        }
    }
    Ok(servers)
}

/// `host:port` of a Redis address.
fn server_display(address: &str) -> Result<String, AddressError> {
    if address.is_empty() {
        return Err(AddressError::Empty);
    }
    address
        .into_connection_info()
        .map(|info| info.addr.to_string())
        .map_err(|e| AddressError::Invalid { address: address.to_string(), reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(id: &str, component: &str, channel: &str, address: Option<&str>) -> TriggerEntry<RedisTriggerConfig> {
        let config = RedisTriggerConfig {
            component: component.into(),
            channel: channel.into(),
            address: address.map(Into::into),
        };
        TriggerEntry { id: id.into(), config }
    }

    fn no_templates(s: &str) -> anyhow::Result<String> {
        Ok(s.to_string())
    }

    #[test]
    fn groups_by_address_then_channel_in_manifest_order() {
        let app = RedisAppConfig { address: Some("redis://127.0.0.1:6379".into()) };
        let triggers = [
            trigger("t1", "a", "messages", None),
            trigger("t2", "b", "other", Some("redis://127.0.0.1:7000")),
            trigger("t3", "c", "messages", None),
            trigger("t4", "d", "other", None),
        ];
        let plan = build_plan(&app, &triggers, no_templates).unwrap();
        assert_eq!(plan.len(), 2);
        assert_eq!(plan[0].display, "127.0.0.1:6379");
        assert_eq!(
            plan[0].channels,
            vec![
                ChannelPlan { channel: "messages".into(), components: vec!["a".into(), "c".into()] },
                ChannelPlan { channel: "other".into(), components: vec!["d".into()] },
            ]
        );
        assert_eq!(plan[1].address, "redis://127.0.0.1:7000");
        assert_eq!(plan[1].display, "127.0.0.1:7000");
        assert_eq!(plan[1].channels[0].components, vec!["b".to_string()]);
    }

    #[test]
    fn default_port_and_no_credentials_in_display() {
        let app = RedisAppConfig { address: Some("redis://user:secret@cache.local/2".into()) };
        let plan = build_plan(&app, &[trigger("t", "c", "ch", None)], no_templates).unwrap();
        assert_eq!(plan[0].display, "cache.local:6379");
    }

    #[test]
    fn renders_templates_in_address_and_channel() {
        let app = RedisAppConfig { address: Some("{{ addr }}".into()) };
        let render = |s: &str| Ok(s.replace("{{ addr }}", "redis://localhost:1234").replace("{{ ch }}", "events"));
        let plan = build_plan(&app, &[trigger("t", "c", "{{ ch }}", None)], render).unwrap();
        assert_eq!(plan[0].address, "redis://localhost:1234");
        assert_eq!(plan[0].channels[0].channel, "events");
    }

    #[test]
    fn missing_address_names_trigger_and_field() {
        let e = build_plan(&RedisAppConfig::default(), &[trigger("lonely", "c", "ch", None)], no_templates)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`lonely`") && e.contains("`address`"), "{e}");
    }

    #[test]
    fn invalid_address_and_render_errors_name_trigger_and_field() {
        let app = RedisAppConfig { address: Some("http://nope".into()) };
        let e = build_plan(&app, &[trigger("t9", "c", "ch", None)], no_templates).unwrap_err().to_string();
        assert!(e.contains("`t9`") && e.contains("`address`") && e.contains("application.trigger.redis"), "{e}");
        let failing = |s: &str| if s.contains("{{") { anyhow::bail!("no variable `x`") } else { Ok(s.to_string()) };
        let app = RedisAppConfig { address: Some("redis://h".into()) };
        let e = build_plan(&app, &[trigger("t2", "c", "{{ x }}", None)], failing).unwrap_err().to_string();
        assert!(e.contains("`t2`") && e.contains("`channel`") && e.contains("no variable"), "{e}");
        let e = build_plan(&app, &[trigger("t3", "c", "", None)], no_templates).unwrap_err().to_string();
        assert!(e.contains("`t3`") && e.contains("`channel`"), "{e}");
    }
}
