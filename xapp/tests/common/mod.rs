//! Helpers shared by the xApp's integration tests (the closed-loop replay harness of
//! `enforcement.rs` is `replay/`).

#![allow(dead_code)] // each test file uses a part

pub mod client;
pub mod pki;
