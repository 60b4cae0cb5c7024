//! The field offsets compiled code loads from: one constant per field the JIT will
//! read or write, computed from the `#[repr(C)]` definitions with
//! [`core::mem::offset_of!`], so they follow the structs and cannot drift.
//!
//! Invariants (checked by the tests below):
//! - every collectable object starts with its [`GcHeader`] at offset 0;
//! - a value is 8 bytes, 8-aligned (NaN-boxed, `value.rs`);
//! - the offsets here are the ones the interpreter itself reads through: the tests
//!   read live objects and the hot block at these offsets and compare with what the
//!   interpreter's accessors return.
//!
//! Until the JIT's code generator (issue 16) exists, the tests below are the only
//! readers of (some of) these constants, hence the `dead_code` allowance.
#![allow(dead_code)]

use core::mem::{offset_of, size_of};

use crate::alloc::HVec;
use crate::buf::Buf;
use crate::func::{GcFunc, GcUpval};
use crate::hot::HotBlock;
use crate::object::GcHeader;
use crate::string::GcStr;
use crate::table::{GcTable, Node};
use crate::value::Value;

/// Bytes of a value slot.
pub const VALUE_SIZE: usize = size_of::<Value>();

/// The object header (at offset 0 of every object).
pub mod header {
    use super::*;
    pub const KIND: usize = offset_of!(GcHeader, kind);
    pub const MARKED: usize = offset_of!(GcHeader, marked);
    pub const FLAGS: usize = offset_of!(GcHeader, flags);
    pub const AUX: usize = offset_of!(GcHeader, aux);
}

/// The hot block (`hot.rs`): what traces check at every loop back-edge.
pub mod hot {
    use super::*;
    /// `i64`: budget units left; a trace exits (Budget) when it goes negative.
    pub const COUNTDOWN: usize = offset_of!(HotBlock, countdown);
    /// `isize`: GC debt; a trace that allocates exits (GC) when it is positive.
    pub const GC_DEBT: usize = offset_of!(HotBlock, gc_debt);
    /// Pointer to the interrupt flag, a byte other threads set to 1 atomically.
    pub const INTERRUPT: usize = HotBlock::INTERRUPT_OFFSET;
    /// `u8`: the VM mode (`VmMode`); traces set it on entry and exits reset it.
    pub const MODE: usize = HotBlock::MODE_OFFSET;
    pub const WITHIN: usize = HotBlock::WITHIN_OFFSET;
}

/// Strings: the header, the length, then the bytes and a NUL.
pub mod string {
    use super::*;
    /// `usize`: length in bytes.
    pub const LEN: usize = offset_of!(GcStr, len);
    /// The first byte.
    pub const DATA: usize = size_of::<GcStr>();
    /// `u32` in the header: the hash.
    pub const HASH: usize = offset_of!(GcHeader, aux);
}

/// Tables: the array part, the hash part and the metatable.
pub mod table {
    use super::*;
    /// Pointer to the array part: key `i` lives at `ARRAY_PTR[i - 1]`.
    pub const ARRAY_PTR: usize = offset_of!(GcTable, array) + HVec::<Value>::PTR_OFFSET;
    /// `u32`: the array part's length.
    pub const ARRAY_LEN: usize = offset_of!(GcTable, array) + HVec::<Value>::LEN_OFFSET;
    /// Pointer to the hash part's nodes.
    pub const NODE_PTR: usize = offset_of!(GcTable, node) + HVec::<Node>::PTR_OFFSET;
    /// `u32`: the number of nodes (0 or a power of two): the hash mask is this - 1.
    pub const NODE_LEN: usize = offset_of!(GcTable, node) + HVec::<Node>::LEN_OFFSET;
    /// `Option<GcRef<GcTable>>`: the metatable, 0 when none.
    pub const METATABLE: usize = offset_of!(GcTable, metatable);
    /// `u8` in the header: the metamethod absence cache.
    pub const TM_ABSENT: usize = offset_of!(GcHeader, flags);
}

/// One node of a table's hash part.
pub mod node {
    use super::*;
    pub const VAL: usize = offset_of!(Node, val);
    pub const KEY: usize = offset_of!(Node, key);
    /// `i32`: the next node of the collision chain, -1 at its end.
    pub const NEXT: usize = offset_of!(Node, next);
    pub const SIZE: usize = size_of::<Node>();
}

/// Functions (closures), followed by their upvalues.
pub mod func {
    use super::*;
    /// The environment table.
    pub const ENV: usize = offset_of!(GcFunc, env);
    /// `u8`: what the function runs, [`BODY_LUA`] or [`BODY_NATIVE`].
    pub const BODY_KIND: usize = offset_of!(GcFunc, body);
    /// The prototype of a Lua closure, the entry point of a native one.
    pub const BODY_PTR: usize = offset_of!(GcFunc, body) + 8;
    pub const BODY_LUA: u8 = 0;
    pub const BODY_NATIVE: u8 = 1;
    /// `u16`: the fast-function id (docs/fastfunc.md).
    pub const FFID: usize = offset_of!(GcFunc, ffid);
    /// The first upvalue: `GcRef<GcUpval>` for Lua closures, `Value` for natives.
    pub const UPVALS: usize = size_of::<GcFunc>();
    /// `u32` in the header: the number of upvalues.
    pub const NUPVALS: usize = offset_of!(GcHeader, aux);
}

/// The growable byte buffer (`buf.rs`) of concatenation, formatting and io.
pub mod buf {
    use super::*;
    /// Pointer to the bytes.
    pub const PTR: usize = Buf::DATA_OFFSET + HVec::<u8>::PTR_OFFSET;
    /// `u32`: bytes in use.
    pub const LEN: usize = Buf::DATA_OFFSET + HVec::<u8>::LEN_OFFSET;
}

/// Upvalues.
pub mod upval {
    use super::*;
    /// Pointer to the value: a stack slot while open, `CLOSED` once closed.
    pub const V: usize = offset_of!(GcUpval, v);
    pub const CLOSED: usize = offset_of!(GcUpval, closed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::func::GcProto;
    use crate::object::GcRef;
    use crate::udata::GcUdata;
    use crate::vm::state::State;

    /// Read a `T` at byte offset `off` of the object at `p`.
    ///
    /// # Safety
    /// `off` is the offset of a live, initialised `T` inside the object.
    unsafe fn at<T: Copy>(p: *const u8, off: usize) -> T {
        // SAFETY: caller contract; fields are naturally aligned in `#[repr(C)]`.
        unsafe { p.add(off).cast::<T>().read() }
    }

    #[test]
    fn header_first_and_values_are_words() {
        assert_eq!(offset_of!(GcTable, hdr), 0);
        assert_eq!(offset_of!(GcFunc, hdr), 0);
        assert_eq!(offset_of!(GcUpval, hdr), 0);
        assert_eq!(offset_of!(GcStr, hdr), 0);
        assert_eq!(offset_of!(GcProto, hdr), 0);
        assert_eq!(offset_of!(GcUdata, hdr), 0);
        assert_eq!((VALUE_SIZE, align_of::<Value>()), (8, 8));
        assert_eq!((node::VAL, node::KEY, node::NEXT, node::SIZE), (0, 8, 16, 24));
        // Upvalues of both kinds are words, right after an 8-aligned closure.
        assert_eq!(func::UPVALS % 8, 0);
        assert_eq!(size_of::<GcRef<GcUpval>>(), 8);
    }

    #[test]
    fn hot_block_layout() {
        assert_eq!(hot::COUNTDOWN, 0);
        assert_eq!(hot::GC_DEBT, 8);
        assert_eq!(hot::INTERRUPT, 16);
        assert_eq!(hot::MODE, 24);
        assert_eq!(hot::WITHIN, 30);
        assert!(size_of::<HotBlock>() <= 64, "the hot block fits one cache line");
    }

    #[test]
    fn offsets_read_what_the_interpreter_reads() {
        let mut st = State::new().unwrap();
        // Nothing below is rooted: no collection may run meanwhile.
        crate::gc::set_stopped(&mut st, true);
        // The hot block.
        let hot = st.hot() as *const HotBlock as *const u8;
        // SAFETY: the offsets are those of the block's fields (tested above).
        unsafe {
            assert_eq!(at::<i64>(hot, hot::COUNTDOWN), st.countdown());
            assert_eq!(at::<isize>(hot, hot::GC_DEBT), st.heap.debt());
            assert_eq!(at::<u8>(hot, hot::MODE), st.mode().tag());
            let flag = at::<*const u8>(hot, hot::INTERRUPT);
            assert_eq!(*flag, 0);
            st.interrupt_handle().store(true, std::sync::atomic::Ordering::Relaxed);
            assert_eq!(*flag, 1);
        }
        assert!(st.hot().take_interrupt());

        // A table with both parts and a metatable.
        let t = st.new_table(3, 4).unwrap();
        let mt = st.new_table(0, 0).unwrap();
        for i in 1..=3 {
            st.table_set(t, Value::number(i as f64), Value::number(10.0 * i as f64))
                .unwrap();
        }
        let k = st.str_value(b"key").unwrap();
        st.table_set(t, k, Value::TRUE).unwrap();
        t.get_mut().metatable = Some(mt);
        let tp = t.as_ptr() as *const u8;
        // SAFETY: offsets of the table's fields; the parts hold `len` initialised slots.
        unsafe {
            let array = at::<*const Value>(tp, table::ARRAY_PTR);
            assert_eq!(at::<u32>(tp, table::ARRAY_LEN) as usize, t.array.len());
            assert_eq!((*array.add(1)).bits(), t.get_int(2).bits());
            let nodes = at::<*const u8>(tp, table::NODE_PTR);
            let n = at::<u32>(tp, table::NODE_LEN) as usize;
            assert_eq!(n, t.node.len());
            let found = (0..n).any(|i| {
                let np = nodes.add(i * node::SIZE);
                at::<Value>(np, node::KEY).bits() == k.bits() && at::<Value>(np, node::VAL).bits() == Value::TRUE.bits()
            });
            assert!(found, "the key is in a node");
            assert_eq!(at::<usize>(tp, table::METATABLE), mt.as_ptr() as usize);
        }

        // A string.
        let s = st.intern(b"hello").unwrap();
        let sp = s.as_ptr() as *const u8;
        // SAFETY: the header and length fields, then `len` bytes of data.
        unsafe {
            assert_eq!(at::<usize>(sp, string::LEN), 5);
            assert_eq!(std::slice::from_raw_parts(sp.add(string::DATA), 5), b"hello");
            assert_eq!(at::<u32>(sp, string::HASH), s.hash());
        }

        // A Lua closure with an upvalue, and a native one.
        st.load(b"local x = 7; return function() return x end", b"=layout")
            .unwrap();
        let f = st.peek(0).as_function().unwrap();
        let cl = f.as_ptr() as *const u8;
        // SAFETY: offsets of the closure's fields and of its inline upvalues.
        unsafe {
            assert_eq!(at::<u8>(cl, func::BODY_KIND), func::BODY_LUA);
            assert_eq!(
                at::<usize>(cl, func::BODY_PTR),
                f.proto().map_or(0, |p| p.as_ptr() as usize)
            );
            assert_eq!(at::<u16>(cl, func::FFID), crate::func::FF_LUA);
            assert_eq!(at::<usize>(cl, func::ENV), f.env.as_ptr() as usize);
            assert_eq!(at::<u32>(cl, func::NUPVALS) as usize, f.num_upvals());
        }
        st.call(0, 1).unwrap();
        let inner = st.peek(0).as_function().unwrap();
        let ip = inner.as_ptr() as *const u8;
        // SAFETY: a Lua closure with one upvalue: a `GcRef<GcUpval>` at `UPVALS`.
        unsafe {
            let uv = at::<*const u8>(ip, func::UPVALS);
            assert_eq!(uv as usize, inner.lua_upvals()[0].as_ptr() as usize);
            let v = at::<*const Value>(uv, upval::V);
            assert_eq!((*v).bits(), Value::number(7.0).bits());
            assert_eq!(at::<Value>(uv, upval::CLOSED).bits(), Value::number(7.0).bits());
        }
        fn nop(_: &mut State) -> crate::vm::error::LResult<usize> {
            Ok(0)
        }
        let n = st.new_native(nop, crate::func::FF_C, 1).unwrap();
        let np = n.as_ptr() as *const u8;
        // SAFETY: a native closure: its entry point, then one `Value` upvalue.
        unsafe {
            assert_eq!(at::<u8>(np, func::BODY_KIND), func::BODY_NATIVE);
            assert_eq!(at::<usize>(np, func::BODY_PTR), nop as *const () as usize);
            assert_eq!(at::<u16>(np, func::FFID), crate::func::FF_C);
            assert!(at::<Value>(np, func::UPVALS).is_nil());
        }
    }

    #[test]
    fn buffer_offsets_read_its_bytes() {
        let st = State::new().unwrap();
        let mut b = Buf::new(st.heap_ref());
        b.extend(b"offsets").unwrap();
        let p = &b as *const Buf as *const u8;
        // SAFETY: `buf::PTR` and `buf::LEN` are the byte vector's pointer and `u32` length.
        unsafe {
            assert_eq!(at::<*const u8>(p, buf::PTR), b.as_slice().as_ptr());
            assert_eq!(at::<u32>(p, buf::LEN), 7);
        }
    }
}
