//! Spin's request count, `spin.request_count`: one increment per request or
//! message a trigger hands to a component, with the attributes `trigger_type`,
//! `app_id` (the app's name) and `component_id`, as Spin records it. The
//! attributes are built once per component, so counting allocates nothing.

use opentelemetry::metrics::{Counter, MeterProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::SdkMeterProvider;

/// The app's `spin.request_count` counter.
#[derive(Clone, Debug)]
pub struct RequestCounter {
    counter: Counter<u64>,
}

impl RequestCounter {
    pub(super) fn new(provider: &SdkMeterProvider) -> Self {
        let counter = provider
            .meter("spin")
            .u64_counter("spin.request_count")
            .with_description("Requests and messages handed to a component")
            .build();
        Self { counter }
    }

    /// The count of what trigger `trigger_type` hands to `component` of app `app_id`.
    pub fn for_component(&self, trigger_type: &'static str, app_id: &str, component: &str) -> ComponentRequests {
        ComponentRequests {
            counter: self.counter.clone(),
            attributes: [
                KeyValue::new("trigger_type", trigger_type),
                KeyValue::new("app_id", app_id.to_owned()),
                KeyValue::new("component_id", component.to_owned()),
            ],
        }
    }
}

/// The request count of one component of one trigger.
#[derive(Clone, Debug)]
pub struct ComponentRequests {
    counter: Counter<u64>,
    attributes: [KeyValue; 3],
}

impl ComponentRequests {
    /// Counts one request (or message).
    pub fn count(&self) {
        self.counter.add(1, &self.attributes);
    }
}
