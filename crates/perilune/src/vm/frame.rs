//! Call frames.

/// What kind of function a frame runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    Lua,
    Native,
}

/// What happens to a frame's results when it returns (continuations let metamethods
/// and `pcall` run as ordinary VM frames, so coroutines can yield across them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cont {
    /// Move results to the function slot, adjusted to `nresults`.
    Normal,
    /// Store the first result into absolute stack slot `slot` (metamethod results).
    Store(u32),
    /// Discard the results (`__newindex`).
    Discard,
    /// Comparison metamethod: take the caller's following JMP if the result's truth
    /// differs from `negate`.
    Cond { negate: bool },
    /// Concatenation in progress over absolute slots `base..top`: the metamethod
    /// joined slots `top-2` and `top-1`; store its result at `top - 2` and continue
    /// with `base..top-1`; the final result goes to slot `dest`.
    Concat { dest: u32, base: u32, top: u32 },
    /// A `pcall`ed function: prefix results with `true`.
    Pcall,
}

/// Frame flags.
pub mod flags {
    /// Returning from this frame returns from `execute` to the Rust caller.
    pub const ENTRY: u8 = 1 << 0;
    /// Errors are caught here (`pcall`/`xpcall`).
    pub const PROTECTED: u8 = 1 << 1;
    /// Reached through a tail call (tracebacks print "(tail call)").
    pub const TAIL: u8 = 1 << 2;
    /// Errors caught here go through the handler at `func - 1` (xpcall).
    pub const HANDLER: u8 = 1 << 3;
}

/// One call frame.
#[derive(Clone, Copy, Debug)]
pub struct CallInfo {
    /// Stack slot of the function being run.
    pub func: u32,
    /// First register (after the function, and after the varargs if any).
    pub base: u32,
    /// End of this frame's registers (Lua) or of its stack use (native).
    pub top: u32,
    /// Index of the next instruction (Lua frames).
    pub pc: u32,
    /// Results the caller wants; -1 for all.
    pub nresults: i32,
    /// Number of extra arguments stored below `base` (vararg functions).
    pub nvarargs: u32,
    pub kind: FrameKind,
    pub flags: u8,
    pub cont: Cont,
}
