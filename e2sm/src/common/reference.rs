//! rasn types generated at build time by `rasn-compiler` from `asn1/*.asn` (see `build.rs`),
//! and the conversions of the common IEs both service models' rasn reference codecs
//! (`rc::reference`, `kpm::reference`) share; feature `reference`, private to the crate.

#[allow(missing_docs, clippy::all, clippy::pedantic, dead_code, unused_imports)]
mod inner {
    include!(concat!(env!("OUT_DIR"), "/e2sm_subsets.rs"));
}

use crate::common::{GnbUeId, Plmn};
use inner::e2_sm_common_subset as common;

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

/// The gNB-UEID alternative of UEID (E2SM common IEs clause 6.2.2.1) for a [`GnbUeId`] whose
/// ranges the caller checked ([`GnbUeId::check`]) and whose PLMN it encoded (BCD, 3 octets).
pub(crate) fn gnb_ueid_to_asn(ue: &GnbUeId, plmn: [u8; 3]) -> common::UEID {
    use common as c;
    let mut region = c::AMFRegionID(Default::default());
    set_bits(region.0.as_mut_bitslice(), u64::from(ue.amf_region_id), 8);
    let mut set = c::AMFSetID(Default::default());
    set_bits(set.0.as_mut_bitslice(), u64::from(ue.amf_set_id), 10);
    let mut pointer = c::AMFPointer(Default::default());
    set_bits(pointer.0.as_mut_bitslice(), u64::from(ue.amf_pointer), 6);
    c::UEID::gNB_UEID(c::UEIDGNB::new(
        c::AMFUENGAPID(ue.amf_ue_ngap_id),
        c::GUAMI::new(c::PLMNIdentity(plmn.into()), region, set, pointer),
        None,
        None,
        None,
        None,
        None,
    ))
}

/// The fields of a decoded gNB-UEID: the AMF UE NGAP ID and GUAMI AMF identifiers, with the
/// GUAMI PLMN octets left for the caller to read (its errors are the caller's).
pub(crate) fn gnb_ueid_from_asn(gnb: &common::UEIDGNB) -> (GnbUeId, &[u8]) {
    let guami = &gnb.guami;
    let ue = GnbUeId {
        amf_ue_ngap_id: gnb.amf_ue_ngap_id.0,
        // The caller reads the PLMN octets returned beside it.
        plmn: Plmn::TEST,
        amf_region_id: get_bits(guami.a_mfregion_id.0.as_bitslice(), 8) as u8,
        amf_set_id: get_bits(guami.a_mfset_id.0.as_bitslice(), 10) as u16,
        amf_pointer: get_bits(guami.a_mfpointer.0.as_bitslice(), 6) as u8,
    };
    (ue, guami.p_lmnidentity.0.as_ref())
}

type BitSlice = rasn::types::BitStr;

/// Writes the `n` low bits of `v` into the first `n` bits of `bits`, most significant first.
pub(crate) fn set_bits(bits: &mut BitSlice, v: u64, n: usize) {
    for i in 0..n.min(bits.len()) {
        bits.set(i, (v >> (n - 1 - i)) & 1 == 1);
    }
}

/// Reads the first `n` bits of `bits` as an unsigned number, most significant first.
pub(crate) fn get_bits(bits: &BitSlice, n: usize) -> u64 {
    bits.iter()
        .take(n)
        .fold(0u64, |acc, b| (acc << 1) | u64::from(*b))
}
