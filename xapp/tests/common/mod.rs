//! Helpers shared by the xApp's integration tests.

pub mod replay;
