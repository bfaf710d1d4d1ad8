//! Outbound PostgreSQL for guests (`spin:postgres/postgres@4.2.0`, which also
//! serves 4.0 and 4.1 imports, and `@3.0.0`): the interfaces link so Spin 4 apps
//! start, and every connection attempt fails with the interface's own
//! `connection-failed`: Spin's "not permitted" for an address outside the
//! component's `allowed_outbound_hosts`, else "not configured" until outbound
//! databases are implemented. Queries need a connection, so none can run.

mod v3;
mod v4;

use wasmtime::component::Linker;

use super::capability::{CapabilityView, HasCapability};
use super::outbound::{refuse_database, OutboundGate};

super::outbound::gate_only_capability!(
    /// The outbound PostgreSQL capability.
    OutboundPostgres,
    &[
        "spin:postgres/postgres@4.2.0",
        "spin:postgres/postgres@4.1.0",
        "spin:postgres/postgres@4.0.0",
        "spin:postgres/postgres@3.0.0",
    ],
    add_to_linker
);

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v3",
        world: "css:host-v3/postgres",
        imports: { default: async | trappable },
        with: {
            "spin:postgres/postgres@3.0.0.connection": crate::host::postgres::NoConnection,
            "spin:postgres/postgres@4.2.0.connection": crate::host::postgres::NoConnection,
            "spin:postgres/postgres@4.2.0.connection-builder": crate::host::postgres::Builder,
        },
    });
}

/// The `connection` resource: never created, since every open fails.
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
pub enum NoConnection {}

/// A `connection-builder`: the address it will refuse to connect to.
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
pub struct Builder(String);

/// The instance's view of the capability.
type View<'a> = CapabilityView<'a, OutboundPostgres>;

/// The allow-list scheme of PostgreSQL addresses.
const SCHEME: &str = "postgres";

/// Why opening `address` fails (see [`refuse_database`]); `postgresql://` is
/// checked as `postgres://`.
fn refusal(gate: &OutboundGate, address: &str) -> String {
    match address.strip_prefix("postgresql://") {
        Some(rest) => refuse_database(gate, SCHEME, &format!("{SCHEME}://{rest}")),
        None => refuse_database(gate, SCHEME, address),
    }
}

/// The sync `open`, `query`, `execute` and `drop` of `connection`, which 3.0
/// and 4.x share word for word (each version has its own `Error`,
/// `ParameterValue` and `RowSet`), expanded inside each `HostConnection` impl.
macro_rules! refused_connection_ops {
    () => {
        async fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<NoConnection>, Error>> {
            Ok(Err(Error::ConnectionFailed(refusal(self.state, &address))))
        }

        async fn query(
            &mut self,
            _: Resource<NoConnection>,
            _: String,
            _: Vec<ParameterValue>,
        ) -> wasmtime::Result<Result<RowSet, Error>> {
            Ok(Err(Error::ConnectionFailed("no connection found".into())))
        }

        async fn execute(
            &mut self,
            _: Resource<NoConnection>,
            _: String,
            _: Vec<ParameterValue>,
        ) -> wasmtime::Result<Result<u64, Error>> {
            Ok(Err(Error::ConnectionFailed("no connection found".into())))
        }

        async fn drop(&mut self, res: Resource<NoConnection>) -> wasmtime::Result<()> {
            self.table.delete(res)?;
            Ok(())
        }
    };
}
use refused_connection_ops;

/// Adds both major versions to `linker`.
fn add_to_linker<T: HasCapability<OutboundPostgres>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    type Data = super::capability::ViewOf<OutboundPostgres>;
    bindings::spin::postgres4_2_0::postgres::add_to_linker::<T, Data>(linker, T::capability)?;
    bindings::spin::postgres3_0_0::postgres::add_to_linker::<T, Data>(linker, T::capability)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgresql_urls_are_checked_as_postgres() {
        let allowed = crate::allowed_hosts::AllowedHosts::parse(&["postgres://db:5432".into()], |s| Ok(s.into()));
        let gate = OutboundGate::new("c".into(), std::sync::Arc::new(allowed.unwrap()), 1);
        assert!(refusal(&gate, "postgresql://db/app").contains("is not configured"), "{}", refusal(&gate, "postgresql://db/app"));
        assert_eq!(refusal(&gate, "postgresql://elsewhere/app"), "address postgres://elsewhere:5432 is not permitted");
    }
}

#[cfg(test)]
mod interface_tests {
    use super::bindings::spin::postgres4_2_0::postgres::{Error, HostConnectionBuilderWithStore, HostConnectionWithStore};
    use super::*;
    use crate::host::InstanceTemplate;

    fn message(r: Result<wasmtime::component::Resource<NoConnection>, Error>) -> String {
        match r {
            Err(Error::ConnectionFailed(m)) => m,
            Err(e) => panic!("expected connection-failed, got {e:?}"),
            Ok(_) => panic!("an open succeeded"),
        }
    }

    #[tokio::test]
    async fn every_open_and_build_is_refused_with_the_interface_error() {
        let template = InstanceTemplate::for_tests(&["postgres://db.local:5432"], 4);
        template
            .run_async::<OutboundPostgres, _>(async |accessor| {
                type Data = crate::host::capability::ViewOf<OutboundPostgres>;
                let allowed = message(Data::open_async(accessor, "postgres://db.local/app".into()).await.unwrap());
                assert!(allowed.contains("is not configured"), "{allowed}");
                let denied = message(Data::open_async(accessor, "postgres://other/app".into()).await.unwrap());
                assert_eq!(denied, "address postgres://other:5432 is not permitted");
                let builder =
                    accessor.with(|mut access| access.get().table.push(Builder("postgres://other/app".into())).unwrap());
                let built = message(Data::build_async(accessor, builder).await.unwrap());
                assert_eq!(built, "address postgres://other:5432 is not permitted");
            })
            .await;
    }
}
