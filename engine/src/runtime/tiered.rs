//! Fast first starts. When no compiled artifact of a component exists, Winch
//! (wasmtime's baseline compiler, three times faster to compile than Cranelift
//! here) makes the code the app starts serving from. Cranelift then compiles the
//! same wasm on idle-priority threads; its code replaces Winch's in every
//! component that runs that wasm, and is sealed into the compile cache, so every
//! later start loads it. Instances already made from Winch's code finish on it.
//! Winch's code stays in the cache only until Cranelift's is there, for the
//! replicas that start beside the first (`Runtime::compile_for_start`).

use std::sync::{Arc, Weak};
use std::time::Instant;

use wasmtime::component::{Component, Linker};
use wasmtime::Engine;

use super::engine_config::build_baseline_engine;
use super::prepared::{Code, PreparedComponent, Runtime};
use crate::host::{build_linker, HostState};

/// The Winch engine and its linker, made on the first component a start compiles.
pub(crate) struct Baseline {
    engine: Engine,
    linker: Linker<HostState>,
}

impl Baseline {
    /// The engine and linker, or `None` (logged) where Winch cannot run: then
    /// Cranelift compiles before the start, as it always may.
    pub(crate) fn new() -> Option<Self> {
        let made = build_baseline_engine().and_then(|engine| Ok(Self { linker: build_linker(&engine)?, engine }));
        made.inspect_err(|e| tracing::warn!("first starts compile with Cranelift: {e:#}")).ok()
    }

    /// The engine Winch's code runs on (its epoch advances with the runtime's).
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The linker Winch's code is pre-instantiated against.
    pub(crate) fn linker(&self) -> &Linker<HostState> {
        &self.linker
    }

    /// Winch's code for `wasm` (checked by the caller not to be native code), or
    /// `None` when Winch cannot compile it (a feature it lacks): Cranelift then
    /// compiles it before the start.
    pub(crate) fn compile(&self, wasm: &[u8], origin: &str) -> Option<Component> {
        let started = Instant::now();
        match super::compile(&self.engine, wasm) {
            Ok(component) => {
                tracing::info!(
                    "{origin}: compiled from wasm by Winch in {} ms; Cranelift compiles it in the background",
                    started.elapsed().as_millis()
                );
                Some(component)
            }
            Err(e) => {
                tracing::info!("{origin}: Winch cannot compile it ({e:#}); compiling with Cranelift");
                None
            }
        }
    }
}

/// The wasm a start served from Winch's code, waiting for Cranelift's.
#[derive(Default)]
pub(crate) struct Pending {
    jobs: Vec<Job>,
}

/// One wasm to compile with Cranelift, and the components that run it.
struct Job {
    wasm: Vec<u8>,
    sha256: [u8; 32],
    origin: String,
    users: Vec<Weak<PreparedComponent>>,
}

impl Pending {
    /// Queues `wasm` (digest `sha256`) for Cranelift.
    pub(crate) fn add(&mut self, wasm: Vec<u8>, sha256: [u8; 32], origin: String) {
        self.jobs.push(Job { wasm, sha256, origin, users: Vec::new() });
    }

    /// Records that `component` runs the wasm with digest `sha256`, if it is queued.
    pub(crate) fn add_user(&mut self, sha256: &[u8; 32], component: &Arc<PreparedComponent>) {
        if let Some(job) = self.jobs.iter_mut().find(|j| &j.sha256 == sha256) {
            job.users.push(Arc::downgrade(component));
        }
    }

    /// Compiles every queued wasm with Cranelift on a thread of idle priority (and
    /// a pool of such threads for wasmtime's parallel compilation), caches each
    /// and hands it to the components that run it.
    pub(crate) fn start(self, runtime: Arc<Runtime>) {
        if self.jobs.is_empty() {
            return;
        }
        let spawned = std::thread::Builder::new().name("cranelift".into()).spawn(move || {
            idle_priority();
            let threads = std::thread::available_parallelism().map_or(1, usize::from);
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("cranelift-{i}"))
                .start_handler(|_| idle_priority())
                .build();
            for job in self.jobs {
                let compile = || runtime.compile_optimized(&job.wasm, &job.sha256, &job.origin);
                let compiled = match &pool {
                    Ok(pool) => pool.install(compile),
                    Err(_) => compile(),
                };
                match compiled {
                    Ok(component) => {
                        runtime.forget_baseline_code(&job.sha256, &job.origin);
                        job.replace_code(&runtime, &component)
                    }
                    Err(e) => tracing::warn!("{}: Cranelift failed ({e:#}); Winch's code keeps serving", job.origin),
                }
            }
            drop(pool);
            super::release_start_up_memory();
        });
        if let Err(e) = spawned {
            tracing::warn!("cannot start the background compilation ({e}); Winch's code keeps serving");
        }
    }
}

impl Job {
    /// Links Cranelift's `component` for every component still running this wasm
    /// and makes it their code.
    fn replace_code(&self, runtime: &Runtime, component: &Component) {
        let users: Vec<_> = self.users.iter().filter_map(Weak::upgrade).collect();
        if users.is_empty() {
            return;
        }
        match runtime.link_optimized(component, &self.origin) {
            Ok(pre) => {
                for user in &users {
                    user.replace_code(Code::new(component.clone(), pre.clone()));
                }
                tracing::info!("{}: now serving Cranelift's code", self.origin);
            }
            Err(e) => {
                tracing::warn!("{}: Cranelift's code cannot be linked ({e:#}); Winch's keeps serving", self.origin)
            }
        }
    }
}

/// Puts the calling thread (and the threads it starts) in the idle scheduling
/// class: it runs only on CPU that nothing else of the node wants.
fn idle_priority() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: sched_setscheduler reads `param` only; pid 0 is the calling thread.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
    if rc != 0 {
        tracing::debug!("cannot lower the background compilation's priority: {}", std::io::Error::last_os_error());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component whose `spin` export loops forever.
    const SPIN_FOREVER: &str = r#"(component
        (core module $m (func (export "spin") (loop $again (br $again))))
        (core instance $i (instantiate $m))
        (func (export "spin") (canon lift (core func $i "spin"))))"#;

    #[tokio::test]
    async fn winch_code_is_interrupted_by_the_epoch_like_cranelift_code() {
        // The deadline of every event rests on epoch interruption: Winch's code
        // must check the epoch in loops as Cranelift's does.
        let baseline = Baseline::new().expect("Winch runs on this machine");
        let component = Component::new(baseline.engine(), wat::parse_str(SPIN_FOREVER).unwrap()).unwrap();
        let mut store = wasmtime::Store::new(baseline.engine(), ());
        store.set_epoch_deadline(1);
        store.epoch_deadline_trap();
        let linker = Linker::<()>::new(baseline.engine());
        let instance = linker.instantiate_async(&mut store, &component).await.unwrap();
        let spin = instance.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
        let engine = baseline.engine().clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            engine.increment_epoch();
        });
        let err = spin.call_async(&mut store, ()).await.unwrap_err();
        assert_eq!(err.downcast_ref::<wasmtime::Trap>(), Some(&wasmtime::Trap::Interrupt), "{err:?}");
    }
}
