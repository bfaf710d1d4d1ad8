//! Bindings of Spin 2's relational-database interfaces,
//! `fermyon:spin/postgres@2.0.0` and `fermyon:spin/mysql@2.0.0`, and the
//! `rdbms-types` they share. Each capability implements its own interface on
//! them; the PostgreSQL capability links the shared types.

wasmtime::component::bindgen!({
    path: "wit/spin-v2",
    world: "fermyon:spin/host-rdbms@2.0.0",
    imports: { default: async | trappable },
    with: {
        "fermyon:spin/postgres.connection": crate::host::postgres::PgConnection,
        "fermyon:spin/mysql.connection": crate::host::mysql::MysqlConnection,
    },
});
