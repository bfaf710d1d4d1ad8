//! A component with a component dependency (Spin 3 `[component.x.dependencies]`):
//! every path answers 200 `<greeting>; front GREETING=<value>`, where the
//! greeting comes from the imported `demo:greeter/greet@0.1.0` (the `greeter`
//! library beside it, composed in at load time) and the value is this
//! component's own environment variable, so a test sees both sides.
use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    world: "front",
    path: "wit",
});

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let name = req.path().trim_start_matches('/');
    let name = if name.is_empty() { "world" } else { name };
    let greeting = demo::greeter::greet::greet(name);
    let own = std::env::var("GREETING").unwrap_or_else(|_| "unset".into());
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(format!("{greeting}; front GREETING={own}"))
        .build())
}
