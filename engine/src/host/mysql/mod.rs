//! Outbound MySQL for guests (`spin:mysql/mysql@3.0.0`): the interface links so
//! Spin 4 apps start, and every open fails with the interface's own
//! `connection-failed`: Spin's "not permitted" for an address outside the
//! component's `allowed_outbound_hosts`, else "not configured" until outbound
//! databases are implemented. Queries need a connection, so none can run.

use wasmtime::component::{Accessor, FutureReader, Linker, Resource, StreamReader};

use super::capability::{CapabilityView, HasCapability, ViewOf};
use super::outbound::refuse_database;

super::outbound::gate_only_capability!(
    /// The outbound MySQL capability.
    OutboundMysql,
    &["spin:mysql/mysql@3.0.0"],
    add_to_linker
);

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v3",
        world: "css:host-v3/mysql",
        imports: { default: async | trappable },
        with: { "spin:mysql/mysql.connection": crate::host::mysql::NoConnection },
    });
}

use bindings::spin::mysql::mysql::{Column, Error, Host, HostConnection, HostConnectionWithStore, ParameterValue, Row};

/// The `connection` resource: never created, since every open fails.
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
pub enum NoConnection {}

fn add_to_linker<T: HasCapability<OutboundMysql>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::spin::mysql::mysql::add_to_linker::<T, ViewOf<OutboundMysql>>(linker, T::capability)?;
    Ok(())
}

/// What a statement on a connection that cannot exist answers.
fn no_connection() -> Error {
    Error::ConnectionFailed("no connection found".into())
}

type Access<T> = Accessor<T, ViewOf<OutboundMysql>>;

/// The columns, rows and outcome of `query`.
type Streamed = (Vec<Column>, StreamReader<Row>, FutureReader<Result<(), Error>>);

impl Host for CapabilityView<'_, OutboundMysql> {}

impl HostConnection for CapabilityView<'_, OutboundMysql> {
    async fn drop(&mut self, res: Resource<NoConnection>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        Ok(())
    }
}

impl<T> HostConnectionWithStore<T> for ViewOf<OutboundMysql> {
    async fn open(accessor: &Access<T>, address: String) -> wasmtime::Result<Result<Resource<NoConnection>, Error>> {
        let refusal = accessor.with(|mut access| refuse_database(access.get().state, "mysql", &address));
        Ok(Err(Error::ConnectionFailed(refusal)))
    }

    async fn query(
        _: &Access<T>,
        _: Resource<NoConnection>,
        _: String,
        _: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<Streamed, Error>> {
        Ok(Err(no_connection()))
    }

    async fn execute(
        _: &Access<T>,
        _: Resource<NoConnection>,
        _: String,
        _: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(Err(no_connection()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::InstanceTemplate;

    #[tokio::test]
    async fn every_open_is_refused_with_the_interface_error() {
        let template = InstanceTemplate::for_tests(&["mysql://db.local:3306"], 4);
        template
            .run_async::<OutboundMysql, _>(async |accessor| {
                type Data = ViewOf<OutboundMysql>;
                let Err(Error::ConnectionFailed(allowed)) = Data::open(accessor, "mysql://u:p@db.local/app".into()).await.unwrap() else {
                    panic!("expected connection-failed")
                };
                assert!(allowed.starts_with("mysql://db.local:3306 is not configured"), "{allowed}");
                let Err(Error::ConnectionFailed(denied)) = Data::open(accessor, "mysql://other/app".into()).await.unwrap() else {
                    panic!("expected connection-failed")
                };
                assert_eq!(denied, "address mysql://other:3306 is not permitted");
            })
            .await;
    }
}
