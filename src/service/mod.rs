//! Use cases that span several store calls, kept out of the handlers.

pub mod erasure;
pub mod password_reset;
pub mod sessions;
