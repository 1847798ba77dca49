//! FlexRIC xApp C API bindings.
//!
//! Behind the cargo feature `flexric` (the `flexric` module): `bindgen` bindings generated at
//! build time from FlexRIC's installed headers (`FLEXRIC_DIR`), a small C shim compiled with
//! `cc` (callbacks into Rust with a user-data pointer, the nested E2SM-RC / SLICE SM control
//! structs, length-checked copies of returned arrays) and a safe API on top. The xApp's
//! FlexRIC E2 backend links it in a supervised child process (`maestro e2-bridge`), because
//! FlexRIC's library aborts the process when the near-RT RIC does not answer in ~5 s.
//!
//! Without the feature the crate holds only plain-Rust decisions ([`kpm_plan`]: which KPM
//! subscription a node may get) and the workspace builds with no C toolchain or FlexRIC
//! install (see [`FLEXRIC_ENABLED`]).

/// Whether this build was made with the `flexric` feature.
pub const FLEXRIC_ENABLED: bool = cfg!(feature = "flexric");

#[cfg(feature = "flexric")]
pub mod flexric;
pub mod kpm_plan;
pub mod rc_plan;
