//! Every request panics (`panic!("boom")`); the guest traps and the host must
//! answer 500.
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(_req: Request) -> anyhow::Result<Response> {
    panic!("boom");
}
