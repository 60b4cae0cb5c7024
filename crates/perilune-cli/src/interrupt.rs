//! Ctrl-C (SIGINT) while Lua code runs: the first one sets the state's interrupt flag,
//! so the script stops at its next loop back-edge or call with the catchable error
//! `interrupted!` (and the interactive prompt comes back). A second Ctrl-C before the
//! first was noticed (say, a native function that runs long), or a Ctrl-C while no
//! Lua code runs, terminates the process the usual way, by the signal.
//!
//! One handler is installed for the life of the process (signal handlers are not
//! meant to come and go); [`run_interruptible`] says when Lua code is running.
//! Outside Unix nothing is installed and Ctrl-C keeps its default effect.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// True while [`run_interruptible`] runs Lua code.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// Install the SIGINT handler that sets `flag` (the state's interrupt handle).
/// Failure to install is not an error: Ctrl-C then simply ends the process.
pub fn install(flag: Arc<AtomicBool>) {
    #[cfg(unix)]
    {
        use signal_hook::consts::SIGINT;
        use signal_hook::low_level;
        let handler = move || {
            // Atomics only: this runs inside the signal handler.
            if RUNNING.load(Ordering::SeqCst) && !flag.swap(true, Ordering::SeqCst) {
                return;
            }
            let _ = low_level::emulate_default_handler(SIGINT);
        };
        // SAFETY: the handler only touches atomics and calls signal-hook's
        // emulate_default_handler, which is meant to be called from a handler.
        let _ = unsafe { low_level::register(SIGINT, handler) };
    }
    #[cfg(not(unix))]
    drop(flag);
}

/// Run `f` (which runs Lua code) with Ctrl-C turned into an interrupt. A stale
/// interrupt left over from an earlier run is cleared first.
pub fn run_interruptible<T>(flag: &AtomicBool, f: impl FnOnce() -> T) -> T {
    flag.store(false, Ordering::SeqCst);
    let was = RUNNING.swap(true, Ordering::SeqCst);
    let r = f();
    RUNNING.store(was, Ordering::SeqCst);
    r
}
