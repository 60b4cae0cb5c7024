//! A small grammar-based generator: fuzz bytes to syntactically valid Lua 5.1.
//!
//! The bytes are read with `arbitrary::Unstructured` as a sequence of choices; when
//! they run out every choice takes its first alternative, so generation always ends
//! (and depth and statement counts are bounded besides). The output leans on what
//! finds bugs in a runtime rather than in a parser: the standard library with odd
//! arguments (patterns, format strings, huge counts), metatables and metamethods,
//! closures and upvalues, varargs, coroutines, pcall/error, and the collector.

use arbitrary::Unstructured;

const NAMES: &[&str] = &["a", "b", "c", "d", "t", "s", "f", "x", "g", "mt"];
const STRINGS: &[&str] = &[
    "",
    "a",
    "abc",
    "hello world",
    "%d",
    "%s",
    "%5.2f",
    "%q",
    "%x",
    "%-10s|",
    "%c",
    "%g",
    "%%",
    "%i",
    "%o",
    "%.99f",
    "%99d",
    "%d+",
    "(%a+)",
    "[%w_]+",
    ".-",
    "%b()",
    "^(.-)$",
    "%f[%w]%w+",
    "(a*(.)%w(%s*))",
    "[^%]]",
    "%1",
    "(()",
    "[a-",
    "%",
    "(.)%1",
    "x*",
    "\\0",
    "__index",
    "__gc",
    "__mode",
    "k",
    "v",
    "kv",
    "n",
    "1e308",
    "0x10",
    "  12  ",
    "-0",
    "nan",
    "inf",
    "collect",
    "count",
    "step",
    "stop",
    "restart",
    "return 1",
    "return ...",
    "error('e')",
    "while true do end",
    "\\255\\0\\1",
    "\\n",
    "ab\\0cd",
];
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "-1",
    "10",
    "100",
    "1000",
    "0.5",
    "-0.0",
    "1e300",
    "1e-300",
    "2^53",
    "2^31",
    "2^32",
    "-2^31",
    "1/0",
    "-1/0",
    "0/0",
    "0x7fffffff",
    "0xffffffff",
    "255",
    "256",
    "65536",
    "1e9",
    "123456789",
    "3.14159",
    "-7",
    "1e15",
];
const FUNCS: &[&str] = &[
    "print",
    "type",
    "tostring",
    "tonumber",
    "select",
    "unpack",
    "pcall",
    "error",
    "assert",
    "rawget",
    "rawset",
    "rawequal",
    "rawlen",
    "setmetatable",
    "getmetatable",
    "next",
    "pairs",
    "ipairs",
    "loadstring",
    "load",
    "setfenv",
    "getfenv",
    "collectgarbage",
    "xpcall",
    "newproxy",
    "gcinfo",
    "string.rep",
    "string.format",
    "string.sub",
    "string.find",
    "string.gsub",
    "string.gmatch",
    "string.match",
    "string.byte",
    "string.char",
    "string.upper",
    "string.lower",
    "string.reverse",
    "string.len",
    "string.dump",
    "table.insert",
    "table.remove",
    "table.concat",
    "table.sort",
    "table.maxn",
    "table.getn",
    "table.foreach",
    "table.foreachi",
    "math.floor",
    "math.ceil",
    "math.max",
    "math.min",
    "math.fmod",
    "math.modf",
    "math.abs",
    "math.sqrt",
    "math.huge",
    "math.random",
    "math.randomseed",
    "math.frexp",
    "math.ldexp",
    "math.pow",
    "math.log",
    "math.exp",
    "bit.band",
    "bit.bor",
    "bit.bxor",
    "bit.lshift",
    "bit.rshift",
    "bit.arshift",
    "bit.rol",
    "bit.tohex",
    "bit.tobit",
    "bit.bnot",
    "bit.bswap",
    "coroutine.create",
    "coroutine.resume",
    "coroutine.yield",
    "coroutine.wrap",
    "coroutine.status",
    "coroutine.running",
    "coroutine.isyieldable",
];
const METHODS: &[&str] = &[
    "rep", "sub", "format", "byte", "len", "upper", "gsub", "find", "match", "gmatch",
];
/// Every metamethod name the runtime knows (`__gc`, `__mode` and `__metatable`
/// included), from the runtime itself.
const METAMETHODS: &[&str] = &perilune::unstable_internals::vm::state::TM_NAMES;
const BINOPS: &[&str] = &[
    "+", "-", "*", "/", "%", "^", "..", "==", "~=", "<", "<=", ">", ">=", "and", "or",
];

/// Generate a program from `data`.
pub fn program(data: &[u8]) -> String {
    let mut g = Gen {
        u: Unstructured::new(data),
        out: String::new(),
        depth: 0,
        loops: 0,
        stmts: 0,
    };
    g.block(0);
    g.out
}

struct Gen<'a> {
    u: Unstructured<'a>,
    out: String,
    depth: usize,
    /// Enclosing loops in the current function (`break` is valid when > 0).
    loops: usize,
    stmts: usize,
}

const MAX_DEPTH: usize = 6;
const MAX_STMTS: usize = 400;

impl Gen<'_> {
    fn pick(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.u.choose_index(n).unwrap_or(0)
    }
    fn pick_str(&mut self, list: &[&'static str]) -> &'static str {
        list[self.pick(list.len())]
    }
    fn coin(&mut self) -> bool {
        self.u.arbitrary::<bool>().unwrap_or(false)
    }
    fn small(&mut self, max: u32) -> u32 {
        self.u.int_in_range(0..=max).unwrap_or(0)
    }
    fn w(&mut self, s: &str) {
        self.out.push_str(s);
    }
    fn name(&mut self) {
        let n = self.pick_str(NAMES);
        self.w(n);
    }

    fn block(&mut self, indent: usize) {
        let n = self.small(if self.depth == 0 { 24 } else { 5 });
        for _ in 0..n {
            if self.stmts >= MAX_STMTS || self.u.is_empty() {
                break;
            }
            self.stmts += 1;
            self.w(&" ".repeat(indent));
            self.stat(indent);
            // `;` keeps a following `(expr):m()` from reading as a call.
            self.w(";\n");
        }
        // A block may end in `return` or `break`.
        match self.pick(8) {
            0 => {
                self.w(&" ".repeat(indent));
                self.w("return ");
                self.explist();
                self.w("\n");
            }
            1 if self.loops > 0 => {
                self.w(&" ".repeat(indent));
                self.w("break\n");
            }
            _ => {}
        }
    }

    fn nested_block(&mut self, indent: usize) {
        self.depth += 1;
        self.block(indent + 2);
        self.depth -= 1;
        self.w(&" ".repeat(indent));
    }

    fn loop_block(&mut self, indent: usize) {
        self.loops += 1;
        self.nested_block(indent);
        self.loops -= 1;
    }

    fn stat(&mut self, indent: usize) {
        let deep = self.depth >= MAX_DEPTH;
        let choice = if deep { self.pick(4) } else { self.pick(20) };
        match choice {
            0 => {
                self.w("local ");
                self.name();
                self.w(" = ");
                self.expr();
            }
            1 => {
                self.name();
                self.w(" = ");
                self.expr();
            }
            2 => {
                self.prefix();
                self.w("[");
                self.expr();
                self.w("] = ");
                self.expr();
            }
            3 => self.call(),
            4 => {
                self.w("if ");
                self.expr();
                self.w(" then\n");
                self.nested_block(indent);
                if self.coin() {
                    self.w("elseif ");
                    self.expr();
                    self.w(" then\n");
                    self.nested_block(indent);
                }
                if self.coin() {
                    self.w("else\n");
                    self.nested_block(indent);
                }
                self.w("end");
            }
            5 => {
                self.w("while ");
                self.expr();
                self.w(" do\n");
                self.loop_block(indent);
                self.w("end");
            }
            6 => {
                self.w("for i = ");
                self.expr();
                self.w(", ");
                self.expr();
                if self.coin() {
                    self.w(", ");
                    self.expr();
                }
                self.w(" do\n");
                self.loop_block(indent);
                self.w("end");
            }
            7 => {
                let it = self.pick_str(&["pairs", "ipairs", "next,", "string.gmatch"]);
                self.w("for k, v in ");
                self.w(it);
                if it == "next," {
                    self.w(" ");
                    self.expr();
                } else if it == "string.gmatch" {
                    self.w("(");
                    self.expr();
                    self.w(", ");
                    self.expr();
                    self.w(")");
                } else {
                    self.w("(");
                    self.expr();
                    self.w(")");
                }
                self.w(" do\n");
                self.loop_block(indent);
                self.w("end");
            }
            8 => {
                self.w("repeat\n");
                self.loop_block(indent);
                self.w("until ");
                self.expr();
            }
            9 => {
                self.w("do\n");
                self.nested_block(indent);
                self.w("end");
            }
            10 => {
                self.w("local function ");
                self.name();
                self.funcbody(indent);
            }
            11 => {
                self.w("function ");
                self.name();
                if self.coin() {
                    self.w(".");
                    self.name();
                }
                self.funcbody(indent);
            }
            12 => {
                self.w("setmetatable(");
                self.name();
                self.w(", {");
                for _ in 0..1 + self.small(3) {
                    let mm = self.pick_str(METAMETHODS);
                    self.w(mm);
                    self.w(" = ");
                    self.expr();
                    self.w(", ");
                }
                self.w("})");
            }
            13 => {
                self.w("pcall(function(...)\n");
                self.fn_block(indent);
                self.w("end");
                for _ in 0..self.small(2) {
                    self.w(", ");
                    self.expr();
                }
                self.w(")");
            }
            14 => {
                self.w("local co = coroutine.wrap(function(...)\n");
                self.fn_block(indent);
                self.w("end) pcall(co, ");
                self.expr();
                self.w(") pcall(co)");
            }
            15 => {
                let opt = self.pick_str(&["collect", "step", "count", "stop", "restart", "setpause", "setstepmul"]);
                self.w("collectgarbage(\"");
                self.w(opt);
                self.w("\"");
                if self.coin() {
                    self.w(", ");
                    self.expr();
                }
                self.w(")");
            }
            16 => {
                self.w("local ");
                self.name();
                self.w(", ");
                self.name();
                self.w(" = ");
                self.explist();
            }
            17 => {
                self.name();
                self.w(".");
                self.name();
                self.w(" = ");
                self.expr();
            }
            18 => {
                self.w("t = {} for i = 1, ");
                let n = self.pick_str(NUMBERS);
                self.w(n);
                self.w(" do t[i] = ");
                self.expr();
                self.w(" end");
            }
            _ => {
                self.w("error(");
                self.expr();
                self.w(")");
            }
        }
    }

    /// A function's body: loops outside it do not count for `break`.
    fn fn_block(&mut self, indent: usize) {
        let loops = std::mem::replace(&mut self.loops, 0);
        self.nested_block(indent);
        self.loops = loops;
    }

    fn funcbody(&mut self, indent: usize) {
        self.w("(");
        let n = self.small(3);
        for i in 0..n {
            self.name();
            self.w(", ");
            let _ = i;
        }
        self.w("...)\n");
        self.fn_block(indent);
        self.w("end");
    }

    fn explist(&mut self) {
        self.expr();
        for _ in 0..self.small(2) {
            self.w(", ");
            self.expr();
        }
    }

    fn args_tail(&mut self) {
        self.w("(");
        let n = self.small(3);
        for i in 0..n {
            if i > 0 {
                self.w(", ");
            }
            self.expr();
        }
        self.w(")");
    }

    fn call(&mut self) {
        match self.pick(4) {
            0 => {
                let f = self.pick_str(FUNCS);
                self.w(f);
                self.args_tail();
            }
            1 => {
                self.prefix();
                self.args_tail();
            }
            2 => {
                self.w("(");
                self.expr();
                self.w("):");
                let m = self.pick_str(METHODS);
                self.w(m);
                self.args_tail();
            }
            _ => {
                self.w("pcall(");
                let f = self.pick_str(FUNCS);
                self.w(f);
                for _ in 0..self.small(3) {
                    self.w(", ");
                    self.expr();
                }
                self.w(")");
            }
        }
    }

    /// A prefix expression (something that can be called or indexed).
    fn prefix(&mut self) {
        match self.pick(4) {
            0 | 1 => self.name(),
            2 => {
                self.name();
                self.w(".");
                self.name();
            }
            _ => {
                self.w("(");
                self.expr();
                self.w(")");
            }
        }
    }

    fn expr(&mut self) {
        if self.depth >= MAX_DEPTH + 3 || self.u.is_empty() {
            self.atom();
            return;
        }
        self.depth += 1;
        match self.pick(14) {
            0..=3 => self.atom(),
            4 | 5 => {
                self.w("(");
                self.expr();
                self.w(" ");
                let op = self.pick_str(BINOPS);
                self.w(op);
                self.w(" ");
                self.expr();
                self.w(")");
            }
            6 => {
                let op = self.pick_str(&["-", "not ", "#"]);
                self.w(op);
                self.w("(");
                self.expr();
                self.w(")");
            }
            7 => {
                self.w("{");
                for _ in 0..self.small(4) {
                    match self.pick(3) {
                        0 => {}
                        1 => {
                            self.name();
                            self.w(" = ");
                        }
                        _ => {
                            self.w("[");
                            self.expr();
                            self.w("] = ");
                        }
                    }
                    self.expr();
                    self.w(", ");
                }
                if self.coin() {
                    self.w("...");
                }
                self.w("}");
            }
            8 => {
                self.w("function");
                self.funcbody(0);
            }
            9 | 10 => self.call(),
            11 => {
                self.prefix();
                self.w("[");
                self.expr();
                self.w("]");
            }
            12 => self.w("..."),
            _ => {
                self.w("select(");
                self.expr();
                self.w(", ...)");
            }
        }
        self.depth -= 1;
    }

    fn atom(&mut self) {
        match self.pick(6) {
            0 => self.name(),
            1 => {
                let n = self.pick_str(NUMBERS);
                self.w(n);
            }
            2 => {
                let s = self.pick_str(STRINGS);
                self.w("\"");
                self.w(s);
                self.w("\"");
            }
            3 => {
                let s = self.pick_str(&["nil", "true", "false"]);
                self.w(s);
            }
            4 => {
                self.w("string.rep(\"");
                let s = self.pick_str(STRINGS);
                self.w(s);
                self.w("\", ");
                let n = self.pick_str(NUMBERS);
                self.w(n);
                self.w(")");
            }
            _ => self.w("{}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use perilune::unstable_internals::compiler::compile;
    use perilune::unstable_internals::vm::state::State;

    /// Every generated program compiles (the generator's whole point).
    #[test]
    fn generated_programs_compile() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        for len in 0..2000usize {
            let data: Vec<u8> = (0..len % 700)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let src = super::program(&data);
            let mut st = State::new().unwrap();
            if let Err(e) = compile(&mut st, src.as_bytes(), b"=gen") {
                let msg = match e {
                    perilune::unstable_internals::vm::error::Throw::Error(v) => {
                        v.as_string().map(|s| s.to_str_lossy().into_owned()).unwrap_or_default()
                    }
                    t => format!("{t:?}"),
                };
                if !msg.contains("too many") && !msg.contains("overflow") {
                    panic!("generated program does not compile: {msg}\n{src}");
                }
            }
        }
    }
}
