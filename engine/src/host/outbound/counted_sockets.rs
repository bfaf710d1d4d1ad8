//! Every `wasi:sockets` TCP or UDP socket a guest holds takes a place among its
//! instance's outbound connections (`SPIN_MAX_OUTBOUND_CONNECTIONS`) and under
//! the runtime config's `[outbound_networking]` `max_socket_connections` and
//! `max_total_connections`, from the moment it is created until the guest drops
//! it (or its instance ends).
//!
//! wasmtime-wasi's sockets have no hook for this, so the linker's definitions of
//! the socket constructors and of the two socket resources (whose destructors
//! run when a guest drops one) are replaced here by ones that do what
//! wasmtime-wasi's do and also take and give back the place: WASI 0.2
//! (`create-tcp-socket`, `create-udp-socket`; every 0.2.x import resolves to
//! wasmtime's newest 0.2) and 0.3 (`tcp-socket.create`, `udp-socket.create`).
//!
//! Where there is no place, creation fails at once, with the errors Spin gives:
//! `new-socket-limit` in WASI 0.2, `other("connection quota exhausted")` in 0.3
//! (which has no limit error). A socket never waits for a place. Spin counts a
//! TCP socket from its `connect` and a UDP socket from its creation; this
//! runtime counts both from creation, where WASI 0.2's WIT puts the limit
//! error. A creation the socket rules refuse keeps its own error.

use anyhow::Context as _;
use wasmtime::component::{Linker, Resource, ResourceType};
use wasmtime::{AsContextMut as _, StoreContextMut};
use wasmtime_wasi::sockets::{WasiSocketsCtxView, WasiSocketsView as _};
use wasmtime_wasi::TrappableError;

use super::ConnectionKind;
use crate::host::HostState;

/// The WASI 0.2 version wasmtime-wasi defines `wasi:sockets` at.
const WASI_02: &str = "0.2.12";

/// The WASI 0.3 interface with both socket resources.
const WASI_03_TYPES: &str = "wasi:sockets/types@0.3.0";

/// Replaces the socket constructors and socket resources `wasmtime_wasi`'s
/// `add_to_linker` functions defined in `linker` (call it after them).
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    linker.allow_shadowing(true);
    let result = shadow_wasi_02(linker).and_then(|()| shadow_wasi_03(linker));
    linker.allow_shadowing(false);
    result.context("counting wasi:sockets sockets")
}

fn shadow_wasi_02(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddressFamily};
    use wasmtime_wasi::p2::bindings::sockets::{tcp, tcp_create_socket, udp, udp_create_socket};
    use wasmtime_wasi::p2::{TcpSocket, UdpSocket};

    let mut create = linker.instance(&format!("wasi:sockets/tcp-create-socket@{WASI_02}"))?;
    create.func_wrap("create-tcp-socket", |mut store, (family,): (IpAddressFamily,)| {
        let created = tcp_create_socket::Host::create_tcp_socket(&mut store.data_mut().sockets(), family);
        placed(store, created, ErrorCode::NewSocketLimit)
    })?;
    let mut create = linker.instance(&format!("wasi:sockets/udp-create-socket@{WASI_02}"))?;
    create.func_wrap_async("create-udp-socket", |mut store, (family,): (IpAddressFamily,)| {
        Box::new(async move {
            let created = udp_create_socket::Host::create_udp_socket(&mut store.data_mut().sockets(), family).await;
            placed(store.as_context_mut(), created, ErrorCode::NewSocketLimit)
        })
    })?;
    linker.instance(&format!("wasi:sockets/tcp@{WASI_02}"))?.resource(
        "tcp-socket",
        ResourceType::host::<TcpSocket>(),
        |store, rep| dropped(store, rep, |view, rep| tcp::HostTcpSocket::drop(view, Resource::new_own(rep))),
    )?;
    linker.instance(&format!("wasi:sockets/udp@{WASI_02}"))?.resource(
        "udp-socket",
        ResourceType::host::<UdpSocket>(),
        |store, rep| dropped(store, rep, |view, rep| udp::HostUdpSocket::drop(view, Resource::new_own(rep))),
    )?;
    Ok(())
}

fn shadow_wasi_03(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    use wasmtime_wasi::p3::bindings::sockets::types::{ErrorCode, HostTcpSocket, HostUdpSocket, IpAddressFamily};
    use wasmtime_wasi::sockets::{TcpSocket, UdpSocket};

    fn quota_exhausted() -> ErrorCode {
        ErrorCode::Other(Some("connection quota exhausted".into()))
    }
    let mut types = linker.instance(WASI_03_TYPES)?;
    types.func_wrap("[static]tcp-socket.create", |mut store, (family,): (IpAddressFamily,)| {
        let created = HostTcpSocket::create(&mut store.data_mut().sockets(), family);
        placed(store, created, quota_exhausted())
    })?;
    types.func_wrap_async("[static]udp-socket.create", |mut store, (family,): (IpAddressFamily,)| {
        Box::new(async move {
            let created = HostUdpSocket::create(&mut store.data_mut().sockets(), family).await;
            placed(store.as_context_mut(), created, quota_exhausted())
        })
    })?;
    types.resource("tcp-socket", ResourceType::host::<TcpSocket>(), |store, rep| {
        dropped(store, rep, |view, rep| HostTcpSocket::drop(view, Resource::new_own(rep)))
    })?;
    types.resource("udp-socket", ResourceType::host::<UdpSocket>(), |store, rep| {
        dropped(store, rep, |view, rep| HostUdpSocket::drop(view, Resource::new_own(rep)))
    })?;
    Ok(())
}

/// The guest's answer for a socket wasmtime-wasi created (or refused): the
/// socket, once it holds a place; else `limit`, the socket closed.
fn placed<S: 'static, E: std::error::Error + Send + Sync + 'static>(
    mut store: StoreContextMut<'_, HostState>,
    created: Result<Resource<S>, TrappableError<E>>,
    limit: E,
) -> wasmtime::Result<(Result<Resource<S>, E>,)> {
    let socket = match created {
        Ok(socket) => socket,
        Err(e) => return Ok((Err(e.downcast()?),)),
    };
    if store.data_mut().hold_socket_place(socket.rep()) {
        return Ok((Ok(socket),));
    }
    store.data_mut().sockets().table.delete(socket)?;
    Ok((Err(limit),))
}

/// A socket's destructor: wasmtime-wasi's `drop`, then its place given back.
fn dropped(
    mut store: StoreContextMut<'_, HostState>,
    rep: u32,
    drop: impl FnOnce(&mut WasiSocketsCtxView<'_>, u32) -> wasmtime::Result<()>,
) -> wasmtime::Result<()> {
    let result = drop(&mut store.data_mut().sockets(), rep);
    store.data_mut().give_back_socket_place(rep);
    result
}

/// The places the sockets of one instance hold, by the socket's resource rep
/// (a list: an instance holds few sockets, and an empty list costs nothing to make).
#[derive(Default)]
pub(crate) struct SocketPlaces(Vec<(u32, super::ConnectionPermit)>);

impl SocketPlaces {
    /// Holds a place for socket `rep` from `gate`; `false` (logged) when there is none.
    pub(crate) fn hold(&mut self, gate: &super::OutboundGate, rep: u32) -> bool {
        // The instance's own cap logs its refusal.
        let Some(slot) = gate.open_slot(ConnectionKind::Socket) else {
            return false;
        };
        let Some(permit) = slot.admit_now() else {
            tracing::warn!(
                "component `{}`: socket refused: the runtime config's max_socket_connections or \
                 max_total_connections is reached",
                gate.component_id()
            );
            return false;
        };
        self.0.push((rep, permit));
        true
    }

    /// Gives back the place socket `rep` held, if it held one.
    pub(crate) fn give_back(&mut self, rep: u32) {
        self.0.retain(|(held, _)| *held != rep);
    }
}

#[cfg(test)]
mod tests {
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Config, Engine, Store};

    use crate::host::state::InstanceTemplate;

    /// A component that creates WASI 0.3 TCP sockets through
    /// `[static]tcp-socket.create`: `run` creates two, drops the first, creates
    /// a third, and returns a bit per answer (1: the first socket, 2: the second
    /// refused with `other`, 4: the third, 8: the second created) and, when the
    /// first is refused, its error case's index plus one times 256.
    const CREATES_P3_SOCKETS: &str = r#"
    (component
      (import "wasi:sockets/types@0.3.0" (instance $types
        (type $err (variant (case "access-denied") (case "not-supported") (case "invalid-argument")
          (case "out-of-memory") (case "timeout") (case "invalid-state") (case "address-not-bindable")
          (case "address-in-use") (case "remote-unreachable") (case "connection-refused")
          (case "connection-broken") (case "connection-reset") (case "connection-aborted")
          (case "datagram-too-large") (case "other" (option string))))
        (export "error-code" (type $e (eq $err)))
        (type $fam (enum "ipv4" "ipv6"))
        (export "ip-address-family" (type $f (eq $fam)))
        (export "tcp-socket" (type $sock (sub resource)))
        (export "[static]tcp-socket.create"
          (func (param "address-family" $f) (result (result (own $sock) (error $e)))))))
      (alias export $types "tcp-socket" (type $sock))
      (alias export $types "[static]tcp-socket.create" (func $create))
      (core module $libc
        (memory (export "memory") 1)
        (global $next (mut i32) (i32.const 4096))
        (func (export "realloc") (param i32 i32 i32 i32) (result i32)
          (local $at i32)
          (local.set $at (global.get $next))
          (global.set $next (i32.add (global.get $next) (local.get 3)))
          (local.get $at)))
      (core instance $libc (instantiate $libc))
      (core func $create (canon lower (func $create) (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
      (core func $drop (canon resource.drop $sock))
      (core module $guest
        (import "libc" "memory" (memory 1))
        (import "host" "create" (func $create (param i32 i32)))
        (import "host" "drop" (func $drop (param i32)))
        (func (export "run") (result i32)
          (local $bits i32)
          (call $create (i32.const 0) (i32.const 100))
          (if (i32.eqz (i32.load8_u (i32.const 100))) (then (local.set $bits (i32.const 1))))
          (call $create (i32.const 0) (i32.const 200))
          (if (i32.and (i32.eq (i32.load8_u (i32.const 200)) (i32.const 1))
                       (i32.eq (i32.load8_u (i32.const 204)) (i32.const 14)))
            (then (local.set $bits (i32.or (local.get $bits) (i32.const 2)))))
          (if (i32.eqz (i32.load8_u (i32.const 200)))
            (then (local.set $bits (i32.or (local.get $bits) (i32.const 8)))))
          (if (i32.eqz (i32.load8_u (i32.const 100))) (then (call $drop (i32.load (i32.const 104)))))
          (if (i32.load8_u (i32.const 100))
            (then (local.set $bits (i32.or (local.get $bits) (i32.shl (i32.add (i32.load8_u (i32.const 104)) (i32.const 1)) (i32.const 8))))))
          (call $create (i32.const 0) (i32.const 300))
          (if (i32.eqz (i32.load8_u (i32.const 300)))
            (then (local.set $bits (i32.or (local.get $bits) (i32.const 4)))))
          (local.get $bits)))
      (core instance $guest (instantiate $guest
        (with "libc" (instance $libc))
        (with "host" (instance (export "create" (func $create)) (export "drop" (func $drop))))))
      (func (export "run") (result u32) (canon lift (core func $guest "run"))))
    "#;

    /// What `run` answers in an instance of a component allowed `allowed`
    /// hosts and holding at most `max_connections` at once.
    async fn run(allowed: &[&str], max_connections: usize) -> u32 {
        let mut config = Config::new();
        config.wasm_component_model_async(true);
        let engine = Engine::new(&config).unwrap();
        let linker: Linker<_> = crate::host::linker::build_linker(&engine).unwrap();
        let component = Component::new(&engine, CREATES_P3_SOCKETS).unwrap();
        let state = InstanceTemplate::for_tests(allowed, max_connections).instantiate_state(&[], None, None).unwrap();
        let mut store = Store::new(&engine, state);
        let instance = linker.instantiate_async(&mut store, &component).await.unwrap();
        let run = instance.get_typed_func::<(), (u32,)>(&mut store, "run").unwrap();
        run.call_async(&mut store, ()).await.unwrap().0
    }

    #[tokio::test]
    async fn a_wasi_03_socket_holds_a_place_until_it_is_dropped() {
        let tcp = ["tcp://127.0.0.1:5000"];
        assert_eq!(run(&tcp, 1).await, 1 | 2 | 4, "one socket at a time, the place back once dropped");
        assert_eq!(run(&tcp, 2).await, 1 | 8 | 4, "two at once");
        assert_eq!(run(&["https://example.com"], 2).await, 1 << 8, "no socket rules: access-denied, not a limit");
    }
}
