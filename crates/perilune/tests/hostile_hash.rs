//! Hash flooding with non-string keys (issue 14, item 7).
//!
//! Numbers, light userdata and object pointers used to be hashed by an unseeded,
//! invertible mixer (MurmurHash3's 64-bit finalizer): a script could compute keys whose
//! hashes agree in their low bits, and every one of them landed in one collision
//! chain, so inserting n keys cost O(n^2) probe steps (80,000 chosen float keys took
//! 6.7 s against 0.01 s for random ones, with one instruction per insertion: no
//! budget could stop it). The tables of a state now mix a per-state random seed into
//! every key hash, so keys chosen against the unseeded mixer spread like random keys.
//!
//! The tests build colliding keys by inverting the unseeded mixer, insert them into a
//! table made the way the VM makes tables (`State::new_table`), and measure the probe
//! steps from the table's layout (its `next` links): no timing.

use perilune::unstable_internals::table::GcTable;
use perilune::unstable_internals::value::Value;
use perilune::unstable_internals::vm::state::State;

const C1: u64 = 0xFF51_AFD7_ED55_8CCD;
const C2: u64 = 0xC4CE_B9FE_1A85_EC53;

/// The unseeded mixer the tables used (MurmurHash3's `fmix64`).
fn fmix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(C1);
    x ^= x >> 33;
    x = x.wrapping_mul(C2);
    x ^= x >> 33;
    x
}

/// The inverse of an odd number modulo 2^64 (Newton's iteration).
fn inverse(a: u64) -> u64 {
    let mut inv = a;
    for _ in 0..6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(inv)));
    }
    inv
}

/// `fmix64` backwards: `x ^= x >> 33` is its own inverse, the multiplies are undone
/// by the inverse constants.
fn unmix64(mut y: u64) -> u64 {
    y ^= y >> 33;
    y = y.wrapping_mul(inverse(C2));
    y ^= y >> 33;
    y = y.wrapping_mul(inverse(C1));
    y ^= y >> 33;
    y
}

/// `n` float keys whose unseeded hashes all end in the same 24 bits: in any hash part
/// of up to 2^24 nodes they share one main position.
fn colliding_numbers(n: usize) -> Vec<Value> {
    let mut keys = Vec::with_capacity(n);
    let mut i = 1u64;
    while keys.len() < n {
        let bits = unmix64((i << 24) | 0x00A5_5A5A);
        i += 1;
        let x = f64::from_bits(bits);
        // NaN cannot be a key and -0 is stored as +0; small integers would go to the
        // array part. None of these is likely, but skip them all the same.
        if x.is_nan() || x == 0.0 || (x.fract() == 0.0 && x.abs() < 1e9) {
            continue;
        }
        assert_eq!(fmix64(bits) & 0xFF_FFFF, 0x00A5_5A5A);
        keys.push(Value::number(x));
    }
    keys
}

/// `n` light userdata keys (aligned addresses) whose unseeded hashes end in the same
/// 10 bits, found by search (the payload is only 47 bits, so no inversion).
fn colliding_pointers(n: usize) -> Vec<Value> {
    (1u64..)
        .map(|i| Value::light_userdata((0x7f00_0000_0000 + i * 16) as usize))
        .filter(|k| fmix64(k.bits()) & 0x3FF == 0x155)
        .take(n)
        .collect()
}

/// Probe cost of the hash part: `(sum, longest)` where `sum` is the number of nodes
/// visited by looking up every live key once (a key at depth d of its chain costs
/// d + 1) and `longest` is the longest chain. Computed from the `next` links alone,
/// so it needs no knowledge of the hash function.
fn probe_cost(t: &GcTable) -> (usize, usize) {
    let nodes = &t.node[..];
    let mut has_pred = vec![false; nodes.len()];
    for n in nodes {
        if n.next >= 0 {
            has_pred[n.next as usize] = true;
        }
    }
    let (mut sum, mut longest) = (0, 0);
    for (i, n) in nodes.iter().enumerate() {
        if n.key.is_nil() || has_pred[i] {
            continue;
        }
        let mut p = i as i32;
        let mut depth = 0;
        while p >= 0 {
            let node = &nodes[p as usize];
            depth += 1;
            if !node.val.is_nil() {
                sum += depth;
            }
            p = node.next;
        }
        longest = longest.max(depth);
    }
    (sum, longest)
}

/// Insert `keys` into `t` and return its probe cost; every key must be found again.
fn fill(t: &mut GcTable, keys: &[Value]) -> (usize, usize) {
    for (i, k) in keys.iter().enumerate() {
        t.set(*k, Value::number(i as f64)).unwrap();
    }
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(t.get(*k).bits(), Value::number(i as f64).bits());
    }
    t.check_invariants().unwrap();
    probe_cost(t)
}

/// The keys really do flood an unseeded table (`GcTable::new`): one chain holds them all.
#[test]
fn chosen_keys_flood_an_unseeded_table() {
    let st = State::new().unwrap();
    for keys in [colliding_numbers(512), colliding_pointers(512)] {
        let mut t = GcTable::new(st.heap_ref(), 0, 0).unwrap();
        let (sum, longest) = fill(&mut t, &keys);
        assert_eq!(longest, 512);
        assert_eq!(sum, 512 * 513 / 2);
    }
}

/// Tables made by a state are seeded: the same kind of keys spread like random ones,
/// so the probe cost of n keys stays linear (a random hash gives about 1.5 nodes
/// per lookup at the densest load; the unseeded mixer gave n/2).
#[test]
fn chosen_keys_do_not_flood_a_state_table() {
    let mut st = State::new().unwrap();
    for (what, keys) in [
        ("numbers", colliding_numbers(8192)),
        ("pointers", colliding_pointers(2048)),
    ] {
        let t = st.new_table(0, 0).unwrap();
        let (sum, longest) = fill(t.get_mut(), &keys);
        let n = keys.len();
        assert!(sum <= 3 * n, "{what}: {sum} probe steps for {n} keys");
        assert!(longest <= 24, "{what}: a chain of {longest} keys");
    }
}

/// Two states use different seeds (the seed comes from the system's randomness), so
/// what a script learns about one state's hash order says nothing about another's.
#[test]
fn states_have_different_seeds() {
    let mut a = State::new().unwrap();
    let mut b = State::new().unwrap();
    let ta = a.new_table(0, 0).unwrap();
    let tb = b.new_table(0, 0).unwrap();
    assert_ne!(ta.hash_seed(), 0);
    assert_ne!(ta.hash_seed(), tb.hash_seed());
    // Every table of one state shares its seed (a copy made by `TDUP` too).
    let tc = a.new_table(4, 4).unwrap();
    assert_eq!(ta.hash_seed(), tc.hash_seed());
    let td = a.dup_table(tc).unwrap();
    assert_eq!(td.hash_seed(), tc.hash_seed());
}
