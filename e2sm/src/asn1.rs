//! rasn types generated at build time by `rasn-compiler` from `asn1/*.asn` (see `build.rs`);
//! private to the crate, the public API is [`crate::rc_aper`] and [`crate::kpm_aper`].

#[allow(missing_docs, clippy::all, clippy::pedantic, dead_code, unused_imports)]
mod inner {
    include!(concat!(env!("OUT_DIR"), "/e2sm_subsets.rs"));
}

/// E2SM-RC types with the common IEs they use (UEID, PLMN identity, ...).
pub(crate) mod rc {
    pub(crate) use super::inner::e2_sm_common_subset::*;
    pub(crate) use super::inner::e2_sm_rc_subset::*;
}

/// E2SM-KPM types with the common IEs they use.
pub(crate) mod kpm {
    pub(crate) use super::inner::e2_sm_common_subset::*;
    pub(crate) use super::inner::e2_sm_kpm_subset::*;
}
