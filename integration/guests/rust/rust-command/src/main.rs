//! A WASI command for the command trigger: prints its argv, then behaves as
//! argv[1] says: `exit <n>` exits with status n (through
//! `wasi:cli/exit.exit-with-code`, since `std::process::exit` can only report
//! success or failure in WASI 0.2), `trap` panics (the guest traps), `fail` returns
//! an error from `main` (a failed run), `sleep <ms>` sleeps that long and then
//! succeeds (to be stopped from outside). Anything else succeeds.

wit_bindgen::generate!({
    world: "command-exit",
    path: "wit",
});

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    println!("argv={}", args.join(" "));
    match args.get(1).map(String::as_str) {
        Some("exit") => {
            let code: u8 = args
                .get(2)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| "usage: exit <0-255>".to_string())?;
            wasi::cli::exit::exit_with_code(code);
            unreachable!("exit-with-code returned")
        }
        Some("trap") => panic!("asked to trap"),
        Some("fail") => Err("asked to fail".to_string()),
        Some("sleep") => {
            let ms: u64 = args.get(2).and_then(|c| c.parse().ok()).unwrap_or(60_000);
            std::thread::sleep(std::time::Duration::from_millis(ms));
            println!("slept {ms} ms");
            Ok(())
        }
        _ => Ok(()),
    }
}
