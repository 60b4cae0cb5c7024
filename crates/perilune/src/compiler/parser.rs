//! The parser: a recursive-descent parser for Lua 5.1 plus LuaJIT 2.1's extensions
//! (`goto` and `::labels::`), generating bytecode in the same pass.
//!
//! This module owns the grammar, scoping (blocks, locals, upvalue resolution across
//! nested functions), `goto`/label/`break` resolution with LuaJIT's rules and error
//! messages, and the translation of each statement and operator into the expression
//! machinery of [`codegen`](super::codegen). Limits (syntax nesting depth, locals,
//! upvalues, constants, registers) end in LuaJIT's error messages, never in a panic.
//!
//! Recursion is bounded: every block (function bodies and the main chunk included)
//! and every sub-expression counts one syntax level, as in LuaJIT, and the parser
//! stops at [`MAX_LEVEL`]. Every recursive path passes through one of them, so hostile
//! nesting cannot exhaust the Rust stack. The stack of enclosing functions is a `Vec`
//! bounded by the same limit.

use super::bytecode::*;
use super::codegen::*;
use super::lexer::{Lexer, Near, Tok, TokVal};
use crate::alloc::HVec;
use crate::func::{LocVar, UpvalDesc};
use crate::object::{GcHeader, GcProto, GcRef, GcStr, ObjKind};
use crate::value::Value;
use crate::vm::error::Throw;
use crate::vm::state::State;

/// Maximum syntax nesting (blocks plus sub-expressions), as LuaJIT's.
pub const MAX_LEVEL: u32 = 200;
const UNARY_PRI: u8 = 8;

/// A parse failure: an error already built, or a code generator limit that is turned
/// into a message at the top (the lexer still sits on the offending token).
pub enum PErr {
    Throw(Throw),
    Cg(CgError),
}
impl From<Throw> for PErr {
    fn from(t: Throw) -> Self {
        PErr::Throw(t)
    }
}
impl From<CgError> for PErr {
    fn from(e: CgError) -> Self {
        PErr::Cg(e)
    }
}
impl From<crate::alloc::OutOfMemory> for PErr {
    fn from(_: crate::alloc::OutOfMemory) -> Self {
        PErr::Throw(Throw::Oom)
    }
}
type PResult<T> = Result<T, PErr>;

/// A pending `goto` (or `break`, with no name) waiting for its label.
#[derive(Clone, Copy)]
struct Goto {
    name: Option<GcRef<GcStr>>,
    pc: u32,
    nactvar: u32,
    line: u32,
}

/// A visible label.
#[derive(Clone, Copy)]
struct Label {
    name: GcRef<GcStr>,
    pc: u32,
    nactvar: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    fn from_tok(t: Tok) -> Option<BinOp> {
        Some(match t {
            Tok::Char(b'+') => BinOp::Add,
            Tok::Char(b'-') => BinOp::Sub,
            Tok::Char(b'*') => BinOp::Mul,
            Tok::Char(b'/') => BinOp::Div,
            Tok::Char(b'%') => BinOp::Mod,
            Tok::Char(b'^') => BinOp::Pow,
            Tok::Concat => BinOp::Concat,
            Tok::Eq => BinOp::Eq,
            Tok::Ne => BinOp::Ne,
            Tok::Char(b'<') => BinOp::Lt,
            Tok::Le => BinOp::Le,
            Tok::Char(b'>') => BinOp::Gt,
            Tok::Ge => BinOp::Ge,
            Tok::And => BinOp::And,
            Tok::Or => BinOp::Or,
            _ => return None,
        })
    }
    /// (left, right) priorities; right < left makes an operator right-associative.
    fn priority(self) -> (u8, u8) {
        match self {
            BinOp::Or => (1, 1),
            BinOp::And => (2, 2),
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => (3, 3),
            BinOp::Concat => (5, 4),
            BinOp::Add | BinOp::Sub => (6, 6),
            BinOp::Mul | BinOp::Div | BinOp::Mod => (7, 7),
            BinOp::Pow => (10, 9),
        }
    }
    fn arith_ops(self) -> Option<(Op, Op, Op)> {
        Some(match self {
            BinOp::Add => (Op::ADDVN, Op::ADDNV, Op::ADDVV),
            BinOp::Sub => (Op::SUBVN, Op::SUBNV, Op::SUBVV),
            BinOp::Mul => (Op::MULVN, Op::MULNV, Op::MULVV),
            BinOp::Div => (Op::DIVVN, Op::DIVNV, Op::DIVVV),
            BinOp::Mod => (Op::MODVN, Op::MODNV, Op::MODVV),
            _ => return None,
        })
    }
}

/// Fold an arithmetic operation on two number constants, unless the result is NaN
/// or -0 (LuaJIT leaves those to run time so their sign and payload behave the same).
fn fold_arith(op: BinOp, a: f64, b: f64) -> Option<f64> {
    let r = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        BinOp::Mod => a - (a / b).floor() * b,
        BinOp::Pow => a.powf(b),
        _ => return None,
    };
    if r.is_nan() || (r == 0.0 && r.is_sign_negative()) {
        None
    } else {
        Some(r)
    }
}

fn block_follow(t: Tok) -> bool {
    matches!(t, Tok::Else | Tok::Elseif | Tok::End | Tok::Until | Tok::Eof)
}

pub struct Parser<'a> {
    pub lx: Lexer<'a>,
    /// The function being compiled.
    fs: FuncState,
    /// Enclosing functions, outermost first (at most `MAX_LEVEL` deep).
    parents: Vec<FuncState>,
    gotos: HVec<Goto>,
    labels: HVec<Label>,
    level: u32,
    source: GcRef<GcStr>,
}

impl<'a> Parser<'a> {
    pub fn new(st: &'a mut State, src: &'a [u8], chunkname: &'a [u8], source: GcRef<GcStr>) -> Parser<'a> {
        Parser::with_lexer(Lexer::new(st, src, chunkname), source)
    }

    /// A parser over a lexer (a string's or a reader's, see [`Lexer::with_reader`]).
    pub fn with_lexer(lx: Lexer<'a>, source: GcRef<GcStr>) -> Parser<'a> {
        let h = lx.st.heap_ref();
        Parser {
            lx,
            fs: FuncState::new(h, 0, 0),
            parents: Vec::new(),
            gotos: HVec::new(h),
            labels: HVec::new(h),
            level: 0,
            source,
        }
    }

    /// Turn a code generator failure into its message, at the current token.
    pub fn cg_error(&mut self, e: CgError) -> Throw {
        match e {
            CgError::Oom => Throw::Oom,
            CgError::Registers | CgError::CodeSize => self.lx.error(crate::errmsg::PARSE_COMPLEX, Near::Token),
            CgError::Constants => {
                let line = self.fs.line_defined;
                self.limit_error(line, MAX_CONSTS, crate::errmsg::PARSE_CONSTANTS)
            }
            CgError::JumpTooLong => self.lx.error(crate::errmsg::PARSE_JUMP, Near::Token),
        }
    }

    fn limit_error(&mut self, line_defined: u32, limit: usize, what: &str) -> Throw {
        let f = if line_defined == 0 {
            crate::errmsg::PARSE_MAIN_FUNCTION.to_string()
        } else {
            crate::errmsg::format(crate::errmsg::PARSE_FUNCTION_AT, &[&line_defined])
        };
        let msg = crate::errmsg::format(crate::errmsg::PARSE_LIMIT, &[&f, &limit, &what]);
        self.lx.error(&msg, Near::Nothing)
    }

    // --- Tokens -----------------------------------------------------------------------

    fn next(&mut self) -> PResult<()> {
        self.lx.next()?;
        self.fs.line = self.lx.lastline;
        Ok(())
    }
    fn err_expected(&mut self, t: Tok) -> PErr {
        let msg = crate::errmsg::format(crate::errmsg::PARSE_EXPECTED, &[&t.describe()]);
        PErr::Throw(self.lx.error(&msg, Near::Token))
    }
    fn err_syntax(&mut self, msg: &str) -> PErr {
        PErr::Throw(self.lx.error(msg, Near::Token))
    }
    fn accept(&mut self, t: Tok) -> PResult<bool> {
        if self.lx.tok == t {
            self.next()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }
    fn expect(&mut self, t: Tok) -> PResult<()> {
        if self.lx.tok != t {
            return Err(self.err_expected(t));
        }
        self.next()
    }
    /// Expect the token closing `who` opened at `line`.
    fn expect_match(&mut self, what: Tok, who: Tok, line: u32) -> PResult<()> {
        if self.accept(what)? {
            return Ok(());
        }
        if line == self.lx.line {
            return Err(self.err_expected(what));
        }
        let msg = crate::errmsg::format(
            crate::errmsg::PARSE_EXPECTED_MATCH,
            &[&what.describe(), &who.describe(), &line],
        );
        Err(self.err_syntax(&msg))
    }
    fn name(&mut self) -> PResult<GcRef<GcStr>> {
        match (self.lx.tok, self.lx.val) {
            (Tok::Name, TokVal::Str(s)) => {
                self.next()?;
                Ok(s)
            }
            _ => Err(self.err_expected(Tok::Name)),
        }
    }
    fn enter_level(&mut self) -> PResult<()> {
        self.level += 1;
        if self.level >= MAX_LEVEL {
            return Err(PErr::Throw(self.lx.error(crate::errmsg::PARSE_LEVELS, Near::Nothing)));
        }
        Ok(())
    }
    fn leave_level(&mut self) {
        self.level -= 1;
    }

    // --- Variables and scopes -------------------------------------------------------------

    /// Declare a local (not yet in scope; `activate` brings it in).
    fn declare_local(&mut self, name: GcRef<GcStr>) -> PResult<()> {
        if self.fs.actvars.len() as u32 >= MAX_LOCALS {
            let l = self.fs.line_defined;
            return Err(self
                .limit_error(l, MAX_LOCALS as usize, crate::errmsg::PARSE_LOCALS)
                .into());
        }
        let reg = self.fs.actvars.len() as u32;
        let idx = self.fs.vars.len() as u32;
        self.fs.vars.push(VarInfo {
            name,
            start_pc: 0,
            end_pc: 0,
            reg,
            captured: false,
        })?;
        self.fs.actvars.push(idx)?;
        Ok(())
    }
    fn declare_internal(&mut self, name: &str) -> PResult<()> {
        let s = self.lx.st.intern(name.as_bytes())?;
        self.declare_local(s)
    }
    /// Bring the next `n` declared locals into scope.
    fn activate(&mut self, n: u32) {
        let pc = self.fs.pc();
        for i in 0..n {
            if let Some(&v) = self.fs.actvars.get((self.fs.nactvar + i) as usize) {
                if let Some(var) = self.fs.vars.get_mut(v as usize) {
                    var.start_pc = pc;
                }
            }
        }
        self.fs.nactvar += n;
    }

    fn find_local(fs: &FuncState, name: GcRef<GcStr>) -> Option<u32> {
        (0..fs.nactvar).rev().find(|&i| {
            fs.actvars
                .get(i as usize)
                .and_then(|&v| fs.vars.get(v as usize))
                .is_some_and(|var| var.name == name)
        })
    }

    fn add_upval(&mut self, lvl: Option<usize>, desc: UpvalDesc, name: GcRef<GcStr>) -> PResult<u32> {
        let fs = match lvl {
            Some(l) => match self.parents.get_mut(l) {
                Some(f) => f,
                None => return Ok(0),
            },
            None => &mut self.fs,
        };
        if let Some(i) = fs.upvals.iter().position(|u| *u == desc) {
            return Ok(i as u32);
        }
        if fs.upvals.len() >= MAX_UPVALS {
            let l = fs.line_defined;
            return Err(self.limit_error(l, MAX_UPVALS, crate::errmsg::PARSE_UPVALUES).into());
        }
        fs.upvals.push(desc)?;
        fs.upval_names.push(name)?;
        Ok(fs.upvals.len() as u32 - 1)
    }

    /// Resolve a name: a local of this function, an upvalue, or a global.
    fn single_var(&mut self, name: GcRef<GcStr>) -> PResult<EKind> {
        if let Some(r) = Self::find_local(&self.fs, name) {
            return Ok(EKind::Local(r));
        }
        for lvl in (0..self.parents.len()).rev() {
            let Some(r) = Self::find_local(&self.parents[lvl], name) else {
                continue;
            };
            let pf = &mut self.parents[lvl];
            if let Some(&v) = pf.actvars.get(r as usize) {
                if let Some(var) = pf.vars.get_mut(v as usize) {
                    var.captured = true;
                }
            }
            let mut desc = UpvalDesc {
                in_stack: true,
                index: r as u8,
            };
            for l in lvl + 1..self.parents.len() {
                let idx = self.add_upval(Some(l), desc, name)?;
                desc = UpvalDesc {
                    in_stack: false,
                    index: idx as u8,
                };
            }
            let idx = self.add_upval(None, desc, name)?;
            return Ok(EKind::Upval(idx));
        }
        Ok(EKind::Global(name))
    }

    fn open_block(&mut self, is_loop: bool) -> PResult<()> {
        let b = Block {
            nactvar: self.fs.nactvar,
            goto_start: self.gotos.len(),
            label_start: self.labels.len(),
            is_loop,
        };
        self.fs.blocks.push(b)?;
        Ok(())
    }

    /// Are any locals from register `from` up captured by a closure?
    fn captured_from(&self, from: u32) -> bool {
        (from..self.fs.nactvar).any(|i| {
            self.fs
                .actvars
                .get(i as usize)
                .and_then(|&v| self.fs.vars.get(v as usize))
                .is_some_and(|var| var.captured)
        })
    }

    fn close_block(&mut self) -> PResult<()> {
        // A function's outermost block needs no UCLO: returning closes upvalues.
        let top = self.fs.blocks.len() == 1;
        let Some(b) = self.fs.blocks.pop() else {
            return Ok(());
        };
        let captured = !top && self.captured_from(b.nactvar);
        let pc = self.fs.pc();
        for i in b.nactvar..self.fs.nactvar {
            if let Some(&v) = self.fs.actvars.get(i as usize) {
                if let Some(var) = self.fs.vars.get_mut(v as usize) {
                    var.end_pc = pc;
                }
            }
        }
        self.fs.actvars.truncate(b.nactvar as usize);
        self.fs.nactvar = b.nactvar;
        self.fs.freereg = b.nactvar;
        if captured {
            // Each pass through the block (each loop iteration) gets fresh upvalues.
            self.fs.emit_ad(Op::UCLO, b.nactvar, JUMP_BIAS)?;
        }
        // Gotos leaving the block: close its upvalues on the way out.
        let mut i = b.goto_start;
        while i < self.gotos.len() {
            let mut g = self.gotos[i];
            if captured && g.nactvar > b.nactvar {
                self.fs.set_op(g.pc, Op::UCLO);
                self.fs.set_a(g.pc, b.nactvar);
            }
            g.nactvar = g.nactvar.min(b.nactvar);
            self.gotos[i] = g;
            if b.is_loop && g.name.is_none() {
                let here = self.fs.pc();
                self.fs.patch_to(g.pc, here)?;
                self.remove_goto(i);
                continue;
            }
            i += 1;
        }
        self.labels.truncate(b.label_start);
        Ok(())
    }

    fn remove_goto(&mut self, i: usize) {
        let n = self.gotos.len();
        if i < n {
            for j in i..n - 1 {
                self.gotos[j] = self.gotos[j + 1];
            }
            self.gotos.truncate(n - 1);
        }
    }

    // --- Functions --------------------------------------------------------------------------

    /// Compile the main chunk.
    pub fn main_chunk(&mut self) -> PResult<GcRef<GcProto>> {
        self.fs.is_vararg = true;
        self.open_block(false)?;
        self.next()?;
        self.block_body()?;
        if self.lx.tok != Tok::Eof {
            return Err(self.err_expected(Tok::Eof));
        }
        let last = self.lx.line;
        // As in LuaJIT, the closing RET0 of a chunk is on the line of its last token
        // (the end of file may be lines further down).
        let ret_line = self.lx.lastline;
        self.finish_function(last, ret_line)
    }

    /// Close the function being compiled: `last_line` is its `lastlinedefined`,
    /// `ret_line` the line of the RET0 added when it does not end in a return.
    fn finish_function(&mut self, last_line: u32, ret_line: u32) -> PResult<GcRef<GcProto>> {
        let goto_base = self.fs.blocks.first().map(|b| b.goto_start).unwrap_or(0);
        self.close_block()?;
        if let Some(g) = self.gotos.get(goto_base).copied() {
            let msg = match g.name {
                None => crate::errmsg::PARSE_NO_LOOP.to_string(),
                Some(n) => crate::errmsg::format(crate::errmsg::PARSE_UNDEFINED_LABEL, &[&n.to_str_lossy()]),
            };
            return Err(PErr::Throw(self.lx.error_at(&msg, Near::Nothing, g.line)));
        }
        let fs = &mut self.fs;
        fs.line = ret_line;
        let pc = fs.pc();
        let ends_in_return = pc > 0
            && fs.lasttarget != pc
            && fs.jpc == NO_JMP
            && [Op::RET0, Op::RET1, Op::RET, Op::RETM, Op::CALLT, Op::CALLMT]
                .iter()
                .any(|&op| fs.op_is(pc - 1, op));
        if !ends_in_return {
            fs.emit_ad(Op::RET0, 0, 1)?;
        }
        let h = self.lx.st.heap_ref();
        let mut locvars = HVec::with_capacity(h, fs.vars.len())?;
        for v in fs.vars.iter() {
            locvars.push(LocVar {
                name: v.name,
                start_pc: v.start_pc,
                end_pc: v.end_pc,
                reg: v.reg as u8,
            })?;
        }
        fn take<T: Copy>(v: &mut HVec<T>) -> HVec<T> {
            let mut out = std::mem::replace(v, HVec::new(v.heap()));
            out.shrink_to_fit();
            out
        }
        let proto = GcProto {
            hdr: GcHeader::new(ObjKind::Proto),
            code: take(&mut fs.code),
            lineinfo: take(&mut fs.lines),
            consts: take(&mut fs.consts),
            protos: take(&mut fs.protos),
            upvals: take(&mut fs.upvals),
            upval_names: take(&mut fs.upval_names),
            locvars,
            source: self.source,
            line_defined: fs.line_defined,
            last_line_defined: last_line,
            num_params: fs.num_params as u8,
            is_vararg: fs.is_vararg,
            framesize: fs.framesize.max(1) as u8,
        };
        Ok(self.lx.st.new_proto(proto)?)
    }

    /// A function body after `function [name]`: parameters, block, `end`.
    fn body(&mut self, e: &mut Exp, line: u32, needself: bool) -> PResult<()> {
        let h = self.lx.st.heap_ref();
        let child = FuncState::new(h, line, self.labels.len());
        let parent = std::mem::replace(&mut self.fs, child);
        self.parents.push(parent);
        self.fs.line = line;
        self.open_block(false)?;
        self.expect(Tok::Char(b'('))?;
        let mut nparams = 0;
        if needself {
            self.declare_internal("self")?;
            nparams += 1;
        }
        if self.lx.tok != Tok::Char(b')') {
            loop {
                match self.lx.tok {
                    Tok::Name => {
                        let n = self.name()?;
                        self.declare_local(n)?;
                        nparams += 1;
                    }
                    Tok::Dots => {
                        self.next()?;
                        self.fs.is_vararg = true;
                        break;
                    }
                    _ => return Err(self.err_syntax(crate::errmsg::PARSE_PARAMETER)),
                }
                if !self.accept(Tok::Char(b','))? {
                    break;
                }
            }
        }
        self.activate(nparams);
        self.fs.num_params = nparams;
        self.fs.reserve(nparams)?;
        self.expect(Tok::Char(b')'))?;
        self.block_body()?;
        let last = self.lx.line;
        self.expect_match(Tok::End, Tok::Function, line)?;
        let proto = self.finish_function(last, last)?;
        let Some(parent) = self.parents.pop() else {
            return Err(CgError::CodeSize.into());
        };
        self.fs = parent;
        self.fs.line = self.lx.lastline;
        let idx = self.fs.protos.len() as u32;
        if idx > 0xffff {
            return Err(CgError::CodeSize.into());
        }
        self.fs.protos.push(proto)?;
        *e = Exp::new(EKind::Reloc(self.fs.emit_ad(Op::FNEW, 0, idx)?));
        Ok(())
    }

    // --- Statements ---------------------------------------------------------------------------

    /// The statements of a block, a function body or the main chunk: one syntax
    /// level, as in LuaJIT (statements themselves count none).
    fn block_body(&mut self) -> PResult<()> {
        self.enter_level()?;
        let mut last = false;
        while !last && !block_follow(self.lx.tok) {
            last = self.statement()?;
            self.accept(Tok::Char(b';'))?;
            self.fs.freereg = self.fs.nactvar;
        }
        self.leave_level();
        Ok(())
    }

    fn block(&mut self) -> PResult<()> {
        self.open_block(false)?;
        self.block_body()?;
        self.close_block()?;
        Ok(())
    }

    /// One statement; `true` if it must be the last of its block.
    fn statement(&mut self) -> PResult<bool> {
        let line = self.lx.line;
        let mut last = false;
        let is_goto = self.lx.is_goto_name() && self.lx.ahead_is_goto_target()?;
        match self.lx.tok {
            Tok::If => self.stmt_if(line)?,
            Tok::While => self.stmt_while(line)?,
            Tok::Do => {
                self.next()?;
                self.block()?;
                self.expect_match(Tok::End, Tok::Do, line)?;
            }
            Tok::For => self.stmt_for(line)?,
            Tok::Repeat => self.stmt_repeat(line)?,
            Tok::Function => self.stmt_function(line)?,
            Tok::Local => {
                self.next()?;
                if self.accept(Tok::Function)? {
                    self.stmt_local_function(line)?;
                } else {
                    self.stmt_local()?;
                }
            }
            Tok::Return => {
                self.stmt_return()?;
                last = true;
            }
            Tok::Break => {
                self.next()?;
                let pc = self.fs.emit_ad(Op::JMP, self.fs.freereg, JUMP_BIAS - 1)?;
                self.gotos.push(Goto {
                    name: None,
                    pc,
                    nactvar: self.fs.nactvar,
                    line,
                })?;
                last = true;
            }
            Tok::Name if is_goto => {
                self.next()?;
                let name = self.name()?;
                self.stmt_goto(name, line)?;
            }
            Tok::Label => self.stmt_label()?,
            _ => self.stmt_expr()?,
        }
        Ok(last)
    }

    fn stmt_expr(&mut self) -> PResult<()> {
        let mut v = Exp::new(EKind::Void);
        self.suffixed_exp(&mut v)?;
        if let EKind::Call { .. } = v.k {
            if self.lx.tok != Tok::Char(b'=') && self.lx.tok != Tok::Char(b',') {
                self.fs.set_nresults(&v, 0);
                return Ok(());
            }
            // `f() = 1`: the call is a statement and `=` starts the next one.
            self.fs.set_nresults(&v, 0);
            return Err(self.err_syntax(crate::errmsg::PARSE_UNEXPECTED));
        }
        self.assignment(v)
    }

    fn assignable(e: &Exp) -> bool {
        matches!(
            e.k,
            EKind::Local(_) | EKind::Upval(_) | EKind::Global(_) | EKind::Indexed { .. }
        )
    }

    fn assignment(&mut self, first: Exp) -> PResult<()> {
        if !Self::assignable(&first) {
            return Err(self.err_syntax(crate::errmsg::PARSE_SYNTAX));
        }
        let mut lhs: HVec<Exp> = HVec::new(self.lx.st.heap_ref());
        lhs.push(first)?;
        while self.accept(Tok::Char(b','))? {
            if self.level + lhs.len() as u32 >= MAX_LEVEL {
                let l = self.fs.line_defined;
                return Err(self
                    .limit_error(l, MAX_LEVEL as usize, crate::errmsg::PARSE_VARIABLE_NAMES)
                    .into());
            }
            let mut v = Exp::new(EKind::Void);
            self.suffixed_exp(&mut v)?;
            if !Self::assignable(&v) {
                return Err(self.err_syntax(crate::errmsg::PARSE_SYNTAX));
            }
            if let EKind::Local(r) = v.k {
                self.check_conflict(&mut lhs, r)?;
            }
            lhs.push(v)?;
        }
        if self.lx.tok != Tok::Char(b'=') {
            return Err(self.err_expected(Tok::Char(b'=')));
        }
        self.next()?;
        let mut e = Exp::new(EKind::Void);
        let nexps = self.explist(&mut e)?;
        let nvars = lhs.len() as u32;
        let mut remaining = nvars as usize;
        if nexps == nvars {
            if let EKind::Call { pc, base } = e.k {
                if self.fs.op_is(pc, Op::VARG) && base + 1 == self.fs.freereg {
                    // A single vararg value can go straight to its destination.
                    self.fs.freereg -= 1;
                    e.k = EKind::Reloc(pc);
                } else {
                    e.k = EKind::NonReloc(base);
                }
            }
            let var = lhs[remaining - 1];
            self.fs.store(&var, &mut e)?;
            remaining -= 1;
        } else {
            self.adjust_assign(nvars, nexps, &mut e)?;
        }
        for i in (0..remaining).rev() {
            let var = lhs[i];
            let mut v = Exp::new(EKind::NonReloc(self.fs.freereg.saturating_sub(1)));
            self.fs.store(&var, &mut v)?;
        }
        Ok(())
    }

    /// In `t[i], i = ...` the table or key register of an earlier target may be a
    /// local assigned later in the same statement: copy it first, since stores happen
    /// after all values are computed, last target first.
    fn check_conflict(&mut self, lhs: &mut HVec<Exp>, reg: u32) -> PResult<()> {
        let tmp = self.fs.freereg;
        let mut hit = false;
        for i in 0..lhs.len() {
            if let EKind::Indexed { obj, key } = lhs[i].k {
                let mut nobj = obj;
                let mut nkey = key;
                if obj == reg {
                    nobj = tmp;
                    hit = true;
                }
                if key == Key::Reg(reg) {
                    nkey = Key::Reg(tmp);
                    hit = true;
                }
                lhs[i].k = EKind::Indexed { obj: nobj, key: nkey };
            }
        }
        if hit {
            self.fs.emit_ad(Op::MOV, tmp, reg)?;
            self.fs.reserve(1)?;
        }
        Ok(())
    }

    fn adjust_assign(&mut self, nvars: u32, nexps: u32, e: &mut Exp) -> PResult<()> {
        let mut extra = nvars as i64 - nexps as i64;
        if let EKind::Call { .. } = e.k {
            extra = (extra + 1).max(0);
            self.fs.set_nresults(e, extra as u32);
            if extra > 1 {
                self.fs.reserve(extra as u32 - 1)?;
            }
        } else {
            if e.k != EKind::Void {
                self.fs.exp_to_nextreg(e)?;
            }
            if extra > 0 {
                let reg = self.fs.freereg;
                self.fs.reserve(extra as u32)?;
                self.fs.emit_nil(reg, extra as u32)?;
            }
        }
        if nexps > nvars {
            self.fs.freereg = self.fs.freereg.saturating_sub(nexps - nvars);
        }
        Ok(())
    }

    fn stmt_local(&mut self) -> PResult<()> {
        let mut nvars = 0;
        loop {
            let n = self.name()?;
            self.declare_local(n)?;
            nvars += 1;
            if !self.accept(Tok::Char(b','))? {
                break;
            }
        }
        let mut e = Exp::new(EKind::Void);
        let nexps = if self.accept(Tok::Char(b'='))? {
            self.explist(&mut e)?
        } else {
            0
        };
        self.adjust_assign(nvars, nexps, &mut e)?;
        self.activate(nvars);
        Ok(())
    }

    fn stmt_local_function(&mut self, line: u32) -> PResult<()> {
        let n = self.name()?;
        self.declare_local(n)?;
        // The name is in scope inside the body, so the function can call itself.
        self.activate(1);
        self.fs.reserve(1)?;
        let reg = self.fs.nactvar - 1;
        let mut b = Exp::new(EKind::Void);
        self.body(&mut b, line, false)?;
        self.fs.exp_to_reg(&mut b, reg)?;
        // The variable's value is valid only after the closure is stored.
        let pc = self.fs.pc();
        if let Some(&v) = self.fs.actvars.get(reg as usize) {
            if let Some(var) = self.fs.vars.get_mut(v as usize) {
                var.start_pc = pc;
            }
        }
        Ok(())
    }

    fn stmt_function(&mut self, line: u32) -> PResult<()> {
        self.next()?;
        let n = self.name()?;
        let mut v = Exp::new(self.single_var(n)?);
        let mut needself = false;
        while let Tok::Char(c @ (b'.' | b':')) = self.lx.tok {
            needself = c == b':';
            self.next()?;
            let key = self.name()?;
            self.fs.exp_to_anyreg(&mut v)?;
            let mut k = Exp::new(EKind::Str(key));
            self.fs.index(&mut v, &mut k)?;
            if needself {
                break;
            }
        }
        let mut b = Exp::new(EKind::Void);
        self.body(&mut b, line, needself)?;
        self.fs.store(&v, &mut b)?;
        let pc = self.fs.pc();
        if pc > 0 {
            self.fs.set_line(pc - 1, line);
        }
        Ok(())
    }

    fn stmt_return(&mut self) -> PResult<()> {
        self.next()?;
        if block_follow(self.lx.tok) || self.lx.tok == Tok::Char(b';') {
            self.fs.emit_ad(Op::RET0, 0, 1)?;
            return Ok(());
        }
        let base = self.fs.freereg;
        let mut e = Exp::new(EKind::Void);
        let n = self.explist(&mut e)?;
        if n == 1 {
            if let EKind::Call { pc, base } = e.k {
                if self.fs.op_is(pc, Op::CALL) || self.fs.op_is(pc, Op::CALLM) {
                    // A tail call: the VM closes this frame's upvalues on return.
                    let op = if self.fs.op_is(pc, Op::CALL) {
                        Op::CALLT
                    } else {
                        Op::CALLMT
                    };
                    let c = self.fs.arg_c_at(pc);
                    self.fs.code[pc as usize] = ins_ad(op, base, c);
                    return Ok(());
                }
                self.fs.set_multret(&e);
                self.fs.emit_ad(Op::RETM, base, 0)?;
                return Ok(());
            }
            let r = self.fs.exp_to_anyreg(&mut e)?;
            self.fs.emit_ad(Op::RET1, r, 2)?;
        } else if let EKind::Call { .. } = e.k {
            self.fs.set_multret(&e);
            self.fs.emit_ad(Op::RETM, base, n - 1)?;
        } else {
            self.fs.exp_to_nextreg(&mut e)?;
            self.fs.emit_ad(Op::RET, base, n + 1)?;
        }
        Ok(())
    }

    fn stmt_goto(&mut self, name: GcRef<GcStr>, line: u32) -> PResult<()> {
        let base = self.fs.label_base;
        let found = (base..self.labels.len()).rev().find(|&i| self.labels[i].name == name);
        if let Some(i) = found {
            // Backward: the label is already known and visible.
            let l = self.labels[i];
            let pc = if self.captured_from(l.nactvar) {
                self.fs.emit_ad(Op::UCLO, l.nactvar, JUMP_BIAS - 1)?
            } else {
                self.fs.emit_ad(Op::JMP, self.fs.freereg, JUMP_BIAS - 1)?
            };
            self.fs.patch_ins(pc, l.pc)?;
            return Ok(());
        }
        let pc = self.fs.emit_ad(Op::JMP, self.fs.freereg, JUMP_BIAS - 1)?;
        self.gotos.push(Goto {
            name: Some(name),
            pc,
            nactvar: self.fs.nactvar,
            line,
        })?;
        Ok(())
    }

    fn stmt_label(&mut self) -> PResult<()> {
        let first = self.labels.len();
        let block_start = self.fs.blocks.last().map(|b| b.label_start).unwrap_or(0);
        // Consecutive labels share a position; parse them together so the
        // end-of-block rule below applies to all of them.
        while self.lx.tok == Tok::Label {
            self.next()?;
            let name = self.name()?;
            self.expect(Tok::Label)?;
            if (block_start..self.labels.len()).any(|i| self.labels[i].name == name) {
                let msg = crate::errmsg::format(crate::errmsg::PARSE_DUPLICATE_LABEL, &[&name.to_str_lossy()]);
                return Err(PErr::Throw(self.lx.error(&msg, Near::Nothing)));
            }
            let pc = self.fs.pc();
            self.labels.push(Label {
                name,
                pc,
                nactvar: self.fs.nactvar,
            })?;
        }
        self.fs.lasttarget = self.fs.pc();
        // A label at the very end of a block is outside the scope of the block's
        // locals, so `goto continue` may jump over local declarations to it.
        if block_follow(self.lx.tok) && self.lx.tok != Tok::Until {
            let outer = self.fs.blocks.last().map(|b| b.nactvar).unwrap_or(0);
            for i in first..self.labels.len() {
                self.labels[i].nactvar = outer;
            }
        }
        let goto_start = self.fs.blocks.last().map(|b| b.goto_start).unwrap_or(0);
        for li in first..self.labels.len() {
            let l = self.labels[li];
            let mut i = goto_start;
            while i < self.gotos.len() {
                let g = self.gotos[i];
                if g.name != Some(l.name) {
                    i += 1;
                    continue;
                }
                if g.nactvar < l.nactvar {
                    let var = self
                        .fs
                        .actvars
                        .get(g.nactvar as usize)
                        .and_then(|&v| self.fs.vars.get(v as usize))
                        .map(|v| v.name.to_str_lossy().into_owned())
                        .unwrap_or_default();
                    let msg = crate::errmsg::format(crate::errmsg::PARSE_GOTO_SCOPE, &[&l.name.to_str_lossy(), &var]);
                    return Err(PErr::Throw(self.lx.error_at(&msg, Near::Nothing, g.line)));
                }
                self.fs.patch_to(g.pc, l.pc)?;
                self.remove_goto(i);
            }
        }
        Ok(())
    }

    /// `if`/`elseif` condition `then` block; returns the jumps taken when false.
    fn test_then_block(&mut self) -> PResult<u32> {
        self.next()?;
        let mut e = Exp::new(EKind::Void);
        self.expr(&mut e)?;
        // The test belongs to the condition's line, not the `then` line (line hooks
        // and error positions see it there, as in LuaJIT).
        self.fs.go_if_true(&mut e)?;
        self.expect(Tok::Then)?;
        self.block()?;
        Ok(e.f)
    }

    fn stmt_if(&mut self, line: u32) -> PResult<()> {
        let mut escape = NO_JMP;
        let mut flist = self.test_then_block()?;
        while self.lx.tok == Tok::Elseif {
            let j = self.fs.jump()?;
            self.fs.concat(&mut escape, j)?;
            self.fs.patch_here(flist)?;
            flist = self.test_then_block()?;
        }
        if self.lx.tok == Tok::Else {
            let j = self.fs.jump()?;
            self.fs.concat(&mut escape, j)?;
            self.fs.patch_here(flist)?;
            self.next()?;
            self.block()?;
        } else {
            self.fs.concat(&mut escape, flist)?;
        }
        self.fs.patch_here(escape)?;
        self.expect_match(Tok::End, Tok::If, line)
    }

    /// A loop condition: the jumps taken when it is false.
    fn cond(&mut self) -> PResult<u32> {
        let mut e = Exp::new(EKind::Void);
        self.expr(&mut e)?;
        if e.k == EKind::Nil {
            e.k = EKind::False;
        }
        self.fs.go_if_true(&mut e)?;
        Ok(e.f)
    }

    fn stmt_while(&mut self, line: u32) -> PResult<()> {
        self.next()?;
        let start = self.fs.pc();
        self.fs.lasttarget = start;
        let exit = self.cond()?;
        self.open_block(true)?;
        self.expect(Tok::Do)?;
        let lp = self.fs.emit_ad(Op::LOOP, self.fs.freereg, JUMP_BIAS - 1)?;
        self.block()?;
        let j = self.fs.jump()?;
        self.fs.patch_to(j, start)?;
        self.expect_match(Tok::End, Tok::While, line)?;
        self.close_block()?;
        self.fs.patch_here(exit)?;
        let here = self.fs.pc();
        self.fs.patch_ins(lp, here)?;
        Ok(())
    }

    fn stmt_repeat(&mut self, line: u32) -> PResult<()> {
        self.next()?;
        let start = self.fs.pc();
        self.fs.lasttarget = start;
        self.open_block(true)?;
        self.open_block(false)?;
        let lp = self.fs.emit_ad(Op::LOOP, self.fs.freereg, JUMP_BIAS - 1)?;
        self.block_body()?;
        self.expect_match(Tok::Until, Tok::Repeat, line)?;
        // The condition sees the body's locals.
        let inner_nactvar = self.fs.blocks.last().map(|b| b.nactvar).unwrap_or(0);
        let exit = self.cond()?;
        if !self.captured_from(inner_nactvar) {
            self.close_block()?;
            self.fs.patch_to(exit, start)?;
        } else {
            // Captured locals must be closed on both paths: leave the loop like a
            // `break` (turned into UCLO by the inner block), or close and repeat.
            let pc = self.fs.emit_ad(Op::JMP, self.fs.freereg, JUMP_BIAS - 1)?;
            self.gotos.push(Goto {
                name: None,
                pc,
                nactvar: self.fs.nactvar,
                line,
            })?;
            self.fs.patch_here(exit)?;
            self.close_block()?;
            let j = self.fs.jump()?;
            self.fs.patch_to(j, start)?;
        }
        self.close_block()?;
        let here = self.fs.pc();
        self.fs.patch_ins(lp, here)?;
        Ok(())
    }

    fn stmt_for(&mut self, line: u32) -> PResult<()> {
        self.next()?;
        let var = self.name()?;
        self.open_block(true)?;
        match self.lx.tok {
            Tok::Char(b'=') => self.for_num(var, line)?,
            Tok::Char(b',') | Tok::In => self.for_in(var, line)?,
            _ => return Err(self.err_syntax(crate::errmsg::PARSE_FOR)),
        }
        self.expect_match(Tok::End, Tok::For, line)?;
        self.close_block()
    }

    fn for_num(&mut self, var: GcRef<GcStr>, line: u32) -> PResult<()> {
        let base = self.fs.freereg;
        self.declare_internal("(for index)")?;
        self.declare_internal("(for limit)")?;
        self.declare_internal("(for step)")?;
        self.declare_local(var)?;
        self.expect(Tok::Char(b'='))?;
        let mut e = Exp::new(EKind::Void);
        self.expr(&mut e)?;
        self.fs.exp_to_nextreg(&mut e)?;
        self.expect(Tok::Char(b','))?;
        self.expr(&mut e)?;
        self.fs.exp_to_nextreg(&mut e)?;
        if self.accept(Tok::Char(b','))? {
            self.expr(&mut e)?;
            self.fs.exp_to_nextreg(&mut e)?;
        } else {
            let r = self.fs.freereg;
            self.fs.emit_ad(Op::KSHORT, r, 1)?;
            self.fs.reserve(1)?;
        }
        self.activate(3);
        self.for_body(base, line, 1, true)
    }

    fn for_in(&mut self, var: GcRef<GcStr>, _for_line: u32) -> PResult<()> {
        let base = self.fs.freereg;
        self.declare_internal("(for generator)")?;
        self.declare_internal("(for state)")?;
        self.declare_internal("(for control)")?;
        self.declare_local(var)?;
        let mut nvars = 1;
        while self.accept(Tok::Char(b','))? {
            let n = self.name()?;
            self.declare_local(n)?;
            nvars += 1;
        }
        self.expect(Tok::In)?;
        // Like LuaJIT, the iterator call is reported at the line where the
        // expressions after `in` start.
        let line = self.lx.line;
        let mut e = Exp::new(EKind::Void);
        let nexps = self.explist(&mut e)?;
        self.adjust_assign(3, nexps, &mut e)?;
        self.activate(3);
        self.for_body(base, line, nvars, false)
    }

    fn for_body(&mut self, base: u32, line: u32, nvars: u32, numeric: bool) -> PResult<()> {
        self.expect(Tok::Do)?;
        let lp = if numeric {
            self.fs.emit_ad(Op::FORI, base, JUMP_BIAS - 1)?
        } else {
            self.fs.emit_ad(Op::JMP, self.fs.freereg, JUMP_BIAS - 1)?
        };
        self.open_block(false)?;
        self.activate(nvars);
        self.fs.reserve(nvars)?;
        self.block()?;
        self.close_block()?;
        if numeric {
            let end = self.fs.emit_ad(Op::FORL, base, JUMP_BIAS - 1)?;
            self.fs.set_line(end, line);
            self.fs.patch_ins(end, lp + 1)?;
            let here = self.fs.pc();
            self.fs.patch_ins(lp, here)?;
        } else {
            let here = self.fs.pc();
            self.fs.patch_ins(lp, here)?;
            // ITERC copies the generator, state and control above the variables and
            // calls there: the frame needs three slots past the loop's base + 3.
            self.fs.freereg = base + 3;
            self.fs.bump(3 + nvars.max(3) - 3)?;
            let a = base + 3;
            let c = self.fs.emit_abc(Op::ITERC, a, nvars + 1, 3)?;
            self.fs.set_line(c, line);
            let end = self.fs.emit_ad(Op::ITERL, a, JUMP_BIAS - 1)?;
            self.fs.set_line(end, line);
            self.fs.patch_ins(end, lp + 1)?;
        }
        Ok(())
    }

    // --- Expressions --------------------------------------------------------------------

    fn explist(&mut self, e: &mut Exp) -> PResult<u32> {
        self.expr(e)?;
        let mut n = 1;
        while self.accept(Tok::Char(b','))? {
            self.fs.exp_to_nextreg(e)?;
            self.expr(e)?;
            n += 1;
        }
        Ok(n)
    }

    fn expr(&mut self, e: &mut Exp) -> PResult<()> {
        self.subexpr(e, 0)?;
        Ok(())
    }

    /// An expression whose binary operators bind tighter than `limit`; returns the
    /// first operator it did not take.
    fn subexpr(&mut self, e: &mut Exp, limit: u8) -> PResult<Option<BinOp>> {
        self.enter_level()?;
        match self.lx.tok {
            Tok::Not | Tok::Char(b'-') | Tok::Char(b'#') => {
                let t = self.lx.tok;
                self.next()?;
                self.subexpr(e, UNARY_PRI)?;
                self.unop(t, e)?;
            }
            _ => self.simple_exp(e)?,
        }
        let mut op = BinOp::from_tok(self.lx.tok);
        while let Some(o) = op {
            let (left, right) = o.priority();
            if left <= limit {
                break;
            }
            self.next()?;
            self.infix(o, e)?;
            let mut e2 = Exp::new(EKind::Void);
            let next = self.subexpr(&mut e2, right)?;
            self.postfix(o, e, e2)?;
            op = next;
        }
        self.leave_level();
        Ok(op)
    }

    fn unop(&mut self, t: Tok, e: &mut Exp) -> PResult<()> {
        let fs = &mut self.fs;
        match t {
            Tok::Not => {
                fs.discharge(e)?;
                match e.k {
                    EKind::Nil | EKind::False => e.k = EKind::True,
                    EKind::Num(_) | EKind::Str(_) | EKind::True => e.k = EKind::False,
                    EKind::Jmp(pc) => fs.invert_cond(pc),
                    _ => {
                        let r = fs.exp_to_anyreg(e)?;
                        fs.free_exp(e);
                        e.k = EKind::Reloc(fs.emit_ad(Op::NOT, 0, r)?);
                    }
                }
                std::mem::swap(&mut e.t, &mut e.f);
                fs.drop_values(e.f);
                fs.drop_values(e.t);
            }
            Tok::Char(b'-') => match e.num_const() {
                Some(n) if n != 0.0 => e.k = EKind::Num(-n),
                _ => {
                    let r = fs.exp_to_anyreg(e)?;
                    fs.free_exp(e);
                    e.k = EKind::Reloc(fs.emit_ad(Op::UNM, 0, r)?);
                }
            },
            _ => {
                let r = fs.exp_to_anyreg(e)?;
                fs.free_exp(e);
                e.k = EKind::Reloc(fs.emit_ad(Op::LEN, 0, r)?);
            }
        }
        Ok(())
    }

    fn infix(&mut self, op: BinOp, e: &mut Exp) -> PResult<()> {
        let fs = &mut self.fs;
        match op {
            BinOp::And => fs.go_if_true(e)?,
            BinOp::Or => fs.go_if_false(e)?,
            BinOp::Concat => {
                fs.exp_to_nextreg(e)?;
            }
            BinOp::Eq | BinOp::Ne => {
                if !e.is_const_nojump() {
                    fs.exp_to_anyreg(e)?;
                }
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                fs.exp_to_anyreg(e)?;
            }
            _ => {
                if e.num_const().is_none() {
                    fs.exp_to_anyreg(e)?;
                }
            }
        }
        Ok(())
    }

    fn postfix(&mut self, op: BinOp, e1: &mut Exp, mut e2: Exp) -> PResult<()> {
        let fs = &mut self.fs;
        match op {
            BinOp::And => {
                fs.discharge(&mut e2)?;
                let mut f = e2.f;
                fs.concat(&mut f, e1.f)?;
                e2.f = f;
                *e1 = e2;
            }
            BinOp::Or => {
                fs.discharge(&mut e2)?;
                let mut t = e2.t;
                fs.concat(&mut t, e1.t)?;
                e2.t = t;
                *e1 = e2;
            }
            BinOp::Concat => {
                fs.exp_to_val(&mut e2)?;
                let r1 = match e1.k {
                    EKind::NonReloc(r) => r,
                    _ => fs.exp_to_anyreg(e1)?,
                };
                if let EKind::Reloc(pc) = e2.k {
                    if fs.op_is(pc, Op::CAT) && arg_b(fs.code[pc as usize]) == r1 + 1 {
                        fs.free_exp(e1);
                        fs.set_b(pc, r1);
                        *e1 = Exp::new(EKind::Reloc(pc));
                        return Ok(());
                    }
                }
                let r2 = fs.exp_to_nextreg(&mut e2)?;
                fs.free_exp(&e2);
                fs.free_exp(e1);
                *e1 = Exp::new(EKind::Reloc(fs.emit_abc(Op::CAT, 0, r1, r2)?));
            }
            BinOp::Eq | BinOp::Ne => {
                if e1.is_const_nojump() {
                    std::mem::swap(e1, &mut e2);
                }
                let ra = fs.exp_to_anyreg(e1)?;
                fs.exp_to_val(&mut e2)?;
                let eq = op == BinOp::Eq;
                let ins = match e2.k {
                    EKind::Nil | EKind::False | EKind::True => {
                        let p = match e2.k {
                            EKind::Nil => 0,
                            EKind::False => 1,
                            _ => 2,
                        };
                        ins_ad(if eq { Op::ISEQP } else { Op::ISNEP }, ra, p)
                    }
                    EKind::Str(s) => ins_ad(if eq { Op::ISEQS } else { Op::ISNES }, ra, fs.const_str(s)?),
                    EKind::Num(n) => ins_ad(if eq { Op::ISEQN } else { Op::ISNEN }, ra, fs.const_num(n)?),
                    _ => {
                        let rb = fs.exp_to_anyreg(&mut e2)?;
                        ins_ad(if eq { Op::ISEQV } else { Op::ISNEV }, ra, rb)
                    }
                };
                if let EKind::NonReloc(rb) = e2.k {
                    fs.free2(ra, rb);
                } else {
                    fs.free_reg(ra);
                }
                fs.emit(ins)?;
                *e1 = Exp::new(EKind::Jmp(fs.jump()?));
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let r1 = fs.exp_to_anyreg(e1)?;
                let r2 = fs.exp_to_anyreg(&mut e2)?;
                fs.free2(r1, r2);
                let ins = match op {
                    BinOp::Lt => ins_ad(Op::ISLT, r1, r2),
                    BinOp::Le => ins_ad(Op::ISLE, r1, r2),
                    BinOp::Gt => ins_ad(Op::ISLT, r2, r1),
                    _ => ins_ad(Op::ISLE, r2, r1),
                };
                fs.emit(ins)?;
                *e1 = Exp::new(EKind::Jmp(fs.jump()?));
            }
            _ => Self::arith(fs, op, e1, e2)?,
        }
        Ok(())
    }

    fn arith(fs: &mut FuncState, op: BinOp, e1: &mut Exp, mut e2: Exp) -> PResult<()> {
        if let (Some(a), Some(b)) = (e1.num_const(), e2.num_const()) {
            if let Some(r) = fold_arith(op, a, b) {
                *e1 = Exp::new(EKind::Num(r));
                return Ok(());
            }
        }
        let Some((vn, nv, vv)) = op.arith_ops() else {
            // Only POW has no constant forms.
            let rc = fs.exp_to_anyreg(&mut e2)?;
            let rb = fs.exp_to_anyreg(e1)?;
            fs.free2(rb, rc);
            *e1 = Exp::new(EKind::Reloc(fs.emit_abc(Op::POW, 0, rb, rc)?));
            return Ok(());
        };
        fs.exp_to_val(&mut e2)?;
        let k2 = match e2.num_const() {
            Some(n) => Some(fs.const_num(n)?).filter(|&k| k <= 255),
            None => None,
        };
        let ins = if let Some(k) = k2 {
            let rb = fs.exp_to_anyreg(e1)?;
            fs.free_reg(rb);
            ins_abc(vn, 0, rb, k)
        } else {
            let k1 = match e1.num_const() {
                Some(n) => Some(fs.const_num(n)?).filter(|&k| k <= 255),
                None => None,
            };
            if let Some(k) = k1 {
                let rb = fs.exp_to_anyreg(&mut e2)?;
                fs.free_reg(rb);
                ins_abc(nv, 0, rb, k)
            } else {
                let rc = fs.exp_to_anyreg(&mut e2)?;
                let rb = fs.exp_to_anyreg(e1)?;
                fs.free2(rb, rc);
                ins_abc(vv, 0, rb, rc)
            }
        };
        *e1 = Exp::new(EKind::Reloc(fs.emit(ins)?));
        Ok(())
    }

    fn simple_exp(&mut self, e: &mut Exp) -> PResult<()> {
        let k = match (self.lx.tok, self.lx.val) {
            (Tok::Num, TokVal::Num(n)) => EKind::Num(n),
            (Tok::Num, TokVal::Cdata(c)) => {
                // A constant loaded by its own instruction, whose register is chosen
                // later (no folding: arithmetic on cdata is the FFI's).
                let k = self.fs.const_cdata(c)?;
                EKind::Reloc(self.fs.emit_ad(Op::KCDATA, 0, k)?)
            }
            (Tok::Str, TokVal::Str(s)) => EKind::Str(s),
            (Tok::Nil, _) => EKind::Nil,
            (Tok::True, _) => EKind::True,
            (Tok::False, _) => EKind::False,
            (Tok::Dots, _) => {
                if !self.fs.is_vararg {
                    return Err(self.err_syntax(crate::errmsg::PARSE_VARARG));
                }
                self.fs.reserve(1)?;
                let base = self.fs.freereg - 1;
                let np = self.fs.num_params;
                let pc = self.fs.emit_abc(Op::VARG, base, 2, np)?;
                EKind::Call { pc, base }
            }
            (Tok::Char(b'{'), _) => return self.constructor(e),
            (Tok::Function, _) => {
                let line = self.lx.line;
                self.next()?;
                return self.body(e, line, false);
            }
            _ => return self.suffixed_exp(e),
        };
        *e = Exp::new(k);
        self.next()
    }

    fn primary_exp(&mut self, e: &mut Exp) -> PResult<()> {
        match (self.lx.tok, self.lx.val) {
            (Tok::Name, TokVal::Str(s)) => {
                self.next()?;
                *e = Exp::new(self.single_var(s)?);
                Ok(())
            }
            (Tok::Char(b'('), _) => {
                let line = self.lx.line;
                self.next()?;
                self.expr(e)?;
                self.expect_match(Tok::Char(b')'), Tok::Char(b'('), line)?;
                // Parentheses cut a call or vararg down to one value.
                self.fs.discharge(e)?;
                Ok(())
            }
            _ => Err(self.err_syntax(crate::errmsg::PARSE_UNEXPECTED)),
        }
    }

    fn suffixed_exp(&mut self, e: &mut Exp) -> PResult<()> {
        self.primary_exp(e)?;
        loop {
            match self.lx.tok {
                Tok::Char(b'.') => {
                    self.fs.exp_to_anyreg(e)?;
                    self.next()?;
                    let n = self.name()?;
                    let mut key = Exp::new(EKind::Str(n));
                    self.fs.index(e, &mut key)?;
                }
                Tok::Char(b'[') => {
                    self.fs.exp_to_anyreg(e)?;
                    self.next()?;
                    let mut key = Exp::new(EKind::Void);
                    self.expr(&mut key)?;
                    self.fs.exp_to_val(&mut key)?;
                    self.expect(Tok::Char(b']'))?;
                    self.fs.index(e, &mut key)?;
                }
                Tok::Char(b':') => {
                    self.next()?;
                    let n = self.name()?;
                    let obj = self.fs.exp_to_anyreg(e)?;
                    self.fs.free_exp(e);
                    let base = self.fs.freereg;
                    self.fs.open_calls += 1;
                    self.fs.emit_ad(Op::MOV, base + 1, obj)?;
                    let k = self.fs.const_str(n)?;
                    if k <= 255 {
                        self.fs.reserve(2)?;
                        self.fs.emit_abc(Op::TGETS, base, obj, k)?;
                    } else {
                        self.fs.reserve(3)?;
                        self.fs.emit_ad(Op::KSTR, base + 2, k)?;
                        self.fs.emit_abc(Op::TGETV, base, obj, base + 2)?;
                        self.fs.freereg -= 1;
                    }
                    self.call_args(e, base)?;
                }
                Tok::Char(b'(') | Tok::Str | Tok::Char(b'{') => {
                    let base = self.fs.exp_to_nextreg(e)?;
                    self.fs.open_calls += 1;
                    self.fs.bump(0)?;
                    self.call_args(e, base)?;
                }
                _ => return Ok(()),
            }
        }
    }

    /// Parse call arguments for the function in `base` (arguments go above it); the
    /// caller has counted the call in `open_calls`.
    fn call_args(&mut self, e: &mut Exp, base: u32) -> PResult<()> {
        let line = self.lx.line;
        let mut args = Exp::new(EKind::Void);
        match (self.lx.tok, self.lx.val) {
            (Tok::Char(b'('), _) => {
                if line != self.lx.lastline {
                    return Err(self.err_syntax(crate::errmsg::PARSE_AMBIGUOUS));
                }
                self.next()?;
                if self.lx.tok != Tok::Char(b')') {
                    self.explist(&mut args)?;
                    if let EKind::Call { .. } = args.k {
                        self.fs.set_multret(&args);
                    }
                }
                self.expect_match(Tok::Char(b')'), Tok::Char(b'('), line)?;
            }
            (Tok::Char(b'{'), _) => self.constructor(&mut args)?,
            (Tok::Str, TokVal::Str(s)) => {
                args = Exp::new(EKind::Str(s));
                self.next()?;
            }
            _ => return Err(self.err_syntax(crate::errmsg::PARSE_ARGUMENTS)),
        }
        let ins = if let EKind::Call { base: abase, .. } = args.k {
            ins_abc(Op::CALLM, base, 2, abase - base - 1)
        } else {
            if args.k != EKind::Void {
                self.fs.exp_to_nextreg(&mut args)?;
            }
            ins_abc(Op::CALL, base, 2, self.fs.freereg - base)
        };
        let pc = self.fs.emit(ins)?;
        self.fs.set_line(pc, line);
        *e = Exp::new(EKind::Call { pc, base });
        self.fs.freereg = base + 1;
        self.fs.open_calls = self.fs.open_calls.saturating_sub(1);
        Ok(())
    }

    fn constructor(&mut self, e: &mut Exp) -> PResult<()> {
        let line = self.lx.line;
        self.expect(Tok::Char(b'{'))?;
        let t = self.fs.freereg;
        let pc = self.fs.emit_ad(Op::TNEW, t, 0)?;
        self.fs.reserve(1)?;
        let mut narr: u32 = 0;
        let mut nhash: u32 = 0;
        // An array part is wanted: positional items or a `[0]` key (which, as in
        // LuaJIT, does not count as a hash key).
        let mut needarr = false;
        // Entries whose key and value are both constants (nil values included) go into
        // a template table that TDUP copies, as LuaJIT does: no code and no key
        // constants for them (so `{1, 2, ..., 100000}` compiles). All of them take
        // effect before the stored entries, whatever the order in the source: in
        // `{x = y, x = 1}` the store of `y` comes last and wins, in `{x = nil, x = 1}`
        // the later constant wins. A string key whose value is not constant also gets
        // its slot in the template (valued nil at the end), as in LuaJIT, so the
        // template's layout is LuaJIT's.
        let mut template: Option<GcRef<crate::object::GcTable>> = None;
        let mut placeholders = false;
        loop {
            if self.lx.tok == Tok::Char(b'}') {
                break;
            }
            let mut tab = Exp::new(EKind::NonReloc(t));
            let mut key = Exp::new(EKind::Void);
            let name_key = self.lx.tok == Tok::Name && self.lx.lookahead()? == Tok::Char(b'=');
            let positional = match self.lx.tok {
                Tok::Char(b'[') => {
                    self.next()?;
                    self.expr(&mut key)?;
                    self.fs.exp_to_val(&mut key)?;
                    self.expect(Tok::Char(b']'))?;
                    self.expect(Tok::Char(b'='))?;
                    // A computed key is placed now, before the value's code runs.
                    if !key.is_const_nojump() {
                        self.fs.index(&mut tab, &mut key)?;
                    }
                    if key.num_const() == Some(0.0) {
                        needarr = true;
                    } else {
                        nhash = nhash.saturating_add(1);
                    }
                    false
                }
                Tok::Name if name_key => {
                    let n = self.name()?;
                    key = Exp::new(EKind::Str(n));
                    self.next()?;
                    nhash = nhash.saturating_add(1);
                    false
                }
                _ => {
                    narr = narr.saturating_add(1);
                    needarr = true;
                    key = Exp::new(EKind::Num(narr as f64));
                    true
                }
            };
            let mut val = Exp::new(EKind::Void);
            self.expr(&mut val)?;
            let sep = self.accept(Tok::Char(b','))? || self.accept(Tok::Char(b';'))?;
            if positional && self.lx.tok == Tok::Char(b'}') {
                if let EKind::Call { base, .. } = val.k {
                    // The last positional item spreads all its values.
                    self.fs.set_multret(&val);
                    let k = self.fs.const_num(narr as f64)?;
                    self.fs.emit_ad(Op::TSETM, base, k)?;
                    // Keep the spread item's slot in the size hint: at least one
                    // value usually comes back, and a rehash per table is costly.
                    break;
                }
            }
            if let Some(kv) = template_const(&key) {
                // Nil and NaN keys must raise their error when the constructor runs.
                let bad_key = kv.is_nil() || (kv.is_number() && kv.number_unchecked().is_nan());
                let vv = template_const(&val);
                if !bad_key && (vv.is_some() || kv.is_string()) {
                    let tt = match template {
                        Some(tt) => tt,
                        None => {
                            // Sized from the entries so far, as LuaJIT sizes it.
                            let asize = if needarr { narr as usize } else { 0 };
                            let hsize = if nhash == 1 { 2 } else { nhash as usize };
                            let tt = self.lx.st.new_table(asize, hsize)?;
                            template = Some(tt);
                            tt
                        }
                    };
                    if let Some(vv) = vv {
                        self.lx.st.table_set(tt, kv, vv)?;
                        self.fs.freereg = t + 1;
                        if !sep {
                            break;
                        }
                        continue;
                    }
                    // The template itself marks the slot until the end.
                    self.lx.st.table_set(tt, kv, Value::table(tt))?;
                    placeholders = true;
                }
            }
            if positional || val.has_jumps() || matches!(val.k, EKind::Jmp(_)) {
                // A value with pending jumps (`b or 1`, `a < b`) is finished in a register
                // first: a constant key that needs a register (`[false]`, `[1000]`)
                // must not be loaded on one branch of the value's code only.
                self.fs.exp_to_anyreg(&mut val)?;
            }
            if !matches!(tab.k, EKind::Indexed { .. }) {
                self.fs.index(&mut tab, &mut key)?;
            }
            self.fs.store(&tab, &mut val)?;
            self.fs.freereg = t + 1;
            if !sep {
                break;
            }
        }
        self.expect_match(Tok::Char(b'}'), Tok::Char(b'{'), line)?;
        let hbits = match nhash {
            0 => 0,
            1 => 1,
            n => 32 - (n - 1).leading_zeros(),
        };
        let i = self.fs.code[pc as usize];
        if let Some(tt) = template {
            // Size the array part for every positional item, as TNEW's hint would, so
            // `#` sees the same layout (`#{nil, nil, 3}` is 3, as in LuaJIT).
            tt.get_mut().reserve_array(narr as usize)?;
            if placeholders {
                // Slots kept for stored string keys end up nil (the key stays).
                let mut k = Value::NIL;
                while let Ok(Some((nk, nv))) = tt.next(k) {
                    if nv.as_table() == Some(tt) {
                        self.lx.st.table_set(tt, nk, Value::NIL)?;
                    }
                    k = nk;
                }
            }
            let k = self.fs.const_table(tt)?;
            self.fs.code[pc as usize] = ins_ad(Op::TDUP, t, k);
        } else {
            let d = narr.min(0x7ff) | (hbits.min(31) << 11);
            self.fs.code[pc as usize] = with_d(i, d);
        }
        self.fs.freereg = t + 1;
        *e = Exp::new(EKind::NonReloc(t));
        Ok(())
    }
}

/// The value of a constant expression usable in a template table.
fn template_const(e: &Exp) -> Option<Value> {
    if e.has_jumps() {
        return None;
    }
    match e.k {
        EKind::Num(n) => Some(Value::number(n)),
        EKind::Str(s) => Some(Value::string(s)),
        EKind::True => Some(Value::TRUE),
        EKind::False => Some(Value::FALSE),
        EKind::Nil => Some(Value::NIL),
        _ => None,
    }
}
