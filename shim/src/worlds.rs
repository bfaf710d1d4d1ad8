//! The guest worlds this build serves, for `spin-shim info`: per trigger type,
//! the world (as Spin and its SDKs name it), the export a component of it has,
//! and whether it is served. Only the trigger types compiled in are listed.

use serde::Serialize;

/// One guest world.
#[derive(Clone, Copy, Debug, Serialize)]
pub(crate) struct World {
    /// The world's name (`spin:up/http-trigger@4.1.0`).
    pub world: &'static str,
    /// The trigger type that calls it.
    pub trigger: &'static str,
    /// The export the trigger calls.
    pub export: &'static str,
    /// Served by this build. Every world listed is served today; the field
    /// stays in `info --json` for a world a build knows of and refuses.
    pub served: bool,
    /// SDKs that emit it.
    pub sdks: &'static str,
}

const fn world(world: &'static str, trigger: &'static str, export: &'static str, sdks: &'static str) -> World {
    World { world, trigger, export, served: true, sdks }
}

/// Every world this runtime knows, newest first.
const ALL: &[World] = &[
    world(
        "spin:up/http-trigger@4.1.0",
        "http",
        "wasi:http/handler@0.3.0",
        "Rust spin-sdk 7, Python spin-sdk 5 (componentize-py 0.25)",
    ),
    world(
        "spin:up/redis-trigger@4.1.0",
        "redis",
        "spin:redis/inbound-redis@3.0.0",
        "Rust spin-sdk 7, Python spin-sdk 5",
    ),
    world(
        "spin:up/http-trigger@4.0.0",
        "http",
        "wasi:http/handler@0.3.0-rc-2026-03-15",
        "Rust spin-sdk 6, Go SDK v3 (served as 0.3.0: identical interfaces)",
    ),
    world(
        "spin:up/http-trigger@3.x",
        "http",
        "wasi:http/incoming-handler@0.2.x",
        "Rust spin-sdk 3-6, Python spin-sdk 3-4, JS j2w",
    ),
    world("fermyon:spin/http-trigger@2.0.0", "http", "wasi:http/incoming-handler@0.2.0", "Spin 2.x and 3.x SDKs"),
    world("fermyon:spin/redis-trigger@2.0.0", "redis", "fermyon:spin/inbound-redis", "Spin 2.x and 3.x SDKs"),
    world(
        "fermyon:spin/http-trigger@2.0.0 (rc-2023-10-18)",
        "http",
        "wasi:http/incoming-handler@0.2.0-rc-2023-10-18",
        "Rust spin-sdk 2.1 and 2.2",
    ),
    world(
        "fermyon:spin/http-trigger@2.0.0 (rc-2023-11-10)",
        "http",
        "wasi:http/incoming-handler@0.2.0-rc-2023-11-10",
        "componentize-py 0.7 (served as 0.2.0 but for its wasi:http/types)",
    ),
    world("fermyon:spin/http-trigger (Spin 1)", "http", "fermyon:spin/inbound-http", "Spin 1 SDKs"),
    world("fermyon:spin-sqs@2.0.0", "sqs", "handle-queue-message", "spin-trigger-sqs SDKs"),
    world("spin:mqtt-trigger", "mqtt", "handle-message", "spin-trigger-mqtt SDKs"),
    world("fermyon:spin-cron@2.0.0", "cron", "handle-cron-event", "spin-trigger-cron SDKs"),
    world(
        "wasi:cli/command@0.3.0",
        "command",
        "wasi:cli/run@0.3.0",
        "WASI 0.3 commands (run first when both are exported)",
    ),
    world("wasi:cli/command@0.2.x", "command", "wasi:cli/run@0.2.x", "any wasm32-wasip2 command"),
];

/// The worlds of the trigger types in `compiled`.
pub(crate) fn worlds(compiled: &[&str]) -> Vec<World> {
    ALL.iter().filter(|w| compiled.contains(&w.trigger)).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slim_build_lists_only_its_trigger_types() {
        let http = worlds(&["http"]);
        assert!(http.iter().all(|w| w.trigger == "http"));
        assert!(http.iter().any(|w| w.export == "wasi:http/handler@0.3.0" && w.served));
        assert!(http.iter().any(|w| w.export.contains("rc-2023-11-10") && w.served));
        assert!(http.iter().any(|w| w.export.contains("rc-2023-10-18") && w.served));
        assert_eq!(worlds(&[]).len(), 0);
    }
}
