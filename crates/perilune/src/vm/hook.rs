//! The Lua debug hook (`debug.sethook` / `debug.gethook`): where it is stored.
//!
//! As in LuaJIT, there is one hook per state, not one per thread: setting it through
//! any thread sets it for all (`debug.sethook(co, f, "l")` in LuaJIT changes the hook
//! that `debug.gethook()` on the main thread returns). The `thread` parameters of the
//! functions below exist so that the library reads like Lua's (`sethook([thread,]
//! ...)`) and so that per-thread hooks could be added without changing callers.
//!
//! Storage:
//! - the hook function lives in the registry under a light-userdata key (the address
//!   of a private static), so the collector keeps it alive and scripts that walk
//!   `debug.getregistry()` with string keys do not trip over it;
//! - the event mask and the count live in [`State::dbg_hook`] (plain integers), so the
//!   interpreter can test them without a table lookup.
//!
//! Like LuaJIT's `gethook`, the stored function is returned even when the mask is
//! empty (`sethook(f, "")` keeps `f`); only `sethook()` / `sethook(nil, ...)` remove
//! it. The hook is *active* when the function is set and the mask is not zero.
//!
//! Firing: the interpreter runs a second copy of its loop while a hook is set
//! (`vm/interp.rs`, `run::<true>`): `"line"` when the line changes or a jump goes
//! back, `"count"` every `count` instructions, `"call"` (tail calls too, as in LuaJIT) on entry to a
//! Lua function and `"return"` before it returns; natives get `"call"`/`"return"` in
//! `call_native`. The hook runs as a nested call in `VmMode::Hook` (hooks off), above the live
//! registers of the frame that triggered it, so `debug.getinfo(2)` describes it.

use crate::hot::VmMode;
use crate::object::{GcRef, GcThread};
use crate::value::Value;
use crate::vm::error::LResult;
use crate::vm::state::State;

/// Event bits of the hook mask.
pub mod mask {
    /// Function calls (`c`).
    pub const CALL: u8 = 1;
    /// Function returns (`r`).
    pub const RET: u8 = 2;
    /// New source lines (`l`).
    pub const LINE: u8 = 4;
    /// Every `count` instructions.
    pub const COUNT: u8 = 8;
}

/// Mask and count of the debug hook (the function is in the registry).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DebugHook {
    /// Events the hook wants ([`mask`] bits); 0 when no hook is set.
    pub mask: u8,
    /// Instruction count between `count` events (meaningful with [`mask::COUNT`]).
    pub count: u32,
}

/// Private static whose address is the registry key of the hook function.
static HOOK_KEY: u8 = 0;

fn hook_key() -> Value {
    Value::light_userdata(&HOOK_KEY as *const u8 as usize)
}

impl State {
    /// Set the debug hook: `func` (nil removes the hook) for the events in `mask`
    /// ([`mask`] bits), with `count` for [`mask::COUNT`]. A nil function clears the
    /// mask and count. Storing the function may fail for lack of memory; the previous
    /// hook is then left as it was.
    pub fn set_debug_hook(&mut self, _thread: GcRef<GcThread>, func: Value, mask: u8, count: u32) -> LResult<()> {
        let reg = self.registry;
        let func = if func.is_function() { func } else { Value::NIL };
        self.table_set(reg, hook_key(), func)?;
        self.dbg_hook = if func.is_nil() {
            DebugHook::default()
        } else {
            DebugHook { mask, count }
        };
        self.hook_count_left = count;
        self.refresh_dispatch();
        // The next instruction starts a new line for the new hook.
        self.hook_last = (0, 0);
        Ok(())
    }

    /// The debug hook: the function (nil if none), the mask and the count.
    pub fn debug_hook(&self, _thread: GcRef<GcThread>) -> (Value, u8, u32) {
        let f = self.registry.get(hook_key());
        (f, self.dbg_hook.mask, self.dbg_hook.count)
    }

    /// Call the hook function with `event` (and `line`) above the current top, with
    /// hooks off while it runs ([`VmMode::Hook`]). Errors in the hook propagate, as in Lua 5.1.
    pub fn call_debug_hook(&mut self, event: &[u8], line: Option<u32>) -> LResult<()> {
        let th = self.cur;
        let (f, _, _) = self.debug_hook(th);
        if !f.is_function() || self.within(VmMode::Hook) {
            return Ok(());
        }
        let ev = self.str_value(event)?;
        let arg = line.map_or(Value::NIL, |l| Value::number(l as f64));
        self.with_mode(VmMode::Hook, |st| st.call_sync(f, &[ev, arg]).map(|_| ()))
    }

    /// Is a hook set for any event? (What the interpreter will test.)
    #[inline]
    pub fn debug_hook_active(&self) -> bool {
        self.dbg_hook.mask != 0
    }
}
