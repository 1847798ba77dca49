//! FlexRIC xApp C API bindings.
//!
//! Behind the cargo feature `flexric`, this crate will hold the `bindgen` bindings generated at
//! build time from FlexRIC's installed headers and a small C shim compiled with `cc` (callbacks
//! into Rust, nested service-model structs, ownership of returned arrays). The xApp's FlexRIC
//! E2 backend links it in a supervised child process, because FlexRIC's library aborts the
//! process when the near-RT RIC does not answer.
//!
//! Without the feature the crate is empty and the workspace builds with no C toolchain or
//! FlexRIC install. The bindings themselves arrive with the FlexRIC issue; until then the
//! feature only marks the build as FlexRIC-enabled (see [`FLEXRIC_ENABLED`]).

/// Whether this build was made with the `flexric` feature.
pub const FLEXRIC_ENABLED: bool = cfg!(feature = "flexric");
