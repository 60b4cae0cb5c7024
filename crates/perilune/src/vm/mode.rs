//! `State::with_mode`, the one writer of what the VM is doing ([`VmMode`], kept in
//! the core's hot block, `crate::hot`), and the readers of it on the state.
//!
//! `with_mode` sets the mode for a closure and puts the previous mode back when the
//! closure returns, with a result or an error: errors are values here, so no path
//! leaves a mode behind. Every reader asks the mode (or the set of modes the current
//! one is nested in, [`State::within`]) instead of a flag of its own. At rest, and
//! whenever a caught error has been delivered, it is [`VmMode::Interp`].

use crate::hot::{HotBlock, VmMode};
use crate::vm::state::State;

impl State {
    /// Run `f` in `mode`, then put the mode the VM was in back, whatever `f` returns.
    /// The only writer of the mode.
    #[inline(always)]
    pub fn with_mode<R>(&mut self, mode: VmMode, f: impl FnOnce(&mut State) -> R) -> R {
        let saved = self.heap.hot.enter_mode(mode);
        let r = f(self);
        self.heap.hot.leave_mode(saved);
        r
    }

    /// What the VM is doing.
    #[inline(always)]
    pub fn mode(&self) -> VmMode {
        self.heap.hot.mode()
    }

    /// Is `mode` the current mode or one the current mode is nested in?
    #[inline(always)]
    pub fn within(&self, mode: VmMode) -> bool {
        self.heap.hot.within(mode)
    }

    /// The JIT's hot counters.
    #[inline(always)]
    pub fn hotcounts(&self) -> &crate::hot::HotCounts {
        &self.heap.hotcounts
    }

    /// The hot block (for the layout test and, later, the JIT's entry).
    #[inline(always)]
    pub fn hot(&self) -> &HotBlock {
        &self.heap.hot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::error::LResult;

    /// `mode()`: the mode the code calling it runs in, as the native sees it (its own
    /// `Native`), and the modes that one is nested in: `"Native<Finalizer,Native>"`.
    fn mode(st: &mut State) -> LResult<usize> {
        let nested: Vec<String> = VmMode::ALL
            .into_iter()
            .filter(|&m| m != VmMode::Interp && st.within(m))
            .map(|m| format!("{m:?}"))
            .collect();
        let text = format!("{:?}<{}>", st.mode(), nested.join(","));
        st.push_str(text.as_bytes())?;
        Ok(1)
    }

    fn state() -> Box<State> {
        let mut st = State::new().unwrap();
        crate::stdlib::open_base(&mut st).unwrap();
        let f = st.new_native(mode, crate::func::FF_C, 0).unwrap();
        st.set_global("mode", Value::function(f)).unwrap();
        st
    }

    /// Run `src` and return its result as text; the VM is at rest afterwards.
    fn run(st: &mut State, src: &str) -> String {
        st.load(src.as_bytes(), b"=modes").unwrap();
        st.call(0, 1).unwrap();
        let r = st
            .peek(0)
            .as_string()
            .map(|s| s.to_str_lossy().into_owned())
            .unwrap_or_default();
        st.pop(1);
        crate::testing::mode_at_rest(st).unwrap();
        r
    }

    use crate::value::Value;

    #[test]
    fn at_rest_the_vm_is_interpreting() {
        let st = state();
        assert_eq!(st.mode(), VmMode::Interp);
        crate::testing::mode_at_rest(&st).unwrap();
    }

    #[test]
    fn each_activity_has_its_mode() {
        let mut st = state();
        assert_eq!(run(&mut st, "return mode()"), "Native<Native>");
        // Lua called back from a native runs in Interp, inside the native.
        assert_eq!(
            run(
                &mut st,
                "local r; table.sort({2, 1}, function(a, b) r = mode() return a < b end) return r"
            ),
            "Native<Native>"
        );
        // A debug hook, and Lua code run from it.
        assert_eq!(
            run(
                &mut st,
                "local r; debug.sethook(function() r = r or mode() end, 'l'); local x = 1
                 debug.sethook(); return r"
            ),
            "Native<Native,Hook>"
        );
        // A finalizer, and the code it runs.
        assert_eq!(
            run(
                &mut st,
                "local r; local p = newproxy(true)
                 getmetatable(p).__gc = function() r = mode() end
                 p = nil; collectgarbage(); return r"
            ),
            "Native<Native,Finalizer>"
        );
        // A coroutine's body, resumed from a native.
        assert_eq!(
            run(
                &mut st,
                "return coroutine.wrap(function() coroutine.yield(mode()) end)()"
            ),
            "Native<Native>"
        );
    }

    #[test]
    fn errors_leave_every_mode_they_cross() {
        let mut st = state();
        // An error in a native, in Lua called from a native, in a yield across a
        // native boundary, in a debug hook and in a finalizer: each is caught, and the
        // code after the catch runs in the mode it ran in before.
        let src = "
            local seen = {}
            pcall(error, 'x')
            pcall(table.sort, {1, 2, 3}, function() error('y') end)
            pcall(coroutine.wrap(function() table.sort({1, 2}, coroutine.yield) end))
            seen[#seen + 1] = mode()
            local n = 0
            pcall(function()
                debug.sethook(function() n = n + 1; if n == 1 then error('hook') end end, 'l')
                local a = 1
            end)
            local c = 3
            debug.sethook()
            seen[#seen + 1] = n > 1 and 'hook fired again' or 'hook stuck'
            local p = newproxy(true)
            getmetatable(p).__gc = function() error('fin') end
            p = nil; collectgarbage()
            local q = newproxy(true)
            getmetatable(q).__gc = function() seen[#seen + 1] = mode() end
            q = nil; collectgarbage()
            seen[#seen + 1] = mode()
            return table.concat(seen, ' ')";
        assert_eq!(
            run(&mut st, src),
            "Native<Native> hook fired again Native<Native,Finalizer> Native<Native>"
        );
    }

    #[test]
    fn an_error_from_the_host_call_leaves_no_mode_behind() {
        let mut st = state();
        st.load(
            b"local p = newproxy(true) getmetatable(p).__gc = function() end error('out')",
            b"=e",
        )
        .unwrap();
        assert!(st.call(0, 0).is_err());
        crate::testing::mode_at_rest(&st).unwrap();
    }
}
