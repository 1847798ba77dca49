//! The A1 -> E2 slice mapping: which E2SM-RC RRM policy member (PLMN + S-NSSAI) an A1 policy's
//! scope (`scope.sliceId`) governs, and back, for the KPIs the xApp reports per slice.
//!
//! The A1 handlers (one policy per slice) and the controller (policy -> slice target) map
//! scopes through [`member_of`]; the KPI side names a reported slice by [`slice_id_of`], whose
//! `Display` (`maestro_api::a1::SliceId`, shared with the rApp) is the slice label of
//! `/metrics` and the KPI stream.

use maestro_api::a1::{PlmnId, SliceId};
use maestro_e2sm::rc::RrmPolicyMember;

/// Converts an A1 slice id to the E2SM-RC RRM policy member it scopes.
///
/// The SD is 6 hex digits in A1 (TS 23.003 clause 28.4.2: 24 bits); `None` when the SD is
/// absent, and `Err` when it is not hex (the schema already rejects that at the API edge).
pub fn member_of(slice: &SliceId) -> Result<RrmPolicyMember, String> {
    let sd = match &slice.sd {
        None => None,
        Some(text) => Some(
            u32::from_str_radix(text, 16)
                .map_err(|_| format!("slice differentiator {text:?} is not 6 hex digits"))?,
        ),
    };
    Ok(RrmPolicyMember {
        mcc: slice.plmn_id.mcc.clone(),
        mnc: slice.plmn_id.mnc.clone(),
        sst: slice.sst,
        sd,
    })
}

/// The A1 slice id of an RRM policy member (the inverse of [`member_of`]): the SD as 6
/// lower-case hex digits.
pub fn slice_id_of(member: &RrmPolicyMember) -> SliceId {
    SliceId {
        sst: member.sst,
        sd: member.sd.map(|sd| format!("{sd:06x}")),
        plmn_id: PlmnId {
            mcc: member.mcc.clone(),
            mnc: member.mnc.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(sst: u8, sd: Option<u32>) -> RrmPolicyMember {
        RrmPolicyMember {
            mcc: "001".into(),
            mnc: "01".into(),
            sst,
            sd,
        }
    }

    #[test]
    fn member_and_slice_id_map_both_ways() {
        for m in [
            member(1, Some(1)),
            member(2, Some(0xabcdef)),
            member(3, None),
        ] {
            assert_eq!(member_of(&slice_id_of(&m)).unwrap(), m);
        }
    }

    #[test]
    fn label_pads_the_sd_to_six_lower_case_digits() {
        let label = |m| slice_id_of(&m).to_string();
        assert_eq!(label(member(1, Some(1))), "001-01/sst1-sd000001");
        assert_eq!(label(member(1, Some(0xAB))), "001-01/sst1-sd0000ab");
        assert_eq!(label(member(2, None)), "001-01/sst2");
    }

    #[test]
    fn a_non_hex_sd_is_refused() {
        let mut id = slice_id_of(&member(1, Some(1)));
        id.sd = Some("00000g".into());
        assert!(member_of(&id).is_err());
    }
}
