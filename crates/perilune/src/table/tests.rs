//! Unit tests for tables: semantics, the resize policy, traversal, memory failure
//! and a randomized comparison against a `HashMap` model.

use super::*;
use crate::alloc::{Heap, HeapRef, SystemAllocator};
use crate::string::StringTable;
use std::collections::HashMap;
use std::ptr::NonNull;

/// Field order matters: `strings` must drop before the heap it allocates from (for
/// when a failing assertion unwinds without `finish`).
struct Env {
    strings: StringTable,
    heap: Box<Heap>,
}

impl Env {
    fn new() -> Env {
        let heap = Box::new(Heap::new(Box::new(SystemAllocator)));
        let strings = StringTable::new(HeapRef::new(&heap)).unwrap();
        Env { strings, heap }
    }
    fn href(&self) -> HeapRef {
        HeapRef::new(&self.heap)
    }
    fn table(&self, narray: usize, nhash: usize) -> GcTable {
        GcTable::new(self.href(), narray, nhash).unwrap()
    }
    fn s(&mut self, text: &str) -> GcRef<GcStr> {
        self.strings.intern(&self.heap, text.as_bytes(), 1, |_| {}).unwrap()
    }
    fn sv(&mut self, text: &str) -> Value {
        Value::string(self.s(text))
    }
    /// Free the strings and check every byte came back (tables must be dropped).
    fn finish(mut self) {
        self.strings.free_all(&self.heap);
        let Env { heap, strings } = self;
        drop(strings);
        assert_eq!(heap.used(), 0, "leaked bytes");
    }
}

fn num(x: f64) -> Value {
    Value::number(x)
}
fn int(i: i64) -> Value {
    Value::number(i as f64)
}
/// A fake table reference: only its bits are used (tables hash by address).
fn fake_obj(addr: usize) -> Value {
    Value::table(GcRef::from_raw(NonNull::new(addr as *mut GcTable).unwrap()))
}
fn same(a: Value, b: Value) -> bool {
    a.bits() == b.bits()
}
fn is_border(t: &GcTable, n: usize) -> bool {
    (n == 0 || !t.get_int(n as i64).is_nil()) && t.get_int(n as i64 + 1).is_nil()
}
fn snapshot(t: &GcTable) -> Vec<(u64, u64)> {
    let mut v: Vec<(u64, u64)> = t.iter().map(|(k, v)| (k.bits(), v.bits())).collect();
    v.sort_unstable();
    v
}
/// Traverse with `next` from nil to the end, checking it agrees with `iter`.
fn traverse(t: &GcTable) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut k = Value::NIL;
    while let Some((nk, nv)) = t.next(k).unwrap() {
        assert!(!nv.is_nil());
        out.push((nk.bits(), nv.bits()));
        k = nk;
    }
    let via_iter: Vec<(u64, u64)> = t.iter().map(|(k, v)| (k.bits(), v.bits())).collect();
    assert_eq!(out, via_iter);
    out
}

#[test]
fn empty_table() {
    let env = Env::new();
    let t = env.table(0, 0);
    assert_eq!(t.byte_size(), 0);
    assert!(t.get_int(1).is_nil());
    assert!(t.get(Value::TRUE).is_nil());
    assert_eq!(t.length(), 0);
    assert!(t.next(Value::NIL).unwrap().is_none());
    assert!(t.next(int(1)).is_err());
    t.check_invariants().unwrap();
    drop(t);
    env.finish();
}

#[test]
fn new_rounds_hash_size_and_fills_array() {
    let env = Env::new();
    let base = env.heap.used();
    let t = env.table(5, 3);
    assert_eq!(t.array_len(), 5);
    assert_eq!(t.hash_len(), 4);
    assert_eq!(t.lastfree, 4);
    assert!(t.array.iter().all(|v| v.is_nil()));
    assert_eq!(t.byte_size(), 5 * 8 + 4 * std::mem::size_of::<Node>());
    assert_eq!(env.heap.used() - base, t.byte_size());
    assert_eq!(t.length(), 0);
    drop(t);
    assert!(GcTable::new(env.href(), MAX_ASIZE + 1, 0).is_err());
    assert!(GcTable::new(env.href(), 0, MAX_HSIZE + 1).is_err());
    env.finish();
}

#[test]
fn node_layout_is_stable() {
    assert_eq!(std::mem::size_of::<Node>(), 24);
    assert_eq!(std::mem::offset_of!(Node, val), 0);
    assert_eq!(std::mem::offset_of!(Node, key), 8);
    assert_eq!(std::mem::offset_of!(Node, next), 16);
}

#[test]
fn sequence_goes_to_array_and_length() {
    let env = Env::new();
    let mut t = env.table(0, 0);
    for i in 1..=100 {
        t.set_int(i, int(i * 10)).unwrap();
        assert_eq!(t.length(), i as usize);
    }
    assert_eq!(t.array_len(), 128);
    assert_eq!(t.hash_len(), 0);
    for i in 1..=100 {
        assert!(same(t.get_int(i), int(i * 10)));
        assert!(same(t.get(int(i)), int(i * 10)));
    }
    assert!(t.get_int(101).is_nil());
    assert!(t.get_int(0).is_nil());
    assert!(t.get_int(-1).is_nil());
    assert!(t.get_int(i64::MIN).is_nil());
    assert!(t.get_int(i64::MAX).is_nil());
    t.set_int(100, Value::NIL).unwrap();
    assert_eq!(t.length(), 99);
    t.check_invariants().unwrap();
    drop(t);
    env.finish();
}

#[test]
fn length_with_holes_is_a_border() {
    let env = Env::new();
    let mut t = env.table(0, 0);
    for i in [1, 2, 4, 5, 6, 9, 10, 20] {
        t.set_int(i, Value::TRUE).unwrap();
    }
    assert!(is_border(&t, t.length()));
    // Array part ending in nil: binary search in the array.
    let mut a = env.table(8, 0);
    for i in 1..=3 {
        a.set_int(i, Value::TRUE).unwrap();
    }
    assert_eq!(a.length(), 3);
    a.set_int(6, Value::TRUE).unwrap();
    assert!(is_border(&a, a.length()));
    a.set_int(1, Value::NIL).unwrap();
    assert!(is_border(&a, a.length()));
    drop((t, a));
    env.finish();
}

#[test]
fn length_of_sequence_in_hash_part() {
    let env = Env::new();
    // Room for 16 keys in the hash part and none in the array: no rehash happens.
    let mut t = env.table(0, 16);
    for i in 1..=10 {
        t.set_int(i, int(i)).unwrap();
    }
    assert_eq!(t.array_len(), 0);
    assert_eq!(t.length(), 10);
    // Array part full, continuing in the hash part.
    let mut u = env.table(4, 16);
    for i in 1..=13 {
        u.set_int(i, int(i)).unwrap();
    }
    assert_eq!(u.array_len(), 4);
    assert_eq!(u.length(), 13);
    u.set_int(7, Value::NIL).unwrap();
    assert!(is_border(&u, u.length()));
    drop((t, u));
    env.finish();
}

#[test]
fn float_and_integer_keys_are_the_same() {
    let mut env = Env::new();
    let mut t = env.table(0, 0);
    t.set(num(2.0), Value::TRUE).unwrap();
    assert!(same(t.get_int(2), Value::TRUE));
    t.set_int(3, Value::FALSE).unwrap();
    assert!(same(t.get(num(3.0)), Value::FALSE));
    t.set(num(2.5), int(25)).unwrap();
    assert!(same(t.get(num(2.5)), int(25)));
    assert!(same(t.get_num(2.5), int(25)));
    assert!(t.get_int(25).is_nil());
    // -0 and 0.
    t.set(num(-0.0), int(7)).unwrap();
    assert!(same(t.get(num(0.0)), int(7)));
    assert!(same(t.get_int(0), int(7)));
    assert!(same(t.get(num(-0.0)), int(7)));
    t.set_int(0, int(8)).unwrap();
    assert!(same(t.get(num(-0.0)), int(8)));
    // Extremes.
    for x in [
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e300,
        -1e300,
        9007199254740992.0,
        9.3e18,
        -9.3e18,
        4.9e-324,
    ] {
        t.set(num(x), num(x)).unwrap();
    }
    for x in [
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e300,
        -1e300,
        9007199254740992.0,
        9.3e18,
        -9.3e18,
        4.9e-324,
    ] {
        assert!(same(t.get(num(x)), num(x)), "{x}");
    }
    assert!(same(t.get_int(9007199254740992), num(9007199254740992.0)));
    let s = env.sv("2");
    assert!(t.get(s).is_nil(), "strings are not numbers as keys");
    t.check_invariants().unwrap();
    // Every number key in the traversal is normalised.
    for (k, _) in t.iter() {
        assert_ne!(k.bits(), (-0.0f64).to_bits());
    }
    drop(t);
    env.finish();
}

#[test]
fn nil_and_nan_keys() {
    let env = Env::new();
    let mut t = env.table(0, 0);
    assert_eq!(t.set(Value::NIL, Value::TRUE), Err(TableError::NilKey));
    assert_eq!(t.set(num(f64::NAN), Value::TRUE), Err(TableError::NanKey));
    assert_eq!(t.set(num(-f64::NAN), Value::TRUE), Err(TableError::NanKey));
    assert_eq!(TableError::NanKey.message(), "table index is NaN");
    assert_eq!(TableError::NilKey.message(), "table index is nil");
    assert_eq!(TableError::from(OutOfMemory), TableError::Oom);
    assert!(t.get(num(f64::NAN)).is_nil());
    assert!(t.get_num(f64::NAN).is_nil());
    assert!(t.get(Value::NIL).is_nil());
    assert!(t.next(num(f64::NAN)).is_err());
    assert_eq!(t.hash_len(), 0);
    // Even with unused nodes around (whose key bits are nil), nil finds nothing.
    let u = env.table(0, 4);
    assert!(u.get(Value::NIL).is_nil());
    drop((t, u));
    env.finish();
}

/// Light userdata keys whose main position in a table of `len` nodes is `mp`.
fn keys_with_main_position(len: usize, mp: usize, count: usize) -> Vec<Value> {
    (1..)
        .map(|i| Value::light_userdata(i * 8))
        .filter(|k| mix64(k.bits()) as usize & (len - 1) == mp)
        .take(count)
        .collect()
}

#[test]
fn collisions_and_brent_moves() {
    let env = Env::new();
    let mut t = env.table(0, 8);
    let at0 = keys_with_main_position(8, 0, 2);
    let at7 = keys_with_main_position(8, 7, 1);
    t.set(at0[0], int(1)).unwrap();
    assert!(same(t.node[0].key, at0[0]));
    // Collides at 0: goes to the highest free node (7) chained after node 0.
    t.set(at0[1], int(2)).unwrap();
    assert!(same(t.node[7].key, at0[1]));
    assert_eq!(t.node[0].next, 7);
    // A key whose own main position is 7 evicts the guest there.
    t.set(at7[0], int(3)).unwrap();
    assert!(same(t.node[7].key, at7[0]));
    assert!(same(t.get(at0[0]), int(1)));
    assert!(same(t.get(at0[1]), int(2)));
    assert!(same(t.get(at7[0]), int(3)));
    t.check_invariants().unwrap();
    // A dead key at a main position is reused in place, keeping the chain through it.
    t.set(at0[0], Value::NIL).unwrap();
    let more = keys_with_main_position(8, 0, 4);
    t.set(more[2], int(4)).unwrap();
    assert!(same(t.node[0].key, more[2]));
    assert!(same(t.get(at0[1]), int(2)));
    t.check_invariants().unwrap();
    // Fill the hash part with keys of one main position, then overflow it.
    let same_mp = keys_with_main_position(8, 3, 40);
    for (i, k) in same_mp.iter().enumerate() {
        t.set(*k, int(100 + i as i64)).unwrap();
        t.check_invariants().unwrap();
    }
    for (i, k) in same_mp.iter().enumerate() {
        assert!(same(t.get(*k), int(100 + i as i64)));
    }
    assert!(t.hash_len() >= 64);
    drop(t);
    env.finish();
}

#[test]
fn other_key_types() {
    let env = Env::new();
    let mut t = env.table(0, 0);
    t.set(Value::TRUE, int(1)).unwrap();
    t.set(Value::FALSE, int(2)).unwrap();
    t.set(Value::light_userdata(0x1000), int(3)).unwrap();
    for i in 0..64 {
        t.set(fake_obj(0x10_0000 + i * 64), int(100 + i as i64)).unwrap();
    }
    assert!(same(t.get(Value::TRUE), int(1)));
    assert!(same(t.get(Value::FALSE), int(2)));
    assert!(same(t.get(Value::light_userdata(0x1000)), int(3)));
    assert!(t.get(Value::light_userdata(0x1008)).is_nil());
    for i in 0..64 {
        assert!(same(t.get(fake_obj(0x10_0000 + i * 64)), int(100 + i as i64)));
    }
    t.check_invariants().unwrap();
    drop(t);
    env.finish();
}

#[test]
fn many_string_keys() {
    let mut env = Env::new();
    let mut t = env.table(0, 0);
    let keys: Vec<GcRef<GcStr>> = (0..5000).map(|i| env.s(&format!("key{i}"))).collect();
    for (i, k) in keys.iter().enumerate() {
        t.set_str(*k, int(i as i64)).unwrap();
    }
    assert_eq!(t.hash_len(), 8192);
    assert_eq!(t.array_len(), 0);
    for (i, k) in keys.iter().enumerate() {
        assert!(same(t.get_str(*k), int(i as i64)));
        assert!(same(t.get(Value::string(*k)), int(i as i64)));
    }
    for k in keys.iter().step_by(2) {
        t.set(Value::string(*k), Value::NIL).unwrap();
    }
    for (i, k) in keys.iter().enumerate() {
        let want = if i % 2 == 0 { Value::NIL } else { int(i as i64) };
        assert!(same(t.get_str(*k), want));
    }
    assert_eq!(t.iter().count(), 2500);
    t.check_invariants().unwrap();
    let absent = env.s("not there");
    assert!(t.get_str(absent).is_nil());
    drop(t);
    env.finish();
}

#[test]
fn delete_everything_during_next() {
    let mut env = Env::new();
    let mut t = env.table(0, 0);
    for i in 1..=50 {
        t.set_int(i, int(i)).unwrap();
    }
    for i in 0..200 {
        let k = env.sv(&format!("f{i}"));
        t.set(k, int(i)).unwrap();
        t.set(num(i as f64 + 0.25), Value::TRUE).unwrap();
    }
    let total = t.iter().count();
    let (aptr, nptr, bytes) = (t.array.as_ptr(), t.node.as_ptr(), t.byte_size());
    let mut seen = 0;
    let mut k = Value::NIL;
    while let Some((nk, _)) = t.next(k).unwrap() {
        seen += 1;
        t.set(nk, Value::NIL).unwrap();
        k = nk;
    }
    assert_eq!(seen, total);
    assert!(t.next(Value::NIL).unwrap().is_none());
    assert_eq!(t.length(), 0);
    // Nothing moved: assignments to existing keys never reallocate.
    assert_eq!((t.array.as_ptr(), t.node.as_ptr(), t.byte_size()), (aptr, nptr, bytes));
    // Dead keys are still valid `next` positions.
    let f3 = env.sv("f3");
    assert!(t.next(f3).is_ok());
    t.check_invariants().unwrap();
    drop(t);
    env.finish();
}

#[test]
fn modify_existing_during_next() {
    let mut env = Env::new();
    let mut t = env.table(0, 0);
    for i in 0..100 {
        let k = env.sv(&format!("k{i}"));
        t.set(k, int(i)).unwrap();
    }
    let before = traverse(&t);
    // Assign to every visited key (some to nil, others to new values).
    let mut k = Value::NIL;
    let mut n = 0;
    while let Some((nk, nv)) = t.next(k).unwrap() {
        let v = nv.number_unchecked() as i64;
        t.set(nk, if v % 3 == 0 { Value::NIL } else { int(v * 2) }).unwrap();
        k = nk;
        n += 1;
    }
    assert_eq!(n, before.len());
    assert_eq!(t.iter().count(), 100 - 34);
    drop(t);
    env.finish();
}

#[test]
fn next_with_invalid_key() {
    let mut env = Env::new();
    let mut t = env.table(0, 0);
    for i in 1..=4 {
        t.set_int(i, Value::TRUE).unwrap();
    }
    let a = env.sv("a");
    t.set(a, Value::TRUE).unwrap();
    let b = env.sv("b");
    assert!(t.next(b).is_err());
    assert!(t.next(num(0.5)).is_err());
    assert!(t.next(int(100)).is_err());
    assert!(t.next(int(0)).is_err());
    assert!(t.next(Value::TRUE).is_err());
    assert!(t.next(a).is_ok());
    assert!(t.next(int(4)).is_ok());
    assert!(t.next(num(4.0)).is_ok());
    // Order: array first, then nodes.
    let order = traverse(&t);
    assert_eq!(order.len(), 5);
    assert_eq!(order[0].0, int(1).bits());
    assert_eq!(order[4].0, a.bits());
    assert!(t.next(a).unwrap().is_none());
    drop(t);
    env.finish();
}

#[test]
fn rehash_moves_keys_into_the_array() {
    let env = Env::new();
    let mut t = env.table(0, 4);
    for i in 1..=4 {
        t.set_int(i, int(i)).unwrap();
    }
    assert_eq!((t.array_len(), t.hash_len()), (0, 4));
    t.set_int(5, int(5)).unwrap();
    assert_eq!(t.array_len(), 8);
    assert_eq!(t.hash_len(), 0);
    for i in 1..=5 {
        assert!(same(t.get_int(i), int(i)));
    }
    t.check_invariants().unwrap();
    drop(t);
    env.finish();
}

#[test]
fn rehash_moves_keys_out_of_the_array() {
    let mut env = Env::new();
    let mut t = env.table(0, 0);
    for i in 1..=8 {
        t.set_int(i, int(i)).unwrap();
    }
    assert_eq!(t.array_len(), 8);
    for i in 1..=7 {
        t.set_int(i, Value::NIL).unwrap();
    }
    // A new hash key forces a rehash: key 8 alone does not justify an array part.
    let x = env.sv("x");
    t.set(x, Value::TRUE).unwrap();
    assert_eq!(t.array_len(), 0);
    assert!(same(t.get_int(8), int(8)));
    assert!(same(t.get(x), Value::TRUE));
    assert_eq!(t.iter().count(), 2);
    t.check_invariants().unwrap();
    drop(t);
    env.finish();
}

#[test]
fn resize_policy_more_than_half() {
    let env = Env::new();
    // Keys 1, 2, 3 and 100: array of 4 (3 of 4 used); 100 stays in the hash part.
    let mut t = env.table(0, 0);
    for i in [100, 1, 2, 3] {
        t.set_int(i, Value::TRUE).unwrap();
    }
    t.check_invariants().unwrap();
    assert_eq!(t.array_len(), 4);
    assert!(same(t.get_int(100), Value::TRUE));
    // Powers of two: 1, 2, 4 fill 3 of 4 slots; 1, 2, 4, 8 would fill only 4 of 8.
    let mut s = env.table(0, 0);
    for i in 0..20 {
        s.set_int(1 << i, Value::TRUE).unwrap();
    }
    assert_eq!(s.array_len(), 4);
    assert_eq!(s.iter().count(), 20);
    s.check_invariants().unwrap();
    // Negative keys and zero live in the hash part.
    let mut n = env.table(0, 0);
    for i in -10..=0 {
        n.set_int(i, Value::TRUE).unwrap();
    }
    assert_eq!(n.array_len(), 0);
    assert_eq!(n.iter().count(), 11);
    assert_eq!(best_array_size(&[0; MAX_ABITS + 1], 0), (0, 0));
    drop((t, s, n));
    env.finish();
}

#[test]
fn reserve_array_moves_hash_keys() {
    let mut env = Env::new();
    let mut t = env.table(0, 8);
    for i in 1..=6 {
        t.set_int(i, int(i)).unwrap();
    }
    let k = env.sv("k");
    t.set(k, Value::TRUE).unwrap();
    t.set_int(50, int(50)).unwrap();
    assert_eq!(t.array_len(), 0);
    t.reserve_array(10).unwrap();
    assert_eq!(t.array_len(), 10);
    for i in 1..=6 {
        assert!(same(t.array[i - 1], int(i as i64)));
    }
    assert!(same(t.get_int(50), int(50)));
    assert!(same(t.get(k), Value::TRUE));
    assert_eq!(t.hash_len(), 2);
    t.check_invariants().unwrap();
    t.reserve_array(3).unwrap();
    assert_eq!(t.array_len(), 10);
    drop(t);
    env.finish();
}

#[test]
fn assigning_existing_keys_never_allocates() {
    let mut env = Env::new();
    let mut t = env.table(0, 0);
    let keys: Vec<Value> = (0..40).map(|i| env.sv(&format!("s{i}"))).collect();
    for (i, k) in keys.iter().enumerate() {
        t.set(*k, int(i as i64)).unwrap();
        t.set_int(i as i64 + 1, Value::TRUE).unwrap();
    }
    env.heap.set_limit(env.heap.used());
    for k in &keys {
        t.set(*k, Value::NIL).unwrap();
    }
    for (i, k) in keys.iter().enumerate() {
        t.set(*k, int(i as i64 * 2)).unwrap(); // revives the dead keys in place
        t.set_int(i as i64 + 1, Value::FALSE).unwrap();
    }
    // Assigning nil to an absent key inserts nothing (and needs no memory).
    let absent = Value::light_userdata(8);
    t.set(absent, Value::NIL).unwrap();
    assert!(t.next(absent).is_err());
    env.heap.set_limit(usize::MAX);
    for (i, k) in keys.iter().enumerate() {
        assert!(same(t.get(*k), int(i as i64 * 2)));
    }
    t.check_invariants().unwrap();
    drop(t);
    env.finish();
}

#[test]
fn metamethod_cache_is_cleared() {
    let mut env = Env::new();
    let mut t = env.table(0, 0);
    let idx = env.s("__index");
    t.hdr.flags = 0xFF;
    t.set_str(idx, Value::TRUE).unwrap();
    assert_eq!(t.hdr.flags, 0);
    t.hdr.flags = 0xFF;
    t.set(Value::string(idx), Value::NIL).unwrap();
    assert_eq!(t.hdr.flags, 0);
    // Reviving a dead key (no new key created) also clears it.
    t.hdr.flags = 0xFF;
    t.set_str(idx, Value::TRUE).unwrap();
    assert_eq!(t.hdr.flags, 0);
    t.hdr.flags = 0xFF;
    t.set_int(1, Value::TRUE).unwrap();
    assert_eq!(t.hdr.flags, 0);
    t.hdr.flags = 0xFF;
    t.set(Value::TRUE, Value::TRUE).unwrap();
    assert_eq!(t.hdr.flags, 0);
    drop(t);
    env.finish();
}

#[test]
fn out_of_memory_leaves_table_intact() {
    let mut env = Env::new();
    let strs: Vec<Value> = (0..300).map(|i| env.sv(&format!("v{i}"))).collect();
    let mut t = env.table(0, 0);
    // Grow step by step; at each step, first fail with a limit at every byte count
    // between "nothing more" and "just enough", then succeed.
    for (i, s) in strs.iter().enumerate() {
        let key = if i % 3 == 0 { int(i as i64 / 3 + 1) } else { *s };
        let before = snapshot(&t);
        let bytes = t.byte_size();
        let used = env.heap.used();
        env.heap.set_limit(used);
        match t.set(key, int(i as i64)) {
            Ok(()) => {
                // No growth needed: the key found room.
                assert_eq!(t.byte_size(), bytes);
            }
            Err(e) => {
                assert_eq!(e, TableError::Oom);
                assert_eq!(snapshot(&t), before);
                assert_eq!(t.byte_size(), bytes);
                assert_eq!(env.heap.used(), used);
                t.check_invariants().unwrap();
                // Fail once more with a partial budget (enough for one part maybe).
                env.heap.set_limit(used + bytes / 2 + 8);
                if t.set(key, int(i as i64)).is_err() {
                    assert_eq!(snapshot(&t), before);
                    assert_eq!(env.heap.used(), used);
                    t.check_invariants().unwrap();
                }
                env.heap.set_limit(usize::MAX);
                t.set(key, int(i as i64)).unwrap();
            }
        }
        env.heap.set_limit(usize::MAX);
        assert!(same(t.get(key), int(i as i64)));
        t.check_invariants().unwrap();
    }
    assert_eq!(t.iter().count(), 300);
    // A new table cannot be made at the limit either.
    env.heap.set_limit(env.heap.used());
    assert!(GcTable::new(env.href(), 4, 0).is_err());
    assert!(GcTable::new(env.href(), 0, 4).is_err());
    env.heap.set_limit(usize::MAX);
    drop(t);
    env.finish();
}

#[test]
fn out_of_memory_when_array_grows_after_node_alloc() {
    // Array growth (realloc) fails after the new node block was obtained: the node
    // block must be given back and the table left as it was.
    let env = Env::new();
    let mut t = env.table(4, 4);
    for i in 1..=4 {
        t.set_int(i, int(i)).unwrap();
    }
    for i in 5..=8 {
        t.set_int(i, int(i)).unwrap(); // into the hash part
    }
    assert_eq!(t.array_len(), 4);
    let before = snapshot(&t);
    let used = env.heap.used();
    let mut failures = 0;
    for extra in 0..400 {
        env.heap.set_limit(used + extra);
        match t.set_int(9, int(9)) {
            Err(OutOfMemory) => {
                failures += 1;
                assert_eq!(snapshot(&t), before);
                assert_eq!(env.heap.used(), used);
                assert_eq!(t.array_len(), 4);
            }
            Ok(()) => break,
        }
    }
    assert!(failures > 0);
    env.heap.set_limit(usize::MAX);
    assert_eq!(t.array_len(), 16);
    assert_eq!(t.length(), 9);
    t.check_invariants().unwrap();
    drop(t);
    env.finish();
}

#[test]
fn memory_returns_to_zero() {
    let mut env = Env::new();
    let base = env.heap.used();
    {
        let mut t = env.table(10, 10);
        for i in 0..1000 {
            let k = env.sv(&format!("m{i}"));
            t.set(k, int(i)).unwrap();
            t.set_int(i, int(i)).unwrap();
        }
        t.compact().unwrap();
        assert!(env.heap.used() > base);
    }
    // Only the strings remain.
    let strings_only = env.heap.used();
    {
        let t = env.table(0, 0);
        drop(t);
    }
    assert_eq!(env.heap.used(), strings_only);
    env.finish();
}

#[test]
fn clear_weak_values_and_keys() {
    let mut env = Env::new();
    let dead: Vec<Value> = (0..10).map(|i| fake_obj(0x20_0000 + i * 64)).collect();
    let live: Vec<Value> = (0..10).map(|i| fake_obj(0x30_0000 + i * 64)).collect();
    let is_dead = |v: Value| {
        assert!(v.is_gc(), "is_dead called on a non-collectable");
        (0x20_0000..0x30_0000).contains(&(v.bits() & ((1 << 47) - 1)))
    };
    let s = env.sv("str");

    // Weak values.
    let mut t = env.table(0, 0);
    for i in 0..10 {
        t.set_int(i as i64 + 1, if i % 2 == 0 { dead[i] } else { live[i] })
            .unwrap();
        t.set(live[i], dead[i]).unwrap();
        t.set(dead[i], live[i]).unwrap();
    }
    t.set(s, int(1)).unwrap();
    t.clear_weak(false, true, is_dead);
    for i in 0..10 {
        assert_eq!(t.get_int(i as i64 + 1).is_nil(), i % 2 == 0);
        assert!(t.get(live[i]).is_nil());
        assert!(same(t.get(dead[i]), live[i]));
    }
    assert!(same(t.get(s), int(1)));
    assert_eq!(t.iter().count(), 5 + 10 + 1);
    // Cleared keys are still valid `next` positions.
    assert!(t.next(live[0]).is_ok());
    traverse(&t);
    t.check_invariants().unwrap();

    // Weak keys: entries with dead keys go; dead keys are never passed to is_dead
    // again (they may name freed objects).
    let mut w = env.table(0, 0);
    for i in 0..10 {
        w.set(dead[i], int(i as i64)).unwrap();
        w.set(live[i], dead[i]).unwrap();
    }
    w.clear_weak(true, false, is_dead);
    for i in 0..10 {
        assert!(w.get(dead[i]).is_nil());
        assert!(same(w.get(live[i]), dead[i]));
    }
    w.clear_weak(true, false, |v| {
        assert!(!is_dead(v), "dead key passed to is_dead again");
        false
    });
    // Both weak: everything referring to a dead object goes.
    w.clear_weak(true, true, is_dead);
    assert_eq!(w.iter().count(), 0);
    // After a compaction the dead keys are gone and the table is smaller.
    w.compact().unwrap();
    assert_eq!(w.hash_len(), 0);
    w.check_invariants().unwrap();
    drop((t, w));
    env.finish();
}

#[test]
fn for_each_value_mut_visits_live_slots() {
    let mut env = Env::new();
    let mut t = env.table(0, 0);
    for i in 1..=10 {
        t.set_int(i, int(i)).unwrap();
    }
    let k = env.sv("k");
    t.set(k, int(100)).unwrap();
    t.set_int(3, Value::NIL).unwrap();
    let mut sum = 0.0;
    let mut keys = 0;
    t.for_each_value_mut(|key, v| {
        keys += 1;
        assert!(!key.is_nil());
        sum += v.number_unchecked();
        *v = Value::TRUE;
    });
    assert_eq!(keys, 10);
    assert_eq!(sum, 55.0 - 3.0 + 100.0);
    assert!(t.iter().all(|(_, v)| same(v, Value::TRUE)));
    drop(t);
    env.finish();
}

// ---- randomized comparison against a HashMap model ----------------------------------

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn model_key(k: Value) -> u64 {
    if k.is_number() && k.number_unchecked() == 0.0 {
        0
    } else {
        k.bits()
    }
}

fn random_key(rng: &mut XorShift, strs: &[Value]) -> Value {
    match rng.below(9) {
        0 | 1 => int(rng.below(64) as i64 + 1),
        2 => int(rng.below(300) as i64 - 20),
        3 => num(rng.below(50) as f64 + 0.5),
        4 | 5 => strs[rng.below(strs.len() as u64) as usize],
        6 => match rng.below(4) {
            0 => Value::TRUE,
            1 => Value::FALSE,
            2 => num(-0.0),
            _ => num(0.0),
        },
        7 => Value::light_userdata(rng.below(64) as usize * 16),
        _ => int((1i64 << 40) + rng.below(16) as i64),
    }
}

fn check_against_model(t: &GcTable, model: &HashMap<u64, u64>) {
    t.check_invariants().unwrap();
    let mut got = traverse(t);
    got.sort_unstable();
    let mut want: Vec<(u64, u64)> = model.iter().map(|(k, v)| (*k, *v)).collect();
    want.sort_unstable();
    assert_eq!(got, want);
    for (k, v) in model {
        assert_eq!(t.get(Value::from_bits(*k)).bits(), *v);
    }
    assert!(is_border(t, t.length()));
}

#[test]
fn randomized_against_hashmap() {
    let mut env = Env::new();
    let strs: Vec<Value> = (0..120).map(|i| env.sv(&format!("r{i}"))).collect();
    // Seeds 1..=12 use unseeded tables, 13..=24 tables with a random hash seed.
    for seed in 1..=24u64 {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x1234_5678_9ABC_DEF1));
        let (na, nh) = (rng.below(8) as usize, rng.below(8) as usize);
        let mut t = if seed <= 12 {
            env.table(na, nh)
        } else {
            GcTable::new_seeded(env.href(), rng.next(), na, nh).unwrap()
        };
        let mut model: HashMap<u64, u64> = HashMap::new();
        for step in 0..4000 {
            let key = random_key(&mut rng, &strs);
            match rng.below(10) {
                0..=5 => {
                    let val = int(rng.below(1000) as i64);
                    // Sometimes under memory pressure: a failure must change nothing.
                    let squeeze = rng.below(8) == 0;
                    if squeeze {
                        env.heap.set_limit(env.heap.used() + rng.below(256) as usize);
                    }
                    match t.set(key, val) {
                        Ok(()) => {
                            model.insert(model_key(key), val.bits());
                        }
                        Err(e) => {
                            assert!(squeeze);
                            assert_eq!(e, TableError::Oom);
                        }
                    }
                    env.heap.set_limit(usize::MAX);
                }
                6..=7 => {
                    t.set(key, Value::NIL).unwrap();
                    model.remove(&model_key(key));
                }
                8 => {
                    let want = model.get(&model_key(key)).copied().unwrap_or(Value::NIL.bits());
                    assert_eq!(t.get(key).bits(), want);
                    if key.is_number() {
                        assert_eq!(t.get_num(key.number_unchecked()).bits(), want);
                    }
                    if let Some(s) = key.as_string() {
                        assert_eq!(t.get_str(s).bits(), want);
                    }
                }
                _ => {
                    // A traversal deleting some of what it visits.
                    let mut k = Value::NIL;
                    while let Some((nk, _)) = t.next(k).unwrap() {
                        if rng.below(3) == 0 {
                            t.set(nk, Value::NIL).unwrap();
                            model.remove(&model_key(nk));
                        }
                        k = nk;
                    }
                }
            }
            if step % 97 == 0 {
                check_against_model(&t, &model);
            }
            if step % 1000 == 999 {
                t.compact().unwrap();
                check_against_model(&t, &model);
            }
        }
        check_against_model(&t, &model);
        drop(t);
    }
    env.finish();
}

#[test]
fn hash_mixing_spreads_integers_and_pointers() {
    // Small integers and aligned addresses must not pile into a few main positions.
    for bits_of in [|i: u64| (i as f64).to_bits(), |i: u64| 0x7f00_0000_0000 + i * 64] {
        let mask = 255u32;
        let mut used = [false; 256];
        for i in 1..=256u64 {
            used[(mix64(bits_of(i)) & mask) as usize] = true;
        }
        let distinct = used.iter().filter(|u| **u).count();
        assert!(distinct > 140, "only {distinct} of 256 buckets used");
    }
}

#[test]
fn table_header_stays_small() {
    // Every table pays for this header; it was 104 bytes with 64-bit buffer lengths.
    assert!(
        std::mem::size_of::<GcTable>() <= 88,
        "GcTable is {} bytes",
        std::mem::size_of::<GcTable>()
    );
    assert_eq!(std::mem::size_of::<crate::alloc::HVec<Value>>(), 24);
}

#[test]
fn the_seed_moves_non_string_keys() {
    // Seed 0 is the plain mixer; a seed is xored into the key bits before mixing.
    let env = Env::new();
    assert_eq!(env.table(0, 0).hash_seed(), 0);
    let seed = 0x0123_4567_89AB_CDEF;
    let t = GcTable::new_seeded(env.href(), seed, 0, 0).unwrap();
    assert_eq!(t.hash_seed(), seed);
    // Keys that share a main position unseeded are spread by the seed.
    let at0 = keys_with_main_position(64, 0, 32);
    let mut seeded = GcTable::new_seeded(env.href(), seed, 0, 64).unwrap();
    let mut plain = env.table(0, 64);
    for (i, k) in at0.iter().enumerate() {
        seeded.set(*k, int(i as i64)).unwrap();
        plain.set(*k, int(i as i64)).unwrap();
    }
    let chained = |t: &GcTable| t.node.iter().filter(|n| n.next >= 0).count();
    assert_eq!(chained(&plain), 31);
    assert!(chained(&seeded) < 16, "{} chain links", chained(&seeded));
    for (i, k) in at0.iter().enumerate() {
        assert!(same(seeded.get(*k), int(i as i64)));
    }
    seeded.check_invariants().unwrap();
    drop((t, seeded, plain));
    env.finish();
}

#[test]
fn duplicate_keeps_the_seed() {
    let mut env = Env::new();
    let seed = 0xDEAD_BEEF_0BAD_F00D;
    let mut t = GcTable::new_seeded(env.href(), seed, 2, 16).unwrap();
    let s = env.sv("name");
    let keys = [
        int(1),
        int(2),
        int(-7),
        num(0.5),
        Value::TRUE,
        Value::light_userdata(64),
        s,
    ];
    for (i, k) in keys.iter().enumerate() {
        t.set(*k, int(i as i64 + 10)).unwrap();
    }
    let mut d = t.duplicate().unwrap();
    assert_eq!(d.hash_seed(), seed);
    d.check_invariants().unwrap();
    for (i, k) in keys.iter().enumerate() {
        assert!(same(d.get(*k), int(i as i64 + 10)));
    }
    // And it keeps working as it grows.
    for i in 0..200 {
        d.set(num(i as f64 + 0.25), int(i)).unwrap();
    }
    d.check_invariants().unwrap();
    assert!(same(d.get(Value::TRUE), int(14)));
    drop((t, d));
    env.finish();
}
