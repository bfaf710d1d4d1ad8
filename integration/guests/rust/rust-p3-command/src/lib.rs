//! A WASI 0.3 command for the command trigger: its `wasi:cli/run@0.3.0` export
//! prints `argv=<argv> (WASI 0.3)` and returns an error when argv[1] is `fail`
//! (a failed run), success otherwise. It has no WASI 0.2 `run` export.

wit_bindgen::generate!({
    world: "command-p3",
    path: "wit",
});

struct Command;

impl exports::wasi::cli::run::Guest for Command {
    async fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().collect();
        println!("argv={} (WASI 0.3)", args.join(" "));
        match args.get(1).map(String::as_str) {
            Some("fail") => Err(()),
            _ => Ok(()),
        }
    }
}

export!(Command);
