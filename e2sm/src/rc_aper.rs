//! E2SM-RC control "Slice-level PRB quota" as ASN.1 ALIGNED PER (APER) bytes.
//!
//! O-RAN E2SM-RC v1.03, control service style 2 "Radio Resource Allocation Control"
//! (clause 7.6.3.1), control action 6 "Slice-level PRB quota"; the RAN parameter tree of
//! clause 8.4.3.6, as specified in `asn1/e2sm-rc-subset.asn` (with the UEID of
//! `asn1/e2sm-common-subset.asn`).
//!
//! The functions of this module use the hand-written ALIGNED PER codec of [`crate::rc_per`]
//! (over the X.691 bit writer/reader of [`crate::per`]), 5 to 8 times faster than rasn's
//! generic APER codec (8-slice control, CPU time on a loaded 2-vCPU machine: about 3 µs to
//! encode and 7 µs to decode, against 23 and 32 µs; `cargo bench --bench rc`). The rasn
//! codec of the types that `rasn-compiler` generates from the ASN.1 module at build time
//! (module `asn1`) is kept as [`reference`], with the same API: `tests/rc_per_differential.rs`
//! checks on random controls and headers that both produce identical bytes and decode each
//! other's output, and on random and mutated bytes that they accept exactly the same inputs
//! with the same values. The byte-exact asn1tools vectors of `tests/rc_aper.rs` are the
//! ground truth for both.
//!
//! The tree we send (and require when decoding), for every [`RrmPolicyRatioGroup`]:
//!
//! ```text
//! ranP-List[0]: RRM Policy Ratio List                 LIST
//!   list item = RRM Policy Ratio Group                STRUCTURE (no ID on the wire)
//!     RRM Policy                                      STRUCTURE
//!       RRM Policy Member List                        LIST (exactly one item)
//!         list item = RRM Policy Member               STRUCTURE (no ID on the wire)
//!           PLMN Identity                             ELEMENT, OCTET STRING
//!           S-NSSAI                                   STRUCTURE
//!             SST                                     ELEMENT, OCTET STRING
//!             SD                                      ELEMENT, OCTET STRING
//!     Min PRB Policy Ratio                            ELEMENT, INTEGER 0..100
//!     Max PRB Policy Ratio                            ELEMENT, INTEGER 0..100
//!     Dedicated PRB Policy Ratio                      ELEMENT, INTEGER 0..100
//! ```
//!
//! `RANParameter-LIST` items are bare `RANParameter-STRUCTURE`s with no RAN parameter ID,
//! so the IDs of RRM Policy Ratio Group and RRM Policy Member never appear: the OAI E2
//! agent reads exactly this shape (its slice handler takes the 4 items policy/min/max/
//! dedicated straight from each list item, and PLMN/S-NSSAI straight from the member list
//! item). The decoder also accepts list items that wrap their content in one STRUCTURE
//! item carrying the element's ID, as some xApps send.
//!
//! Values of the leaves depend on the dialect:
//!
//! | leaf | [`RanParamDialect::Oran`] | [`RanParamDialect::Oai`] |
//! | --- | --- | --- |
//! | PLMN Identity | 3 octets BCD (TS 38.413 9.3.3.5, TS 24.008 10.5.1.13) | ASCII `mccmnc`, e.g. `"00101"` |
//! | SST | 1 octet (TS 38.413 9.3.1.24) | ASCII decimal, e.g. `"1"` |
//! | SD | 3 octets big-endian, omitted when absent | ASCII decimal, always sent; `"16777215"` (0xFFFFFF, TS 23.003 28.4.2 "no SD") when absent |
//! | ratios | `valueInt` | `valueInt` |
//!
//! The OAI E2 agent turns the PLMN/SST/SD octet strings into C strings and parses them
//! with `sscanf`/`atoi`, and asserts that S-NSSAI has both SST and SD; FlexRIC's slice
//! example passes them as strings. Decoding in the OAI dialect maps SD 0xFFFFFF to `None`.
//!
//! Elements are sent as `ranP-Choice-ElementFalse` with the value present (key flag false,
//! as FlexRIC's slice example does); the decoder accepts `ElementTrue` as well.

use rasn::types::{Integer, OctetString};

use crate::asn1::rc as g;
use crate::asn1::{gnb_ueid_from_asn, gnb_ueid_to_asn};
use crate::rc::{QuotaError, RrmPolicyMember, RrmPolicyRatioGroup, SlicePrbQuotaControl};

/// Largest input [`decode_control_message`] and [`decode_control_header`] accept. An
/// 8-slice message is under 600 bytes. (The recursion of the RAN parameter tree is bounded:
/// [`crate::rc_per`] follows at most [`crate::rc_per::MAX_DEPTH`] STRUCTURE/LIST levels, and
/// rasn's PER decoder, the [`reference`], stops at 128 nested constructed types; the test
/// `deepest_nesting_within_the_length_limit_does_not_overflow_the_stack` checks both on a
/// 2 MiB stack.)
pub const MAX_MESSAGE_LEN: usize = 8 * 1024;

/// Errors of the E2SM-RC APER codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RcCodecError {
    /// rasn could not encode the message.
    #[error("APER encoding failed: {0}")]
    Encode(String),
    /// The bytes are not a valid APER encoding of the ASN.1 type.
    #[error("APER decoding failed: {0}")]
    Decode(String),
    /// Input larger than [`MAX_MESSAGE_LEN`].
    #[error("input of {len} bytes exceeds the {max}-byte limit")]
    TooLong {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A control without any RRM Policy Ratio Group (the LIST needs at least one item).
    #[error("the RRM Policy Ratio List must hold at least one group")]
    NoGroups,
    /// The RAN parameter tree is not the slice-level PRB quota tree of clause 8.4.3.6.
    #[error("unexpected RAN parameter tree at {path}: {reason}")]
    Shape {
        /// Where in the tree, as a path of RAN parameter names.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The PLMN identity is not 3 MCC digits and 2 or 3 MNC digits.
    #[error("invalid PLMN identity: {0}")]
    Plmn(String),
    /// The SD does not fit in 24 bits.
    #[error("S-NSSAI SD {0:#x} does not fit in 24 bits")]
    Sd(u32),
    /// A ratio is out of range or the ratios are out of order.
    #[error(transparent)]
    Quota(#[from] QuotaError),
    /// The header is not what this crate can represent.
    #[error("unsupported control header: {0}")]
    Header(String),
}

/// Which RAN parameter IDs (and leaf value encodings, see the module docs) the E2 node
/// expects for the clause 8.4.3.6 tree.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RanParamDialect {
    /// The table of O-RAN E2SM-RC clause 8.4.3.6 (v1.03 and later), with binary leaf values:
    /// 1 RRM Policy Ratio List, 2 RRM Policy Ratio Group, 3 RRM Policy, (4 Resource Type,
    /// not sent), 5 RRM Policy Member List, 6 RRM Policy Member, 7 PLMN Identity,
    /// 8 S-NSSAI, 9 SST, 10 SD, 11 Min PRB Policy Ratio, 12 Max PRB Policy Ratio,
    /// 13 Dedicated PRB Policy Ratio. Source: the specification's table as we know it;
    /// srsRAN (which implements this table) models the TS 28.541 `resourceType` of id 4 in
    /// its `rrm_policy_ratio_group`. Not checked against a running srsRAN node.
    #[default]
    Oran,
    /// OpenAirInterface's E2 agent and FlexRIC's slice control example number the same tree
    /// 1..12 consecutively, without Resource Type: 1 list, 2 group, 3 policy, 4 member
    /// list, 5 member, 6 PLMN, 7 S-NSSAI, 8 SST, 9 SD, 10 min, 11 max, 12 dedicated.
    /// Source: enum `slice_level_PRB_quota_param_id_e` (`..._8_4_3_6` constants) in the
    /// OAI gNB's `openair2/E2AP/RAN_FUNCTION/O-RAN/rc_ctrl_service_style_2.h` and in
    /// FlexRIC-based example xApps, and the OAI handler `add_mod_rc_slice`, which also
    /// fixes the shape and the ASCII leaf values this crate sends in this dialect.
    Oai,
}

/// The RAN parameter IDs of one [`RanParamDialect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RanParamIds {
    /// RRM Policy Ratio List (LIST).
    pub ratio_list: u32,
    /// RRM Policy Ratio Group (STRUCTURE). Not on the wire: it is the LIST item itself;
    /// only accepted by the decoder on a wrapping STRUCTURE item.
    pub ratio_group: u32,
    /// RRM Policy (STRUCTURE).
    pub policy: u32,
    /// RRM Policy Member List (LIST).
    pub member_list: u32,
    /// RRM Policy Member (STRUCTURE). Not on the wire, like `ratio_group`.
    pub member: u32,
    /// PLMN Identity (ELEMENT).
    pub plmn: u32,
    /// S-NSSAI (STRUCTURE).
    pub snssai: u32,
    /// SST (ELEMENT).
    pub sst: u32,
    /// SD (ELEMENT).
    pub sd: u32,
    /// Min PRB Policy Ratio (ELEMENT).
    pub min_prb: u32,
    /// Max PRB Policy Ratio (ELEMENT).
    pub max_prb: u32,
    /// Dedicated PRB Policy Ratio (ELEMENT).
    pub dedicated_prb: u32,
}

impl RanParamDialect {
    /// The dialect's RAN parameter IDs.
    pub const fn ids(self) -> RanParamIds {
        match self {
            Self::Oran => RanParamIds {
                ratio_list: 1,
                ratio_group: 2,
                policy: 3,
                member_list: 5,
                member: 6,
                plmn: 7,
                snssai: 8,
                sst: 9,
                sd: 10,
                min_prb: 11,
                max_prb: 12,
                dedicated_prb: 13,
            },
            Self::Oai => RanParamIds {
                ratio_list: 1,
                ratio_group: 2,
                policy: 3,
                member_list: 4,
                member: 5,
                plmn: 6,
                snssai: 7,
                sst: 8,
                sd: 9,
                min_prb: 10,
                max_prb: 11,
                dedicated_prb: 12,
            },
        }
    }
}

/// `ric-ControlDecision` of the control header format 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlDecision {
    /// accept
    Accept,
    /// reject
    Reject,
}

/// The gNB-UEID alternative of UEID (E2SM common IEs): AMF UE NGAP ID and GUAMI
/// (TS 38.413 clause 9.3.3.3). Slice-level control is not about one UE; the E2 nodes we
/// target ignore it, see [`GnbUeId::placeholder`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GnbUeId {
    /// AMF UE NGAP ID, 0..2^40-1.
    pub amf_ue_ngap_id: u64,
    /// GUAMI PLMN (MCC and MNC).
    pub plmn: Plmn,
    /// AMF Region ID (8 bits).
    pub amf_region_id: u8,
    /// AMF Set ID (10 bits).
    pub amf_set_id: u16,
    /// AMF Pointer (6 bits).
    pub amf_pointer: u8,
}

impl GnbUeId {
    /// Checks the field widths of TS 38.413 clause 9.3.3.3 (AMF UE NGAP ID 40 bits, AMF Set
    /// ID 10, AMF Pointer 6); the reason when one is exceeded.
    pub fn check(&self) -> Result<(), String> {
        if self.amf_ue_ngap_id >= 1 << 40 {
            return Err(format!(
                "AMF UE NGAP ID {} exceeds 40 bits",
                self.amf_ue_ngap_id
            ));
        }
        if self.amf_set_id >= 1 << 10 || self.amf_pointer >= 1 << 6 {
            return Err("AMF Set ID exceeds 10 bits or AMF Pointer exceeds 6 bits".into());
        }
        Ok(())
    }

    /// AMF UE NGAP ID 0 with a GUAMI of the test PLMN 001/01 and zero AMF identifiers,
    /// as sent with cell-wide (not per-UE) controls.
    pub fn placeholder() -> Self {
        Self {
            amf_ue_ngap_id: 0,
            plmn: Plmn::TEST,
            amf_region_id: 0,
            amf_set_id: 0,
            amf_pointer: 0,
        }
    }
}

/// E2SM-RC-ControlHeader, format 1.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RcControlHeader {
    /// The UE (gNB-UEID).
    pub ue: GnbUeId,
    /// RIC Style Type (2 for Radio Resource Allocation Control).
    pub style: i64,
    /// RIC Control Action ID (6 for Slice-level PRB quota).
    pub action: i64,
    /// RIC Control Decision, if any.
    pub decision: Option<ControlDecision>,
}

/// Encodes an E2SM-RC-ControlHeader format 1 for `style`/`action` (2/6 for the PRB quota)
/// with the [`GnbUeId::placeholder`] UE and no control decision.
pub fn encode_control_header(style: i64, action: i64) -> Result<Vec<u8>, RcCodecError> {
    encode_header(&RcControlHeader {
        ue: GnbUeId::placeholder(),
        style,
        action,
        decision: None,
    })
}

/// Encodes any [`RcControlHeader`].
pub fn encode_header(header: &RcControlHeader) -> Result<Vec<u8>, RcCodecError> {
    crate::rc_per::encode_header(header)
}

/// Decodes an E2SM-RC-ControlHeader (format 1 with a gNB-UEID).
pub fn decode_control_header(bytes: &[u8]) -> Result<RcControlHeader, RcCodecError> {
    crate::rc_per::decode_control_header(bytes)
}

/// Encodes the E2SM-RC-ControlMessage format 1 carrying `control` as the clause 8.4.3.6
/// tree with the RAN parameter IDs of `dialect`. The control is validated first.
pub fn encode_control_message(
    control: &SlicePrbQuotaControl,
    dialect: RanParamDialect,
) -> Result<Vec<u8>, RcCodecError> {
    crate::rc_per::encode_control_message(control, dialect)
}

/// Decodes an E2SM-RC-ControlMessage format 1 that carries the slice-level PRB quota tree
/// with the RAN parameter IDs of `dialect`; checks the tree shape, the ratio ranges and
/// their ordering ([`SlicePrbQuotaControl::validate`]).
pub fn decode_control_message(
    bytes: &[u8],
    dialect: RanParamDialect,
) -> Result<SlicePrbQuotaControl, RcCodecError> {
    crate::rc_per::decode_control_message(bytes, dialect)
}

/// The same API implemented with the rasn types generated from `asn1/e2sm-rc-subset.asn`:
/// the reference the hand-written codec ([`crate::rc_per`]) is tested against
/// (`tests/rc_per_differential.rs`). 5 to 8 times slower.
pub mod reference {
    use super::{RanParamDialect, RcCodecError, RcControlHeader, SlicePrbQuotaControl};

    /// [`super::encode_header`] with rasn.
    pub fn encode_header(header: &RcControlHeader) -> Result<Vec<u8>, RcCodecError> {
        super::rasn_encode_header(header)
    }

    /// [`super::decode_control_header`] with rasn.
    pub fn decode_control_header(bytes: &[u8]) -> Result<RcControlHeader, RcCodecError> {
        super::rasn_decode_control_header(bytes)
    }

    /// [`super::encode_control_message`] with rasn.
    pub fn encode_control_message(
        control: &SlicePrbQuotaControl,
        dialect: RanParamDialect,
    ) -> Result<Vec<u8>, RcCodecError> {
        super::rasn_encode_control_message(control, dialect)
    }

    /// [`super::decode_control_message`] with rasn.
    pub fn decode_control_message(
        bytes: &[u8],
        dialect: RanParamDialect,
    ) -> Result<SlicePrbQuotaControl, RcCodecError> {
        super::rasn_decode_control_message(bytes, dialect)
    }
}

/// [`encode_header`] with rasn (the reference codec).
fn rasn_encode_header(header: &RcControlHeader) -> Result<Vec<u8>, RcCodecError> {
    let ue = &header.ue;
    ue.check().map_err(RcCodecError::Header)?;
    let ueid = gnb_ueid_to_asn(ue, ue.plmn.bcd());
    let decision = header.decision.map(|d| match d {
        ControlDecision::Accept => g::E2SMRCControlHeaderFormat1RicControlDecision::accept,
        ControlDecision::Reject => g::E2SMRCControlHeaderFormat1RicControlDecision::reject,
    });
    let f1 = g::E2SMRCControlHeaderFormat1::new(
        ueid,
        g::RICStyleType(Integer::from(header.style)),
        g::RICControlActionID(Integer::from(header.action)),
        decision,
    );
    let pdu = g::E2SMRCControlHeader::new(
        g::E2SMRCControlHeaderRicControlHeaderFormats::controlHeader_Format1(f1),
    );
    rasn::aper::encode(&pdu).map_err(|e| RcCodecError::Encode(e.to_string()))
}

/// [`decode_control_header`] with rasn (the reference codec).
fn rasn_decode_control_header(bytes: &[u8]) -> Result<RcControlHeader, RcCodecError> {
    check_len(bytes)?;
    let pdu: g::E2SMRCControlHeader = rasn::aper::decode(bytes).map_err(decode_error)?;
    let g::E2SMRCControlHeaderRicControlHeaderFormats::controlHeader_Format1(f1) =
        pdu.ric_control_header_formats;
    let g::UEID::gNB_UEID(gnb) = f1.ue_id else {
        return Err(RcCodecError::Header(
            "only the gNB-UEID alternative of UEID is supported".into(),
        ));
    };
    let (ue, plmn) = gnb_ueid_from_asn(&gnb);
    let plmn = Plmn::from_octets(plmn)?;
    let style = i64::try_from(&f1.ric_style_type.0)
        .map_err(|_| RcCodecError::Header("RIC Style Type does not fit in i64".into()))?;
    let action = i64::try_from(&f1.ric_control_action_id.0)
        .map_err(|_| RcCodecError::Header("RIC Control Action ID does not fit in i64".into()))?;
    let decision = match f1.ric_control_decision {
        None => None,
        Some(g::E2SMRCControlHeaderFormat1RicControlDecision::accept) => {
            Some(ControlDecision::Accept)
        }
        Some(g::E2SMRCControlHeaderFormat1RicControlDecision::reject) => {
            Some(ControlDecision::Reject)
        }
    };
    Ok(RcControlHeader {
        ue: GnbUeId { plmn, ..ue },
        style,
        action,
        decision,
    })
}

// ---------------------------------------------------------------------------------------
// PLMN identity, S-NSSAI
// ---------------------------------------------------------------------------------------

/// The first 3 digits of `s` and its length; every character must be a digit. (No heap
/// allocation: this runs for every UE of a KPM indication.)
fn digits(s: &str, what: &str) -> Result<([u8; 3], usize), RcCodecError> {
    let mut d = [0u8; 3];
    for (i, b) in s.bytes().enumerate() {
        if !b.is_ascii_digit() {
            return Err(RcCodecError::Plmn(format!(
                "{what} {s:?} is not all digits"
            )));
        }
        if let Some(slot) = d.get_mut(i) {
            *slot = b - b'0';
        }
    }
    Ok((d, s.len()))
}

/// PLMN identity as 3 octets of BCD digits: TS 38.413 clause 9.3.3.5 refers to
/// TS 24.008 clause 10.5.1.13 (figure 10.5.13): octet 1 = MCC digit 2 | MCC digit 1,
/// octet 2 = MNC digit 3 | MCC digit 3 (MNC digit 3 is the filler 0xF for a 2-digit MNC),
/// octet 3 = MNC digit 2 | MNC digit 1; high nibble first in each pair.
pub fn plmn_to_bcd(mcc: &str, mnc: &str) -> Result<[u8; 3], RcCodecError> {
    let (c, c_len) = digits(mcc, "MCC")?;
    let (n, n_len) = digits(mnc, "MNC")?;
    if c_len != 3 {
        return Err(RcCodecError::Plmn(format!(
            "MCC {mcc:?} must have 3 digits"
        )));
    }
    let n3 = match n_len {
        2 => 0x0F,
        3 => n[2],
        _ => {
            return Err(RcCodecError::Plmn(format!(
                "MNC {mnc:?} must have 2 or 3 digits"
            )))
        }
    };
    Ok([c[1] << 4 | c[0], n3 << 4 | c[2], n[1] << 4 | n[0]])
}

/// Inverse of [`plmn_to_bcd`].
pub fn plmn_from_bcd(octets: &[u8]) -> Result<(String, String), RcCodecError> {
    let plmn = Plmn::from_octets(octets)?;
    Ok((plmn.mcc(), plmn.mnc()))
}

/// A PLMN identity kept in its wire form, the 3 BCD octets of TS 38.413 clause 9.3.3.5
/// (TS 24.008 clause 10.5.1.13): MCC digits 1-2, MNC digit 3 (0xF filler for 2-digit MNCs) and
/// MCC digit 3, MNC digits 1-2. Only valid identities can be built, so it is `Copy` and free
/// to encode; [`Plmn::mcc`] and [`Plmn::mnc`] give the digits as text.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Plmn([u8; 3]);

impl Plmn {
    /// The test PLMN 001/01 (TS 23.003 clause 2.2, "test networks").
    pub const TEST: Plmn = Plmn([0x00, 0xF1, 0x10]);

    /// From MCC (3 digits) and MNC (2 or 3 digits) text.
    pub fn new(mcc: &str, mnc: &str) -> Result<Self, RcCodecError> {
        plmn_to_bcd(mcc, mnc).map(Self)
    }

    /// From the 3 wire octets, checked to be BCD digits (with the MNC filler allowed).
    pub fn from_octets(octets: &[u8]) -> Result<Self, RcCodecError> {
        let Ok(o) = <[u8; 3]>::try_from(octets) else {
            return Err(RcCodecError::Plmn(format!(
                "PLMN identity must be 3 octets, got {}",
                octets.len()
            )));
        };
        let nib = Self(o).nibbles();
        let n = if nib[5] == 0x0F { 5 } else { 6 };
        if nib[..n].iter().any(|d| *d > 9) {
            return Err(RcCodecError::Plmn(format!(
                "PLMN identity {o:02x?} has a non-BCD digit"
            )));
        }
        Ok(Self(o))
    }

    /// The 3 wire octets.
    pub fn bcd(self) -> [u8; 3] {
        self.0
    }

    /// MCC digits 1-3, MNC digits 1-3 (the last is 0xF for a 2-digit MNC).
    fn nibbles(self) -> [u8; 6] {
        let [o1, o2, o3] = self.0;
        [o1 & 0x0F, o1 >> 4, o2 & 0x0F, o3 & 0x0F, o3 >> 4, o2 >> 4]
    }

    /// The MCC as 3 digits.
    pub fn mcc(self) -> String {
        self.nibbles()[..3]
            .iter()
            .map(|d| char::from(b'0' + d))
            .collect()
    }

    /// The MNC as 2 or 3 digits.
    pub fn mnc(self) -> String {
        let nib = self.nibbles();
        let n = if nib[5] == 0x0F { 5 } else { 6 };
        nib[3..n].iter().map(|d| char::from(b'0' + d)).collect()
    }
}

impl std::fmt::Debug for Plmn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plmn({}-{})", self.mcc(), self.mnc())
    }
}

impl std::fmt::Display for Plmn {
    /// `mcc-mnc`, e.g. `001-01`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.mcc(), self.mnc())
    }
}

// ---------------------------------------------------------------------------------------
// Control message: encode
// ---------------------------------------------------------------------------------------

fn pid(id: u32) -> g::RANParameterID {
    g::RANParameterID(Integer::from(i64::from(id)))
}

fn element(id: u32, value: g::RANParameterValue) -> g::RANParameterSTRUCTUREItem {
    g::RANParameterSTRUCTUREItem::new(
        pid(id),
        g::RANParameterValueType::ranP_Choice_ElementFalse(
            g::RANParameterValueTypeChoiceElementFalse::new(Some(value)),
        ),
    )
}

fn structure(items: Vec<g::RANParameterSTRUCTUREItem>) -> g::RANParameterSTRUCTURE {
    g::RANParameterSTRUCTURE::new(Some(items))
}

fn structure_item(
    id: u32,
    items: Vec<g::RANParameterSTRUCTUREItem>,
) -> g::RANParameterSTRUCTUREItem {
    g::RANParameterSTRUCTUREItem::new(
        pid(id),
        g::RANParameterValueType::ranP_Choice_Structure(
            g::RANParameterValueTypeChoiceStructure::new(structure(items)),
        ),
    )
}

fn list_value(items: Vec<g::RANParameterSTRUCTURE>) -> g::RANParameterValueType {
    g::RANParameterValueType::ranP_Choice_List(g::RANParameterValueTypeChoiceList::new(
        g::RANParameterLIST::new(items),
    ))
}

fn octets(b: &[u8]) -> g::RANParameterValue {
    g::RANParameterValue::valueOctS(OctetString::from_slice(b))
}

fn int(v: u8) -> g::RANParameterValue {
    g::RANParameterValue::valueInt(Integer::from(i64::from(v)))
}

/// SD value meaning "no SD" (TS 23.003 clause 28.4.2).
const NO_SD: u32 = 0x00FF_FFFF;

fn group_tree(
    group: &RrmPolicyRatioGroup,
    dialect: RanParamDialect,
) -> Result<g::RANParameterSTRUCTURE, RcCodecError> {
    group.validate()?;
    let ids = dialect.ids();
    let m = &group.member;
    if let Some(sd) = m.sd.filter(|sd| *sd > NO_SD) {
        return Err(RcCodecError::Sd(sd));
    }
    let plmn_octets = plmn_to_bcd(&m.mcc, &m.mnc)?;
    let (plmn, snssai) = match dialect {
        RanParamDialect::Oran => {
            let mut snssai = vec![element(ids.sst, octets(&[m.sst]))];
            if let Some(sd) = m.sd {
                // TS 38.413 clause 9.3.1.24: SD is OCTET STRING (SIZE(3)), big-endian.
                let [_, a, b, c] = sd.to_be_bytes();
                snssai.push(element(ids.sd, octets(&[a, b, c])));
            }
            (octets(&plmn_octets), snssai)
        }
        RanParamDialect::Oai => {
            // The OAI agent reads these OCTET STRINGs as ASCII text: PLMN "mccmnc", SST and
            // SD in decimal; it requires the SD, so "no SD" is 0xFFFFFF (TS 23.003 28.4.2).
            let plmn = format!("{}{}", m.mcc, m.mnc);
            let sd = m.sd.unwrap_or(NO_SD);
            let snssai = vec![
                element(ids.sst, octets(m.sst.to_string().as_bytes())),
                element(ids.sd, octets(sd.to_string().as_bytes())),
            ];
            (octets(plmn.as_bytes()), snssai)
        }
    };
    // A LIST item is a RANParameter-STRUCTURE without an ID of its own: the item *is* the
    // RRM Policy Member (resp. RRM Policy Ratio Group), so their IDs are not on the wire.
    let member = structure(vec![
        element(ids.plmn, plmn),
        structure_item(ids.snssai, snssai),
    ]);
    let member_list =
        g::RANParameterSTRUCTUREItem::new(pid(ids.member_list), list_value(vec![member]));
    let policy = structure_item(ids.policy, vec![member_list]);
    Ok(structure(vec![
        policy,
        element(ids.min_prb, int(group.min_prb_ratio)),
        element(ids.max_prb, int(group.max_prb_ratio)),
        element(ids.dedicated_prb, int(group.dedicated_prb_ratio)),
    ]))
}

/// [`encode_control_message`] with rasn (the reference codec).
fn rasn_encode_control_message(
    control: &SlicePrbQuotaControl,
    dialect: RanParamDialect,
) -> Result<Vec<u8>, RcCodecError> {
    if control.groups.is_empty() {
        return Err(RcCodecError::NoGroups);
    }
    let ids = dialect.ids();
    let groups = control
        .groups
        .iter()
        .map(|g| group_tree(g, dialect))
        .collect::<Result<Vec<_>, _>>()?;
    let item = g::E2SMRCControlMessageFormat1Item::new(pid(ids.ratio_list), list_value(groups));
    let pdu = g::E2SMRCControlMessage::new(
        g::E2SMRCControlMessageRicControlMessageFormats::controlMessage_Format1(
            g::E2SMRCControlMessageFormat1::new(vec![item]),
        ),
    );
    rasn::aper::encode(&pdu).map_err(|e| RcCodecError::Encode(e.to_string()))
}

// ---------------------------------------------------------------------------------------
// Control message: decode
// ---------------------------------------------------------------------------------------

fn shape(path: &str, reason: impl Into<String>) -> RcCodecError {
    RcCodecError::Shape {
        path: path.to_string(),
        reason: reason.into(),
    }
}

fn id_of(id: &g::RANParameterID, path: &str) -> Result<u32, RcCodecError> {
    u32::try_from(&id.0).map_err(|_| shape(path, "RAN parameter ID out of range"))
}

/// rasn nests the message of every enclosing field; keep the innermost cause and the
/// outermost fields, within 400 characters.
fn decode_error(e: rasn::error::DecodeError) -> RcCodecError {
    const MAX: usize = 400;
    let text = e.to_string().replace(" (Codec: APER)", "");
    if text.len() <= MAX {
        return RcCodecError::Decode(text);
    }
    let head: String = text.chars().take(MAX / 2).collect();
    let tail_start = text
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| i >= text.len() - MAX / 2)
        .unwrap_or(text.len());
    RcCodecError::Decode(format!("{head} … {}", &text[tail_start..]))
}

pub(crate) fn check_len(bytes: &[u8]) -> Result<(), RcCodecError> {
    if bytes.len() > MAX_MESSAGE_LEN {
        Err(RcCodecError::TooLong {
            len: bytes.len(),
            max: MAX_MESSAGE_LEN,
        })
    } else {
        Ok(())
    }
}

/// The items of a STRUCTURE value, looked up by ID; every ID must appear at most once and
/// be one of `allowed`.
struct Fields<'a> {
    path: String,
    items: Vec<(u32, &'a g::RANParameterValueType)>,
}

impl<'a> Fields<'a> {
    fn of_structure(
        s: &'a g::RANParameterSTRUCTURE,
        path: &str,
        allowed: &[u32],
    ) -> Result<Self, RcCodecError> {
        let mut items = Vec::new();
        for item in s.sequence_of_ran_parameters.iter().flatten() {
            let id = id_of(&item.ran_parameter_id, path)?;
            if !allowed.contains(&id) {
                return Err(shape(path, format!("unexpected RAN parameter ID {id}")));
            }
            if items.iter().any(|(i, _)| *i == id) {
                return Err(shape(path, format!("RAN parameter ID {id} appears twice")));
            }
            items.push((id, &item.ran_parameter_value_type));
        }
        Ok(Self {
            path: path.to_string(),
            items,
        })
    }

    fn get(
        &self,
        id: u32,
        name: &str,
    ) -> Result<(&'a g::RANParameterValueType, String), RcCodecError> {
        self.opt(id, name)?
            .ok_or_else(|| shape(&self.path, format!("missing {name} (ID {id})")))
    }

    fn opt(
        &self,
        id: u32,
        name: &str,
    ) -> Result<Option<(&'a g::RANParameterValueType, String)>, RcCodecError> {
        Ok(self
            .items
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, v)| (*v, format!("{}/{name}", self.path))))
    }
}

fn as_structure<'a>(
    v: &'a g::RANParameterValueType,
    path: &str,
) -> Result<&'a g::RANParameterSTRUCTURE, RcCodecError> {
    match v {
        g::RANParameterValueType::ranP_Choice_Structure(s) => Ok(&s.ran_parameter_structure),
        _ => Err(shape(path, "expected a STRUCTURE")),
    }
}

fn as_list<'a>(
    v: &'a g::RANParameterValueType,
    path: &str,
) -> Result<&'a [g::RANParameterSTRUCTURE], RcCodecError> {
    match v {
        g::RANParameterValueType::ranP_Choice_List(l) => {
            Ok(&l.ran_parameter_list.list_of_ran_parameter)
        }
        _ => Err(shape(path, "expected a LIST")),
    }
}

fn as_element<'a>(
    v: &'a g::RANParameterValueType,
    path: &str,
) -> Result<&'a g::RANParameterValue, RcCodecError> {
    match v {
        g::RANParameterValueType::ranP_Choice_ElementTrue(e) => Ok(&e.ran_parameter_value),
        g::RANParameterValueType::ranP_Choice_ElementFalse(e) => e
            .ran_parameter_value
            .as_ref()
            .ok_or_else(|| shape(path, "ELEMENT without a value")),
        _ => Err(shape(path, "expected an ELEMENT")),
    }
}

fn as_octets<'a>(
    v: &'a g::RANParameterValueType,
    path: &str,
    len: Option<usize>,
) -> Result<&'a [u8], RcCodecError> {
    match as_element(v, path)? {
        g::RANParameterValue::valueOctS(o) if len.is_none_or(|l| o.len() == l) => Ok(o),
        g::RANParameterValue::valueOctS(o) => Err(shape(
            path,
            format!(
                "expected {} octets, got {}",
                len.unwrap_or_default(),
                o.len()
            ),
        )),
        _ => Err(shape(path, "expected valueOctS")),
    }
}

/// ASCII decimal digits, at most `max` of them.
fn ascii_digits(o: &[u8], path: &str, max: usize) -> Result<String, RcCodecError> {
    if o.is_empty() || o.len() > max || !o.iter().all(u8::is_ascii_digit) {
        return Err(shape(
            path,
            format!("expected 1 to {max} ASCII digits, got {o:02x?}"),
        ));
    }
    Ok(o.iter().map(|&b| char::from(b)).collect())
}

/// An unsigned ASCII decimal number of at most 8 digits.
fn decimal(o: &[u8], path: &str) -> Result<u32, RcCodecError> {
    ascii_digits(o, path, 8)?
        .parse()
        .map_err(|_| shape(path, "not a decimal number"))
}

fn as_ratio(v: &g::RANParameterValueType, path: &str) -> Result<u8, RcCodecError> {
    match as_element(v, path)? {
        g::RANParameterValue::valueInt(i) => u8::try_from(i)
            .ok()
            .filter(|r| *r <= 100)
            .ok_or_else(|| shape(path, format!("ratio {i} is not in 0..=100"))),
        _ => Err(shape(path, "expected valueInt")),
    }
}

/// A LIST item is the list element itself (RRM Policy Ratio Group, RRM Policy Member). Some
/// encoders wrap its content in one more STRUCTURE item carrying the element's ID; accept
/// that form too and return the element's STRUCTURE.
fn unwrap_list_item<'a>(
    s: &'a g::RANParameterSTRUCTURE,
    path: &str,
    element_id: u32,
    name: &str,
) -> Result<(&'a g::RANParameterSTRUCTURE, String), RcCodecError> {
    if let Some([only]) = s.sequence_of_ran_parameters.as_deref() {
        if id_of(&only.ran_parameter_id, path)? == element_id {
            let inner = format!("{path}/{name}");
            return Ok((as_structure(&only.ran_parameter_value_type, &inner)?, inner));
        }
    }
    Ok((s, path.to_string()))
}

fn decode_group(
    s: &g::RANParameterSTRUCTURE,
    dialect: RanParamDialect,
    path: &str,
) -> Result<RrmPolicyRatioGroup, RcCodecError> {
    let ids = dialect.ids();
    let group_items = [ids.policy, ids.min_prb, ids.max_prb, ids.dedicated_prb];
    let (s, path) = unwrap_list_item(s, path, ids.ratio_group, "RRM Policy Ratio Group")?;
    let grp = Fields::of_structure(s, &path, &group_items)?;
    let (policy, ppath) = grp.get(ids.policy, "RRM Policy")?;
    let policy = Fields::of_structure(as_structure(policy, &ppath)?, &ppath, &[ids.member_list])?;
    let (members, mpath) = policy.get(ids.member_list, "RRM Policy Member List")?;
    let members = as_list(members, &mpath)?;
    let [member] = members else {
        return Err(shape(
            &mpath,
            format!(
                "expected exactly one RRM Policy Member, got {}",
                members.len()
            ),
        ));
    };
    let (member, mpath) = unwrap_list_item(member, &mpath, ids.member, "RRM Policy Member")?;
    let member = Fields::of_structure(member, &mpath, &[ids.plmn, ids.snssai])?;
    let (plmn, plmn_path) = member.get(ids.plmn, "PLMN Identity")?;
    let (snssai, spath) = member.get(ids.snssai, "S-NSSAI")?;
    let snssai = Fields::of_structure(as_structure(snssai, &spath)?, &spath, &[ids.sst, ids.sd])?;
    let (sst, sst_path) = snssai.get(ids.sst, "SST")?;
    let sd = snssai.opt(ids.sd, "SD")?;
    let (mcc, mnc, sst, sd) = match dialect {
        RanParamDialect::Oran => {
            let (mcc, mnc) = plmn_from_bcd(as_octets(plmn, &plmn_path, Some(3))?)?;
            let sst = as_octets(sst, &sst_path, Some(1))?[0];
            let sd = match sd {
                None => None,
                Some((sd, sd_path)) => {
                    let o = as_octets(sd, &sd_path, Some(3))?;
                    Some(u32::from_be_bytes([0, o[0], o[1], o[2]]))
                }
            };
            (mcc, mnc, sst, sd)
        }
        RanParamDialect::Oai => {
            let text = ascii_digits(as_octets(plmn, &plmn_path, None)?, &plmn_path, 6)?;
            if text.len() < 5 {
                return Err(RcCodecError::Plmn(format!(
                    "{text:?} is not 3 MCC and 2 or 3 MNC digits"
                )));
            }
            let (mcc, mnc) = text.split_at(3);
            let sst = decimal(as_octets(sst, &sst_path, None)?, &sst_path)?;
            let sst =
                u8::try_from(sst).map_err(|_| shape(&sst_path, format!("SST {sst} > 255")))?;
            let sd = match sd {
                None => None,
                Some((sd, sd_path)) => match decimal(as_octets(sd, &sd_path, None)?, &sd_path)? {
                    NO_SD => None,
                    v if v > NO_SD => return Err(RcCodecError::Sd(v)),
                    v => Some(v),
                },
            };
            (mcc.to_string(), mnc.to_string(), sst, sd)
        }
    };
    let (min, p) = grp.get(ids.min_prb, "Min PRB Policy Ratio")?;
    let min_prb_ratio = as_ratio(min, &p)?;
    let (max, p) = grp.get(ids.max_prb, "Max PRB Policy Ratio")?;
    let max_prb_ratio = as_ratio(max, &p)?;
    let (ded, p) = grp.get(ids.dedicated_prb, "Dedicated PRB Policy Ratio")?;
    let dedicated_prb_ratio = as_ratio(ded, &p)?;
    Ok(RrmPolicyRatioGroup::new(
        RrmPolicyMember { mcc, mnc, sst, sd },
        min_prb_ratio,
        max_prb_ratio,
        dedicated_prb_ratio,
    )?)
}

/// [`decode_control_message`] with rasn (the reference codec).
fn rasn_decode_control_message(
    bytes: &[u8],
    dialect: RanParamDialect,
) -> Result<SlicePrbQuotaControl, RcCodecError> {
    check_len(bytes)?;
    let pdu: g::E2SMRCControlMessage = rasn::aper::decode(bytes).map_err(decode_error)?;
    let g::E2SMRCControlMessageRicControlMessageFormats::controlMessage_Format1(f1) =
        pdu.ric_control_message_formats;
    let ids = dialect.ids();
    let [item] = f1.ran_p_list.as_slice() else {
        return Err(shape(
            "ranP-List",
            format!("expected one RAN parameter, got {}", f1.ran_p_list.len()),
        ));
    };
    let path = "RRM Policy Ratio List";
    let id = id_of(&item.ran_parameter_id, path)?;
    if id != ids.ratio_list {
        return Err(shape(
            path,
            format!("expected RAN parameter ID {}, got {id}", ids.ratio_list),
        ));
    }
    let groups = as_list(&item.ran_parameter_value_type, path)?
        .iter()
        .enumerate()
        .map(|(i, s)| decode_group(s, dialect, &format!("{path}[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let control = SlicePrbQuotaControl { groups };
    control.validate()?;
    Ok(control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plmn_bcd_matches_ts_24_008() {
        assert_eq!(plmn_to_bcd("001", "01"), Ok([0x00, 0xF1, 0x10]));
        assert_eq!(plmn_to_bcd("310", "410"), Ok([0x13, 0x00, 0x14]));
        assert_eq!(plmn_to_bcd("208", "93"), Ok([0x02, 0xF8, 0x39]));
        assert_eq!(
            plmn_from_bcd(&[0x13, 0x00, 0x14]),
            Ok(("310".into(), "410".into()))
        );
        assert!(plmn_to_bcd("01", "01").is_err());
        assert!(plmn_to_bcd("001", "1").is_err());
        assert!(plmn_to_bcd("0a1", "01").is_err());
        assert!(plmn_from_bcd(&[0xA0, 0xF1, 0x10]).is_err());
        assert!(plmn_from_bcd(&[0x00, 0xF1]).is_err());
    }

    #[test]
    fn dialect_tables() {
        assert_eq!(RanParamDialect::Oran.ids().member_list, 5);
        assert_eq!(RanParamDialect::Oran.ids().dedicated_prb, 13);
        assert_eq!(RanParamDialect::Oai.ids().member_list, 4);
        assert_eq!(RanParamDialect::Oai.ids().dedicated_prb, 12);
    }

    #[test]
    fn header_round_trip() {
        let bytes = encode_control_header(2, 6).expect("encode");
        let h = decode_control_header(&bytes).expect("decode");
        assert_eq!((h.style, h.action, h.decision), (2, 6, None));
        assert_eq!(h.ue, GnbUeId::placeholder());
        let h2 = RcControlHeader {
            ue: GnbUeId {
                amf_ue_ngap_id: (1 << 40) - 1,
                plmn: Plmn::new("310", "410").expect("PLMN"),
                amf_region_id: 0xAB,
                amf_set_id: 0x3FF,
                amf_pointer: 0x2A,
            },
            style: 2,
            action: 6,
            decision: Some(ControlDecision::Reject),
        };
        let bytes = encode_header(&h2).expect("encode");
        assert_eq!(decode_control_header(&bytes), Ok(h2));
    }

    #[test]
    fn too_long_and_empty_inputs_are_errors() {
        assert!(decode_control_message(&[], RanParamDialect::Oran).is_err());
        assert!(matches!(
            decode_control_message(&vec![0; MAX_MESSAGE_LEN + 1], RanParamDialect::Oran),
            Err(RcCodecError::TooLong { .. })
        ));
        let empty = SlicePrbQuotaControl { groups: vec![] };
        assert_eq!(
            encode_control_message(&empty, RanParamDialect::Oran),
            Err(RcCodecError::NoGroups)
        );
    }

    /// The deepest RAN parameter nesting that fits in [`MAX_MESSAGE_LEN`] bytes must decode
    /// (to an error) on a thread with a 2 MiB stack, the default of spawned threads and
    /// of tokio workers, even in a debug build.
    #[test]
    fn deepest_nesting_within_the_length_limit_does_not_overflow_the_stack() {
        let bytes = std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(|| {
                let leaf = element(9, int(1));
                let mut depth = 0usize;
                let mut item = leaf;
                let mut bytes = Vec::new();
                loop {
                    let next = structure_item(3, vec![item.clone()]);
                    let msg = g::E2SMRCControlMessage::new(
                        g::E2SMRCControlMessageRicControlMessageFormats::controlMessage_Format1(
                            g::E2SMRCControlMessageFormat1::new(vec![
                                g::E2SMRCControlMessageFormat1Item::new(
                                    pid(1),
                                    next.ran_parameter_value_type.clone(),
                                ),
                            ]),
                        ),
                    );
                    let enc = rasn::aper::encode(&msg).expect("encode");
                    if enc.len() > MAX_MESSAGE_LEN {
                        break;
                    }
                    bytes = enc;
                    item = next;
                    depth += 1;
                    // Growing one level at a time is quadratic; jump ahead once the
                    // per-level cost is known.
                    if depth == 8 {
                        let per_level = bytes.len() / 8;
                        for _ in 0..(MAX_MESSAGE_LEN / per_level).saturating_sub(16) {
                            item = structure_item(3, vec![item]);
                            depth += 1;
                        }
                    }
                }
                assert!(depth > 100, "depth {depth}");
                let out = bytes.clone();
                std::mem::forget(item); // dropping is recursive too; not under test here
                out
            })
            .expect("spawn")
            .join()
            .expect("builder thread");
        let result = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                (
                    decode_control_message(&bytes, RanParamDialect::Oran),
                    reference::decode_control_message(&bytes, RanParamDialect::Oran),
                )
            })
            .expect("spawn")
            .join()
            .expect("decoder thread");
        // Both stop at their maximum depth (rc_per::MAX_DEPTH, rasn's 128) long before the
        // stack runs out.
        assert!(
            matches!(result.0, Err(RcCodecError::Decode(_))),
            "{:?}",
            result.0
        );
        assert!(
            matches!(result.1, Err(RcCodecError::Decode(_))),
            "{:?}",
            result.1
        );
    }

    /// An OAI-dialect message with the given PLMN, SST and SD octet strings.
    fn oai_message(plmn: &[u8], sst: &[u8], sd: &[u8]) -> Vec<u8> {
        let ids = RanParamDialect::Oai.ids();
        let member = structure(vec![
            element(ids.plmn, octets(plmn)),
            structure_item(
                ids.snssai,
                vec![element(ids.sst, octets(sst)), element(ids.sd, octets(sd))],
            ),
        ]);
        let member_list =
            g::RANParameterSTRUCTUREItem::new(pid(ids.member_list), list_value(vec![member]));
        let group = structure(vec![
            structure_item(ids.policy, vec![member_list]),
            element(ids.min_prb, int(10)),
            element(ids.max_prb, int(20)),
            element(ids.dedicated_prb, int(5)),
        ]);
        let pdu = g::E2SMRCControlMessage::new(
            g::E2SMRCControlMessageRicControlMessageFormats::controlMessage_Format1(
                g::E2SMRCControlMessageFormat1::new(vec![g::E2SMRCControlMessageFormat1Item::new(
                    pid(ids.ratio_list),
                    list_value(vec![group]),
                )]),
            ),
        );
        rasn::aper::encode(&pdu).expect("encode")
    }

    #[test]
    fn oai_ascii_values_are_checked() {
        let ok = decode_control_message(
            &oai_message(b"001001", b"255", b"16777215"),
            RanParamDialect::Oai,
        )
        .expect("valid");
        let m = &ok.groups[0].member;
        assert_eq!(
            (m.mcc.as_str(), m.mnc.as_str(), m.sst, m.sd),
            ("001", "001", 255, None)
        );
        for (plmn, sst, sd) in [
            (&b"0010"[..], &b"1"[..], &b"1"[..]),
            (b"0010011", b"1", b"1"),
            (b"00a01", b"1", b"1"),
            (b"00101", b"256", b"1"),
            (b"00101", b"", b"1"),
            (b"00101", b"1", b"16777216"),
            (b"00101", b"1", b"-1"),
            (b"00101", b"1", b"123456789"),
        ] {
            assert!(
                decode_control_message(&oai_message(plmn, sst, sd), RanParamDialect::Oai).is_err(),
                "{plmn:?} {sst:?} {sd:?}"
            );
        }
    }

    #[test]
    fn oran_binary_values_are_checked() {
        // The same ASCII tree is not a valid O-RAN dialect message (IDs and value sizes).
        assert!(
            decode_control_message(&oai_message(b"00101", b"1", b"1"), RanParamDialect::Oran)
                .is_err()
        );
    }
}
