//! The E2SM wire between the xApp and an E2 node, in ASN.1 APER as an E2 node reads it:
//! a PRB quota control leaves the xApp as an E2SM-RC control header + message (the RIC
//! Control Header and RIC Control Message IEs of an E2AP RIC CONTROL REQUEST, O-RAN E2AP
//! clause 9.1.1.9), and each period's measurements arrive as E2SM-KPM indications
//! ([`KpmCellIndications`]). The emulated gNB's E2 agent is the other end of this wire, so
//! every control and every report of the demo crosses it as bytes.

use maestro_e2sm::kpm_cell::{decode_cell_report, encode_cell_report, KpmCellIndications};
use maestro_e2sm::rc::{
    SlicePrbQuotaControl, CONTROL_ACTION_SLICE_PRB_QUOTA, CONTROL_STYLE_RADIO_RESOURCE_ALLOCATION,
};
use maestro_e2sm::rc_aper::{
    decode_control_header, decode_control_message, encode_control_header, encode_control_message,
    RanParamDialect,
};
use maestro_e2sm::report::CellMeasurement;

use super::E2Error;

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
/// as the E2 node will read it, with the RAN parameter IDs of `dialect`.
pub fn encode_control(
    control: &SlicePrbQuotaControl,
    dialect: RanParamDialect,
) -> Result<RcControlBytes, E2Error> {
    let header = encode_control_header(
        i64::from(CONTROL_STYLE_RADIO_RESOURCE_ALLOCATION),
        i64::from(CONTROL_ACTION_SLICE_PRB_QUOTA),
    )
    .map_err(|e| E2Error::InvalidControl(e.to_string()))?;
    let message = encode_control_message(control, dialect)
        .map_err(|e| E2Error::InvalidControl(e.to_string()))?;
    Ok(RcControlBytes { header, message })
}

/// E2 node side: reads a control, refusing other styles/actions (what a node answers with a
/// RIC CONTROL FAILURE).
pub fn decode_control(
    bytes: &RcControlBytes,
    dialect: RanParamDialect,
) -> Result<SlicePrbQuotaControl, String> {
    let header = decode_control_header(&bytes.header).map_err(|e| e.to_string())?;
    if header.style != i64::from(CONTROL_STYLE_RADIO_RESOURCE_ALLOCATION)
        || header.action != i64::from(CONTROL_ACTION_SLICE_PRB_QUOTA)
    {
        return Err(format!(
            "unsupported control style {} action {} (only style 2 action 6)",
            header.style, header.action
        ));
    }
    decode_control_message(&bytes.message, dialect).map_err(|e| e.to_string())
}

/// E2 node side: one period's report as KPM indications.
pub fn encode_report(report: &CellMeasurement) -> Result<KpmCellIndications, String> {
    encode_cell_report(report).map_err(|e| e.to_string())
}

/// xApp side: the report the indications carry.
pub fn decode_report(indications: &KpmCellIndications) -> Result<CellMeasurement, String> {
    decode_cell_report(indications).map_err(|e| e.to_string())
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
            let bytes = encode_control(&control(), dialect).unwrap();
            assert!(bytes.len() > 20);
            assert_eq!(decode_control(&bytes, dialect).unwrap(), control());
        }
    }

    #[test]
    fn the_node_refuses_other_actions_and_the_wrong_dialect() {
        let mut bytes = encode_control(&control(), RanParamDialect::Oran).unwrap();
        assert!(decode_control(&bytes, RanParamDialect::Oai).is_err());
        bytes.header = encode_control_header(2, 5).unwrap();
        let err = decode_control(&bytes, RanParamDialect::Oran).unwrap_err();
        assert!(err.contains("action 5"), "{err}");
    }
}
