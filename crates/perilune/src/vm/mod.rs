//! The virtual machine: state, threads, frames, the interpreter and its helpers.

pub mod api;
pub mod error;
pub mod frame;
pub mod state;
pub mod thread;
