//! A WAGI (CGI) program for the HTTP trigger's `wagi` executor. By `PATH_INFO`:
//! - `/echo`: the request body (stdin) back, with `Content-Type: text/plain`;
//! - `/env`: `argv=<args joined by |>`, then `NAME=value` for each name in the
//!   query (`?NAME&NAME2`), one a line;
//! - `/status`: status 418 with `teapot`;
//! - `/redirect`: a `Location` header only;
//! - `/silent`: prints nothing;
//! - `/exit`: exits with status 3 after printing a response;
//! - anything else: `hello from wagi`.

use std::io::{Read as _, Write as _};

fn main() {
    let path = std::env::var("PATH_INFO").unwrap_or_default();
    let mut out = std::io::stdout();
    match path.as_str() {
        "/echo" => {
            let mut body = Vec::new();
            std::io::stdin().read_to_end(&mut body).expect("stdin");
            out.write_all(b"Content-Type: text/plain\n\n").unwrap();
            out.write_all(&body).unwrap();
        }
        "/env" => {
            let args: Vec<String> = std::env::args().collect();
            print!("Content-Type: text/plain\n\nargv={}\n", args.join("|"));
            let query = std::env::var("QUERY_STRING").unwrap_or_default();
            for name in query.split('&').filter(|n| !n.is_empty()) {
                println!("{name}={}", std::env::var(name).unwrap_or_else(|_| "<unset>".to_owned()));
            }
        }
        "/status" => print!("Status: 418 I'm a teapot\r\nContent-Type: text/plain\r\n\r\nteapot"),
        "/redirect" => print!("Location: /elsewhere\n\n"),
        "/silent" => {}
        "/exit" => {
            print!("Content-Type: text/plain\n\nleaving");
            out.flush().unwrap();
            std::process::exit(3);
        }
        _ => print!("Content-Type: text/plain\n\nhello from wagi"),
    }
}
