//! A generator of random, deterministic Lua programs made of hot numeric loops, for
//! the JIT's differential test (`tests/jit_differential.rs`): what the recorder and
//! the backend handle (arithmetic of every kind, comparisons and branches, array
//! reads and writes, upvalues, `for`/`while`/`repeat`, nested loops, `break`) plus
//! what makes traces leave (a branch that changes direction, a value whose type
//! changes, an index past the array part, NaN, infinities and -0).
//!
//! Every number is printed with `%.17g`, so the JIT must give the interpreter's
//! results bit for bit. Loops are bounded by constants; values are kept finite or
//! allowed to become inf/NaN, never to run a loop longer.

use crate::difftest::gen::Rng;

/// Size of the number arrays (`t1`, `t2`).
const SIZE: i64 = 40;

const NUMS: &[&str] = &[
    "0", "1", "2", "3", "-1", "0.5", "-0.5", "1.25", "7", "10", "100", "-0", "1e300", "0.1", "3.75", "-2.5",
];

struct Loops {
    rng: Rng,
    out: String,
    indent: usize,
    /// Numeric variables in scope (all declared up front).
    nums: Vec<String>,
    /// Loop variables in scope (numbers, read-only) and whether they are integral.
    idx: Vec<(String, bool)>,
    next: usize,
    /// Iterations the enclosing loops multiply to.
    work: i64,
}

/// The program of `seed`.
pub fn generate(seed: u64) -> String {
    let mut g = Loops {
        rng: Rng::new(seed ^ 0x6a09_e667_f3bc_c908),
        out: String::new(),
        indent: 0,
        nums: Vec::new(),
        idx: Vec::new(),
        next: 0,
        work: 1,
    };
    g.program(seed);
    g.out
}

impl Loops {
    fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn fresh(&mut self, p: &str) -> String {
        self.next += 1;
        format!("{p}{}", self.next)
    }

    fn program(&mut self, seed: u64) {
        self.line(&format!("-- generated loop program, seed {seed}"));
        self.line("local fmt = string.format");
        self.line("local function show(x) if type(x) == 'number' then return fmt('%.17g', x) elseif type(x) == 'table' then return 'table' end return tostring(x) end");
        let n = 3 + self.rng.below(4);
        for _ in 0..n {
            let v = self.fresh("n");
            let init = self.rng.pick(NUMS).to_string();
            self.line(&format!("local {v} = {init}"));
            self.nums.push(v);
        }
        self.line("local any = nil");
        for t in ["t1", "t2"] {
            let k = self.num_literal();
            self.line(&format!("local {t} = {{}} for i = 1, {SIZE} do {t}[i] = i * {k} end"));
        }
        let blocks = 2 + self.rng.below(4);
        for _ in 0..blocks {
            if self.rng.chance(30) {
                // The loop in a closure: the numbers become upvalues it reads.
                let f = self.fresh("f");
                self.line(&format!("local function {f}()"));
                self.indent += 1;
                self.line("local acc = 0");
                let saved = std::mem::replace(&mut self.nums, vec!["acc".to_string()]);
                let reads = saved.clone();
                self.loop_stmt(0, &reads);
                self.nums = saved;
                self.line("return acc");
                self.indent -= 1;
                self.line("end");
                let target = self.pick_num();
                self.line(&format!("{target} = {f}()"));
            } else {
                let reads = self.nums.clone();
                self.loop_stmt(0, &reads);
            }
            self.dump();
        }
    }

    fn dump(&mut self) {
        let shown: Vec<String> = self.nums.iter().map(|v| format!("show({v})")).collect();
        self.line(&format!("print({}, show(any))", shown.join(", ")));
        self.line("do local s1, s2 = 0, 0 for i = 1, #t1 do s1 = s1 + t1[i] end for i = 1, #t2 do s2 = s2 + t2[i] end print(#t1, #t2, show(s1), show(s2)) end");
    }

    fn num_literal(&mut self) -> String {
        self.rng.pick(NUMS).to_string()
    }

    fn pick_num(&mut self) -> String {
        let i = self.rng.below(self.nums.len());
        self.nums[i].clone()
    }

    /// A loop; `reads` are extra numbers it may read but not write (upvalues).
    fn loop_stmt(&mut self, depth: usize, reads: &[String]) {
        let outer = self.work;
        self.one_loop(depth, reads);
        self.work = outer;
    }

    fn one_loop(&mut self, depth: usize, reads: &[String]) {
        let iters = if self.rng.chance(20) {
            800 + self.rng.below(2500)
        } else {
            5 + self.rng.below(120)
        } as i64;
        // Nested loops multiply: keep every program under about 100k iterations.
        let iters = iters.min(100_000 / self.work).max(2);
        self.work *= iters;
        let i = self.fresh("i");
        match self.rng.below(6) {
            0..=2 => {
                let (from, to, step) = match self.rng.below(5) {
                    0 => (iters, 1, "-1".to_string()),
                    1 => (1, iters * 2, "2".to_string()),
                    2 => (0, iters / 2, "0.5".to_string()),
                    _ => (1, iters, String::new()),
                };
                if step.is_empty() {
                    self.line(&format!("for {i} = {from}, {to} do"));
                } else {
                    self.line(&format!("for {i} = {from}, {to}, {step} do"));
                }
                self.indent += 1;
                self.idx.push((i.clone(), !step.starts_with("0.")));
                self.body(depth, reads);
                self.idx.pop();
                self.indent -= 1;
                self.line("end");
            }
            3 | 4 => {
                self.line(&format!("local {i} = 0"));
                self.line(&format!("while {i} < {iters} do"));
                self.indent += 1;
                self.line(&format!("{i} = {i} + 1"));
                self.idx.push((i.clone(), true));
                self.body(depth, reads);
                self.idx.pop();
                self.indent -= 1;
                self.line("end");
            }
            _ => {
                self.line(&format!("local {i} = 0"));
                self.line("repeat");
                self.indent += 1;
                self.line(&format!("{i} = {i} + 1"));
                self.idx.push((i.clone(), true));
                self.body(depth, reads);
                self.idx.pop();
                self.indent -= 1;
                self.line(&format!("until {i} >= {iters}"));
            }
        }
    }

    fn body(&mut self, depth: usize, reads: &[String]) {
        let n = 1 + self.rng.below(5);
        for _ in 0..n {
            self.stmt(depth, reads);
        }
    }

    fn stmt(&mut self, depth: usize, reads: &[String]) {
        match self.rng.below(14) {
            0..=4 => {
                let v = self.pick_num();
                let e = self.expr(2, reads);
                self.line(&format!("{v} = {e}"));
            }
            5 | 6 => {
                let c = self.cond(reads);
                let v = self.pick_num();
                let e1 = self.expr(2, reads);
                self.line(&format!("if {c} then {v} = {e1}"));
                if self.rng.chance(60) {
                    let w = self.pick_num();
                    let e2 = self.expr(2, reads);
                    self.line(&format!("else {w} = {e2}"));
                }
                self.line("end");
            }
            7 => {
                let t = if self.rng.chance(50) { "t1" } else { "t2" };
                let ix = self.index();
                let e = self.expr(2, reads);
                self.line(&format!("{t}[{ix}] = {e}"));
            }
            8 => {
                // Keep a value from running away (or let it, now and then).
                let v = self.pick_num();
                self.line(&format!("if {v} > 1e6 or {v} < -1e6 then {v} = {v} % 1000 end"));
            }
            9 => {
                // A value whose type changes: guards on its type leave the trace.
                let i = self.idx.last().map_or_else(|| "0".into(), |v| v.0.clone());
                let k = self.rng.range(1, 30);
                let alt = *self.rng.pick(&["'s'", "true", "nil", "t1", "false"]);
                self.line(&format!("if {i} % {k} == 0 then any = {alt} else any = {i} end"));
                let v = self.pick_num();
                self.line(&format!("if type(any) == 'number' then {v} = {v} + any end"));
            }
            10 if depth < 2 => self.loop_stmt(depth + 1, reads),
            11 => {
                let i = self.idx.last().map_or_else(|| "0".into(), |v| v.0.clone());
                let k = self.rng.range(3, 2000);
                self.line(&format!("if {i} == {k} then break end"));
            }
            12 => {
                // Writes past the array part end (the append path), then reads them.
                let i = self.idx.last().map_or_else(|| "1".into(), |v| v.0.clone());
                let v = self.pick_num();
                self.line(&format!("if {i} % 7 == 3 and #t2 < 60 then t2[#t2 + 1] = {i} end"));
                self.line(&format!("{v} = {v} + (t2[#t2] or 0)"));
            }
            _ => {
                let v = self.pick_num();
                let e = self.expr(1, reads);
                let op = *self.rng.pick(&["+", "-", "*"]);
                self.line(&format!("{v} = {v} {op} {e}"));
            }
        }
    }

    /// An index of `t1`/`t2` that is in range, from a loop variable.
    fn index(&mut self) -> String {
        match self.idx.last().cloned() {
            Some((i, true)) => match self.rng.below(3) {
                0 => format!("({i} % {SIZE}) + 1"),
                1 => format!("({i} % {}) + 1", SIZE - 3),
                _ => format!("{SIZE} - ({i} % {SIZE})"),
            },
            Some((i, false)) => format!("math.floor({i} % {SIZE}) + 1"),
            None => format!("{}", self.rng.range(1, SIZE)),
        }
    }

    fn cond(&mut self, reads: &[String]) -> String {
        let a = self.atom(reads);
        let b = self.atom(reads);
        let op = *self.rng.pick(&["<", "<=", ">", ">=", "==", "~="]);
        if self.rng.chance(20) {
            let c = self.atom(reads);
            let d = self.atom(reads);
            let lop = *self.rng.pick(&["and", "or"]);
            return format!("{a} {op} {b} {lop} not ({c} < {d})");
        }
        format!("{a} {op} {b}")
    }

    fn atom(&mut self, reads: &[String]) -> String {
        match self.rng.below(10) {
            0..=2 => self.pick_num(),
            3 | 4 if !self.idx.is_empty() => {
                let k = self.rng.below(self.idx.len());
                self.idx[k].0.clone()
            }
            5 if !reads.is_empty() => self.rng.pick(reads).clone(),
            6 => {
                let t = if self.rng.chance(50) { "t1" } else { "t2" };
                let ix = self.index();
                format!("{t}[{ix}]")
            }
            _ => {
                let k = self.num_literal();
                if k.starts_with('-') {
                    format!("({k})")
                } else {
                    k
                }
            }
        }
    }

    fn expr(&mut self, depth: usize, reads: &[String]) -> String {
        if depth == 0 || self.rng.chance(25) {
            return self.atom(reads);
        }
        match self.rng.below(12) {
            0 => format!("-{}", self.expr(depth - 1, reads)),
            1 => {
                // `%` with a constant or a variable divisor (0 gives NaN).
                let a = self.expr(depth - 1, reads);
                let b = if self.rng.chance(60) {
                    (*self.rng.pick(&["3", "7", "0.5", "-2", "2.5", "1000"])).to_string()
                } else {
                    self.atom(reads)
                };
                format!("({a} % {b})")
            }
            2 => {
                let a = self.expr(depth - 1, reads);
                let b = (*self.rng.pick(&["2", "0.5", "3", "-1", "1.5"])).to_string();
                let b = if self.rng.chance(30) { self.atom(reads) } else { b };
                format!("({a} ^ {b})")
            }
            _ => {
                let a = self.expr(depth - 1, reads);
                let b = self.expr(depth - 1, reads);
                let op = *self.rng.pick(&["+", "-", "*", "/", "+", "-", "*"]);
                format!("({a} {op} {b})")
            }
        }
    }
}
