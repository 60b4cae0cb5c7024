//! `jit.profile`: LuaJIT's low-level sampling profiler API (`start`, `stop`,
//! `dumpstack`), and running the callback. The timer and the counting of samples
//! are the VM's (`vm/profile.rs`); `start` hands it [`State::deliver_samples`].
//!
//! How a sample is taken (docs/stdlib-debug-package-jit.md, "jit.profile"):
//! - `start` spawns a timer thread that sleeps the interval and, each time it wakes,
//!   adds one to an atomic counter. It touches nothing else: no signal handler and no
//!   other thread ever touches the VM. It holds only an `Arc` of the counter, so it
//!   cannot outlive anything it reads; `stop`, a new `start` and closing the state
//!   stop it and join it.
//! - The VM looks at the counter where it already looks at the interrupt flag: in the
//!   cold path taken when the instruction countdown runs out (`State::budget_check_at`,
//!   at most [`CHECK_INTERVAL`](crate::vm::budget::CHECK_INTERVAL) units apart, a few tens
//!   of microseconds). The hot path does not change.
//! - The VM state of a sample: `'G'` when the tick came while the collector ran (the
//!   collector tells the timer when it starts and stops,
//!   [`ProfileHook::set_vmstate`](crate::vm::profile::ProfileHook::set_vmstate): the
//!   timer thread cannot read the VM mode); otherwise the VM mode at the first look
//!   after the tick decides (`VmMode::profile_letter`): `'I'` in the interpreter,
//!   `'C'` inside a native function (and the compiler it runs), which pay into the
//!   countdown as they work. Lua code cannot run inside a
//!   native, so there the samples wait: the countdown is set to run out at the
//!   interpreter's next payment, while natives go on with the units they had
//!   ([`State::poll_in_interpreter`]), so that a program that spends its time in
//!   natives still gets its samples as soon as one returns. A JIT will add `'N'`
//!   (samples taken at trace exits).
//! - In the interpreter the callback `cb(thread, samples, vmstate)` runs on a
//!   coroutine of its own (kept in the registry and reused), with `thread` the
//!   coroutine that was running, whose frames and stack are left as they were (the
//!   interpreter keeps a pointer into the stack across a loop back-edge: nothing is
//!   pushed there), so `dumpstack(thread, ...)` sees the sampled stack. Debug hooks
//!   are off while it runs; samples that fall due meanwhile (or in a finalizer or a
//!   debug hook) are delivered at the next look after it.
//! - An error in the callback (a yield in it is one) is raised into the code that
//!   was sampled, at the sampled instruction (LuaJIT ends the process). The
//!   callback's instructions count against the instruction budget like any other
//!   code.

use std::time::Duration;

use crate::buf::Buf;
use crate::hot::VmMode;
use crate::object::{GcRef, GcTable, GcThread};
use crate::value::Value;
use crate::vm::budget::Poll;
use crate::vm::coroutine::ResumeError;
use crate::vm::debug::{current_line_in, function_name_kind_in};
use crate::vm::error::{LResult, Throw};
use crate::vm::frame::FrameKind;
use crate::vm::state::State;
use crate::vm::thread::ThreadStatus;

/// LuaJIT's default sampling interval, in milliseconds.
const DEFAULT_INTERVAL_MS: u64 = 10;

/// The registry keys of the callback, of the coroutine it runs on and of that
/// coroutine's body (addresses of private statics, as light userdata).
static FUNC_KEY: u8 = 0;
static THREAD_KEY: u8 = 0;
static TRAMPOLINE_KEY: u8 = 0;

fn key(k: &'static u8) -> Value {
    Value::light_userdata(k as *const u8 as usize)
}

/// The `jit.profile` table.
pub fn open(st: &mut State) -> LResult<GcRef<GcTable>> {
    let t = st.new_table(0, 4)?;
    super::super::open_funcs(st, super::super::Lib::JitProfile, t)?;
    Ok(t)
}

/// The interval a mode string asks for: `i<ms>` (at least 1), else the default.
/// `f` and `l` (function- or line-level precision) only matter to a JIT; other
/// characters are ignored, as in LuaJIT.
fn interval_ms(mode: &[u8]) -> u64 {
    let mut ms = DEFAULT_INTERVAL_MS;
    let mut i = 0;
    while i < mode.len() {
        if mode[i] == b'i' {
            let mut n: u64 = 0;
            while let Some(d) = mode.get(i + 1).filter(|c| c.is_ascii_digit()) {
                n = n.saturating_mul(10).saturating_add(u64::from(d - b'0'));
                i += 1;
            }
            ms = n.clamp(1, 1 << 31);
        }
        i += 1;
    }
    ms
}

/// `profile.start(mode, cb)`.
pub(crate) fn start(st: &mut State) -> LResult<usize> {
    let mode = if st.arg(1).is_nil() {
        None
    } else {
        Some(st.check_string(1)?)
    };
    let cb = st.arg(2);
    if !cb.is_function() {
        return Err(st.type_error(2, "function"));
    }
    let ms = interval_ms(mode.as_ref().map_or(&b""[..], |m| m.as_bytes()));
    // A running profiler stops first (its pending samples are dropped).
    st.budget.profile.stop();
    let reg = st.registry;
    st.table_set(reg, key(&FUNC_KEY), cb)?;
    match st
        .budget
        .profile
        .start(Duration::from_millis(ms), State::deliver_samples)
    {
        Ok(()) => {}
        Err(e) => {
            let e = e.to_string();
            return Err(st.rt_error_fmt(crate::errmsg::PROFILER_THREAD, &[e.as_bytes()]));
        }
    }
    Ok(0)
}

/// `profile.stop()`.
pub(crate) fn stop(st: &mut State) -> LResult<usize> {
    stop_profiler(st)?;
    Ok(0)
}

/// Stop the timer and forget the callback (and, unless it is running, the
/// coroutine it runs on).
pub fn stop_profiler(st: &mut State) -> LResult<()> {
    st.budget.profile.stop();
    let reg = st.registry;
    st.table_set(reg, key(&FUNC_KEY), Value::NIL)?;
    if !st.budget.profile.busy {
        st.table_set(reg, key(&THREAD_KEY), Value::NIL)?;
        st.table_set(reg, key(&TRAMPOLINE_KEY), Value::NIL)?;
    }
    Ok(())
}

/// The body of the profiler's coroutine: `cb(thread, samples, vmstate)`, the four
/// values being its upvalues. A yield in the callback is an error, as a yield
/// across LuaJIT's `lua_pcall` of the callback is.
pub(crate) fn trampoline(st: &mut State) -> LResult<usize> {
    for i in 0..4 {
        let v = st.native_upval(i);
        st.push(v)?;
    }
    st.call(3, 0)?;
    Ok(0)
}

impl State {
    /// Run the callback for `samples` samples taken in `vmstate`, with the running
    /// thread's frames as they are. At [`Poll::Edge`] the running thread's stack
    /// does not move (the interpreter keeps its pointer to the frame's registers).
    fn deliver_samples(&mut self, at: Poll, samples: u32, vmstate: u8) -> LResult<()> {
        let reg = self.registry;
        let cb = reg.get(key(&FUNC_KEY));
        if !cb.is_function() {
            return Ok(());
        }
        let th = self.cur;
        let old_top = th.top;
        let stack_at = th.stack.as_ptr();
        let last = th.frame_index(0);
        // Every register of the running frame stays live (marked by the collector)
        // while the callback runs. At a back-edge nothing above the frame's top is
        // (multiple values are consumed by the instruction right after the one that
        // made them), and the frame's top leaves `EXTRA_STACK` slots of room: the
        // return from the callback's coroutine needs no more.
        if let Some(ci) = th.frame_at(0) {
            let frame_top = ci.top as usize;
            th.get_mut().top = if at == Poll::Edge {
                frame_top
            } else {
                old_top.max(frame_top)
            };
        }
        // At a back-edge the saved pc is the instruction about to run: while the
        // callback looks at the stack it is the frame's current instruction.
        let bumped = match (at, last) {
            (Poll::Edge, Some(i)) => {
                let fits = th.frame(i).is_some_and(|ci| {
                    crate::vm::debug::thread_frame_proto(th, &ci).is_some_and(|p| (ci.pc as usize) < p.code.len())
                });
                if let Some(ci) = th.get_mut().frame_mut(i).filter(|_| fits) {
                    ci.pc += 1;
                }
                fits.then_some(i)
            }
            _ => None,
        };
        self.budget.profile.busy = true;
        let r = self.with_mode(VmMode::Hook, |st| st.run_profile_callback(cb, th, samples, vmstate));
        self.budget.profile.busy = false;
        if let Some(i) = bumped {
            if let Some(ci) = th.get_mut().frame_mut(i) {
                ci.pc -= 1;
            }
        }
        th.get_mut().top = old_top;
        if !self.budget.profile.is_running() {
            // stop() ran in the callback: forget its coroutine now.
            let _ = self.table_set(reg, key(&THREAD_KEY), Value::NIL);
            let _ = self.table_set(reg, key(&TRAMPOLINE_KEY), Value::NIL);
        }
        if at == Poll::Edge && th.stack.as_ptr() != stack_at {
            // Cannot happen (see above); if it did, the interpreter's pointer into
            // the old stack must not be used: leave the frame through an error.
            return Err(self.rt_error_here(crate::errmsg::INTERNAL_PROFILER_STACK));
        }
        r
    }

    /// `cb(thread, samples, vmstate)` on the profiler's coroutine, whose body is the
    /// [`trampoline`]: nothing is pushed on the sampled thread's stack.
    fn run_profile_callback(&mut self, cb: Value, th: GcRef<GcThread>, samples: u32, vmstate: u8) -> LResult<()> {
        let reg = self.registry;
        // (A script can reach the registry: anything else under the key is replaced.)
        let ours =
            |f: &GcRef<crate::func::GcFunc>| f.ffid == super::super::FF_PROFILE_TRAMPOLINE && f.num_upvals() == 4;
        let tramp = match reg.get(key(&TRAMPOLINE_KEY)).as_function().filter(ours) {
            Some(f) => f,
            _ => {
                let f = super::super::new_func(self, super::super::FF_PROFILE_TRAMPOLINE, 4)?;
                self.table_set(reg, key(&TRAMPOLINE_KEY), Value::function(f))?;
                f
            }
        };
        let reusable = |co: GcRef<GcThread>| co.status == ThreadStatus::Dead && co.is_empty();
        let co = match reg.get(key(&THREAD_KEY)).as_thread() {
            Some(co) if reusable(co) => co,
            _ => {
                let env = self.globals;
                let co = self.new_thread(env)?;
                self.table_set(reg, key(&THREAD_KEY), Value::thread(co))?;
                co
            }
        };
        let args = [
            cb,
            Value::thread(th),
            Value::number(samples as f64),
            self.str_value(&[vmstate])?,
        ];
        for (i, v) in args.into_iter().enumerate() {
            tramp.native_upvals()[i] = v;
            crate::gc::barrier_forward(self, tramp.header(), v);
        }
        let t = co.get_mut();
        t.stack[0] = Value::function(tramp);
        t.top = 1;
        t.status = ThreadStatus::Suspended;
        let r = self.resume(co, 0);
        // The sampled thread is not kept alive by the trampoline.
        tramp.native_upvals()[1] = Value::NIL;
        match r {
            Ok(_) => Ok(()),
            Err(ResumeError::Failed(v)) if v.as_string() == Some(self.oom_msg) => Err(Throw::Oom),
            Err(ResumeError::Failed(v)) => Err(Throw::Error(v)),
            Err(ResumeError::Aborted) => Err(Throw::Abort),
            // Too deep in Rust-level calls to run it here: the samples are dropped.
            Err(ResumeError::Refused(_)) => Ok(()),
        }
    }
}

/// `dump = profile.dumpstack([thread,] fmt, depth)`.
pub(crate) fn dumpstack(st: &mut State) -> LResult<usize> {
    let (th, arg) = match st.arg(1).as_thread() {
        Some(t) => (t, 1),
        None => (st.cur, 0),
    };
    let fmt = st.check_string(arg + 1)?;
    let depth = st.check_integer(arg + 2)?.clamp(i32::MIN as i64, i32::MAX as i64);
    let heap = st.heap_ref();
    let mut out = Buf::new(heap);
    let n = th.depth() as i64;
    // Levels count from the top frame (0); a negative depth lists the levels from
    // `-depth - 1` down to 0, skipping those the thread does not have.
    let levels: Box<dyn Iterator<Item = i64>> = if depth >= 0 {
        Box::new(0..depth.min(n))
    } else {
        Box::new((0..=(-depth - 1).min(n - 1)).rev())
    };
    let mut strip = true;
    let mut zap = 0;
    let mut visited = 0u64;
    for level in levels {
        visited += 1;
        let idx = (n - 1 - level) as usize;
        dump_frame(th, idx, fmt.as_bytes(), &mut strip, &mut zap, &mut out)?;
    }
    st.charge(visited)?;
    st.charge_bytes(out.len())?;
    let text = match zap {
        0 => out.as_slice(),
        z => &out.as_slice()[..z],
    };
    let s = st.str_value(text)?;
    st.push(s)?;
    Ok(1)
}

/// One frame of a stack dump, as LuaJIT's format letters ask for it.
fn dump_frame(
    th: GcRef<GcThread>,
    idx: usize,
    fmt: &[u8],
    strip: &mut bool,
    zap: &mut usize,
    out: &mut Buf,
) -> LResult<()> {
    let Some(ci) = th.frame(idx) else {
        return Ok(());
    };
    let f = th.frame_function(&ci).as_function();
    for &c in fmt {
        match c {
            b'p' => *strip = false,
            b'f' | b'F' | b'l' => {
                if c != b'l' {
                    if let Some((_, name)) = function_name_kind_in(th, idx) {
                        if c == b'F' {
                            if let Some(p) = f.and_then(|f| f.proto()) {
                                chunk_name(p.source.as_bytes(), *strip, out)?;
                                out.push(b':')?;
                            }
                        }
                        out.extend(name.as_bytes())?;
                        continue;
                    }
                }
                // No name (or `l`): the chunk and a line, or the builtin.
                match f.map(|func| (func, func.proto())) {
                    Some((_, Some(p))) => {
                        chunk_name(p.source.as_bytes(), *strip, out)?;
                        let line = if c == b'l' && ci.kind == FrameKind::Lua {
                            current_line_in(th, &ci)
                        } else {
                            -1
                        };
                        let line = if line >= 0 { line } else { p.line_defined as i64 };
                        out.extend(format!(":{line}").as_bytes())?;
                    }
                    Some((func, None)) if func.luajit_ffid().is_some() => {
                        out.extend(format!("[builtin#{}]", func.ffid).as_bytes())?;
                    }
                    Some((func, None)) => {
                        let addr = func.native().map_or(0, |n| n as usize);
                        out.extend(format!("@{addr:#x}").as_bytes())?;
                    }
                    None => out.extend(b"?")?,
                }
            }
            b'Z' => *zap = out.len(),
            _ => out.push(c)?,
        }
    }
    Ok(())
}

/// A chunk's name in a stack dump: a file or `=name` without its first character
/// (and, unless `p`, without its directory), any other chunk as `[string]`.
fn chunk_name(src: &[u8], strip: bool, out: &mut Buf) -> LResult<()> {
    match src.first() {
        Some(b'=' | b'@') => {
            let name = &src[1..];
            let name = match name.iter().rposition(|&c| c == b'/' || c == b'\\') {
                Some(i) if strip => &name[i + 1..],
                _ => name,
            };
            Ok(out.extend(name)?)
        }
        _ => Ok(out.extend(b"[string]")?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(interval_ms(b""), 10);
        assert_eq!(interval_ms(b"f"), 10);
        assert_eq!(interval_ms(b"i1"), 1);
        assert_eq!(interval_ms(b"li25f"), 25);
        assert_eq!(interval_ms(b"i"), 1);
        assert_eq!(interval_ms(b"i0"), 1);
        assert_eq!(interval_ms(b"i99999999999999999999999"), 1 << 31);
    }
}
