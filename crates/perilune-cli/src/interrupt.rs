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

/// False while [`run_interruptible`] runs Lua code.
static IDLE: AtomicBool = AtomicBool::new(true);

/// Install the SIGINT handler that sets `flag` (the state's interrupt handle).
/// Failure to install is not an error: Ctrl-C then simply ends the process.
///
/// Built from signal-hook's safe actions, which run in the order they are
/// registered: terminate by the signal when no Lua code runs, terminate when an
/// interrupt is already pending (a second Ctrl-C before the first was noticed), and
/// otherwise set the interrupt flag.
pub fn install(flag: Arc<AtomicBool>) {
    #[cfg(unix)]
    {
        use signal_hook::consts::SIGINT;
        use signal_hook::flag;
        let _ = flag::register_conditional_default(SIGINT, &IDLE)
            .and_then(|_| flag::register_conditional_default(SIGINT, flag.clone()))
            .and_then(|_| flag::register(SIGINT, flag));
    }
    #[cfg(not(unix))]
    drop(flag);
}

/// Run `f` (which runs Lua code) with Ctrl-C turned into an interrupt. A stale
/// interrupt left over from an earlier run is cleared first.
pub fn run_interruptible<T>(flag: &AtomicBool, f: impl FnOnce() -> T) -> T {
    flag.store(false, Ordering::SeqCst);
    let was_idle = IDLE.swap(false, Ordering::SeqCst);
    let r = f();
    IDLE.store(was_idle, Ordering::SeqCst);
    r
}
