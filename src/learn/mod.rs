//! Learning: turning code into trusted skills. For now, verification: the
//! gate every skill passes before it is published.

mod verify;

pub use verify::{Verification, verify};
