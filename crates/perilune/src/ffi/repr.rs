//! C type names as LuaJIT prints them (`ctype<int (*)[3]>`, `cdata<struct P &>`,
//! `cannot convert 'string' to 'int'`).
//!
//! Owns only formatting. Invariants: typedefs are shown resolved (LuaJIT shows
//! `size_t` as `uint64_t`); integers by size and sign (`char`, `short`, `int`,
//! `int64_t`, with `unsigned` as LuaJIT spells it); anonymous structs by their
//! ctype id, as LuaJIT does (so those names differ between the two).
use super::ctype::{flags, CKind, CTypeId, CTypeTable};

fn quals(fl: u16, out: &mut Vec<u8>) {
    if fl & flags::CONST != 0 {
        out.extend_from_slice(b"const ");
    }
    if fl & flags::VOLATILE != 0 {
        out.extend_from_slice(b"volatile ");
    }
}

fn base_name(tab: &CTypeTable, id: CTypeId, out: &mut Vec<u8>) {
    let t = tab.get(id);
    match t.kind {
        CKind::Void => out.extend_from_slice(b"void"),
        CKind::Int if t.flags & flags::BOOL != 0 => out.extend_from_slice(b"bool"),
        CKind::Int => {
            let u = t.flags & flags::UNSIGNED != 0;
            let s: &[u8] = match (t.size, u) {
                (1, false) => b"char",
                (1, true) => b"unsigned char",
                (2, false) => b"short",
                (2, true) => b"unsigned short",
                (8, false) => b"int64_t",
                (8, true) => b"uint64_t",
                (_, false) => b"int",
                (_, true) => b"unsigned int",
            };
            out.extend_from_slice(s);
        }
        CKind::Float if t.flags & flags::COMPLEX != 0 => {
            out.extend_from_slice(if t.size == 8 { b"complex float" } else { b"complex" })
        }
        CKind::Float => out.extend_from_slice(match t.size {
            4 => &b"float"[..],
            8 => b"double",
            _ => b"long double",
        }),
        CKind::Struct | CKind::Union | CKind::Enum => {
            out.extend_from_slice(match t.kind {
                CKind::Struct => &b"struct "[..],
                CKind::Union => b"union ",
                _ => b"enum ",
            });
            if t.name.len > 0 {
                out.extend_from_slice(tab.name(t.name));
            } else {
                out.extend_from_slice(id.0.to_string().as_bytes());
            }
        }
        _ => out.extend_from_slice(b"?"),
    }
}

/// Append the name of type `id` to `out`.
pub fn type_name(tab: &CTypeTable, id: CTypeId, out: &mut Vec<u8>) {
    // Declarator parts are collected outside-in: `inner` is what goes where the
    // name would be.
    let mut inner: Vec<u8> = Vec::new();
    let mut id = id;
    let mut q = 0u16;
    for _ in 0..256 {
        let t = tab.get(id);
        match t.kind {
            CKind::Typedef => id = t.child,
            CKind::Qual => {
                q |= t.flags & flags::QUALS;
                id = t.child;
            }
            CKind::Ptr | CKind::Ref => {
                let mut d: Vec<u8> = vec![if t.kind == CKind::Ptr { b'*' } else { b'&' }];
                if t.flags & flags::CONST != 0 {
                    d.extend_from_slice(b"const");
                }
                if t.flags & flags::VOLATILE != 0 {
                    d.extend_from_slice(b"volatile");
                }
                d.extend_from_slice(&inner);
                inner = d;
                id = t.child;
            }
            CKind::Array => {
                if inner.first().is_some_and(|&c| c == b'*' || c == b'&') {
                    inner.insert(0, b'(');
                    inner.push(b')');
                }
                if t.flags & flags::VLA != 0 {
                    inner.extend_from_slice(b"[?]");
                } else {
                    inner.extend_from_slice(format!("[{}]", t.value).as_bytes());
                }
                id = t.child;
            }
            CKind::Func => {
                if inner.first().is_some_and(|&c| c == b'*' || c == b'&') {
                    inner.insert(0, b'(');
                    inner.push(b')');
                }
                inner.extend_from_slice(b"()");
                id = t.child;
            }
            _ => {
                quals(q | (t.flags & flags::QUALS), out);
                base_name(tab, id, out);
                if !inner.is_empty() {
                    out.push(b' ');
                    out.extend_from_slice(&inner);
                }
                return;
            }
        }
    }
    out.push(b'?');
}

/// The name of type `id` as a `String` (for messages).
pub fn name_string(tab: &CTypeTable, id: CTypeId) -> String {
    let mut v = Vec::new();
    type_name(tab, id, &mut v);
    String::from_utf8_lossy(&v).into_owned()
}
