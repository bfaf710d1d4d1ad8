//! Outbound PostgreSQL against a real server (`initdb` + `postgres`, password
//! authentication) through `spin-shim up`, with the SDK-built guests:
//! `rust-sdk7-pg` (spin-sdk 7, the async functions of
//! `spin:postgres/postgres@4.2.0`) and `rust-pg` (spin-sdk 3, the sync
//! `spin:postgres/postgres@3.0.0`).

use integration::cli_app::{serve, ServedApp};
use integration::guests;
use integration::http::{get, request};
use integration::services::postgres::PostgresServer;

/// `guest` served with `pg_address` set to `address`.
fn serve_with(guest: &str, address: &str, flags: &[&str]) -> ServedApp {
    serve(&guests::app(guest), &[("SPIN_VARIABLE_PG_ADDRESS", address)], flags).unwrap()
}

/// Every parameter type of 4.x is written, read back with its column type, and
/// NULLs of every type come back as `db-null`.
#[test]
fn spin_sdk_7_writes_and_reads_every_type_of_the_interface() {
    let pg = PostgresServer::start().unwrap();
    let served = serve_with("rust-sdk7-pg", &pg.address(), &[]);
    assert_eq!(served.ok("GET", "/setup"), "ready");
    assert_eq!(served.ok("POST", "/things"), "inserted=1");
    assert_eq!(served.ok("POST", "/nulls"), "inserted=1");
    let body = served.ok("GET", "/things");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 2, "{body}");
    let expected = [
        "id:int32=int32(1)",
        "b:boolean=boolean(true)",
        "i2:int16=int16(-3)",
        "i4:int32=int32(-7)",
        "i8:int64=int64(9000000000)",
        "f4:floating32=floating32(1.5)",
        "f8:floating64=floating64(-2.25)",
        "t:str=str(héllo)",
        "v:str=str(short)",
        "bin:binary=binary(0001feff)",
        "d:date=date(2024-2-29)",
        "tm:time=time(23:59:58.500000000)",
        "ts:datetime=datetime(2001-9-9 1:46:40.0)",
        // Seconds since the epoch, stored in a timestamptz and read back in UTC.
        "tstz:datetime=datetime(2001-9-9 1:46:40.0)",
        "u:uuid=uuid(67e55044-10b1-426f-9247-bb680e5fe0c8)",
        "j:jsonb=jsonb({\"a\":[1,2]})",
        "n:decimal=decimal(12345.678901)",
        // PostgreSQL normalises discrete ranges to [lower, upper).
        "r4:range-int32=range-int32(1/incl..11/excl)",
        "r8:range-int64=range-int64(inf..5000000000/excl)",
        "rn:range-decimal=range-decimal(1.5/excl..inf)",
        "a4:array-int32=array-int32(1;null;3)",
        "a8:array-int64=array-int64(-1)",
        "an:array-decimal=array-decimal(0.1;null)",
        "at:array-str=array-str(x;null;z)",
        "iv:interval=interval(1500000us,2d,14m)",
        // A type the interface has no case for: its wire bytes (an IPv4 inet is 8).
        "inet_col:other(inet)=unsupported(8 bytes)",
    ];
    assert_eq!(lines[0].split(" | ").collect::<Vec<_>>(), expected, "{body}");
    let nulls: Vec<&str> = lines[1].split(" | ").skip(1).take(24).collect();
    assert!(nulls.iter().all(|v| v.ends_with("=db-null")), "{}", lines[1]);
    // What the guest wrote is in the database, as psql sees it.
    assert_eq!(
        pg.psql("SELECT t, i8, n::text, r4::text FROM things WHERE id = 1").unwrap(),
        "héllo|9000000000|12345.678901|[1,11)"
    );
}

/// Server errors reach the guest with their SQLSTATE; a parameter PostgreSQL
/// cannot take is the guest's `bad-parameter`; an address outside
/// `allowed_outbound_hosts` is refused before any connection is made.
#[test]
fn errors_are_the_interfaces_own() {
    let pg = PostgresServer::start().unwrap();
    let served = serve_with("rust-sdk7-pg", &pg.address(), &[]);
    assert_eq!(served.ok("GET", "/bad"), "query-failed:db-error:ERROR:42601:syntax error at or near \"SELEKT\"");
    assert_eq!(served.ok("GET", "/bad-param"), "bad-parameter:invalid date 2023-2-30");
    assert_eq!(served.ok("GET", "/denied"), "connection-failed:address postgres://192.0.2.1:5432 is not permitted");
    let (_tmp, app) = integration::fixtures::copy_of("rust-sdk7-pg");
    let wrong_password = pg.address().replace("guest-secret", "wrong");
    let served = serve(&app, &[("SPIN_VARIABLE_PG_ADDRESS", &wrong_password)], &[]).unwrap();
    let r = get(&format!("{}/setup", served.base)).unwrap();
    assert_eq!(r.status, 500, "{r:?}");
    assert!(r.body.starts_with("connection-failed:") && r.body.contains("password authentication failed"), "{r:?}");
}

/// Rows are streamed to the guest (`query-async`), and every request's
/// connection comes from the app's pool: 30 requests in a row hold one server
/// connection, and what a guest left behind (an open transaction, a session
/// setting) is gone before the next guest gets the connection.
#[test]
fn connections_are_pooled_and_reset_between_guests() {
    let pg = PostgresServer::start().unwrap();
    let served = serve_with("rust-sdk7-pg", &pg.key_value_address(), &[]);
    assert_eq!(served.ok("GET", "/setup"), "ready");
    assert_eq!(served.ok("GET", "/stream?n=5000"), "rows=5000 sum=12502500");
    for _ in 0..30 {
        assert_eq!(served.ok("GET", "/stream?n=3"), "rows=3 sum=6");
    }
    let held = pg.client_connections().unwrap();
    assert!((1..=2).contains(&held), "sequential requests share pooled connections, but the server has {held}");
    assert_eq!(served.ok("GET", "/leave-open"), "left open");
    // Each pooled connection in turn: none may show what the guest left.
    for _ in 0..3 {
        let left_over = served.ok("GET", "/left-over");
        assert_eq!(
            left_over, "n:int64=int64(0) a:str=str() fresh:boolean=boolean(true)",
            "a guest's session was left behind"
        );
    }
    assert_eq!(pg.psql("SELECT count(*) FROM things WHERE t = 'left-open'").unwrap(), "0");
}

/// The sync 3.0 interface of spin-sdk 3 and Spin 2's 2.0 (spin-sdk 3's
/// `spin_sdk::pg`), on the same connections, each with its own narrower types.
#[test]
fn spin_sdk_3_uses_the_sync_interface() {
    let pg = PostgresServer::start().unwrap();
    let served = serve_with("rust-pg", &pg.address(), &[]);
    assert_eq!(served.ok("GET", "/setup"), "ready");
    assert_eq!(served.ok("POST", "/notes"), "inserted=1");
    let expected = "id:int32=int32(1) | body:str=str(first) | n:int32=int32(-7) | big:int64=int64(1099511627776) | \
                    ok:boolean=boolean(false) | day:date=date(1999-12-31) | at:datetime=datetime(1970-1-2 0:0:0.0) | \
                    u:other=unsupported";
    assert_eq!(served.ok("GET", "/notes"), expected);
    assert_eq!(served.ok("GET", "/bad"), "query-failed:db error: ERROR: syntax error at or near \"SELEKT\"");
    assert_eq!(served.ok("GET", "/denied"), "connection-failed:address postgres://192.0.2.1:5432 is not permitted");
    let v2 = "id:int32=int32(1) | body:str=str(first) | big:int64=int64(1099511627776) | ok:boolean=boolean(false) | \
              day:other=unsupported";
    assert_eq!(served.ok("GET", "/v2/notes"), v2);
    assert_eq!(served.ok("GET", "/v2/unsigned"), "value-conversion-failed:PostgreSQL has no unsigned integer types");
}

/// `[outbound_pg] max_connections` caps the app's connections: with 0, every
/// open is refused and nothing reaches the server.
#[test]
fn the_runtime_configs_connection_cap_holds() {
    let pg = PostgresServer::start().unwrap();
    let (_tmp, app) = integration::fixtures::copy_of("rust-sdk7-pg");
    let config = app.join("runtime-config.toml");
    std::fs::write(&config, "[outbound_pg]\nmax_connections = 0\n").unwrap();
    let env = [("SPIN_VARIABLE_PG_ADDRESS", pg.address())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let served = serve(&app, &env, &["--runtime-config-file", &config.display().to_string()]).unwrap();
    let r = get(&format!("{}/setup", served.base)).unwrap();
    assert_eq!((r.status, r.body.as_str()), (500, "connection-failed:too many connections"), "{r:?}");
    assert_eq!(pg.client_connections().unwrap(), 0);
}

/// TLS as the address's `sslmode` asks: `require` with the server's root
/// trusted through the connection builder is encrypted; without that root the
/// certificate is refused; `disable` stays plain on the same server.
#[test]
fn tls_follows_sslmode_and_trusts_the_guests_root() {
    let pki = integration::services::tls_server::Pki::new().unwrap();
    let pg = PostgresServer::start_with_tls(&pki).unwrap();
    let ca = std::fs::read_to_string(pki.dir().join("ca.pem")).unwrap();
    let required = format!("{}?sslmode=require", pg.address());
    let env = [("SPIN_VARIABLE_PG_ADDRESS", required.as_str()), ("SPIN_VARIABLE_PG_CA", ca.as_str())];
    let served = serve(&guests::app("rust-sdk7-pg"), &env, &[]).unwrap();
    assert_eq!(served.ok("GET", "/tls"), "ssl=(true)");
    drop(served);
    let untrusted = serve_with("rust-sdk7-pg", &required, &[]);
    let r = get(&format!("{}/tls", untrusted.base)).unwrap();
    assert_eq!(r.status, 500, "{r:?}");
    assert!(r.body.starts_with("connection-failed:") && r.body.contains("certificate"), "{r:?}");
    drop(untrusted);
    let plain = serve_with("rust-sdk7-pg", &format!("{}?sslmode=disable", pg.address()), &[]);
    assert_eq!(plain.ok("GET", "/tls"), "ssl=(false)");
}

/// Under containerd, a Pod's guest reaches the server its environment names
/// (`SPIN_VARIABLE_PG_ADDRESS` in the container's env), through the same pools.
#[test]
fn a_containers_guest_reaches_postgres() {
    use integration::containerd::Containerd;
    use integration::process::free_port;
    use std::time::Duration;
    let pg = PostgresServer::start().unwrap();
    let containerd = Containerd::start(&integration::paths::bin_dir()).unwrap();
    let reference = "test.local/pg:latest";
    containerd.import_app(&guests::app("rust-sdk7-pg"), reference, false).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let address = pg.address();
    let env = [("SPIN_HTTP_LISTEN_ADDR", listen.as_str()), ("SPIN_VARIABLE_PG_ADDRESS", address.as_str())];
    let mut task = containerd.run_task(reference, "pg", &env).unwrap();
    let base = format!("http://{listen}");
    integration::http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e:#}\n{}", task.output()));
    let served = |path: &str, method: &str| request(method, &format!("{base}{path}"), &[], "").unwrap();
    assert_eq!(served("/setup", "GET").body, "ready");
    assert_eq!(served("/things", "POST").body, "inserted=1");
    assert_eq!(served("/stream?n=100", "GET").body, "rows=100 sum=5050");
    assert_eq!(served("/denied", "GET").body, "connection-failed:address postgres://192.0.2.1:5432 is not permitted");
    assert_eq!(pg.psql("SELECT i4, t FROM things").unwrap(), "-7|héllo");
    containerd.kill_task("pg", "SIGTERM").unwrap();
    let (code, out) = task.wait(Duration::from_secs(10)).unwrap();
    assert_eq!(code, 0, "{out}");
}

/// Python `spin-sdk` 5 (componentize-py) runs the same async 4.2 functions:
/// statements with bound parameters, rows read from the stream, a server
/// error with its SQLSTATE.
#[test]
fn python_spin_sdk_5_queries_through_the_async_interface() {
    let pg = PostgresServer::start().unwrap();
    let served = serve_with("python-sdk5-pg", &pg.address(), &[]);
    assert_eq!(served.ok("GET", "/setup"), "ready");
    let r = request("POST", &format!("{}/notes", served.base), &[], "from python").unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, "inserted=1"), "{r:?}");
    assert_eq!(served.ok("GET", "/notes"), "1:from python:7");
    assert_eq!(served.ok("GET", "/bad"), "query-failed:42601:syntax error at or near \"SELEKT\"");
}
