//! Outbound MySQL against a real server (MariaDB from a fresh data folder,
//! password authentication) through `spin-shim up`, with the SDK-built
//! guests: `rust-sdk7-mysql` (spin-sdk 7, the async
//! `spin:mysql/mysql@3.0.0`) and `rust-mysql` (spin-sdk 3, Spin 2's sync
//! `fermyon:spin/mysql@2.0.0`).

use integration::cli_app::{serve, ServedApp};
use integration::guests;
use integration::http::get;
use integration::services::mariadb::MariaDb;

/// `guest` served with `mysql_address` set to `address`.
fn serve_with(guest: &str, address: &str) -> ServedApp {
    serve(&guests::app(guest), &[("SPIN_VARIABLE_MYSQL_ADDRESS", address)], &[]).unwrap()
}

/// Every type of 3.0 is written from parameters and read back with its
/// column type (unsigned by the column's flag); a DATE, which 3.0 has no case
/// for, reads as `unsupported`; NULLs come back as `db-null`.
#[test]
fn spin_sdk_7_writes_and_reads_every_type_of_the_interface() {
    let db = MariaDb::start().unwrap();
    let served = serve_with("rust-sdk7-mysql", &db.address());
    assert_eq!(served.ok("GET", "/setup"), "ready");
    assert_eq!(served.ok("POST", "/things"), "inserted");
    assert_eq!(served.ok("POST", "/nulls"), "inserted");
    let body = served.ok("GET", "/things");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 2, "{body}");
    let expected = [
        "id:int32=int32(1)",
        "i8:int8=int8(-8)",
        "i16:int16=int16(-16)",
        "i32:int32=int32(-32)",
        "i64:int64=int64(-64000000000)",
        "u8:uint8=uint8(255)",
        "u16:uint16=uint16(65535)",
        "u32:uint32=uint32(4000000000)",
        "u64:uint64=uint64(18446744073709551615)",
        "f32:floating32=floating32(1.5)",
        "f64:floating64=floating64(-2.25)",
        "t:str=str(héllo)",
        "txt:str=str(long text)",
        "bin:binary=binary(0001feff)",
        "blb:binary=binary(070707)",
        "day:other=unsupported",
    ];
    assert_eq!(lines[0].split(" | ").collect::<Vec<_>>(), expected, "{body}");
    let nulls: Vec<&str> = lines[1].split(" | ").skip(1).take(14).collect();
    assert!(nulls.iter().all(|v| v.ends_with("=db-null")), "{}", lines[1]);
    assert_eq!(db.sql("SELECT t, u64 FROM app.things WHERE id = 1").unwrap(), "héllo\t18446744073709551615");
}

/// Server errors reach the guest as `query-failed`, an address outside
/// `allowed_outbound_hosts` is refused before any connection, a wrong password
/// is the server's refusal, and rows stream from `query`.
#[test]
fn errors_are_the_interfaces_own_and_rows_stream() {
    let db = MariaDb::start().unwrap();
    let served = serve_with("rust-sdk7-mysql", &db.address());
    assert_eq!(served.ok("GET", "/setup"), "ready");
    let bad = served.ok("GET", "/bad");
    assert!(bad.starts_with("query-failed:") && bad.contains("1064") && bad.contains("SELEKT"), "{bad}");
    assert_eq!(served.ok("GET", "/denied"), "connection-failed:address mysql://192.0.2.1:3306 is not permitted");
    // MariaDB stops a recursive CTE after 1000 iterations (`max_recursive_iterations`).
    assert_eq!(served.ok("GET", "/stream?n=1000"), "rows=1000 sum=500500");
    let wrong = serve_with("rust-sdk7-mysql", &db.address().replace("guest-secret", "wrong"));
    let r = get(&format!("{}/setup", wrong.base)).unwrap();
    assert_eq!(r.status, 500, "{r:?}");
    assert!(r.body.starts_with("connection-failed:") && r.body.contains("Access denied"), "{r:?}");
}

/// Every request's connection comes from the app's pool, and the server resets
/// it on its way back: what a guest left behind (an open transaction, a
/// session variable) is gone for the next guest.
#[test]
fn connections_are_pooled_and_reset_between_guests() {
    let db = MariaDb::start().unwrap();
    let served = serve_with("rust-sdk7-mysql", &db.address());
    assert_eq!(served.ok("GET", "/setup"), "ready");
    for _ in 0..30 {
        assert_eq!(served.ok("GET", "/stream?n=3"), "rows=3 sum=6");
    }
    // A connection is reset on its way back to the pool, after the response has
    // gone; a request that comes in the meantime opens another (seen: 3 once).
    // Unpooled connections would leave none open, leaked ones about 30.
    let held = db.client_connections().unwrap();
    assert!((1..=4).contains(&held), "sequential requests share pooled connections, but the server has {held}");
    assert_eq!(served.ok("GET", "/leave-open"), "left open");
    for _ in 0..3 {
        // A user variable is a binary string: `unset` in hex.
        let left_over = served.ok("GET", "/left-over");
        assert_eq!(left_over, "n:int64=int64(0) leaky:binary=binary(756e736574)", "a guest's session was left behind");
    }
    assert_eq!(db.sql("SELECT count(*) FROM app.things WHERE t = 'left-open'").unwrap(), "0");
}

/// Spin 2's sync interface (spin-sdk 3's `spin_sdk::mysql`), on the same connections.
#[test]
fn spin_sdk_3_uses_spin_2s_interface() {
    let db = MariaDb::start().unwrap();
    let served = serve_with("rust-mysql", &db.address());
    assert_eq!(served.ok("GET", "/setup"), "ready");
    assert_eq!(served.ok("POST", "/notes"), "inserted");
    let expected =
        "id:int32=int32(1) | body:str=str(first) | big:uint64=uint64(1099511627776) | raw:binary=binary(0102) | day:other=unsupported";
    assert_eq!(served.ok("GET", "/notes"), expected);
    let bad = served.ok("GET", "/bad");
    assert!(bad.starts_with("query-failed:") && bad.contains("1064"), "{bad}");
    assert_eq!(served.ok("GET", "/denied"), "connection-failed:address mysql://192.0.2.1:3306 is not permitted");
}

/// `ssl-mode` in the address turns TLS on: the server's certificate is checked
/// against the system's store, here the test's authority through
/// `SSL_CERT_FILE`. The server lets user `spin` in over TLS only, so a query
/// that works was encrypted; without the authority the certificate is refused,
/// and without `ssl-mode` the server refuses the plain connection.
#[test]
fn ssl_mode_connects_over_tls_checked_against_the_systems_store() {
    use integration::services::tls_server::Pki;
    let pki = Pki::new().unwrap();
    let db = MariaDb::start_with_tls(&pki).unwrap();
    let address = format!("{}?ssl-mode=REQUIRED", db.address());
    let ca = pki.dir().join("ca.pem");
    let env = [("SPIN_VARIABLE_MYSQL_ADDRESS", address.as_str()), ("SSL_CERT_FILE", ca.to_str().unwrap())];
    let served = serve(&guests::app("rust-sdk7-mysql"), &env, &[]).unwrap();
    assert_eq!(served.ok("GET", "/setup"), "ready");
    assert_eq!(served.ok("GET", "/stream?n=3"), "rows=3 sum=6");

    let untrusted = serve_with("rust-sdk7-mysql", &address);
    let r = get(&format!("{}/setup", untrusted.base)).unwrap();
    assert!(r.status == 500 && r.body.starts_with("connection-failed:"), "{r:?}");
    assert!(r.body.to_lowercase().contains("certificate"), "{r:?}");

    let plain = serve_with("rust-sdk7-mysql", &db.address());
    let r = get(&format!("{}/setup", plain.base)).unwrap();
    assert!(r.status == 500 && r.body.contains("Access denied"), "{r:?}");
}
