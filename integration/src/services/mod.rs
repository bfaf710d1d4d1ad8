//! Real brokers (and file and HTTPS servers) started by the tests on 127.0.0.1 and
//! stopped when dropped.

pub mod file_server;
pub mod h2_server;
pub mod mariadb;
pub mod mosquitto;
pub mod moto;
pub mod otlp_receiver;
pub mod postgres;
pub mod redis;
pub mod registry;
pub mod tls_server;
