//! Learning: turning code into trusted skills. Verification is the gate
//! every skill passes before it is published; crystallization builds a
//! skill from an agent's trace of `run_python` steps.

pub mod agree;
pub mod auto;
pub mod confirm;
pub mod crystallize;
pub mod edges;
pub mod generate;
pub mod grade;
pub mod promises;
pub mod refine;
pub mod slice;
mod verify;

pub use verify::{Verification, verify};
