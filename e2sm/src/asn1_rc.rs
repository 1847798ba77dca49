//! rasn types generated at build time by `rasn-compiler` from `asn1/e2sm-rc-subset.asn`
//! (see `build.rs`); private to the crate, the public API is [`crate::rc_aper`].

#[allow(missing_docs, clippy::all, clippy::pedantic, dead_code, unused_imports)]
mod inner {
    include!(concat!(env!("OUT_DIR"), "/e2sm_rc_subset.rs"));
}

pub(crate) use inner::e2_sm_rc_subset as generated;
