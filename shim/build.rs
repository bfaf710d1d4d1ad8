//! Links the shim's binaries as position-dependent executables (`-no-pie`) on Linux.
//!
//! A position-independent executable carries ~120 000 relocations that the dynamic loader
//! writes into `.data.rel.ro` and the GOT at every `exec`: ~1.9 MiB of private, dirty memory in
//! every shim process, which is per Pod. Linked at a fixed address, those pages stay clean
//! file-backed pages shared by every shim on the node, and the loader has nothing to write.
//! containerd and its runc shim (Go binaries) are linked the same way. The cost is that the
//! binary's own code and data are not address-randomised (libraries, heap, stacks and every
//! guest's compiled code still are); `SPIN_SHIM_PIE=1` at build time keeps the default PIE link.

fn main() {
    println!("cargo:rerun-if-env-changed=SPIN_SHIM_PIE");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let keep_pie = std::env::var("SPIN_SHIM_PIE").is_ok_and(|value| value == "1");
    if os == "linux" && !keep_pie {
        // The C compiler driver honours the last of `-pie` / `-no-pie`; rustc passes `-pie` first.
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
