//! One line for a handler's failure in a log or an exit message: a trap by name,
//! otherwise the error chain without wasm backtraces, each cause cut to its first line.

/// The context wasmtime adds above a trap, followed by the backtrace lines.
const BACKTRACE: &str = "error while executing at wasm backtrace";

/// `guest trapped: <trap>` for a trap, else the causes joined by `: `, each cut to
/// its first line (`guest failed` when nothing is left).
pub fn one_line(e: &anyhow::Error) -> String {
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        return format!("guest trapped: {trap}");
    }
    let parts: Vec<String> = e
        .chain()
        .map(|c| c.to_string())
        .filter(|s| !s.starts_with(BACKTRACE))
        .filter_map(|s| s.lines().next().map(|l| l.trim().to_string()))
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        "guest failed".to_string()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trap_is_named_without_its_backtrace() {
        let e = anyhow::Error::from(wasmtime::Error::new(wasmtime::Trap::UnreachableCodeReached))
            .context(format!("{BACKTRACE}:\n    0: 0x1 - main\n    1: 0x2 - start"));
        let line = one_line(&e);
        assert!(line.starts_with("guest trapped: ") && line.contains("unreachable") && !line.contains('\n'), "{line}");
    }

    #[test]
    fn a_host_error_keeps_each_cause_first_line() {
        let e = anyhow::anyhow!("first line\nsecond line").context("calling the guest");
        assert_eq!(one_line(&e), "calling the guest: first line");
        assert_eq!(one_line(&anyhow::anyhow!("\n")), "guest failed");
    }
}
