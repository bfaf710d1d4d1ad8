//! Spin 4.1's instance metrics, recorded when an instance is dropped, each a
//! histogram with the attribute `component_id`:
//! - `spin.component_memory_used_on_init` (bytes): the linear memory the
//!   instance held once instantiated;
//! - `spin.component_memory_used` (bytes): the linear memory it held at the end;
//! - `spin.component_cpu_time` (seconds): the time its guest code ran, from
//!   entering wasm to leaving it for the host (a store call hook, set only
//!   when metrics are exported).
//!
//! The instruments are made once per app and their attributes once per
//! component (shared by the component's instances, never copied), so an
//! instance only adds up durations and records three values.

use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry::metrics::{Histogram, MeterProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use wasmtime::CallHook;

/// Bucket bounds of the memory histograms, in bytes: 64 KiB (one wasm page)
/// to 1 GiB by factors of 4, then every GiB up to 4 GiB (a 32-bit memory's
/// most). OpenTelemetry's default bounds (0 to 10000) would put every instance
/// in the last bucket.
const MEMORY_BOUNDS: [f64; 11] = [
    65536.0,
    262144.0,
    1048576.0,
    4194304.0,
    16777216.0,
    67108864.0,
    268435456.0,
    1073741824.0,
    2147483648.0,
    3221225472.0,
    4294967296.0,
];

/// Bucket bounds of the CPU time histogram, in seconds: 10 µs to 30 s.
const CPU_TIME_BOUNDS: [f64; 15] =
    [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5, 30.0];

/// The app's instance histograms.
#[derive(Clone, Debug)]
pub struct InstanceMetrics {
    memory_on_init: Histogram<u64>,
    memory_used: Histogram<u64>,
    cpu_time: Histogram<f64>,
}

impl InstanceMetrics {
    pub(super) fn new(provider: &SdkMeterProvider) -> Self {
        let meter = provider.meter("spin");
        let memory = |name: &'static str, description: &'static str| {
            meter
                .u64_histogram(name)
                .with_unit("By")
                .with_description(description)
                .with_boundaries(MEMORY_BOUNDS.to_vec())
                .build()
        };
        Self {
            memory_on_init: memory(
                "spin.component_memory_used_on_init",
                "Linear memory of an instance once instantiated",
            ),
            memory_used: memory("spin.component_memory_used", "Linear memory of an instance when it ends"),
            cpu_time: meter
                .f64_histogram("spin.component_cpu_time")
                .with_unit("s")
                .with_description("Time an instance's guest code ran")
                .with_boundaries(CPU_TIME_BOUNDS.to_vec())
                .build(),
        }
    }

    /// The histograms of the instances of `component`.
    pub fn for_component(&self, component: &str) -> Arc<ComponentInstanceMetrics> {
        Arc::new(ComponentInstanceMetrics {
            metrics: self.clone(),
            attributes: [KeyValue::new("component_id", component.to_owned())],
        })
    }
}

/// The instance histograms of one component.
#[derive(Debug)]
pub struct ComponentInstanceMetrics {
    metrics: InstanceMetrics,
    attributes: [KeyValue; 1],
}

impl ComponentInstanceMetrics {
    /// The usage of one new instance, recorded by [`InstanceUsage::record`].
    pub fn instance(self: &Arc<Self>) -> InstanceUsage {
        InstanceUsage { metrics: self.clone(), memory_on_init: 0, guest_time: Duration::ZERO, entered: None }
    }
}

/// What one instance used so far.
#[derive(Debug)]
pub struct InstanceUsage {
    metrics: Arc<ComponentInstanceMetrics>,
    memory_on_init: u64,
    guest_time: Duration,
    /// When the guest code that runs now was entered.
    entered: Option<Instant>,
}

impl InstanceUsage {
    /// Notes the linear memory the instance holds once instantiated.
    pub fn instantiated(&mut self, memory: u64) {
        self.memory_on_init = memory;
    }

    /// Follows the store's call hook: guest code runs from entering wasm (or
    /// returning to it from the host) to leaving it (or calling the host).
    pub fn on_call(&mut self, hook: CallHook) {
        if hook.entering_host() {
            if let Some(entered) = self.entered.take() {
                self.guest_time += entered.elapsed();
            }
        } else {
            self.entered = Some(Instant::now());
        }
    }

    /// The time guest code ran so far.
    pub fn guest_time(&self) -> Duration {
        self.guest_time + self.entered.map_or(Duration::ZERO, |entered| entered.elapsed())
    }

    /// Records the instance's usage, `memory` being its linear memory at the end.
    pub fn record(self, memory: u64) {
        let metrics = &self.metrics;
        metrics.metrics.memory_on_init.record(self.memory_on_init, &metrics.attributes);
        metrics.metrics.memory_used.record(memory, &metrics.attributes);
        metrics.metrics.cpu_time.record(self.guest_time().as_secs_f64(), &metrics.attributes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage() -> InstanceUsage {
        InstanceMetrics::new(&SdkMeterProvider::default()).for_component("c").instance()
    }

    #[test]
    fn only_time_in_guest_code_counts() {
        let mut usage = usage();
        usage.on_call(CallHook::CallingWasm);
        std::thread::sleep(Duration::from_millis(20));
        usage.on_call(CallHook::CallingHost);
        let after_first = usage.guest_time();
        assert!(after_first >= Duration::from_millis(20), "{after_first:?}");
        // Time in the host is not the guest's.
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(usage.guest_time(), after_first);
        usage.on_call(CallHook::ReturningFromHost);
        std::thread::sleep(Duration::from_millis(10));
        usage.on_call(CallHook::ReturningFromWasm);
        let total = usage.guest_time();
        assert!(total >= after_first + Duration::from_millis(10), "{total:?}");
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(usage.guest_time(), total, "back in the host");
    }

    #[test]
    fn a_guest_still_running_counts_up_to_now() {
        let mut usage = usage();
        usage.on_call(CallHook::CallingWasm);
        std::thread::sleep(Duration::from_millis(5));
        assert!(usage.guest_time() >= Duration::from_millis(5));
        usage.record(1 << 20);
    }

    #[test]
    fn the_memory_bounds_rise() {
        assert!(MEMORY_BOUNDS.windows(2).all(|w| w[0] < w[1]));
        assert!(CPU_TIME_BOUNDS.windows(2).all(|w| w[0] < w[1]));
    }
}
