//! `spin:mqtt/mqtt@3.0.0` (Spin 4, async): the same gate, budget, client
//! settings and errors as `fermyon:spin/mqtt@2.0.0`, whose steps it runs; its
//! types are 2.0's name for name, converted at the edge.

use wasmtime::component::{Accessor, Linker, Resource};

use super::connection::{self, MqttConnection};
use super::OutboundMqtt;
use crate::host::capability::{HasCapability, ViewOf};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v3",
        world: "css:host-v3/mqtt",
        imports: { default: async | trappable },
        with: { "spin:mqtt/mqtt.connection": crate::host::mqtt::connection::MqttConnection },
    });
}

use bindings::spin::mqtt::mqtt::{Error, Host, HostConnection, HostConnectionWithStore, Qos};

/// Adds the interface to `linker`.
pub(super) fn add_to_linker<T: HasCapability<OutboundMqtt>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::spin::mqtt::mqtt::add_to_linker::<T, ViewOf<OutboundMqtt>>(linker, T::capability)?;
    Ok(())
}

type Access<T> = Accessor<T, ViewOf<OutboundMqtt>>;

fn error(e: connection::Error) -> Error {
    match e {
        connection::Error::InvalidAddress => Error::InvalidAddress,
        connection::Error::TooManyConnections => Error::TooManyConnections,
        connection::Error::ConnectionFailed(m) => Error::ConnectionFailed(m),
        connection::Error::Other(m) => Error::Other(m),
    }
}

fn qos(q: Qos) -> connection::Qos {
    match q {
        Qos::AtMostOnce => connection::Qos::AtMostOnce,
        Qos::AtLeastOnce => connection::Qos::AtLeastOnce,
        Qos::ExactlyOnce => connection::Qos::ExactlyOnce,
    }
}

impl Host for connection::View<'_> {}

impl HostConnection for connection::View<'_> {
    async fn drop(&mut self, res: Resource<MqttConnection>) -> wasmtime::Result<()> {
        let session = self.table.delete(res)?.session();
        session.close().await;
        Ok(())
    }
}

impl<T> HostConnectionWithStore<T> for ViewOf<OutboundMqtt> {
    async fn open(
        accessor: &Access<T>,
        address: String,
        username: String,
        password: String,
        keep_alive_interval_in_secs: u64,
    ) -> wasmtime::Result<Result<Resource<MqttConnection>, Error>> {
        let prepared = accessor.with(|mut access| {
            connection::prepare(access.get().state, &address, username, password, keep_alive_interval_in_secs)
        });
        let admitted = match prepared {
            Ok(pending) => pending.admit().await,
            Err(e) => Err(e),
        };
        match admitted {
            Ok(conn) => accessor.with(|mut access| Ok(Ok(access.get().table.push(conn)?))),
            Err(e) => Ok(Err(error(e))),
        }
    }

    async fn publish(
        accessor: &Access<T>,
        res: Resource<MqttConnection>,
        topic: String,
        payload: Vec<u8>,
        q: Qos,
    ) -> wasmtime::Result<Result<(), Error>> {
        let session = accessor.with(|mut access| Ok::<_, wasmtime::Error>(access.get().table.get(&res)?.session()))?;
        Ok(session.publish(topic, payload, qos(q)).await.map_err(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::InstanceTemplate;

    #[tokio::test]
    async fn the_2_0_gate_and_budget_serve_3_0() {
        let template = InstanceTemplate::for_tests(&["mqtt://127.0.0.1:1883"], 1);
        template
            .run_async::<OutboundMqtt, _>(async |accessor| {
                type Data = ViewOf<OutboundMqtt>;
                let open = |address: &str| Data::open(accessor, address.into(), String::new(), String::new(), 30);
                let denied = open("mqtt://10.1.2.3:1883").await.unwrap();
                assert!(matches!(denied, Err(Error::ConnectionFailed(ref m)) if m.contains("not permitted")), "{denied:?}");
                assert!(matches!(open("not a url").await.unwrap(), Err(Error::InvalidAddress)));
                let _first = open("mqtt://127.0.0.1:1883").await.unwrap().ok().unwrap();
                assert!(matches!(open("mqtt://127.0.0.1:1883").await.unwrap(), Err(Error::TooManyConnections)));
            })
            .await;
    }
}
