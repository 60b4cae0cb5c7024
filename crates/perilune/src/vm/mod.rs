//! The virtual machine: state, threads, frames, the interpreter and its helpers.

pub mod api;
pub mod budget;
pub mod call;
pub mod coroutine;
pub mod debug;
pub mod error;
pub mod frame;
pub mod hook;
pub mod interp;
pub mod layout;
pub mod meta;
pub mod mode;
pub mod profile;
pub mod state;
pub mod thread;
