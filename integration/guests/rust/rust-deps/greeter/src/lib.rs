//! The library component `rust-deps` depends on: exports
//! `demo:greeter/greet@0.1.0`, answering `<GREETING>, <name>!`, where GREETING
//! is the environment variable it sees (`Hello` when it sees none: a dependency
//! that does not inherit its component's configuration sees an empty
//! environment).

wit_bindgen::generate!({
    world: "greeter",
    path: "wit",
    exports: {
        "demo:greeter/greet": Greeter,
    },
});

struct Greeter;

impl exports::demo::greeter::greet::Guest for Greeter {
    fn greet(name: String) -> String {
        let greeting = std::env::var("GREETING").unwrap_or_else(|_| "Hello".into());
        format!("{greeting}, {name}!")
    }
}
