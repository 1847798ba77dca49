//! The E2SM wire between the xApp and an E2 node, in ASN.1 APER as an E2 node reads it:
//! a PRB quota control leaves the xApp as an E2SM-RC control header + message (the RIC
//! Control Header and RIC Control Message IEs of an E2AP RIC CONTROL REQUEST, O-RAN E2AP
//! clause 9.1.1.9), and each period's measurements arrive as E2SM-KPM indications
//! ([`KpmCellIndications`]). The emulated gNB's E2 agent is the other end of this wire, so
//! every control and every report of the demo crosses it as bytes.
//!
//! The E2SM-KPM version of the indications (v02.03 or v03.00, which differ in the indication
//! header's TimeStamp) is not in them: the xApp reads it from the OID of the KPM RAN
//! function the node announced ([`kpm_version_of`]), and a report encoded in the other
//! version does not decode.

use maestro_e2sm::kpm::cell::{decode_cell_report, encode_cell_report, KpmCellIndications};
use maestro_e2sm::kpm::{is_kpm_oid, KpmVersion};
use maestro_e2sm::rc::{
    decode_control_header, decode_control_message_with_leaves, encode_control_header,
    encode_control_message_with_leaves, DecodedControl, LeafEncoding, RanParamDialect,
    SlicePrbQuotaControl, CONTROL_ACTION_SLICE_PRB_QUOTA, CONTROL_STYLE_RADIO_RESOURCE_ALLOCATION,
};
use maestro_e2sm::report::CellMeasurement;

use super::{E2Error, RanFunctionInfo};

/// An E2SM-RC control as APER bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcControlBytes {
    /// E2SM-RC-ControlHeader (format 1: style 2, action 6).
    pub header: Vec<u8>,
    /// E2SM-RC-ControlMessage (format 1: the RRM Policy Ratio List).
    pub message: Vec<u8>,
}

impl RcControlBytes {
    /// Bytes on the wire.
    pub fn len(&self) -> usize {
        self.header.len() + self.message.len()
    }

    /// Never true for an encoded control.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// xApp side: the slice PRB quota control (E2SM-RC v1.03 clause 7.6.3.1, style 2, action 6)
/// as the E2 node will read it, with the RAN parameter IDs of `dialect` and PLMN/SST/SD
/// leaves in `leaves` form (`None`: the dialect's default, what its known consumers parse).
pub fn encode_control(
    control: &SlicePrbQuotaControl,
    dialect: RanParamDialect,
    leaves: Option<LeafEncoding>,
) -> Result<RcControlBytes, E2Error> {
    let header = encode_control_header(
        i64::from(CONTROL_STYLE_RADIO_RESOURCE_ALLOCATION),
        i64::from(CONTROL_ACTION_SLICE_PRB_QUOTA),
    )
    .map_err(|e| E2Error::InvalidControl(e.to_string()))?;
    let leaves = dialect.leaf_encoding(leaves);
    let message = encode_control_message_with_leaves(control, dialect, leaves)
        .map_err(|e| E2Error::InvalidControl(e.to_string()))?;
    Ok(RcControlBytes { header, message })
}

/// E2 node side: reads a control, refusing other styles/actions (what a node answers with a
/// RIC CONTROL FAILURE). Leaves are read in either form; the form seen comes back with the
/// control.
pub fn decode_control(
    bytes: &RcControlBytes,
    dialect: RanParamDialect,
) -> Result<DecodedControl, String> {
    let header = decode_control_header(&bytes.header).map_err(|e| e.to_string())?;
    if header.style != i64::from(CONTROL_STYLE_RADIO_RESOURCE_ALLOCATION)
        || header.action != i64::from(CONTROL_ACTION_SLICE_PRB_QUOTA)
    {
        return Err(format!(
            "unsupported control style {} action {} (only style 2 action 6)",
            header.style, header.action
        ));
    }
    decode_control_message_with_leaves(&bytes.message, dialect).map_err(|e| e.to_string())
}

/// Short name of the E2SM-KPM RAN function (as FlexRIC's agents name it).
pub const KPM_RAN_FUNCTION_NAME: &str = "ORAN-E2SM-KPM";

/// Why the announced RAN functions give no E2SM-KPM version the xApp can decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KpmOidError {
    /// No RAN function has a KPM OID or name.
    #[error(
        "the E2 node announced no E2SM-KPM RAN function (OID 1.3.6.1.4.1.53148.1.<version>.2.2)"
    )]
    NoKpmFunction,
    /// The KPM RAN function's OID names a version the xApp does not speak.
    #[error(
        "RAN function {id} ({name}) announces E2SM-KPM OID {oid:?}: not a version this xApp \
         decodes (v02.03 = {}, v03.00 = {})",
        KpmVersion::V2_03.oid(),
        KpmVersion::V3_00.oid()
    )]
    UnknownVersion {
        /// RAN function ID.
        id: u16,
        /// Its short name.
        name: String,
        /// Its OID.
        oid: String,
    },
}

/// xApp side: the E2SM-KPM version of the node's KPM RAN function, from its announced OID
/// (E2AP clause 9.2.23; [`KpmVersion::from_oid`]). The KPM function is the first with a KPM
/// OID of any version or, whatever its OID, the name [`KPM_RAN_FUNCTION_NAME`].
pub fn kpm_version_of(functions: &[RanFunctionInfo]) -> Result<KpmVersion, KpmOidError> {
    let f = functions
        .iter()
        .find(|f| is_kpm_oid(&f.oid) || f.name == KPM_RAN_FUNCTION_NAME)
        .ok_or(KpmOidError::NoKpmFunction)?;
    KpmVersion::from_oid(&f.oid).ok_or_else(|| KpmOidError::UnknownVersion {
        id: f.id,
        name: f.name.clone(),
        oid: f.oid.clone(),
    })
}

/// E2 node side: one period's report as the KPM indications of `version`.
pub fn encode_report(
    report: &CellMeasurement,
    version: KpmVersion,
) -> Result<KpmCellIndications, String> {
    encode_cell_report(report, version).map_err(|e| e.to_string())
}

/// xApp side: the report the indications carry, decoded as `version` (from
/// [`kpm_version_of`]).
pub fn decode_report(
    indications: &KpmCellIndications,
    version: KpmVersion,
) -> Result<CellMeasurement, String> {
    decode_cell_report(indications, version).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use maestro_e2sm::rc::{RrmPolicyMember, RrmPolicyRatioGroup};

    fn control() -> SlicePrbQuotaControl {
        let member = |sd| RrmPolicyMember {
            mcc: "001".into(),
            mnc: "01".into(),
            sst: 1,
            sd: Some(sd),
        };
        SlicePrbQuotaControl {
            groups: vec![
                RrmPolicyRatioGroup::new(member(1), 0, 40, 0).expect("valid"),
                RrmPolicyRatioGroup::new(member(2), 0, 60, 0).expect("valid"),
            ],
        }
    }

    #[test]
    fn a_control_crosses_the_wire_in_both_dialects() {
        for dialect in [RanParamDialect::Oran, RanParamDialect::Oai] {
            for leaves in [None, Some(LeafEncoding::Binary), Some(LeafEncoding::Ascii)] {
                let bytes = encode_control(&control(), dialect, leaves).unwrap();
                assert!(bytes.len() > 20);
                let read = decode_control(&bytes, dialect).unwrap();
                assert_eq!(read.control, control());
                let expected = dialect.leaf_encoding(leaves);
                assert_eq!(
                    read.leaves.uniform(),
                    Some(expected),
                    "{dialect:?} {leaves:?}"
                );
            }
        }
    }

    fn report() -> CellMeasurement {
        use maestro_e2sm::report::{SliceMeasurement, UeMeasurement};
        let member = |sd| RrmPolicyMember {
            mcc: "001".into(),
            mnc: "01".into(),
            sst: 1,
            sd: Some(sd),
        };
        CellMeasurement {
            sequence: 7,
            time_ms: 700,
            period_ms: 100,
            cell_id: "001-01-0000000001".into(),
            n_prb: 106,
            slices: vec![SliceMeasurement {
                member: member(1),
                prb_quota: 53,
                prb_used: 40.5,
                dl_throughput_bps: 12_000_000.0,
                ues: vec![UeMeasurement {
                    ue_id: 1,
                    wb_cqi: 12,
                    mcs: 20,
                    prbs: 40.5,
                    dl_throughput_bps: 12_000_000.0,
                }],
            }],
        }
    }

    fn function(id: u16, oid: &str, name: &str) -> RanFunctionInfo {
        RanFunctionInfo {
            id,
            oid: oid.into(),
            revision: 0,
            name: name.into(),
        }
    }

    #[test]
    fn a_report_crosses_the_wire_in_both_kpm_versions() {
        for version in KpmVersion::ALL {
            let announced = [
                function(3, "1.3.6.1.4.1.53148.1.1.2.3", "ORAN-E2SM-RC"),
                function(2, version.oid(), KPM_RAN_FUNCTION_NAME),
            ];
            let read = kpm_version_of(&announced).unwrap();
            assert_eq!(read, version);
            let ind = encode_report(&report(), version).unwrap();
            assert_eq!(decode_report(&ind, read).unwrap(), report());
        }
    }

    #[test]
    fn a_kpm_version_mismatch_is_detected() {
        let ind = encode_report(&report(), KpmVersion::V2_03).unwrap();
        let err = decode_report(&ind, KpmVersion::V3_00).unwrap_err();
        assert!(
            err.contains("expected v03.00 (TimeStamp of 8 octets)")
                && err.contains("v02.03 header (TimeStamp of 4 octets)"),
            "{err}"
        );
        let ind = encode_report(&report(), KpmVersion::V3_00).unwrap();
        let err = decode_report(&ind, KpmVersion::V2_03).unwrap_err();
        assert!(err.contains("expected v02.03"), "{err}");
    }

    #[test]
    fn an_unknown_or_missing_kpm_function_is_a_clear_error() {
        let v4 = [function(2, "1.3.6.1.4.1.53148.1.4.2.2", "ORAN-E2SM-KPM")];
        let err = kpm_version_of(&v4).unwrap_err();
        assert_eq!(
            err,
            KpmOidError::UnknownVersion {
                id: 2,
                name: "ORAN-E2SM-KPM".into(),
                oid: "1.3.6.1.4.1.53148.1.4.2.2".into(),
            }
        );
        let text = err.to_string();
        assert!(
            text.contains("1.3.6.1.4.1.53148.1.4.2.2")
                && text.contains("1.3.6.1.4.1.53148.1.3.2.2"),
            "{text}"
        );
        // Named KPM but with a foreign OID: still the KPM function, still unknown.
        let odd = [function(2, "1.2.3", KPM_RAN_FUNCTION_NAME)];
        assert!(matches!(
            kpm_version_of(&odd),
            Err(KpmOidError::UnknownVersion { .. })
        ));
        let none = [function(142, "1.3.6.1.4.1.53148.1.1.2.142", "MAC_STATS_V0")];
        assert_eq!(kpm_version_of(&none), Err(KpmOidError::NoKpmFunction));
    }

    #[test]
    fn the_node_refuses_other_actions_and_the_wrong_dialect() {
        let mut bytes = encode_control(&control(), RanParamDialect::Oran, None).unwrap();
        assert!(decode_control(&bytes, RanParamDialect::Oai).is_err());
        bytes.header = encode_control_header(2, 5).unwrap();
        let err = decode_control(&bytes, RanParamDialect::Oran).unwrap_err();
        assert!(err.contains("action 5"), "{err}");
    }
}
