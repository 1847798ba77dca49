//! FlexRIC's xApp API (feature `flexric`): raw bindings ([`sys`]), the E2SM-RC RAN
//! parameter tree of the slice PRB quota control ([`tree`]) and the safe API ([`xapp`]).
//!
//! Threading: FlexRIC runs its event loop and every indication callback on its own thread;
//! control and subscription calls block the calling thread until the near-RT RIC answers,
//! and FlexRIC aborts the process when that takes more than ~5 s. Callers run these calls on
//! a blocking thread of a process they can afford to lose (`maestro e2-bridge`).

pub mod sys;
pub mod tree;
pub mod xapp;

pub use tree::{quota_tree, RpParam, RpValue};
pub use xapp::{
    E2Node, FfiError, FlexricXapp, KpmValue, MacIndication, MacUe, NodeList, RanFunction,
    StaticSlice,
};

/// RAN function ids as FlexRIC numbers them.
pub mod ran_function {
    /// O-RAN E2SM-KPM.
    pub const KPM: u16 = 2;
    /// O-RAN E2SM-RC.
    pub const RC: u16 = 3;
    /// FlexRIC MAC statistics SM.
    pub const MAC: u16 = 142;
    /// FlexRIC RLC statistics SM.
    pub const RLC: u16 = 143;
    /// FlexRIC PDCP statistics SM.
    pub const PDCP: u16 = 144;
    /// FlexRIC SLICE SM.
    pub const SLICE: u16 = 145;
    /// FlexRIC traffic-control SM.
    pub const TC: u16 = 146;
    /// FlexRIC GTP statistics SM.
    pub const GTP: u16 = 148;
}

/// The FlexRIC version macros this crate was built with, e.g. `E2AP_V3 KPM_V3_00`.
pub const BUILT_WITH: &str = env!("MAESTRO_FLEXRIC_VERSIONS");
/// The API shape `build.rs` detected in the installed headers, e.g. `e2_node_arr_xapp_t,
/// decoded rf`.
pub const API: &str = env!("MAESTRO_FLEXRIC_API");

/// The E2SM-KPM version FlexRIC was built with.
#[cfg(flexric_kpm = "KPM_V2_01")]
pub const KPM_VERSION: crate::kpm_plan::KpmVersion = crate::kpm_plan::KpmVersion::V2_01;
/// The E2SM-KPM version FlexRIC was built with.
#[cfg(flexric_kpm = "KPM_V2_03")]
pub const KPM_VERSION: crate::kpm_plan::KpmVersion = crate::kpm_plan::KpmVersion::V2_03;
/// The E2SM-KPM version FlexRIC was built with.
#[cfg(flexric_kpm = "KPM_V3_00")]
pub const KPM_VERSION: crate::kpm_plan::KpmVersion = crate::kpm_plan::KpmVersion::V3_00;

/// How this FlexRIC generation's agents and example xApp encode an S-NSSAI KPM test value:
/// an OCTET STRING where the xApp API hands out decoded RAN functions (`dev`), an INTEGER
/// where it hands out raw ones (`master` 1f04cc55). See [`crate::kpm_plan::SnssaiEncoding`].
#[cfg(flexric_rf_decoded)]
pub const SNSSAI_ENCODING: crate::kpm_plan::SnssaiEncoding =
    crate::kpm_plan::SnssaiEncoding::OctetString;
/// How this FlexRIC generation's agents and example xApp encode an S-NSSAI KPM test value:
/// an OCTET STRING where the xApp API hands out decoded RAN functions (`dev`), an INTEGER
/// where it hands out raw ones (`master` 1f04cc55). See [`crate::kpm_plan::SnssaiEncoding`].
#[cfg(not(flexric_rf_decoded))]
pub const SNSSAI_ENCODING: crate::kpm_plan::SnssaiEncoding =
    crate::kpm_plan::SnssaiEncoding::Integer;
/// The FlexRIC install prefix this crate was built against.
pub const PREFIX: &str = env!("MAESTRO_FLEXRIC_PREFIX");
