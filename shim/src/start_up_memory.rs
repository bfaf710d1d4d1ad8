//! The shim's own processes let go of the memory only their start-up used.
//!
//! Each container costs three processes of this binary besides its app:
//! runwasi's shim daemon (serves containerd), its zygote (forks a parent per
//! container) and the container's parent (youki's, holds the container and waits
//! for it). Start-up runs megabytes of code in all three that
//! they never run again; once the container has settled, each drops its
//! read-only pages, and what runs later (state and stats requests, the next
//! container, the stop) faults back in.
//! The app process does the same itself once it serves (`spin_engine::runtime`).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;
use std::time::Duration;

use spin_engine::runtime::{release_start_up_memory, CodePages};

use crate::logging::log_error;

/// How long after a container's set-up its shim processes let go.
const SETTLE: Duration = Duration::from_secs(3);

/// The shim daemon's pid; 0 in any other program (the CLI, tests).
static DAEMON_PID: AtomicU32 = AtomicU32::new(0);

/// Marks this process as the shim daemon. Call first thing in `main`, before
/// runwasi forks its zygote, so that every fork inherits the mark and can tell
/// it is not the daemon.
pub fn mark_shim_daemon() {
    DAEMON_PID.store(std::process::id(), Ordering::Relaxed);
}

/// In the daemon, at its first container: after [`SETTLE`], runwasi's zygote
/// (the daemon's fork that forks each container's parent) releases its
/// start-up memory, then the daemon its own. Once per process.
pub(crate) fn release_daemon_later() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let spawned = std::thread::Builder::new().name("release-start-up".into()).spawn(|| {
            std::thread::sleep(SETTLE);
            // runwasi's zygote runs the code it is asked to on its own (single)
            // thread: the release, too. Asked first, so that the daemon's own
            // release also drops the code that asking ran.
            if let Err(e) = zygote::Zygote::global().try_run(|()| release_start_up_memory(), ()) {
                log_error(&format!("the zygote cannot release its start-up memory: {e}"));
            }
            release_start_up_memory();
        });
        if let Err(e) = spawned {
            log_error(&format!("cannot release start-up memory: {e}"));
        }
    });
}

/// In a container's parent, as runwasi sets the container up: after [`SETTLE`],
/// the process drops its code pages. Does nothing in the daemon or outside a shim.
///
/// The release runs on a thread of its own that makes system calls only: youki
/// forks this process's container right after this call, and a fork taken while
/// another thread holds an allocator or loader lock would leave that lock held in
/// the child. The thread then parks for the process's life (it never exits, as
/// exiting takes the thread library's locks).
pub(crate) fn release_container_parent_later() {
    let daemon = DAEMON_PID.load(Ordering::Relaxed);
    if daemon == 0 || daemon == std::process::id() {
        return;
    }
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Found here, before the fork, with the loader's help; the thread only reads it.
        static PAGES: std::sync::OnceLock<CodePages> = std::sync::OnceLock::new();
        let pages: &'static CodePages = PAGES.get_or_init(CodePages::find);
        if let Err(e) = spawn_syscall_only_thread(release_then_park, pages) {
            log_error(&format!("a container's parent cannot release its start-up memory: {e}"));
        }
    });
}

/// The container parent's thread: sleep, drop the pages, park.
extern "C" fn release_then_park(pages: *mut libc::c_void) -> *mut libc::c_void {
    // SAFETY: the argument is the `&'static CodePages` given to `spawn_syscall_only_thread`.
    let pages = unsafe { &*(pages as *const CodePages) };
    let settle = libc::timespec { tv_sec: SETTLE.as_secs() as libc::time_t, tv_nsec: 0 };
    // SAFETY: plain system calls on valid arguments.
    unsafe { libc::nanosleep(&settle, std::ptr::null_mut()) };
    pages.release();
    loop {
        // SAFETY: waits for a signal; the process ends with SIGKILL from runwasi.
        unsafe { libc::pause() };
    }
}

/// Starts a detached thread on a small stack running `f(arg)`, without Rust's
/// thread set-up (which allocates in the new thread).
fn spawn_syscall_only_thread(
    f: extern "C" fn(*mut libc::c_void) -> *mut libc::c_void,
    arg: &'static CodePages,
) -> std::io::Result<()> {
    const STACK: usize = 64 * 1024;
    // SAFETY: the attribute object is initialised before use and destroyed after;
    // `arg` lives for the program's life.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        check(libc::pthread_attr_init(&mut attr))?;
        let made = check(libc::pthread_attr_setstacksize(&mut attr, STACK))
            .and_then(|()| check(libc::pthread_attr_setdetachstate(&mut attr, libc::PTHREAD_CREATE_DETACHED)))
            .and_then(|()| {
                let mut thread: libc::pthread_t = std::mem::zeroed();
                check(libc::pthread_create(&mut thread, &attr, f, arg as *const CodePages as *mut libc::c_void))
            });
        libc::pthread_attr_destroy(&mut attr);
        made
    }
}

fn check(rc: libc::c_int) -> std::io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::from_raw_os_error(rc))
    }
}
