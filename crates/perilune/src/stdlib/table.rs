//! The `table` library as LuaJIT 2.1 ships it: `concat`, `insert`, `remove`, `sort`,
//! `maxn`, `getn`, `move`, `foreach`, `foreachi`, plus the extension modules
//! `table.new` and `table.clear`.
//!
//! Every table access here is raw (no `__index`/`__newindex`), and lengths are the
//! raw border `#t`, as in LuaJIT. Integer positions are converted the way LuaJIT
//! converts integer arguments: truncated toward zero to 32 bits, with values outside
//! that range becoming `-2^31` (what the x86 conversion yields). `remove` and `move`
//! keep their position arguments as numbers in their loops, as LuaJIT's versions
//! (written in Lua) do, so fractional positions behave the same.
//!
//! Functions that call back into Lua (`sort`, `foreach`, `foreachi`) keep every
//! value they need after a call in a stack slot of their own frame: the table and
//! function are arguments 1 and 2, and slot 3 holds the sort pivot or the traversal
//! key. Values read from the table into Rust locals are used only before the next
//! call, since the collector can run during a call.

use crate::alloc::HVec;
use crate::object::{GcRef, GcTable};
use crate::value::Value;
use crate::vm::error::{LResult, Throw};
use crate::vm::state::{State, Tm};

pub fn open(st: &mut State) -> LResult<()> {
    open_lib(st)
}

fn open_lib(st: &mut State) -> LResult<()> {
    let t = st.new_table(0, 16)?;
    super::open_funcs(st, super::Lib::Table, t)?;
    st.set_global("table", Value::table(t))?;
    register_loaded(st, t)
}

/// Put `table.new` and `table.clear` into `package.loaded` under the names
/// `require` will look for, if the package library is already open.
fn register_loaded(st: &mut State, t: GcRef<GcTable>) -> LResult<()> {
    let pkg = st.get_global("package")?;
    let Some(pkg) = pkg.as_table() else { return Ok(()) };
    let k = st.intern(b"loaded")?;
    let Some(loaded) = pkg.get_str(k).as_table() else {
        return Ok(());
    };
    for (field, module) in [(&b"new"[..], &b"table.new"[..]), (b"clear", b"table.clear")] {
        let k = st.intern(field)?;
        let f = t.get_str(k);
        let name = st.str_value(module)?;
        st.table_set(loaded, name, f)?;
    }
    Ok(())
}

/// LuaJIT's conversion of an integer argument or raw index: truncation toward zero
/// to 32 bits; NaN and values out of range give `i32::MIN`.
fn to_int(n: f64) -> i64 {
    if n > -2_147_483_649.0 && n < 2_147_483_648.0 {
        n as i32 as i64
    } else {
        i32::MIN as i64
    }
}

fn check_int(st: &mut State, i: usize) -> LResult<i64> {
    Ok(to_int(st.check_number(i)?))
}

/// Pay `units` into the interpreter's interrupt/budget countdown (`State::charge`).
/// The loops here can be long (an insert at a far negative position, a huge `move`,
/// sorting a big array): one unit per element touched keeps interrupts and
/// instruction budgets effective while they run, as they are for Lua loops.
#[inline]
fn charge(st: &mut State, units: u64) -> LResult<()> {
    st.charge(units)
}

/// Raw `t[k] = v` with the GC barrier.
fn set(st: &mut State, t: GcRef<GcTable>, k: i64, v: Value) -> LResult<()> {
    st.table_set(t, Value::number(k as f64), v)
}

fn check_function(st: &mut State, i: usize) -> LResult<Value> {
    let f = st.arg(i);
    if f.is_function() {
        Ok(f)
    } else {
        Err(st.type_error(i, "function"))
    }
}

/// LuaJIT writes `remove`, `getn`, `move`, `foreach` and `foreachi` in Lua, so a
/// missing argument is a nil parameter there ("got nil", not "got no value"): these
/// start by filling their frame up to their parameter count.
fn lua_params(st: &mut State, n: usize) -> LResult<()> {
    for _ in st.arg_count()..n {
        st.push(Value::NIL)?;
    }
    Ok(())
}

/// Make the frame hold exactly `n` values (dropping extra arguments, padding with
/// nil), so that slot `n` can be used as a rooted scratch slot.
fn set_frame_size(st: &mut State, n: usize) -> LResult<()> {
    let have = st.arg_count();
    if have > n {
        st.pop(have - n);
    }
    for _ in have..n {
        st.push(Value::NIL)?;
    }
    Ok(())
}

// --- concat -----------------------------------------------------------------------

/// `concat(t [, sep [, i [, j]]])`: strings and numbers only; anything else is
/// "invalid value (TYPE) at index N in table for 'concat'".
pub(crate) fn concat(st: &mut State) -> LResult<usize> {
    let t = st.check_table(1)?;
    let sep = if st.arg(2).is_nil() {
        None
    } else {
        Some(st.check_string(2)?)
    };
    let i = if st.arg(3).is_nil() { 1 } else { check_int(st, 3)? };
    let j = if st.arg(4).is_nil() {
        t.length() as i64
    } else {
        check_int(st, 4)?
    };
    let mut buf: HVec<u8> = HVec::new(st.heap_ref());
    let mut k = i;
    while k <= j {
        charge(st, 1)?;
        let v = t.get_int(k);
        if let Some(s) = v.as_string() {
            st.charge_bytes(s.len())?;
            buf.extend_from_slice(s.as_bytes())?;
        } else if let Some(n) = v.as_number() {
            let mut nb = [0u8; 64];
            let len = crate::number::fmt_number(n, &mut nb);
            buf.extend_from_slice(nb.get(..len).unwrap_or_default())?;
        } else {
            let tn = crate::vm::meta::type_name(v);
            let k = k.to_string();
            return Err(st.rt_error_fmt(crate::errmsg::CONCAT_VALUE, &[tn.as_bytes(), k.as_bytes()]));
        }
        if k == j {
            break;
        }
        if let Some(sep) = sep {
            buf.extend_from_slice(sep.as_bytes())?;
        }
        k += 1;
    }
    super::string::push_charged(st, buf.as_slice(), false)?;
    Ok(1)
}

// --- insert, remove, move ----------------------------------------------------------

/// `insert(t, v)` appends at `#t + 1`; `insert(t, pos, v)` shifts `t[pos..#t]` up by
/// one first (for any `pos`, as LuaJIT: a position past the end just stores there).
pub(crate) fn insert(st: &mut State) -> LResult<usize> {
    let t = st.check_table(1)?;
    let end = t.length() as i64 + 1;
    let nargs = st.arg_count();
    let pos = match nargs {
        2 => end,
        3 => {
            let pos = check_int(st, 2)?;
            let mut i = end;
            while i > pos {
                charge(st, 1)?;
                let v = t.get_int(i - 1);
                set(st, t, i, v)?;
                i -= 1;
            }
            pos
        }
        _ => return Err(st.rt_error(crate::errmsg::INSERT_ARGUMENTS)),
    };
    let v = st.arg(nargs);
    set(st, t, pos, v)?;
    Ok(0)
}

/// `remove(t [, pos])`: without `pos` pops `t[#t]`; with `pos` in `1..=#t` shifts the
/// rest down. Returns the removed value, or nothing when there is nothing to remove.
pub(crate) fn remove(st: &mut State) -> LResult<usize> {
    lua_params(st, 2)?;
    let t = st.check_table(1)?;
    let len = t.length() as i64;
    if st.arg(2).is_nil() {
        if len == 0 {
            return Ok(0);
        }
        let old = t.get_int(len);
        set(st, t, len, Value::NIL)?;
        st.push(old)?;
        return Ok(1);
    }
    let pos = st.check_number(2)?;
    let lenf = len as f64;
    if !(pos >= 1.0 && pos <= lenf) {
        return Ok(0);
    }
    let old = t.get_int(to_int(pos));
    // `pos` stays a number here: for a fractional one LuaJIT's loop runs over
    // `pos+1, pos+2, ...` and each access truncates, and so does this one.
    let mut i = pos + 1.0;
    while i <= lenf {
        charge(st, 1)?;
        let v = t.get_int(to_int(i));
        set(st, t, to_int(i - 1.0), v)?;
        i += 1.0;
    }
    set(st, t, len, Value::NIL)?;
    st.push(old)?;
    Ok(1)
}

/// `move(a1, f, e, t [, a2])`: `a2[t..] = a1[f..e]`, copying backwards when the
/// ranges overlap that way. Returns `a2`.
pub(crate) fn move_(st: &mut State) -> LResult<usize> {
    lua_params(st, 5)?;
    let a1 = st.check_table(1)?;
    let f = st.check_number(2)?;
    let e = st.check_number(3)?;
    let to = st.check_number(4)?;
    let a2 = if st.arg(5).is_nil() { a1 } else { st.check_table(5)? };
    if e >= f {
        let d = to - f;
        // The number of iterations of `for i = f, e`, counted up front so that the
        // loop ends even where `i + 1 == i`.
        let count = (e - f).floor() + 1.0;
        let forward = to > e || to <= f || a2 != a1;
        let mut k = 0.0;
        while k < count {
            charge(st, 1)?;
            let i = if forward { f + k } else { e - k };
            let v = a1.get_int(to_int(i));
            set(st, a2, to_int(i + d), v)?;
            k += 1.0;
        }
    }
    st.push(Value::table(a2))?;
    Ok(1)
}

// --- maxn, getn, new, clear --------------------------------------------------------

/// The largest positive number key (integer or not), or 0.
pub(crate) fn maxn(st: &mut State) -> LResult<usize> {
    let t = st.check_table(1)?;
    charge(st, (t.array_len() + t.hash_len()) as u64)?;
    let m = t
        .iter()
        .filter_map(|(k, _)| k.as_number())
        .fold(0.0, |m, n| if n > m { n } else { m });
    st.push(Value::number(m))?;
    Ok(1)
}

pub(crate) fn getn(st: &mut State) -> LResult<usize> {
    lua_params(st, 1)?;
    let t = st.check_table(1)?;
    st.push(Value::number(t.length() as f64))?;
    Ok(1)
}

/// Largest `narray` and `nhash` for `table.new`, LuaJIT's limits (2^28 array
/// slots, 2^26 hash nodes); bigger requests are "table overflow". Within them a
/// request is still subject to the memory limit ("not enough memory").
const NEW_MAX_ARRAY: i64 = 1 << 28;
const NEW_MAX_HASH: i64 = 1 << 26;

/// `table.new(narray, nhash)`: an empty table with preallocated parts. Negative
/// sizes mean none.
pub(crate) fn new(st: &mut State) -> LResult<usize> {
    let na = check_int(st, 1)?;
    let nh = check_int(st, 2)?;
    if na > NEW_MAX_ARRAY || nh > NEW_MAX_HASH {
        return Err(st.rt_error(crate::errmsg::TABLE_OVERFLOW));
    }
    // The parts are filled with nil: 8 bytes an array slot, 24 a node.
    st.charge_bytes((na.max(0) as usize) * 8 + (nh.max(0) as usize) * 24)?;
    let t = st.new_table(na.max(0) as usize, nh.max(0) as usize)?;
    st.push(Value::table(t))?;
    Ok(1)
}

/// `table.clear(t)`: remove every key and keep the allocated parts for reuse.
/// Setting values to nil cannot fail or allocate, and leaves dead keys that the
/// table reuses or drops at its next resize, as any deletion does.
pub(crate) fn clear(st: &mut State) -> LResult<usize> {
    let t = st.check_table(1)?;
    charge(st, (t.array_len() + t.hash_len()) as u64)?;
    t.get_mut().for_each_value_mut(|_, v| *v = Value::NIL);
    Ok(0)
}

// --- foreach, foreachi -------------------------------------------------------------

/// Call `f(k, v)` (the function is argument 2); returns its result when not nil.
fn call_pair(st: &mut State, k: Value, v: Value) -> LResult<Option<Value>> {
    let f = st.arg(2);
    st.push(f)?;
    st.push(k)?;
    st.push(v)?;
    st.call(2, 1)?;
    let r = st.peek(0);
    if r.is_nil() {
        st.pop(1);
        Ok(None)
    } else {
        Ok(Some(r))
    }
}

/// `foreachi(t, f)`: `f(i, t[i])` for `i = 1, #t` (the length taken once); stops
/// and returns the first non-nil result.
pub(crate) fn foreachi(st: &mut State) -> LResult<usize> {
    lua_params(st, 2)?;
    let t = st.check_table(1)?;
    check_function(st, 2)?;
    set_frame_size(st, 2)?;
    let n = t.length() as i64;
    for i in 1..=n {
        let v = t.get_int(i);
        if call_pair(st, Value::number(i as f64), v)?.is_some() {
            // The result is on top of the stack.
            return Ok(1);
        }
    }
    Ok(0)
}

/// `foreach(t, f)`: `f(k, v)` for every pair in `next` order; stops and returns
/// the first non-nil result. The current key lives in slot 3.
pub(crate) fn foreach(st: &mut State) -> LResult<usize> {
    lua_params(st, 2)?;
    let t = st.check_table(1)?;
    check_function(st, 2)?;
    set_frame_size(st, 3)?;
    loop {
        let (k, v) = match super::base::next_paid(st, t, st.arg(3))? {
            Ok(Some(kv)) => kv,
            Ok(None) => return Ok(0),
            Err(()) => return Err(st.rt_error(crate::errmsg::NEXT_KEY)),
        };
        st.set_arg(3, k);
        if call_pair(st, k, v)?.is_some() {
            return Ok(1);
        }
    }
}

// --- sort --------------------------------------------------------------------------

/// Stack slot (argument index) that holds the pivot during a partition.
const PIVOT: usize = 3;

/// `sort(t [, comp])`: an in-place introsort of `t[1..#t]` — quicksort with a
/// median-of-three pivot, falling back to heapsort for ranges that recurse too
/// deep — comparing with `comp(a, b)` or `a < b` (with `__lt`).
///
/// An inconsistent comparator can make a partition scan run past its range; that
/// is reported as "invalid order function for sorting" (as in Lua) instead of
/// reading outside the range. Every loop is bounded by the range size, so a
/// comparator that lies, errors, yields or modifies the table cannot make the
/// sort loop forever or crash; the table then ends up in some permutation (plus
/// whatever the comparator stored).
pub(crate) fn sort(st: &mut State) -> LResult<usize> {
    let t = st.check_table(1)?;
    let n = t.length() as i64;
    let has_cmp = !st.arg(2).is_nil();
    if has_cmp {
        check_function(st, 2)?;
    }
    set_frame_size(st, PIVOT)?;
    let s = Sorter { t, has_cmp };
    if n > 1 {
        // Introsort's depth limit: twice the depth a balanced quicksort needs.
        let budget = 2 * (64 - (n as u64).leading_zeros());
        s.quicksort(st, 1, n, budget)?;
    }
    Ok(0)
}

struct Sorter {
    /// The table (rooted: it is argument 1).
    t: GcRef<GcTable>,
    /// Whether argument 2 is a comparison function.
    has_cmp: bool,
}

impl Sorter {
    fn get(&self, i: i64) -> Value {
        self.t.get_int(i)
    }

    fn swap(&self, st: &mut State, i: i64, j: i64) -> LResult<()> {
        let (a, b) = (self.get(i), self.get(j));
        set(st, self.t, i, b)?;
        set(st, self.t, j, a)
    }

    /// `a < b` by the comparator or the language's order. The comparator is called
    /// with `a` and `b` on the stack as its arguments, so they stay alive.
    fn less(&self, st: &mut State, a: Value, b: Value) -> LResult<bool> {
        charge(st, 1)?;
        if self.has_cmp {
            let f = st.arg(2);
            return Ok(st.call_sync(f, &[a, b])?.is_truthy());
        }
        less_than(st, a, b)
    }

    /// Whether `t[i] < t[j]`.
    fn less_at(&self, st: &mut State, i: i64, j: i64) -> LResult<bool> {
        let (a, b) = (self.get(i), self.get(j));
        self.less(st, a, b)
    }

    fn invalid_order(st: &mut State) -> Throw {
        st.rt_error(crate::errmsg::SORT_ORDER)
    }

    /// Sort `t[lo..=hi]`. Recurses into the smaller part and loops on the larger,
    /// so the recursion depth is at most log2 of the range size.
    fn quicksort(&self, st: &mut State, mut lo: i64, mut hi: i64, mut budget: u32) -> LResult<()> {
        while lo < hi {
            // Median of three: order t[lo] <= t[mid] <= t[hi]. This also sorts
            // ranges of up to three elements completely.
            if self.less_at(st, hi, lo)? {
                self.swap(st, lo, hi)?;
            }
            if hi - lo == 1 {
                return Ok(());
            }
            let mid = lo + (hi - lo) / 2;
            if self.less_at(st, mid, lo)? {
                self.swap(st, mid, lo)?;
            } else if self.less_at(st, hi, mid)? {
                self.swap(st, mid, hi)?;
            }
            if hi - lo == 2 {
                return Ok(());
            }
            if budget == 0 {
                return self.heapsort(st, lo, hi);
            }
            budget -= 1;
            let i = self.partition(st, lo, mid, hi)?;
            if i - lo < hi - i {
                self.quicksort(st, lo, i - 1, budget)?;
                lo = i + 1;
            } else {
                self.quicksort(st, i + 1, hi, budget)?;
                hi = i - 1;
            }
        }
        Ok(())
    }

    /// Partition `t[lo..=hi]` (at least four elements, ends already ordered against
    /// the median at `mid`) around that median; returns where the pivot ends up:
    /// everything before it is not greater, everything after not smaller.
    fn partition(&self, st: &mut State, lo: i64, mid: i64, hi: i64) -> LResult<i64> {
        let p = self.get(mid);
        // Rooted in its own slot while the comparator runs.
        st.set_arg(PIVOT, p);
        // Park the pivot next to the end: with t[lo] <= P and t[hi-1] == P the scans
        // below stop inside the range for any consistent order.
        self.swap(st, mid, hi - 1)?;
        let (mut i, mut j) = (lo, hi - 1);
        loop {
            loop {
                i += 1;
                let v = self.get(i);
                if !self.less(st, v, p)? {
                    break;
                }
                if i >= hi {
                    return Err(Self::invalid_order(st));
                }
            }
            loop {
                j -= 1;
                let v = self.get(j);
                if !self.less(st, p, v)? {
                    break;
                }
                if j <= lo {
                    return Err(Self::invalid_order(st));
                }
            }
            if j < i {
                break;
            }
            self.swap(st, i, j)?;
        }
        self.swap(st, hi - 1, i)?;
        Ok(i)
    }

    /// Heapsort of `t[lo..=hi]`, for ranges where quicksort keeps picking bad
    /// pivots: O(n log n) comparisons whatever the input.
    fn heapsort(&self, st: &mut State, lo: i64, hi: i64) -> LResult<()> {
        let n = hi - lo + 1;
        for root in (0..n / 2).rev() {
            self.sift_down(st, lo, root, n)?;
        }
        for end in (1..n).rev() {
            self.swap(st, lo, lo + end)?;
            self.sift_down(st, lo, 0, end)?;
        }
        Ok(())
    }

    /// Restore the max-heap property below `root` in the heap `t[lo..lo+n]`
    /// (0-based heap positions).
    fn sift_down(&self, st: &mut State, lo: i64, mut root: i64, n: i64) -> LResult<()> {
        loop {
            let mut child = 2 * root + 1;
            if child >= n {
                return Ok(());
            }
            if child + 1 < n && self.less_at(st, lo + child, lo + child + 1)? {
                child += 1;
            }
            if !self.less_at(st, lo + root, lo + child)? {
                return Ok(());
            }
            self.swap(st, lo + root, lo + child)?;
            root = child;
        }
    }
}

/// `a < b` as the `<` operator computes it (numbers, strings, then a shared
/// `__lt`), run to completion. A failed comparison is reported without a source
/// position: it happens inside `sort`, as in LuaJIT.
fn less_than(st: &mut State, a: Value, b: Value) -> LResult<bool> {
    if let (Some(x), Some(y)) = (a.as_number(), b.as_number()) {
        return Ok(x < y);
    }
    if let (Some(x), Some(y)) = (a.as_string(), b.as_string()) {
        return Ok(st.compare_bytes(x.as_bytes(), y.as_bytes())?.is_lt());
    }
    if a.lua_type() == b.lua_type() {
        let h = st.tm_of(a, Tm::Lt);
        if !h.is_nil() && Value::raw_equal(h, st.tm_of(b, Tm::Lt)) {
            return Ok(st.call_sync(h, &[a, b])?.is_truthy());
        }
    }
    let (ta, tb) = (crate::vm::meta::type_name(a), crate::vm::meta::type_name(b));
    let msg = if ta == tb {
        crate::errmsg::Parts::new(crate::errmsg::COMPARE_SAME, &[ta.as_bytes()])
    } else {
        crate::errmsg::Parts::new(crate::errmsg::COMPARE_MIXED, &[ta.as_bytes(), tb.as_bytes()])
    };
    Err(st.error_at(None, &msg))
}
