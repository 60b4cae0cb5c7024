//! Metamethods and the slow paths of the operators.
//!
//! The interpreter handles the common cases (numbers, plain tables) inline and calls
//! into this module otherwise. Operations that may run a Lua metamethod come in the
//! interpreter's form: they either finish at once (`Some(value)`), or start the
//! metamethod as a VM frame with a [`Cont`] that completes the instruction when it
//! returns (`None`; the interpreter then reloads its frame). Natives that need the
//! same operations call the `*_sync` forms, which run metamethods to completion with
//! a nested call (a boundary yields cannot cross).
//!
//! Invariants:
//! - `__index`/`__newindex` chains are followed at most [`MAX_META_CHAIN`] times
//!   ("loop in gettable"/"loop in settable").
//! - Metamethods are looked up raw; `__eq`, `__lt` and `__le` follow Lua 5.1's rule
//!   that both operands must supply the same metamethod.

use crate::object::{GcRef, GcTable};
use crate::table::TableError;
use crate::value::{LuaType, Value};
use crate::vm::call::{ensure_stack, precall, Entered};
use crate::vm::error::{LResult, Throw};
use crate::vm::frame::Cont;
use crate::vm::state::{State, Tm};
use crate::vm::thread::EXTRA_STACK;

/// How many `__index`/`__newindex` hops before giving up.
pub const MAX_META_CHAIN: usize = 100;

/// Arithmetic operators with metamethods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Unm,
}

impl Arith {
    fn tm(self) -> Tm {
        match self {
            Arith::Add => Tm::Add,
            Arith::Sub => Tm::Sub,
            Arith::Mul => Tm::Mul,
            Arith::Div => Tm::Div,
            Arith::Mod => Tm::Mod,
            Arith::Pow => Tm::Pow,
            Arith::Unm => Tm::Unm,
        }
    }
    /// The boxed result: unchecked for the operators done in hardware (see
    /// `Value::arith`), canonicalised for those that go through library code.
    #[inline(always)]
    pub fn apply_boxed(self, a: f64, b: f64) -> Value {
        match self {
            Arith::Mod | Arith::Pow => Value::number(self.apply(a, b)),
            _ => Value::arith(self.apply(a, b)),
        }
    }
    #[inline(always)]
    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Arith::Add => a + b,
            Arith::Sub => a - b,
            Arith::Mul => a * b,
            Arith::Div => a / b,
            Arith::Mod => crate::number::lua_mod(a, b),
            Arith::Pow => crate::number::lua_pow(a, b),
            Arith::Unm => -a,
        }
    }
}

/// Result of following an `__index` chain.
pub enum Lookup {
    Found(Value),
    /// Call this handler with (object, key).
    Call(Value, Value),
}

impl State {
    /// Metamethod `tm` of metatable `mt` (nil if none), using the absence cache.
    #[inline]
    pub fn tm_in(&self, mt: Option<GcRef<GcTable>>, tm: Tm) -> Value {
        let Some(mt) = mt else { return Value::NIL };
        let bit = tm as u8;
        if bit < 8 && mt.hdr.flags & (1 << bit) != 0 {
            return Value::NIL;
        }
        let v = mt.get_str(self.tm_names[tm as usize]);
        if v.is_nil() && bit < 8 {
            mt.get_mut().hdr.flags |= 1 << bit;
        }
        v
    }

    /// Metamethod `tm` of value `v` (nil if none).
    #[inline]
    pub fn tm_of(&self, v: Value, tm: Tm) -> Value {
        self.tm_in(self.metatable_of(v), tm)
    }

    /// Raw store with the GC barrier and Lua's key errors.
    pub fn table_set(&mut self, t: GcRef<GcTable>, key: Value, val: Value) -> LResult<()> {
        match t.get_mut().set(key, val) {
            Ok(()) => {
                crate::gc::barrier_back(self, t, val);
                crate::gc::barrier_back(self, t, key);
                Ok(())
            }
            Err(TableError::NilKey) => Err(self.rt_error_here(crate::errmsg::TABLE_INDEX_NIL)),
            Err(TableError::NanKey) => Err(self.rt_error_here(crate::errmsg::TABLE_INDEX_NAN)),
            Err(TableError::Oom) => Err(Throw::Oom),
        }
    }

    /// Follow `__index` from `obj` for `key`. `reg` names the register `obj` came from,
    /// for the error message.
    pub fn index_chain(&mut self, obj: Value, key: Value, reg: Option<u32>) -> LResult<Lookup> {
        let mut o = obj;
        let mut reg = reg;
        for _ in 0..MAX_META_CHAIN {
            let h = if let Some(t) = o.as_table() {
                let v = t.get(key);
                if !v.is_nil() {
                    return Ok(Lookup::Found(v));
                }
                let h = self.tm_in(t.metatable, Tm::Index);
                if h.is_nil() {
                    return Ok(Lookup::Found(Value::NIL));
                }
                h
            } else {
                let h = self.tm_of(o, Tm::Index);
                if h.is_nil() {
                    return Err(self.op_error(crate::errmsg::OP_INDEX, o, reg));
                }
                h
            };
            if h.is_function() {
                return Ok(Lookup::Call(h, o));
            }
            o = h;
            reg = None;
        }
        Err(self.rt_error_here(crate::errmsg::LOOP_GETTABLE))
    }

    /// Follow `__newindex` from `obj`; store raw where the chain ends. Returns a handler
    /// to call with (object, key, value) if one is found.
    pub fn newindex_chain(
        &mut self,
        obj: Value,
        key: Value,
        val: Value,
        reg: Option<u32>,
    ) -> LResult<Option<(Value, Value)>> {
        let mut o = obj;
        let mut reg = reg;
        for _ in 0..MAX_META_CHAIN {
            let h = if let Some(t) = o.as_table() {
                let h = self.tm_in(t.metatable, Tm::NewIndex);
                if h.is_nil() || !t.get(key).is_nil() {
                    self.table_set(t, key, val)?;
                    return Ok(None);
                }
                h
            } else {
                let h = self.tm_of(o, Tm::NewIndex);
                if h.is_nil() {
                    return Err(self.op_error(crate::errmsg::OP_INDEX, o, reg));
                }
                h
            };
            if h.is_function() {
                return Ok(Some((h, o)));
            }
            o = h;
            reg = None;
        }
        Err(self.rt_error_here(crate::errmsg::LOOP_SETTABLE))
    }

    /// `obj[key]` running metamethods to completion.
    pub fn index_sync(&mut self, obj: Value, key: Value) -> LResult<Value> {
        match self.index_chain(obj, key, None)? {
            Lookup::Found(v) => Ok(v),
            Lookup::Call(h, o) => self.call_sync(h, &[o, key]),
        }
    }

    /// `obj[key] = val` running metamethods to completion.
    pub fn newindex_sync(&mut self, obj: Value, key: Value, val: Value) -> LResult<()> {
        if let Some((h, o)) = self.newindex_chain(obj, key, val, None)? {
            self.call_sync(h, &[o, key, val])?;
        }
        Ok(())
    }

    /// Call `f(args)` with a nested call and return its first result.
    pub fn call_sync(&mut self, f: Value, args: &[Value]) -> LResult<Value> {
        self.push(f)?;
        for &a in args {
            self.push(a)?;
        }
        self.call(args.len(), 1)?;
        let v = self.peek(0);
        self.pop(1);
        Ok(v)
    }
}

/// Free slots below a metamethod's function slot (see [`call_meta`]).
pub(crate) const META_GAP: usize = 2;

/// Start metamethod `mm` with `args` above the current frame; its results are handled
/// by `cont`. A Lua metamethod leaves a new frame on top; a native one has finished.
pub fn call_meta(st: &mut State, mm: Value, args: &[Value], cont: Cont) -> LResult<()> {
    let th = st.cur;
    let above = match th.frames.last() {
        Some(ci) => (ci.top as usize).max(th.top),
        None => th.top,
    };
    // Two slots stay free below the metamethod, as LuaJIT's continuation frame takes
    // them: a recursion through metamethods then overflows at LuaJIT's depth (see
    // `call::MAX_SLOTS`). They are cleared, as they lie below the callee's top.
    let func = above + META_GAP;
    ensure_stack(st, th, func + args.len() + 1 + EXTRA_STACK)?;
    let t = th.get_mut();
    if let Some(gap) = t.stack.as_mut_slice().get_mut(above..func) {
        gap.fill(Value::NIL);
    }
    t.stack[func] = mm;
    for (i, &a) in args.iter().enumerate() {
        t.stack[func + 1 + i] = a;
    }
    t.top = func + 1 + args.len();
    let entered = precall(st, func, args.len(), 1, cont, 0)?;
    // A native metamethod whose result went to a register has run to completion and
    // may have allocated (cdata arithmetic and fields make an object per result):
    // this is a safe point, as after a native CALL, or a loop of such operations
    // never pays the collector's debt. Only for `Store`: after it the interpreter
    // always re-enters its frame (reloading the stack, which finalizers may move), and
    // its pc is saved. Here, out of the dispatch loop, it costs the loop nothing.
    let owed = st.heap.debt() > 0 || crate::gc::has_pending_finalizers(st);
    if owed && matches!(entered, Entered::Native) && matches!(cont, Cont::Store(_)) {
        if let Some(top) = st.cur.frames.last().map(|ci| ci.top as usize) {
            st.cur.get_mut().top = top;
            st.safe_point();
        }
    }
    Ok(())
}

/// A number from a value, with Lua 5.1's string coercion.
#[inline]
pub fn coerce_num(v: Value) -> Option<f64> {
    if let Some(n) = v.as_number() {
        return Some(n);
    }
    v.as_string().and_then(|s| crate::number::str_to_number(s.as_bytes()))
}

/// Arithmetic slow path: coercion, then `__op` of either operand.
pub fn arith(
    st: &mut State,
    op: Arith,
    a: Value,
    b: Value,
    dest: usize,
    regs: (Option<u32>, Option<u32>),
) -> LResult<Option<Value>> {
    if let (Some(x), Some(y)) = (coerce_num(a), coerce_num(b)) {
        return Ok(Some(Value::number(op.apply(x, y))));
    }
    let mut h = st.tm_of(a, op.tm());
    if h.is_nil() {
        h = st.tm_of(b, op.tm());
    }
    if h.is_nil() {
        let (bad, reg) = if coerce_num(a).is_none() {
            (a, regs.0)
        } else {
            (b, regs.1)
        };
        return Err(st.op_error(crate::errmsg::OP_ARITH, bad, reg));
    }
    call_meta(st, h, &[a, b], Cont::Store(dest as u32))?;
    Ok(None)
}

/// Both operands' metamethod `tm`, if they agree (Lua 5.1 comparison rule).
fn comp_tm(st: &State, a: Value, b: Value, tm: Tm) -> Value {
    let h1 = st.tm_of(a, tm);
    if h1.is_nil() {
        return Value::NIL;
    }
    let h2 = st.tm_of(b, tm);
    if Value::raw_equal(h1, h2) {
        h1
    } else {
        Value::NIL
    }
}

fn compare_error(st: &mut State, a: Value, b: Value) -> Throw {
    let (ta, tb) = (a.type_name(), b.type_name());
    if ta == tb {
        st.rt_error_fmt(crate::errmsg::COMPARE_SAME, &[ta.as_bytes()])
    } else {
        st.rt_error_fmt(crate::errmsg::COMPARE_MIXED, &[ta.as_bytes(), tb.as_bytes()])
    }
}

/// `a < b`. `Some(result)`, or `None` if a metamethod frame will apply the jump
/// (taken when its result's truth differs from `negate`).
pub fn less_than(st: &mut State, a: Value, b: Value, negate: bool) -> LResult<Option<bool>> {
    if let (Some(x), Some(y)) = (a.as_number(), b.as_number()) {
        return Ok(Some(x < y));
    }
    if let (Some(x), Some(y)) = (a.as_string(), b.as_string()) {
        return Ok(Some(st.compare_bytes(x.as_bytes(), y.as_bytes())?.is_lt()));
    }
    if let Some(h) = cdata_tm(st, a, b, Tm::Lt) {
        call_meta(st, h, &[a, b], Cont::Cond { negate })?;
        return Ok(None);
    }
    if a.lua_type() == b.lua_type() {
        let h = comp_tm(st, a, b, Tm::Lt);
        if !h.is_nil() {
            call_meta(st, h, &[a, b], Cont::Cond { negate })?;
            return Ok(None);
        }
    }
    Err(compare_error(st, a, b))
}

/// `a <= b`, with Lua 5.1's fallback to `not (b < a)` when there is no `__le`.
pub fn less_equal(st: &mut State, a: Value, b: Value, negate: bool) -> LResult<Option<bool>> {
    if let (Some(x), Some(y)) = (a.as_number(), b.as_number()) {
        return Ok(Some(x <= y));
    }
    if let (Some(x), Some(y)) = (a.as_string(), b.as_string()) {
        return Ok(Some(st.compare_bytes(x.as_bytes(), y.as_bytes())?.is_le()));
    }
    if let Some(h) = cdata_tm(st, a, b, Tm::Le) {
        call_meta(st, h, &[a, b], Cont::Cond { negate })?;
        return Ok(None);
    }
    if a.lua_type() == b.lua_type() {
        let h = comp_tm(st, a, b, Tm::Le);
        if !h.is_nil() {
            call_meta(st, h, &[a, b], Cont::Cond { negate })?;
            return Ok(None);
        }
        let h = comp_tm(st, b, a, Tm::Lt);
        if !h.is_nil() {
            call_meta(st, h, &[b, a], Cont::Cond { negate: !negate })?;
            return Ok(None);
        }
    }
    Err(compare_error(st, a, b))
}

/// A comparison with C data on either side goes to the cdata metatable's metamethod
/// whatever the other operand is (`p == nil`, `1LL < 2`), as in LuaJIT.
fn cdata_tm(st: &State, a: Value, b: Value, tm: Tm) -> Option<Value> {
    let c = if a.as_cdata().is_some() {
        a
    } else if b.as_cdata().is_some() {
        b
    } else {
        return None;
    };
    Some(st.tm_of(c, tm)).filter(|h| !h.is_nil())
}

/// `a == b` with `__eq` for two tables or two userdata, or C data and anything.
pub fn equal(st: &mut State, a: Value, b: Value, negate: bool) -> LResult<Option<bool>> {
    if let Some(h) = cdata_tm(st, a, b, Tm::Eq) {
        call_meta(st, h, &[a, b], Cont::Cond { negate })?;
        return Ok(None);
    }
    if Value::raw_equal(a, b) {
        return Ok(Some(true));
    }
    let same_kind = (a.is_table() && b.is_table()) || (a.as_userdata().is_some() && b.as_userdata().is_some());
    if !same_kind {
        return Ok(Some(false));
    }
    let h = comp_tm(st, a, b, Tm::Eq);
    if h.is_nil() {
        return Ok(Some(false));
    }
    call_meta(st, h, &[a, b], Cont::Cond { negate })?;
    Ok(None)
}

/// `#v`: strings and tables directly (Lua 5.1 ignores `__len` for tables), `__len`
/// for the rest.
pub fn length(st: &mut State, v: Value, dest: usize, reg: Option<u32>) -> LResult<Option<Value>> {
    if let Some(s) = v.as_string() {
        return Ok(Some(Value::number(s.len() as f64)));
    }
    if let Some(t) = v.as_table() {
        return Ok(Some(Value::number(t.length() as f64)));
    }
    let h = st.tm_of(v, Tm::Len);
    if h.is_nil() {
        return Err(st.op_error(crate::errmsg::OP_LEN, v, reg));
    }
    call_meta(st, h, &[v, Value::NIL], Cont::Store(dest as u32))?;
    Ok(None)
}

fn is_concatable(v: Value) -> bool {
    v.is_string() || v.is_number()
}

/// Concatenate absolute slots `base..top` into slot `dest`, right to left, running
/// `__concat` where a pair is not two strings/numbers. If a Lua metamethod starts,
/// its `Cont::Concat` calls back here to finish.
pub fn concat(st: &mut State, dest: usize, base: usize, mut top: usize) -> LResult<()> {
    let th = st.cur;
    while top - base > 1 {
        let a = th.stack[top - 2];
        let b = th.stack[top - 1];
        if !is_concatable(a) || !is_concatable(b) {
            let mut h = st.tm_of(a, Tm::Concat);
            if h.is_nil() {
                h = st.tm_of(b, Tm::Concat);
            }
            if h.is_nil() {
                let bad_slot = if is_concatable(a) { top - 1 } else { top - 2 };
                let bad = th.stack[bad_slot];
                let reg = st.slot_to_reg(bad_slot);
                return Err(st.op_error(crate::errmsg::OP_CONCAT, bad, reg));
            }
            // A Lua metamethod leaves a frame whose continuation finishes the rest; a
            // native one has already run that continuation.
            call_meta(
                st,
                h,
                &[a, b],
                Cont::Concat {
                    dest: dest as u32,
                    base: base as u32,
                    top: top as u32,
                },
            )?;
            return Ok(());
        }
        // Join the longest run of strings/numbers ending at top - 1.
        let mut start = top - 2;
        while start > base && is_concatable(th.stack[start - 1]) {
            start -= 1;
        }
        let s = join(st, start, top)?;
        th.get_mut().stack[start] = Value::string(s);
        top = start + 1;
    }
    let v = th.stack[base];
    th.get_mut().stack[dest] = v;
    Ok(())
}

/// Join the strings/numbers in slots `from..to` into one interned string.
fn join(st: &mut State, from: usize, to: usize) -> LResult<GcRef<crate::object::GcStr>> {
    let th = st.cur;
    let mut total = 0usize;
    for i in from..to {
        let v = th.stack[i];
        total = total.saturating_add(match v.as_string() {
            Some(s) => s.len(),
            None => 32,
        });
    }
    // LuaJIT's largest string; beyond it the error is an overflow, not memory.
    if total > crate::buf::MAX_STR {
        return Err(st.rt_error_here(crate::errmsg::STRING_LENGTH_OVERFLOW));
    }
    // Copying and interning touch every byte twice; paid before (a copy cannot
    // stop half-way), so a budget too small for it stops the script first.
    st.charge_bytes(total.saturating_mul(2))?;
    let mut buf: crate::alloc::HVec<u8> = crate::alloc::HVec::with_capacity(st.heap_ref(), total)?;
    for i in from..to {
        let v = th.stack[i];
        if let Some(s) = v.as_string() {
            buf.extend_from_slice(s.as_bytes())?;
        } else {
            let mut nb = [0u8; 64];
            let n = crate::number::fmt_number(v.number_unchecked(), &mut nb);
            buf.extend_from_slice(&nb[..n])?;
        }
    }
    Ok(st.intern(&buf)?)
}

/// Type names for messages.
pub fn type_name(v: Value) -> &'static str {
    match v.lua_type() {
        LuaType::LightUserdata => "userdata",
        t => t.name(),
    }
}

/// `tostring(v)` of a value with `__tostring`, called at stack slot `func` with
/// `nargs` arguments: the metamethod is put in the function's slot with `v` as its
/// only argument, and the slot is returned for the call to go on there (`precall`
/// does it), so the metamethod runs as an ordinary frame in tostring's place, as
/// LuaJIT's fast function tail-calls it. `None` (no argument, no metamethod): the
/// native body runs. A metamethod that cannot be called, when tostring was called
/// from a native (`pcall(tostring, x)`), is LuaJIT's error without a position;
/// called from Lua, the call error names the callee as for any call.
pub(crate) fn tostring_meta(st: &mut State, func: usize, nargs: usize) -> LResult<Option<usize>> {
    let th = st.cur;
    if nargs == 0 {
        return Ok(None);
    }
    let mm = st.tm_of(th.stack[func + 1], Tm::Tostring);
    if mm.is_nil() {
        return Ok(None);
    }
    let from_native = th
        .frames
        .last()
        .is_some_and(|ci| ci.kind == crate::vm::frame::FrameKind::Native);
    if from_native && !mm.is_function() && !st.tm_of(mm, Tm::Call).is_function() {
        let parts = crate::errmsg::Parts::new(
            crate::errmsg::OP_ON_VALUE,
            &[crate::errmsg::OP_CALL.as_bytes(), type_name(mm).as_bytes()],
        );
        return Err(st.error_at(None, &parts));
    }
    let t = th.get_mut();
    t.stack[func] = mm;
    t.top = func + 2;
    Ok(Some(func))
}
