//! Tables: an array part for keys 1..n and a hash part for everything else.
//!
//! (Stub: the implementation is being written; see docs/tables.md.)

use crate::alloc::{HVec, HeapRef, OutOfMemory};
use crate::object::{GcHeader, GcRef, LuaStr, ObjKind};
use crate::value::Value;

/// One slot of the hash part.
#[derive(Clone, Copy)]
pub struct Node {
    pub val: Value,
    pub key: Value,
    /// Index of the next node in this collision chain, or -1.
    pub next: i32,
}

/// Why a store into a table failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// "table index is nil"
    NilKey,
    /// "table index is NaN"
    NanKey,
    /// "not enough memory"
    Oom,
}

impl From<OutOfMemory> for TableError {
    fn from(_: OutOfMemory) -> Self {
        TableError::Oom
    }
}

#[repr(C)]
pub struct Table {
    /// `flags`: metamethod absence cache; bit `1 << tm` set means "this table, used as
    /// a metatable, has no metamethod `tm`" (for the first 8 metamethods).
    pub hdr: GcHeader,
    /// Array part: key `i` (1 <= i <= array.len()) lives at `array[i-1]`.
    pub array: HVec<Value>,
    /// Hash part: empty, or a power-of-two number of nodes.
    pub node: HVec<Node>,
    /// Free-slot search position for collisions (counts down).
    pub lastfree: u32,
    pub metatable: Option<GcRef<Table>>,
}

impl Table {
    pub fn new(heap: HeapRef, narray: usize, nhash: usize) -> Result<Table, OutOfMemory> {
        let _ = (narray, nhash);
        Ok(Table {
            hdr: GcHeader::new(ObjKind::Table),
            array: HVec::new(heap),
            node: HVec::new(heap),
            lastfree: 0,
            metatable: None,
        })
    }
    pub fn get(&self, key: Value) -> Value {
        let _ = key;
        todo!()
    }
    pub fn get_int(&self, key: i64) -> Value {
        let _ = key;
        todo!()
    }
    pub fn get_str(&self, key: GcRef<LuaStr>) -> Value {
        let _ = key;
        todo!()
    }
    pub fn set(&mut self, key: Value, val: Value) -> Result<(), TableError> {
        let _ = (key, val);
        todo!()
    }
    pub fn set_int(&mut self, key: i64, val: Value) -> Result<(), OutOfMemory> {
        let _ = (key, val);
        todo!()
    }
    pub fn set_str(&mut self, key: GcRef<LuaStr>, val: Value) -> Result<(), OutOfMemory> {
        let _ = (key, val);
        todo!()
    }
    pub fn length(&self) -> usize {
        todo!()
    }
    pub fn next(&self, key: Value) -> Result<Option<(Value, Value)>, ()> {
        let _ = key;
        todo!()
    }
}
