//! How the outcome of a `wasi:cli/run` call maps to the process exit status.

use spin_engine::trigger::one_line;

/// The exit status reported when the app is stopped by SIGTERM while the guest runs:
/// 128 + 15, what a native container process killed by SIGTERM reports.
pub(crate) const TERMINATED: i32 = 128 + 15;

/// What one run of the guest ended with, as the process exit status or an error.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The run finished (returned, or the guest called `exit`) with this status.
    Exited(i32),
    /// The guest trapped or the host failed; the message is one line.
    Failed(String),
}

/// Maps the result of `call_run`: `Ok(Ok(()))` is 0, `Ok(Err(()))` is 1, the guest's
/// own `exit(n)` (wasmtime-wasi's `I32Exit`) is `n`, anything else (a trap) fails.
pub(crate) fn outcome(result: wasmtime::Result<Result<(), ()>>) -> Outcome {
    match result {
        Ok(Ok(())) => Outcome::Exited(0),
        Ok(Err(())) => Outcome::Exited(1),
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => Outcome::Exited(exit.0),
            None => Outcome::Failed(one_line(&anyhow::Error::from(e))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_is_zero_and_err_is_one() {
        assert_eq!(outcome(Ok(Ok(()))), Outcome::Exited(0));
        assert_eq!(outcome(Ok(Err(()))), Outcome::Exited(1));
    }

    #[test]
    fn guest_exit_code_is_passed_on() {
        let e = wasmtime::Error::new(wasmtime_wasi::I32Exit(7));
        assert_eq!(outcome(Err(e)), Outcome::Exited(7));
        let e = wasmtime::Error::new(wasmtime_wasi::I32Exit(0));
        assert_eq!(outcome(Err(e)), Outcome::Exited(0));
    }

    #[test]
    fn trap_is_one_line_failure() {
        let e = wasmtime::Error::new(wasmtime::Trap::UnreachableCodeReached)
            .context("error while executing at wasm backtrace:\n    0: 0x1 - main\n    1: 0x2 - start");
        match outcome(Err(e)) {
            Outcome::Failed(msg) => {
                assert!(!msg.contains('\n'), "{msg}");
                assert!(msg.contains("unreachable"), "{msg}");
            }
            other => panic!("{other:?}"),
        }
    }
}
