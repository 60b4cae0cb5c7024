//! Tagged values: every Lua value in 8 bytes, NaN-boxed.
//!
//! A double is stored as itself. Every other type lives in the NaN space: the top 13
//! bits are all ones (a negative quiet NaN), bits 50..47 hold a 4-bit tag and bits
//! 46..0 a payload (a pointer to a GC object, a light userdata address, or nothing).
//!
//! Invariants:
//! - Every NaN is boxed without a payload (sign kept): [`POS_NAN_BITS`] or
//!   [`NEG_NAN_BITS`]. A negative NaN with a payload would read as a tagged value.
//! - Therefore `bits <= NEG_NAN_BITS` (unsigned) is exactly "is a number": one compare.
//! - Hardware `+ - * /` and negation on such numbers only ever produce such
//!   numbers (a NaN result is the default NaN or an operand's NaN, its sign perhaps
//!   flipped), so the interpreter boxes their results with [`Value::arith`], unchecked.
//! - `nil`, `false` and `true` have payload 0, so each is a single fixed bit pattern.
//! - GC pointers fit in 47 bits (user-space addresses on x86-64 and AArch64).
//! - Only the constructors make tagged values, so the tag of a non-number is one of
//!   [`Tag`]'s: 0 and 11..=15 are never stored. Code that decodes a tag says what
//!   each of the 16 patterns is ([`Tag::from_bits`]); none turns an unknown tag
//!   into an object.
//! - An object's [`ObjKind`](crate::object::ObjKind) number is its value's tag, so the
//!   collector and the JIT read one numbering.

use crate::object::{GcFunc, GcHeader, GcRef, GcStr, GcTable, GcThread, GcUdata};
use std::ptr::NonNull;

/// Bits of the canonical NaN with the sign bit clear.
pub const POS_NAN_BITS: u64 = 0x7FF8_0000_0000_0000;
/// Bits of the canonical NaN with the sign bit set; also the largest number pattern.
pub const NEG_NAN_BITS: u64 = 0xFFF8_0000_0000_0000;

const PAYLOAD_MASK: u64 = (1 << 47) - 1;
const SIGN_BIT: u64 = 1 << 63;

/// The 4-bit tags of non-number values. Order matters: the tags `Str..=Cdata` are the
/// collectable objects (one contiguous range, so [`Value::is_gc`] is one compare), and
/// `Nil`/`False` are the only falsy ones.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tag {
    Nil = 1,
    False = 2,
    True = 3,
    LightUserdata = 4,
    Str = 5,
    Thread = 6,
    Function = 7,
    Table = 8,
    Userdata = 9,
    /// Reserved for the FFI's C data objects (docs/values.md); no value has it yet.
    Cdata = 10,
}

/// The first tag that is not a collectable object (one past [`Tag::Cdata`]).
const GC_TAG_END: u8 = Tag::Cdata as u8 + 1;

impl Tag {
    /// The tag that bits 50..47 of a non-number hold, or `None` for the patterns that
    /// are never stored (0 and 11..=15).
    #[inline(always)]
    pub const fn from_bits(t: u8) -> Option<Tag> {
        Some(match t {
            1 => Tag::Nil,
            2 => Tag::False,
            3 => Tag::True,
            4 => Tag::LightUserdata,
            5 => Tag::Str,
            6 => Tag::Thread,
            7 => Tag::Function,
            8 => Tag::Table,
            9 => Tag::Userdata,
            10 => Tag::Cdata,
            0 | 11..=u8::MAX => return None,
        })
    }
    /// Is a value with this tag a collectable object? (For tests: values answer
    /// [`Value::is_gc`] with one compare.)
    #[cfg(test)]
    pub const fn is_gc(self) -> bool {
        self as u8 >= Tag::Str as u8
    }
}

const fn tag_bits(tag: u8) -> u64 {
    NEG_NAN_BITS | ((tag as u64) << 47)
}

/// The Lua type of a value, as `type()` names it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LuaType {
    Nil,
    Boolean,
    LightUserdata,
    Number,
    String,
    Table,
    Function,
    Userdata,
    Thread,
    /// The FFI's C data.
    Cdata,
}

impl LuaType {
    pub fn name(self) -> &'static str {
        match self {
            LuaType::Nil => "nil",
            LuaType::Boolean => "boolean",
            LuaType::LightUserdata | LuaType::Userdata => "userdata",
            LuaType::Number => "number",
            LuaType::String => "string",
            LuaType::Table => "table",
            LuaType::Function => "function",
            LuaType::Thread => "thread",
            LuaType::Cdata => "cdata",
        }
    }
}

/// A Lua value. `Copy`; equality of the bit patterns is *not* Lua equality for
/// numbers (NaN, -0), use [`Value::raw_equal`].
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Value(u64);

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(n) = self.as_number() {
            return write!(f, "{n}");
        }
        if let Some(s) = self.as_string() {
            return write!(f, "{:?}", String::from_utf8_lossy(s.as_bytes()));
        }
        write!(f, "{}:{:#x}", self.lua_type().name(), self.0 & PAYLOAD_MASK)
    }
}

impl Default for Value {
    fn default() -> Self {
        Value::NIL
    }
}

impl Value {
    pub const NIL: Value = Value(tag_bits(Tag::Nil as u8));
    pub const FALSE: Value = Value(tag_bits(Tag::False as u8));
    pub const TRUE: Value = Value(tag_bits(Tag::True as u8));

    #[inline(always)]
    pub const fn from_bits(bits: u64) -> Value {
        Value(bits)
    }
    #[inline(always)]
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Box any double. A NaN loses its payload (keeping its sign), so that NaNs stay
    /// numbers whatever arithmetic is done on them later.
    #[inline(always)]
    pub fn number(n: f64) -> Value {
        let bits = n.to_bits();
        if n.is_nan() {
            Value((bits & SIGN_BIT) | POS_NAN_BITS)
        } else {
            Value(bits)
        }
    }

    /// Box the result of hardware `+ - * /` or negation on numbers taken from values,
    /// or an integer converted to a double. Such a result never carries a NaN payload
    /// (module invariants), so it needs no canonicalisation: this keeps a compare and
    /// a move between register files off the interpreter's arithmetic paths. Results
    /// of library code (`%` through `floor`, `pow`, `math.*`) go through
    /// [`Value::number`].
    #[inline(always)]
    pub fn arith(n: f64) -> Value {
        debug_assert!(
            !n.is_nan() || n.to_bits() & !SIGN_BIT == POS_NAN_BITS,
            "NaN payload from arithmetic"
        );
        Value(n.to_bits())
    }
    #[inline(always)]
    pub fn boolean(b: bool) -> Value {
        if b {
            Value::TRUE
        } else {
            Value::FALSE
        }
    }
    #[inline(always)]
    pub fn light_userdata(addr: usize) -> Value {
        Value(tag_bits(Tag::LightUserdata as u8) | (addr as u64 & PAYLOAD_MASK))
    }
    #[inline(always)]
    fn from_ptr<T>(tag: Tag, p: GcRef<T>) -> Value {
        let addr = p.as_ptr() as u64;
        debug_assert!(addr & !PAYLOAD_MASK == 0, "pointer does not fit in 47 bits");
        Value(tag_bits(tag as u8) | addr)
    }
    #[inline(always)]
    pub fn string(s: GcRef<GcStr>) -> Value {
        Value::from_ptr(Tag::Str, s)
    }
    #[inline(always)]
    pub fn table(t: GcRef<GcTable>) -> Value {
        Value::from_ptr(Tag::Table, t)
    }
    #[inline(always)]
    pub fn function(f: GcRef<GcFunc>) -> Value {
        Value::from_ptr(Tag::Function, f)
    }
    #[inline(always)]
    pub fn thread(t: GcRef<GcThread>) -> Value {
        Value::from_ptr(Tag::Thread, t)
    }
    #[inline(always)]
    pub fn userdata(u: GcRef<GcUdata>) -> Value {
        Value::from_ptr(Tag::Userdata, u)
    }
    #[inline(always)]
    pub fn cdata(c: GcRef<crate::cdata::GcCdata>) -> Value {
        Value::from_ptr(Tag::Cdata, c)
    }

    /// The value referring to object `o` (`None` for prototypes and upvalues, which
    /// are never values).
    #[inline]
    pub fn of_object(o: GcRef<GcHeader>) -> Option<Value> {
        o.kind().tag().map(|t| Value::from_ptr(t, o))
    }

    /// The tag, or `None` for a number. A pattern with a tag that is never stored
    /// (module invariants) also gives `None`: read as a number it is a NaN, and no
    /// pointer is ever followed.
    #[inline(always)]
    pub fn tag(self) -> Option<Tag> {
        if self.is_number() {
            return None;
        }
        Tag::from_bits(((self.0 >> 47) & 0xF) as u8)
    }
    #[inline(always)]
    fn has_tag(self, tag: Tag) -> bool {
        (self.0 >> 47) == (tag_bits(tag as u8) >> 47)
    }

    #[inline(always)]
    pub fn is_number(self) -> bool {
        self.0 <= NEG_NAN_BITS
    }
    #[inline(always)]
    pub fn is_nil(self) -> bool {
        self.0 == Value::NIL.0
    }
    #[inline(always)]
    pub fn is_falsy(self) -> bool {
        self.0 == Value::NIL.0 || self.0 == Value::FALSE.0
    }
    #[inline(always)]
    pub fn is_truthy(self) -> bool {
        !self.is_falsy()
    }
    #[inline(always)]
    pub fn is_string(self) -> bool {
        self.has_tag(Tag::Str)
    }
    #[inline(always)]
    pub fn is_table(self) -> bool {
        self.has_tag(Tag::Table)
    }
    #[inline(always)]
    pub fn is_function(self) -> bool {
        self.has_tag(Tag::Function)
    }
    /// Is this a collectable object (tags `Str..=Cdata`)? Numbers lie below
    /// `tag_bits(Str)`, and the tags of the range are contiguous: one compare.
    #[inline(always)]
    pub fn is_gc(self) -> bool {
        self.0.wrapping_sub(tag_bits(Tag::Str as u8)) < tag_bits(GC_TAG_END) - tag_bits(Tag::Str as u8)
    }

    #[inline(always)]
    pub fn as_number(self) -> Option<f64> {
        if self.is_number() {
            Some(f64::from_bits(self.0))
        } else {
            None
        }
    }
    /// The number, without a check. Only meaningful when `is_number()` holds.
    #[inline(always)]
    pub fn number_unchecked(self) -> f64 {
        f64::from_bits(self.0)
    }
    #[inline(always)]
    pub fn as_bool(self) -> Option<bool> {
        if self.0 == Value::TRUE.0 {
            Some(true)
        } else if self.0 == Value::FALSE.0 {
            Some(false)
        } else {
            None
        }
    }
    #[inline(always)]
    fn payload_ref<T>(self) -> GcRef<T> {
        // SAFETY: only called after a tag check for a GC tag; GC payloads are non-null
        // object addresses stored by `from_ptr`.
        unsafe { GcRef::from_raw(NonNull::new_unchecked((self.0 & PAYLOAD_MASK) as *mut T)) }
    }
    #[inline(always)]
    pub fn as_string(self) -> Option<GcRef<GcStr>> {
        if self.is_string() {
            Some(self.payload_ref())
        } else {
            None
        }
    }
    #[inline(always)]
    pub fn as_table(self) -> Option<GcRef<GcTable>> {
        if self.is_table() {
            Some(self.payload_ref())
        } else {
            None
        }
    }
    #[inline(always)]
    pub fn as_function(self) -> Option<GcRef<GcFunc>> {
        if self.is_function() {
            Some(self.payload_ref())
        } else {
            None
        }
    }
    #[inline(always)]
    pub fn as_thread(self) -> Option<GcRef<GcThread>> {
        if self.has_tag(Tag::Thread) {
            Some(self.payload_ref())
        } else {
            None
        }
    }
    #[inline(always)]
    pub fn as_userdata(self) -> Option<GcRef<GcUdata>> {
        if self.has_tag(Tag::Userdata) {
            Some(self.payload_ref())
        } else {
            None
        }
    }
    #[inline(always)]
    pub fn as_cdata(self) -> Option<GcRef<crate::cdata::GcCdata>> {
        if self.has_tag(Tag::Cdata) {
            Some(self.payload_ref())
        } else {
            None
        }
    }
    #[inline(always)]
    pub fn as_light_userdata(self) -> Option<usize> {
        if self.has_tag(Tag::LightUserdata) {
            Some((self.0 & PAYLOAD_MASK) as usize)
        } else {
            None
        }
    }
    /// The object header of a collectable value.
    #[inline(always)]
    pub fn as_gc(self) -> Option<GcRef<GcHeader>> {
        if self.is_gc() {
            Some(self.payload_ref())
        } else {
            None
        }
    }

    pub fn lua_type(self) -> LuaType {
        match self.tag() {
            None => LuaType::Number,
            Some(Tag::Nil) => LuaType::Nil,
            Some(Tag::False) | Some(Tag::True) => LuaType::Boolean,
            Some(Tag::LightUserdata) => LuaType::LightUserdata,
            Some(Tag::Str) => LuaType::String,
            Some(Tag::Thread) => LuaType::Thread,
            Some(Tag::Function) => LuaType::Function,
            Some(Tag::Table) => LuaType::Table,
            Some(Tag::Userdata) => LuaType::Userdata,
            Some(Tag::Cdata) => LuaType::Cdata,
        }
    }
    pub fn type_name(self) -> &'static str {
        self.lua_type().name()
    }

    /// Primitive equality (`rawequal`): numbers by value, everything else by identity.
    #[inline(always)]
    pub fn raw_equal(a: Value, b: Value) -> bool {
        if a.is_number() && b.is_number() {
            a.number_unchecked() == b.number_unchecked()
        } else {
            a.0 == b.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for n in [
            0.0,
            -0.0,
            1.5,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
        ] {
            let v = Value::number(n);
            assert!(v.is_number());
            assert_eq!(v.as_number().map(f64::to_bits), Some(n.to_bits()));
        }
    }

    #[test]
    fn nan_keeps_sign_and_stays_a_number() {
        let neg = Value::number(-f64::NAN);
        let pos = Value::number(f64::NAN);
        assert!(neg.is_number() && pos.is_number());
        assert!(neg.number_unchecked().is_sign_negative());
        assert!(!pos.number_unchecked().is_sign_negative());
        assert!(!Value::raw_equal(neg, neg));
    }

    #[test]
    fn nan_payloads_are_dropped_so_arithmetic_stays_boxed() {
        for bits in [
            0x7FF0_0000_0000_0001,
            0x7FFF_FFFF_FFFF_FFFF,
            0xFFF0_0000_0000_0001,
            0xFFFF_FFFF_FFFF_FFFF,
        ] {
            let v = Value::number(f64::from_bits(bits));
            assert!(v.is_number(), "{bits:#x}");
            assert_eq!(v.bits() & !SIGN_BIT, POS_NAN_BITS, "{bits:#x}");
            assert_eq!(v.bits() & SIGN_BIT, bits & SIGN_BIT, "{bits:#x}");
            // Negating or combining canonical NaNs gives canonical NaNs.
            let n = v.number_unchecked();
            for r in [-n, n + 1.0, n * n, 1.0 / n, n - n] {
                assert!(
                    Value::number(r).bits() == r.to_bits(),
                    "{bits:#x} -> {:#x}",
                    r.to_bits()
                );
            }
        }
    }

    #[test]
    fn every_tag_pattern_decodes_to_what_it_is() {
        let made = [
            (Value::NIL, Tag::Nil),
            (Value::FALSE, Tag::False),
            (Value::TRUE, Tag::True),
            (Value::light_userdata(0x10), Tag::LightUserdata),
        ];
        for (v, t) in made {
            assert_eq!(v.tag(), Some(t));
            assert!(!v.is_gc());
        }
        for t in 0..16u8 {
            let v = Value::from_bits(tag_bits(t) | 0x1000);
            match Tag::from_bits(t) {
                Some(tag) => {
                    assert_eq!(tag as u8, t);
                    assert_eq!(v.tag(), Some(tag));
                    assert_eq!(v.is_gc(), tag.is_gc(), "{tag:?}");
                    assert_eq!(v.as_gc().is_some(), tag.is_gc());
                }
                // Never stored; were one made, it would not read as an object.
                None => {
                    assert!(t == 0 || t > Tag::Cdata as u8);
                    assert!(v.tag().is_none() && !v.is_gc() && v.as_gc().is_none());
                    assert!(v.as_userdata().is_none());
                }
            }
        }
        assert!(!Value::number(f64::NAN).is_gc() && !Value::number(-f64::NAN).is_gc());
        assert!(!Value::from_bits(NEG_NAN_BITS).is_gc());
        assert_eq!(Value::from_bits(tag_bits(Tag::Cdata as u8) | 8).type_name(), "cdata");
    }

    #[test]
    fn primitives() {
        assert!(Value::NIL.is_nil() && Value::NIL.is_falsy());
        assert!(Value::FALSE.is_falsy() && !Value::TRUE.is_falsy());
        assert!(Value::number(0.0).is_truthy());
        assert_eq!(Value::NIL.lua_type(), LuaType::Nil);
        assert_eq!(Value::TRUE.as_bool(), Some(true));
        assert!(!Value::NIL.is_gc() && !Value::number(1.0).is_gc());
        assert!(Value::raw_equal(Value::number(0.0), Value::number(-0.0)));
        let lu = Value::light_userdata(0x1234);
        assert_eq!(lu.as_light_userdata(), Some(0x1234));
        assert_eq!(lu.type_name(), "userdata");
    }
}
