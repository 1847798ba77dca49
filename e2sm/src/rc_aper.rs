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
//! (module `asn1`) is kept as [`reference`](mod@reference), with the same API:
//! `tests/rc_per_differential.rs` checks on random controls and headers that both produce
//! identical bytes and decode each other's output, and on random and mutated bytes that
//! they accept exactly the same inputs with the same values. The byte-exact vectors of
//! `tests/rc_aper.rs` and `tests/rc_leaves.rs`, made by asn1tools from the standard E2SM-RC
//! v1.03 module (`.ci/e2sm-vectors.py`), are the ground truth for both.
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
//! ## Leaf values: binary or ASCII
//!
//! The PLMN Identity, SST and SD leaves are `valueOctS` OCTET STRINGs whose content the
//! specification leaves to the referenced 3GPP types, and E2 nodes disagree on it. The form
//! is a [`LeafEncoding`], chosen independently of the dialect's IDs:
//!
//! | leaf | [`LeafEncoding::Binary`] | [`LeafEncoding::Ascii`] |
//! | --- | --- | --- |
//! | PLMN Identity | 3 octets BCD (TS 38.413 9.3.3.5, TS 24.008 10.5.1.13) | ASCII `mccmnc`, e.g. `"00101"` |
//! | SST | 1 octet (TS 38.413 9.3.1.24) | ASCII decimal, e.g. `"1"` |
//! | SD | 3 octets big-endian (TS 38.413 9.3.1.24) | ASCII decimal, e.g. `"1"` |
//! | ratios | `valueInt` | `valueInt` |
//!
//! [`RanParamDialect::default_leaf_encoding`] is what each dialect's known consumers parse:
//! binary for [`RanParamDialect::Oran`] (the 3GPP types of the O-RAN table, as srsRAN reads
//! them), ASCII for [`RanParamDialect::Oai`] (the OAI E2 agent's `add_mod_rc_slice` turns
//! the PLMN/SST/SD octet strings into C strings and parses them with `sscanf`/`atoi`;
//! FlexRIC's slice example passes them as strings). A FlexRIC-based xApp that fills
//! FlexRIC's IR with octet values instead sends binary leaves with the OAI IDs.
//!
//! Whether SD is sent for a slice without one follows the dialect, not the leaf form: the
//! O-RAN dialect omits it (SD is optional in S-NSSAI, TS 38.413 9.3.1.24); the OAI dialect
//! always sends it, as 0xFFFFFF ("no SD", TS 23.003 clause 28.4.2) when absent, because
//! `add_mod_rc_slice` asserts that S-NSSAI holds both SST and SD. Decoding in the OAI
//! dialect maps SD 0xFFFFFF (binary `ff ff ff` or ASCII `"16777215"`) to `None`; the O-RAN
//! dialect keeps it as `Some(0xFFFFFF)`.
//!
//! ## Decoding: telling binary from ASCII
//!
//! Decoding accepts both forms in both dialects, leaf by leaf, and reports the form it read
//! ([`LeafEncodingSeen`], in [`DecodedControl`]). Each leaf's shape decides its form when it
//! can:
//!
//! | leaf | binary only | ASCII only | ambiguous |
//! | --- | --- | --- | --- |
//! | PLMN Identity | 3 octets | 5 or 6 ASCII digits | never |
//! | SST | 1 octet that is not an ASCII digit | 2 to 8 ASCII digits | 1 octet `0x30..=0x39` |
//! | SD | 3 octets, not all ASCII digits | 1, 2 or 4 to 8 ASCII digits | 3 ASCII digits |
//!
//! Any other content is an [`RcCodecError::Shape`] error, as are an ASCII SST above 255 and
//! non-BCD binary PLMN digits ([`RcCodecError::Plmn`]) or an ASCII SD above 0xFFFFFF
//! ([`RcCodecError::Sd`]). An ambiguous leaf is read in the form of the PLMN Identity of the
//! same RRM Policy Member, which every member has and which is never ambiguous: `0x31` is
//! SST 49 beside a BCD PLMN and SST 1 beside `"00101"`; the SD octets `"123"` are 0x313233
//! beside a BCD PLMN and 123 beside an ASCII one. Every encoder we know writes all leaves of
//! a message in one form, so this reads any such message as its encoder meant. A leaf whose
//! shape alone says the other form than its PLMN's (an SST octet `0x01` beside `"00101"`) is
//! still read, in its own form; the message is then reported as
//! [`LeafEncodingSeen::Mixed`], as it is when members differ.
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
/// rasn's PER decoder, the [`reference`](mod@reference), stops at 128 nested constructed
/// types; the test `deepest_nesting_within_the_length_limit_does_not_overflow_the_stack`
/// checks both on a 2 MiB stack.)
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

/// Which RAN parameter IDs the E2 node expects for the clause 8.4.3.6 tree, and whether it
/// needs SD sent for slices without one (see the module docs); the leaf values' form is a
/// separate [`LeafEncoding`], by default [`RanParamDialect::default_leaf_encoding`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RanParamDialect {
    /// The table of O-RAN E2SM-RC clause 8.4.3.6 (v1.03 and later), binary leaf values by
    /// default; SD only sent when the slice has one: 1 RRM Policy Ratio List, 2 RRM Policy
    /// Ratio Group, 3 RRM Policy, (4 Resource Type, not sent), 5 RRM Policy Member List, 6
    /// RRM Policy Member, 7 PLMN Identity, 8 S-NSSAI, 9 SST, 10 SD, 11 Min PRB Policy
    /// Ratio, 12 Max PRB Policy Ratio, 13 Dedicated PRB Policy Ratio. Source: the
    /// specification's table as we know it; srsRAN (which implements this table) models the
    /// TS 28.541 `resourceType` of id 4 in its `rrm_policy_ratio_group`. Not checked
    /// against a running srsRAN node.
    #[default]
    Oran,
    /// OpenAirInterface's E2 agent and FlexRIC's slice control example number the same tree
    /// 1..12 consecutively, without Resource Type: 1 list, 2 group, 3 policy, 4 member
    /// list, 5 member, 6 PLMN, 7 S-NSSAI, 8 SST, 9 SD, 10 min, 11 max, 12 dedicated.
    /// Source: enum `slice_level_PRB_quota_param_id_e` (`..._8_4_3_6` constants) in the
    /// OAI gNB's `openair2/E2AP/RAN_FUNCTION/O-RAN/rc_ctrl_service_style_2.h` and in
    /// FlexRIC-based example xApps, and the OAI handler `add_mod_rc_slice`, which also
    /// fixes the shape this crate sends in this dialect (SD always present) and parses ASCII
    /// leaf values, the default here.
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
    /// The leaf form the dialect's known consumers parse: [`LeafEncoding::Binary`] for
    /// [`RanParamDialect::Oran`] (the TS 38.413 types the O-RAN table refers to, as srsRAN
    /// reads them), [`LeafEncoding::Ascii`] for [`RanParamDialect::Oai`] (OAI's
    /// `add_mod_rc_slice` parses the octet strings with `sscanf`/`atoi`).
    pub const fn default_leaf_encoding(self) -> LeafEncoding {
        match self {
            Self::Oran => LeafEncoding::Binary,
            Self::Oai => LeafEncoding::Ascii,
        }
    }

    /// Whether SD is sent for a slice without one, as 0xFFFFFF ("no SD", TS 23.003 clause
    /// 28.4.2), and 0xFFFFFF decoded as `None`: only in the OAI dialect, whose
    /// `add_mod_rc_slice` asserts that S-NSSAI holds both SST and SD.
    pub const fn always_sends_sd(self) -> bool {
        matches!(self, Self::Oai)
    }

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

/// The form of the PLMN Identity, SST and SD leaf values (`valueOctS`) of the clause 8.4.3.6
/// tree; see the module docs for both forms and how the decoder tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeafEncoding {
    /// The 3GPP octets: PLMN Identity as 3 BCD octets (TS 38.413 clause 9.3.3.5), SST as 1
    /// octet and SD as 3 octets big-endian (TS 38.413 clause 9.3.1.24).
    Binary,
    /// ASCII text: PLMN Identity as `mccmnc` digits, SST and SD in decimal, as OAI's
    /// `add_mod_rc_slice` parses them.
    Ascii,
}

impl LeafEncoding {
    /// Both forms.
    pub const ALL: [LeafEncoding; 2] = [LeafEncoding::Binary, LeafEncoding::Ascii];

    /// `"binary"` or `"ascii"`, as in serde and [`std::str::FromStr`].
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Binary => "binary",
            Self::Ascii => "ascii",
        }
    }
}

impl std::fmt::Display for LeafEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that is not `binary` or `ascii`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown leaf encoding {0:?}: expected \"binary\" or \"ascii\"")]
pub struct ParseLeafEncodingError(pub String);

impl std::str::FromStr for LeafEncoding {
    type Err = ParseLeafEncodingError;

    /// `binary` or `ascii`, ASCII case-insensitive, surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| ParseLeafEncodingError(s.to_string()))
    }
}

/// The leaf form a decoded control message used (see the module docs for the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeafEncodingSeen {
    /// Every PLMN Identity, SST and SD leaf was read as binary.
    Binary,
    /// Every PLMN Identity, SST and SD leaf was read as ASCII.
    Ascii,
    /// Some leaves were read as binary and others as ASCII.
    Mixed,
}

impl LeafEncodingSeen {
    /// The one form of every leaf, `None` for [`LeafEncodingSeen::Mixed`].
    pub const fn uniform(self) -> Option<LeafEncoding> {
        match self {
            Self::Binary => Some(LeafEncoding::Binary),
            Self::Ascii => Some(LeafEncoding::Ascii),
            Self::Mixed => None,
        }
    }

    /// What a message with the leaves of `self` and one more leaf read as `leaf` saw.
    #[must_use]
    pub const fn and(self, leaf: LeafEncoding) -> Self {
        match (self, leaf) {
            (Self::Binary, LeafEncoding::Binary) => Self::Binary,
            (Self::Ascii, LeafEncoding::Ascii) => Self::Ascii,
            _ => Self::Mixed,
        }
    }

    /// What a message whose leaves saw `self` and `other` saw.
    #[must_use]
    pub const fn merge(self, other: Self) -> Self {
        match other.uniform() {
            Some(leaf) => self.and(leaf),
            None => Self::Mixed,
        }
    }

    /// `"binary"`, `"ascii"` or `"mixed"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Binary => "binary",
            Self::Ascii => "ascii",
            Self::Mixed => "mixed",
        }
    }
}

impl From<LeafEncoding> for LeafEncodingSeen {
    fn from(leaf: LeafEncoding) -> Self {
        match leaf {
            LeafEncoding::Binary => Self::Binary,
            LeafEncoding::Ascii => Self::Ascii,
        }
    }
}

impl std::fmt::Display for LeafEncodingSeen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decoded control message and the form of its leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedControl {
    /// The control, validated ([`SlicePrbQuotaControl::validate`]).
    pub control: SlicePrbQuotaControl,
    /// The form its PLMN Identity, SST and SD leaves were read in.
    pub leaves: LeafEncodingSeen,
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
/// tree with the RAN parameter IDs of `dialect` and its default leaf form
/// ([`RanParamDialect::default_leaf_encoding`]). The control is validated first.
pub fn encode_control_message(
    control: &SlicePrbQuotaControl,
    dialect: RanParamDialect,
) -> Result<Vec<u8>, RcCodecError> {
    encode_control_message_with_leaves(control, dialect, dialect.default_leaf_encoding())
}

/// [`encode_control_message`] with the PLMN Identity, SST and SD leaves in the form
/// `leaves`, whatever the dialect's default.
pub fn encode_control_message_with_leaves(
    control: &SlicePrbQuotaControl,
    dialect: RanParamDialect,
    leaves: LeafEncoding,
) -> Result<Vec<u8>, RcCodecError> {
    crate::rc_per::encode_control_message(control, dialect, leaves)
}

/// Decodes an E2SM-RC-ControlMessage format 1 that carries the slice-level PRB quota tree
/// with the RAN parameter IDs of `dialect`, with binary or ASCII leaves; checks the tree
/// shape, the ratio ranges and their ordering ([`SlicePrbQuotaControl::validate`]).
/// [`decode_control_message_with_leaves`] also tells which leaf form it read.
pub fn decode_control_message(
    bytes: &[u8],
    dialect: RanParamDialect,
) -> Result<SlicePrbQuotaControl, RcCodecError> {
    decode_control_message_with_leaves(bytes, dialect).map(|d| d.control)
}

/// [`decode_control_message`], with the form of the leaves it read (module docs: "Decoding:
/// telling binary from ASCII").
pub fn decode_control_message_with_leaves(
    bytes: &[u8],
    dialect: RanParamDialect,
) -> Result<DecodedControl, RcCodecError> {
    crate::rc_per::decode_control_message(bytes, dialect)
}

/// The same API implemented with the rasn types generated from `asn1/e2sm-rc-subset.asn`:
/// the reference the hand-written codec ([`crate::rc_per`]) is tested against
/// (`tests/rc_per_differential.rs`). 5 to 8 times slower.
pub mod reference {
    use super::{
        DecodedControl, LeafEncoding, RanParamDialect, RcCodecError, RcControlHeader,
        SlicePrbQuotaControl,
    };

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
        encode_control_message_with_leaves(control, dialect, dialect.default_leaf_encoding())
    }

    /// [`super::encode_control_message_with_leaves`] with rasn.
    pub fn encode_control_message_with_leaves(
        control: &SlicePrbQuotaControl,
        dialect: RanParamDialect,
        leaves: LeafEncoding,
    ) -> Result<Vec<u8>, RcCodecError> {
        super::rasn_encode_control_message(control, dialect, leaves)
    }

    /// [`super::decode_control_message`] with rasn.
    pub fn decode_control_message(
        bytes: &[u8],
        dialect: RanParamDialect,
    ) -> Result<SlicePrbQuotaControl, RcCodecError> {
        decode_control_message_with_leaves(bytes, dialect).map(|d| d.control)
    }

    /// [`super::decode_control_message_with_leaves`] with rasn.
    pub fn decode_control_message_with_leaves(
        bytes: &[u8],
        dialect: RanParamDialect,
    ) -> Result<DecodedControl, RcCodecError> {
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

/// SD value meaning "no SD" (TS 23.003 clause 28.4.2).
pub(crate) const NO_SD: u32 = 0x00FF_FFFF;

/// A PLMN Identity, SST or SD leaf as its shape alone reads it (module docs: "Decoding").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LeafValue<T> {
    /// Only the binary form has this shape.
    Binary(T),
    /// Only the ASCII form has this shape.
    Ascii(T),
    /// Both forms have this shape; the value read in each.
    Either {
        /// Read as binary.
        binary: T,
        /// Read as ASCII.
        ascii: T,
    },
}

impl<T> LeafValue<T> {
    /// The value and the form it was read in; an ambiguous leaf takes the form `anchor`.
    fn resolve(self, anchor: LeafEncoding) -> (T, LeafEncoding) {
        match (self, anchor) {
            (Self::Binary(v), _) | (Self::Either { binary: v, .. }, LeafEncoding::Binary) => {
                (v, LeafEncoding::Binary)
            }
            (Self::Ascii(v), _) | (Self::Either { ascii: v, .. }, LeafEncoding::Ascii) => {
                (v, LeafEncoding::Ascii)
            }
        }
    }
}

/// The number that 1 to 8 ASCII decimal digits spell; `None` for any other content.
fn ascii_decimal(o: &[u8]) -> Option<u32> {
    if o.is_empty() || o.len() > 8 || !o.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(o.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0')))
}

fn leaf_shape(path: &impl std::fmt::Display, reason: impl Into<String>) -> RcCodecError {
    RcCodecError::Shape {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// PLMN Identity: 3 octets are binary (BCD digits, TS 38.413 clause 9.3.3.5), 5 or 6 ASCII
/// digits are `mccmnc` text; never ambiguous. MCC, MNC and the form.
fn plmn_leaf(
    o: &[u8],
    path: &impl std::fmt::Display,
) -> Result<(String, String, LeafEncoding), RcCodecError> {
    match o.len() {
        3 => {
            let p = Plmn::from_octets(o)?;
            Ok((p.mcc(), p.mnc(), LeafEncoding::Binary))
        }
        5 | 6 if o.iter().all(u8::is_ascii_digit) => {
            let text = |b: &[u8]| b.iter().map(|&d| char::from(d)).collect::<String>();
            let (mcc, mnc) = o.split_at(3);
            Ok((text(mcc), text(mnc), LeafEncoding::Ascii))
        }
        _ => Err(leaf_shape(
            path,
            format!("expected 3 BCD octets or 5 to 6 ASCII digits, got {o:02x?}"),
        )),
    }
}

/// SST: 1 octet (TS 38.413 clause 9.3.1.24) or 1 to 8 ASCII digits of at most 255; a single
/// ASCII digit octet is both.
fn sst_leaf(o: &[u8], path: &impl std::fmt::Display) -> Result<LeafValue<u8>, RcCodecError> {
    match o {
        [b] if b.is_ascii_digit() => Ok(LeafValue::Either {
            binary: *b,
            ascii: *b - b'0',
        }),
        [b] => Ok(LeafValue::Binary(*b)),
        _ => match ascii_decimal(o) {
            Some(v) => u8::try_from(v)
                .map(LeafValue::Ascii)
                .map_err(|_| leaf_shape(path, format!("SST {v} > 255"))),
            None => Err(leaf_shape(
                path,
                format!("expected 1 octet or 1 to 8 ASCII digits, got {o:02x?}"),
            )),
        },
    }
}

/// SD: 3 octets big-endian (TS 38.413 clause 9.3.1.24) or 1 to 8 ASCII digits of at most
/// 0xFFFFFF; 3 ASCII digits are both.
fn sd_leaf(o: &[u8], path: &impl std::fmt::Display) -> Result<LeafValue<u32>, RcCodecError> {
    match (o, ascii_decimal(o)) {
        ([a, b, c], ascii) => {
            let binary = u32::from_be_bytes([0, *a, *b, *c]);
            Ok(match ascii {
                Some(ascii) => LeafValue::Either { binary, ascii },
                None => LeafValue::Binary(binary),
            })
        }
        (_, Some(v)) if v > NO_SD => Err(RcCodecError::Sd(v)),
        (_, Some(v)) => Ok(LeafValue::Ascii(v)),
        (_, None) => Err(leaf_shape(
            path,
            format!("expected 3 octets or 1 to 8 ASCII digits, got {o:02x?}"),
        )),
    }
}

/// The PLMN Identity, SST and SD octet strings of one RRM Policy Member as they go on the
/// wire: the one place that decides the leaf bytes for the reference codec and for
/// FlexRIC's IR (`maestro-ffi`); the hand-written codec writes the same bytes without
/// allocating, and `tests/rc_per_differential.rs` holds them equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberLeaves {
    /// PLMN Identity: 3 BCD octets (TS 38.413 clause 9.3.3.5) or ASCII "mccmnc".
    pub plmn: Vec<u8>,
    /// SST: 1 octet (TS 38.413 clause 9.3.1.24) or decimal ASCII.
    pub sst: Vec<u8>,
    /// SD: 3 octets big-endian or decimal ASCII; `None` when not sent.
    pub sd: Option<Vec<u8>>,
}

/// The leaves of `m` with the IDs' dialect deciding whether SD is always sent (OAI's agent
/// requires it, "no SD" being 0xFFFFFF, TS 23.003 clause 28.4.2) and `leaves` their form.
pub fn member_leaves(
    m: &RrmPolicyMember,
    dialect: RanParamDialect,
    leaves: LeafEncoding,
) -> Result<MemberLeaves, RcCodecError> {
    if let Some(sd) = m.sd.filter(|sd| *sd > NO_SD) {
        return Err(RcCodecError::Sd(sd));
    }
    let bcd = plmn_to_bcd(&m.mcc, &m.mnc)?;
    let sd = if dialect.always_sends_sd() {
        Some(m.sd.unwrap_or(NO_SD))
    } else {
        m.sd
    };
    Ok(match leaves {
        LeafEncoding::Binary => MemberLeaves {
            plmn: bcd.to_vec(),
            sst: vec![m.sst],
            // TS 38.413 clause 9.3.1.24: SD is OCTET STRING (SIZE(3)), big-endian.
            sd: sd.map(|sd| sd.to_be_bytes()[1..].to_vec()),
        },
        // As the OAI agent reads them: PLMN "mccmnc", SST and SD in decimal.
        LeafEncoding::Ascii => MemberLeaves {
            plmn: format!("{}{}", m.mcc, m.mnc).into_bytes(),
            sst: m.sst.to_string().into_bytes(),
            sd: sd.map(|sd| sd.to_string().into_bytes()),
        },
    })
}

/// The RRM Policy Member that the PLMN Identity, SST and (when present) SD octet strings of
/// one member carry, binary or ASCII leaf by leaf, and the form it was read in: the rule of
/// the module docs ("Decoding"), shared by both codecs so that they agree exactly. In a
/// dialect that [always sends SD](RanParamDialect::always_sends_sd), SD 0xFFFFFF is `None`.
/// Each octet string comes with its path in the tree, for errors.
pub(crate) fn member_from_leaves<P: std::fmt::Display>(
    dialect: RanParamDialect,
    plmn: (&[u8], &P),
    sst: (&[u8], &P),
    sd: Option<(&[u8], &P)>,
) -> Result<(RrmPolicyMember, LeafEncodingSeen), RcCodecError> {
    let (mcc, mnc, anchor) = plmn_leaf(plmn.0, plmn.1)?;
    let (sst, sst_form) = sst_leaf(sst.0, sst.1)?.resolve(anchor);
    let mut seen = LeafEncodingSeen::from(anchor).and(sst_form);
    let sd = match sd {
        None => None,
        Some((o, path)) => {
            let (v, form) = sd_leaf(o, path)?.resolve(anchor);
            seen = seen.and(form);
            Some(v).filter(|v| !(dialect.always_sends_sd() && *v == NO_SD))
        }
    };
    Ok((RrmPolicyMember { mcc, mnc, sst, sd }, seen))
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

fn group_tree(
    group: &RrmPolicyRatioGroup,
    dialect: RanParamDialect,
    leaves: LeafEncoding,
) -> Result<g::RANParameterSTRUCTURE, RcCodecError> {
    group.validate()?;
    let ids = dialect.ids();
    let MemberLeaves { plmn, sst, sd } = member_leaves(&group.member, dialect, leaves)?;
    let mut snssai = vec![element(ids.sst, octets(&sst))];
    if let Some(sd) = sd {
        snssai.push(element(ids.sd, octets(&sd)));
    }
    let plmn = octets(&plmn);
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
    leaves: LeafEncoding,
) -> Result<Vec<u8>, RcCodecError> {
    if control.groups.is_empty() {
        return Err(RcCodecError::NoGroups);
    }
    let ids = dialect.ids();
    let groups = control
        .groups
        .iter()
        .map(|g| group_tree(g, dialect, leaves))
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

fn as_octets<'a>(v: &'a g::RANParameterValueType, path: &str) -> Result<&'a [u8], RcCodecError> {
    match as_element(v, path)? {
        g::RANParameterValue::valueOctS(o) => Ok(o),
        _ => Err(shape(path, "expected valueOctS")),
    }
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

/// One RRM Policy Ratio Group and the form of its leaves.
fn decode_group(
    s: &g::RANParameterSTRUCTURE,
    dialect: RanParamDialect,
    path: &str,
) -> Result<(RrmPolicyRatioGroup, LeafEncodingSeen), RcCodecError> {
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
    let plmn = as_octets(plmn, &plmn_path)?;
    let sst = as_octets(sst, &sst_path)?;
    let sd = match &sd {
        Some((sd, sd_path)) => Some((as_octets(sd, sd_path)?, sd_path)),
        None => None,
    };
    let (member, leaves) = member_from_leaves(dialect, (plmn, &plmn_path), (sst, &sst_path), sd)?;
    let (min, p) = grp.get(ids.min_prb, "Min PRB Policy Ratio")?;
    let min_prb_ratio = as_ratio(min, &p)?;
    let (max, p) = grp.get(ids.max_prb, "Max PRB Policy Ratio")?;
    let max_prb_ratio = as_ratio(max, &p)?;
    let (ded, p) = grp.get(ids.dedicated_prb, "Dedicated PRB Policy Ratio")?;
    let dedicated_prb_ratio = as_ratio(ded, &p)?;
    let group =
        RrmPolicyRatioGroup::new(member, min_prb_ratio, max_prb_ratio, dedicated_prb_ratio)?;
    Ok((group, leaves))
}

/// [`decode_control_message_with_leaves`] with rasn (the reference codec).
fn rasn_decode_control_message(
    bytes: &[u8],
    dialect: RanParamDialect,
) -> Result<DecodedControl, RcCodecError> {
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
    let items = as_list(&item.ran_parameter_value_type, path)?;
    let mut groups = Vec::with_capacity(items.len());
    let mut leaves: Option<LeafEncodingSeen> = None;
    for (i, s) in items.iter().enumerate() {
        let (group, seen) = decode_group(s, dialect, &format!("{path}[{i}]"))?;
        groups.push(group);
        leaves = Some(leaves.map_or(seen, |l| l.merge(seen)));
    }
    let control = SlicePrbQuotaControl { groups };
    control.validate()?;
    Ok(DecodedControl {
        control,
        // A LIST holds at least one item (SIZE(1..maxnoofItemsinList)).
        leaves: leaves.ok_or_else(|| shape(path, "empty RRM Policy Ratio List"))?,
    })
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

    /// A message of `dialect` with one group per `(PLMN, SST, SD)` octet strings (SD left
    /// out when `None`), ratios 10/20/5, built with the rasn types.
    /// The PLMN Identity, SST and (when present) SD octet strings of one RRM Policy Member.
    type Leaves<'a> = (&'a [u8], &'a [u8], Option<&'a [u8]>);

    fn message(dialect: RanParamDialect, members: &[Leaves<'_>]) -> Vec<u8> {
        let ids = dialect.ids();
        let groups = members
            .iter()
            .map(|(plmn, sst, sd)| {
                let mut snssai = vec![element(ids.sst, octets(sst))];
                if let Some(sd) = sd {
                    snssai.push(element(ids.sd, octets(sd)));
                }
                let member = structure(vec![
                    element(ids.plmn, octets(plmn)),
                    structure_item(ids.snssai, snssai),
                ]);
                let member_list = g::RANParameterSTRUCTUREItem::new(
                    pid(ids.member_list),
                    list_value(vec![member]),
                );
                structure(vec![
                    structure_item(ids.policy, vec![member_list]),
                    element(ids.min_prb, int(10)),
                    element(ids.max_prb, int(20)),
                    element(ids.dedicated_prb, int(5)),
                ])
            })
            .collect();
        let pdu = g::E2SMRCControlMessage::new(
            g::E2SMRCControlMessageRicControlMessageFormats::controlMessage_Format1(
                g::E2SMRCControlMessageFormat1::new(vec![g::E2SMRCControlMessageFormat1Item::new(
                    pid(ids.ratio_list),
                    list_value(groups),
                )]),
            ),
        );
        rasn::aper::encode(&pdu).expect("encode")
    }

    /// Decodes with both codecs, checks they agree (value or error) and returns the result.
    fn decode_both(bytes: &[u8], dialect: RanParamDialect) -> Result<DecodedControl, RcCodecError> {
        let fast = decode_control_message_with_leaves(bytes, dialect);
        let slow = reference::decode_control_message_with_leaves(bytes, dialect);
        assert_eq!(fast, slow, "{dialect:?} {bytes:02x?}");
        fast
    }

    const BCD_00101: &[u8] = &[0x00, 0xF1, 0x10];
    const FFFFFF: Option<u32> = Some(NO_SD);

    /// One case of [`LEAF_CASES`]: the leaves, then MCC, MNC, SST, SD in the O-RAN and SD in
    /// the OAI dialect, and the form reported.
    type LeafCase = (
        Leaves<'static>,
        (&'static str, &'static str, u8, Option<u32>, Option<u32>),
        LeafEncodingSeen,
    );

    /// The ambiguity rule of the module docs, leaf by leaf.
    #[rustfmt::skip]
    const LEAF_CASES: &[LeafCase] = &[
        // Uniform ASCII: the one-digit SST "1" and three-digit SD "123" are ambiguous, read
        // as ASCII beside the ASCII PLMN.
        ((b"00101", b"1", Some(b"123")), ("001", "01", 1, Some(123), Some(123)), LeafEncodingSeen::Ascii),
        ((b"00101", b"9", Some(b"999")), ("001", "01", 9, Some(999), Some(999)), LeafEncodingSeen::Ascii),
        ((b"31041", b"0", None), ("310", "41", 0, None, None), LeafEncodingSeen::Ascii),
        ((b"00101", b"001", Some(b"00000001")), ("001", "01", 1, Some(1), Some(1)), LeafEncodingSeen::Ascii),
        ((b"001001", b"255", Some(b"16777215")), ("001", "001", 255, FFFFFF, None), LeafEncodingSeen::Ascii),
        // Uniform binary: the same octets 0x31, "123", 0x39, "999" read as binary beside a
        // BCD PLMN.
        ((BCD_00101, &[0x31], Some(b"123")), ("001", "01", 49, Some(0x31_3233), Some(0x31_3233)), LeafEncodingSeen::Binary),
        ((BCD_00101, &[0x39], Some(b"999")), ("001", "01", 57, Some(0x39_3939), Some(0x39_3939)), LeafEncodingSeen::Binary),
        ((BCD_00101, &[0x01], Some(&[0, 0, 1])), ("001", "01", 1, Some(1), Some(1)), LeafEncodingSeen::Binary),
        ((&[0x13, 0x00, 0x14], &[0x30], None), ("310", "410", 48, None, None), LeafEncodingSeen::Binary),
        ((BCD_00101, &[0xFF], Some(&[0xFF, 0xFF, 0xFF])), ("001", "01", 255, FFFFFF, None), LeafEncodingSeen::Binary),
        // Mixed within a member: leaves whose shape alone decides keep their own form.
        ((b"00101", &[0x01], Some(b"1")), ("001", "01", 1, Some(1), Some(1)), LeafEncodingSeen::Mixed),
        ((BCD_00101, b"12", Some(&[0, 0, 0x7B])), ("001", "01", 12, Some(123), Some(123)), LeafEncodingSeen::Mixed),
        ((b"001001", b"255", Some(&[0, 0, 0x7B])), ("001", "001", 255, Some(123), Some(123)), LeafEncodingSeen::Mixed),
        ((BCD_00101, &[0x05], Some(b"1234")), ("001", "01", 5, Some(1234), Some(1234)), LeafEncodingSeen::Mixed),
        ((BCD_00101, &[0x01], Some(b"16777215")), ("001", "01", 1, FFFFFF, None), LeafEncodingSeen::Mixed),
        ((b"00101", b"1", Some(&[0xFF, 0xFF, 0xFF])), ("001", "01", 1, FFFFFF, None), LeafEncodingSeen::Mixed),
    ];

    #[test]
    fn leaves_are_read_by_shape_and_ambiguous_ones_by_their_plmn() {
        for ((plmn, sst, sd), want, seen) in LEAF_CASES {
            for dialect in [RanParamDialect::Oran, RanParamDialect::Oai] {
                let bytes = message(dialect, &[(plmn, sst, *sd)]);
                let got = decode_both(&bytes, dialect)
                    .unwrap_or_else(|e| panic!("{dialect:?} {plmn:?} {sst:?} {sd:?}: {e}"));
                let m = &got.control.groups[0].member;
                let sd = match dialect {
                    RanParamDialect::Oran => want.3,
                    RanParamDialect::Oai => want.4,
                };
                assert_eq!(
                    (m.mcc.as_str(), m.mnc.as_str(), m.sst, m.sd, got.leaves),
                    (want.0, want.1, want.2, sd, *seen),
                    "{dialect:?} {plmn:02x?} {sst:02x?}"
                );
            }
        }
    }

    #[test]
    fn members_in_different_forms_are_mixed() {
        for dialect in [RanParamDialect::Oran, RanParamDialect::Oai] {
            let ascii: Leaves<'_> = (b"00101", b"1", Some(b"123"));
            let binary: Leaves<'_> = (BCD_00101, &[0x31], Some(b"123"));
            let both = decode_both(&message(dialect, &[ascii, binary]), dialect).expect("valid");
            assert_eq!(both.leaves, LeafEncodingSeen::Mixed);
            let [a, b] = &both.control.groups[..] else {
                panic!("two groups")
            };
            assert_eq!((a.member.sst, a.member.sd), (1, Some(123)));
            assert_eq!((b.member.sst, b.member.sd), (49, Some(0x31_3233)));
            for one in [ascii, binary] {
                let uniform = decode_both(&message(dialect, &[one, one]), dialect).expect("valid");
                assert_ne!(uniform.leaves, LeafEncodingSeen::Mixed);
            }
        }
    }

    #[test]
    fn malformed_leaves_are_errors_in_both_codecs() {
        let shape = |e: &RcCodecError| matches!(e, RcCodecError::Shape { .. });
        type Case = (
            &'static [u8],
            &'static [u8],
            Option<&'static [u8]>,
            fn(&RcCodecError) -> bool,
        );
        let cases: &[Case] = &[
            (b"0010", b"1", Some(b"1"), shape),
            (b"0010011", b"1", Some(b"1"), shape),
            (b"00a01", b"1", Some(b"1"), shape),
            (b"", b"1", Some(b"1"), shape),
            (&[0x00, 0xF1], b"1", Some(b"1"), shape),
            (&[0xA0, 0xF1, 0x10], &[1], None, |e| {
                matches!(e, RcCodecError::Plmn(_))
            }),
            (b"00101", b"", Some(b"1"), shape),
            (b"00101", b"256", Some(b"1"), shape),
            (b"00101", b"123456789", Some(b"1"), shape),
            (BCD_00101, &[0x01, 0x02], None, shape),
            (b"00101", b"1a", Some(b"1"), shape),
            (b"00101", b"1", Some(b"16777216"), |e| {
                *e == RcCodecError::Sd(16_777_216)
            }),
            (b"00101", b"1", Some(b"99999999"), |e| {
                *e == RcCodecError::Sd(99_999_999)
            }),
            (b"00101", b"1", Some(b""), shape),
            (BCD_00101, &[1], Some(&[0, 1]), shape),
            (BCD_00101, &[1], Some(&[0, 0, 0, 1]), shape),
            (b"00101", b"1", Some(b"123456789"), shape),
            (b"00101", b"1", Some(b"-1"), shape),
            (b"00101", b"1", Some(b"12a4"), shape),
        ];
        for (plmn, sst, sd, is_expected) in cases {
            for dialect in [RanParamDialect::Oran, RanParamDialect::Oai] {
                let bytes = message(dialect, &[(plmn, sst, *sd)]);
                match decode_both(&bytes, dialect) {
                    Err(e) => assert!(is_expected(&e), "{plmn:02x?} {sst:02x?} {sd:02x?}: {e}"),
                    Ok(c) => panic!("{plmn:02x?} {sst:02x?} {sd:02x?} decoded: {c:?}"),
                }
            }
        }
    }

    #[test]
    fn ids_of_the_other_dialect_are_refused_whatever_the_leaves() {
        for leaves in [b"00101" as &[u8], BCD_00101] {
            let oai = message(RanParamDialect::Oai, &[(leaves, b"1", Some(b"1"))]);
            assert!(matches!(
                decode_both(&oai, RanParamDialect::Oran),
                Err(RcCodecError::Shape { .. })
            ));
            let oran = message(RanParamDialect::Oran, &[(leaves, b"1", Some(b"1"))]);
            assert!(matches!(
                decode_both(&oran, RanParamDialect::Oai),
                Err(RcCodecError::Shape { .. })
            ));
        }
    }

    /// `T` deserialized from the string `text` (as from a config file).
    fn from_serde<'de, T: serde::Deserialize<'de>>(text: &'de str) -> Result<T, String> {
        use serde::de::IntoDeserializer;
        T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(text))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn leaf_encoding_text_and_serde() {
        for (e, text) in [
            (LeafEncoding::Binary, "binary"),
            (LeafEncoding::Ascii, "ascii"),
        ] {
            assert_eq!(e.to_string(), text);
            assert_eq!(text.parse::<LeafEncoding>(), Ok(e));
            assert_eq!(text.to_uppercase().parse::<LeafEncoding>(), Ok(e));
            assert_eq!(from_serde::<LeafEncoding>(text), Ok(e));
            assert_eq!(from_serde::<LeafEncodingSeen>(text), Ok(e.into()));
            assert_eq!(LeafEncodingSeen::from(e).uniform(), Some(e));
            assert_eq!(LeafEncodingSeen::from(e).to_string(), text);
        }
        assert_eq!(
            "hex".parse::<LeafEncoding>(),
            Err(ParseLeafEncodingError("hex".into()))
        );
        assert!(from_serde::<LeafEncoding>("Binary").is_err());
        assert_eq!(
            from_serde::<LeafEncodingSeen>("mixed"),
            Ok(LeafEncodingSeen::Mixed)
        );
        assert_eq!(LeafEncodingSeen::Mixed.uniform(), None);
        assert_eq!(LeafEncodingSeen::Mixed.to_string(), "mixed");
        assert_eq!(
            LeafEncodingSeen::Binary.merge(LeafEncodingSeen::Ascii),
            LeafEncodingSeen::Mixed
        );
        assert_eq!(
            LeafEncodingSeen::Ascii.merge(LeafEncodingSeen::Ascii),
            LeafEncodingSeen::Ascii
        );
        assert_eq!(
            RanParamDialect::Oran.default_leaf_encoding(),
            LeafEncoding::Binary
        );
        assert_eq!(
            RanParamDialect::Oai.default_leaf_encoding(),
            LeafEncoding::Ascii
        );
    }
}
