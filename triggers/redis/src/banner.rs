//! The start-up lines Spin prints for a Redis server once its channels are subscribed.

use crate::plan::ServerPlan;

/// `Active Channels on <host:port>:` and one `\t<host:port>/<channel>: [c1,c2]` line per channel.
pub(crate) fn render(server: &ServerPlan) -> String {
    let mut out = format!("Active Channels on {}:\n", server.display);
    for c in &server.channels {
        out.push_str(&format!("\t{}/{}: [{}]\n", server.display, c.channel, c.components.join(",")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ChannelPlan;

    #[test]
    fn renders_spin_lines() {
        let server = ServerPlan {
            address: "redis://127.0.0.1:6379".into(),
            display: "127.0.0.1:6379".into(),
            channels: vec![
                ChannelPlan { channel: "messages".into(), components: vec!["a".into(), "b".into()] },
                ChannelPlan { channel: "x".into(), components: vec!["c".into()] },
            ],
        };
        assert_eq!(
            render(&server),
            "Active Channels on 127.0.0.1:6379:\n\t127.0.0.1:6379/messages: [a,b]\n\t127.0.0.1:6379/x: [c]\n"
        );
    }
}
