//! Bytecode listings in the style of `luajit -bl`, for tests and debugging.
//!
//! Each function prints a header `-- BYTECODE -- chunk:first-last`, then one line per
//! instruction: the 1-based pc, `=>` when some jump lands there, the opcode and its
//! operands, and after `;` the constant, jump target or child function it refers to.
//! Child functions are listed before their parent, as LuaJIT does.
//!
//! The listing is a diagnostic tool that builds an ordinary `String`; it is not run on
//! any path a script controls at run time.

use super::bytecode::*;
use crate::object::{GcProto, GcRef};
use crate::value::Value;
use std::fmt::Write;

/// The listing of `proto` and all functions nested in it.
pub fn listing(proto: GcRef<GcProto>) -> String {
    let mut out = String::new();
    list_proto(proto, &mut out);
    out
}

fn list_proto(p: GcRef<GcProto>, out: &mut String) {
    for &child in p.protos.iter() {
        list_proto(child, out);
    }
    let name = listing_name(p.source.as_bytes());
    let _ = writeln!(
        out,
        "-- BYTECODE -- {}:{}-{}",
        name, p.line_defined, p.last_line_defined
    );
    let n = p.code.len();
    let mut target = vec![false; n + 1];
    // Listed as compiled: a loop the JIT patched shows its original opcode.
    let code: Vec<Ins> = p.code.iter().map(|&i| unpatch(i)).collect();
    for (pc, &ins) in code.iter().enumerate() {
        if let Some(op) = Op::from_u8(op_byte(ins)) {
            if op.format() == Format::AJ {
                let t = pc as i64 + 1 + jump_offset(ins) as i64;
                if (0..=n as i64).contains(&t) {
                    target[t as usize] = true;
                }
            }
        }
    }
    for (pc, &ins) in code.iter().enumerate() {
        let _ = writeln!(out, "{}", ins_line(p, pc, ins, target[pc]));
    }
    out.push('\n');
}

/// A chunk as `luajit -bl` names it: a file by its base name, `=name` as `name`, a
/// short string chunk in double quotes; longer ones as error messages show them.
fn listing_name(source: &[u8]) -> String {
    match source.first() {
        Some(b'@') => {
            let path = &source[1..];
            let base = path
                .iter()
                .rposition(|&c| c == b'/' || c == b'\\')
                .map_or(path, |i| &path[i + 1..]);
            String::from_utf8_lossy(base).into_owned()
        }
        Some(b'=') => String::from_utf8_lossy(&source[1..]).into_owned(),
        _ if source.len() <= 40 => format!("\"{}\"", String::from_utf8_lossy(source)),
        _ => super::chunk_id(source),
    }
}

fn ins_line(p: GcRef<GcProto>, pc: usize, ins: Ins, is_target: bool) -> String {
    let mark = if is_target { "=> " } else { "   " };
    let Some(op) = Op::from_u8(op_byte(ins)) else {
        return format!("{:04} {}??? {:#010x}", pc + 1, mark, ins);
    };
    let (a, b, c, d) = (arg_a(ins), arg_b(ins), arg_c(ins), arg_d(ins));
    let mut s = format!("{:04} {}{:<6} ", pc + 1, mark, op.name());
    let a_txt = if matches!(op, Op::IST | Op::ISF) {
        "   ".to_string()
    } else {
        format!("{a:>3}")
    };
    let konst = |i: u32| p.consts.get(i as usize).copied();
    let comment: Option<String> = match op.format() {
        Format::ABC | Format::ABN | Format::ABS | Format::ABL => {
            let _ = write!(s, "{a_txt} {b:>3} {c:>3}");
            match op.format() {
                Format::ABN | Format::ABS => konst(c).map(fmt_const),
                _ => None,
            }
        }
        Format::AJ => {
            let t = pc as i64 + 2 + jump_offset(ins) as i64;
            let _ = write!(s, "{a_txt} => {t:04}");
            return s;
        }
        Format::AI => {
            let _ = write!(s, "{a_txt} {:>3}", d as u16 as i16);
            None
        }
        fmt => {
            let _ = write!(s, "{a_txt} {d:>3}");
            let upname = |i: u32| p.upval_names.get(i as usize).map(|n| n.to_str_lossy().into_owned());
            match fmt {
                _ if op == Op::UGET => upname(d),
                _ if matches!(op, Op::USETV | Op::USETP) => upname(a),
                _ if matches!(op, Op::USETS | Op::USETN) => {
                    upname(a).map(|n| format!("{n} ; {}", konst(d).map(fmt_const).unwrap_or_default()))
                }
                Format::AS | Format::AN | Format::AC => konst(d).map(fmt_const),
                _ if op == Op::FNEW => p
                    .protos
                    .get(d as usize)
                    .map(|c| format!("{}:{}", super::chunk_id(c.source.as_bytes()), c.line_defined)),
                _ => None,
            }
        }
    };
    if let Some(cm) = comment {
        if matches!(op.format(), Format::ABC | Format::ABN | Format::ABS | Format::ABL) {
            let _ = write!(s, "  ; {cm}");
        } else {
            let _ = write!(s, "      ; {cm}");
        }
    }
    s
}

fn fmt_const(v: Value) -> String {
    if let Some(n) = v.as_number() {
        return fmt_num(n);
    }
    if let Some(s) = v.as_string() {
        // As luajit shows them: bytes raw, except line breaks, tabs and other
        // control characters, which are escaped; long strings are cut.
        let bytes = s.as_bytes();
        let mut raw: Vec<u8> = vec![b'"'];
        for &b in bytes.iter().take(40) {
            match b {
                b'\n' => raw.extend_from_slice(b"\\n"),
                b'\r' => raw.extend_from_slice(b"\\r"),
                b'\t' => raw.extend_from_slice(b"\\t"),
                0..=0x1f | 0x7f => raw.extend_from_slice(format!("\\{b:03}").as_bytes()),
                _ => raw.push(b),
            }
        }
        raw.push(b'"');
        if bytes.len() > 40 {
            raw.extend_from_slice(b"...");
        }
        return String::from_utf8_lossy(&raw).into_owned();
    }
    if v.is_table() {
        // A TDUP template; its address would make listings differ run to run.
        return "table".to_string();
    }
    format!("{v:?}")
}

/// A number as `%.14g` prints it.
pub fn fmt_num(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let sci = format!("{n:.13e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..14).contains(&exp) {
        let mant = trim_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let fixed = format!("{:.*}", (13 - exp).max(0) as usize, n);
    trim_zeros(&fixed).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::fmt_num;

    #[test]
    fn g14() {
        assert_eq!(fmt_num(1.0), "1");
        assert_eq!(fmt_num(2f64.sqrt()), "1.4142135623731");
        assert_eq!(fmt_num(1e300 * 1e300), "inf");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(1e15), "1e+15");
        assert_eq!(fmt_num(123456789012.0), "123456789012");
        assert_eq!(fmt_num(1e-5), "1e-05");
    }
}
