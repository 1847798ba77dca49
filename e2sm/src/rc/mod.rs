//! E2SM-RC control "Slice-level PRB quota" (O-RAN E2SM-RC v1.03 clause 7.6.3.1, control
//! style 2 "Radio Resource Allocation Control", action 6; RAN parameters of clause 8.4.3.6:
//! RRM Policy Ratio List -> RRM Policy Ratio Group -> {RRM Policy (member list of PLMN,
//! S-NSSAI), Min PRB Policy Ratio, Max PRB Policy Ratio, Dedicated PRB Policy Ratio}).
//!
//! The ratios follow TS 28.541 clause 5.3.43 (RRMPolicyRatio): percentages of the cell's PRBs
//! with `100 >= max >= min >= dedicated >= 0`.
//!
//! This module holds the control's types and its APER API: encode and decode functions,
//! [`RanParamDialect`], [`LeafEncoding`] and the errors. The hand-written codec behind the
//! API is [`codec`]; the rasn reference codec, for tests, benches and fuzzing, is
//! `rc::reference` (feature `reference`); the PLMN Identity, SST and SD leaves both write
//! and read are in `leaves` (re-exported here).
//!
//! ## As ASN.1 ALIGNED PER (APER) bytes
//!
//! O-RAN E2SM-RC v1.03, control service style 2 "Radio Resource Allocation Control"
//! (clause 7.6.3.1), control action 6 "Slice-level PRB quota"; the RAN parameter tree of
//! clause 8.4.3.6, as specified in `asn1/e2sm-rc-subset.asn` (with the UEID of
//! `asn1/e2sm-common-subset.asn`).
//!
//! The functions of this module use the hand-written ALIGNED PER codec of [`codec`] (over
//! the X.691 bit writer/reader of [`crate::per`]), 5 to 8 times faster than rasn's
//! generic APER codec (8-slice control, CPU time on a loaded 2-vCPU machine: about 3 µs to
//! encode and 7 µs to decode, against 23 and 32 µs; `cargo bench --bench rc`). The rasn
//! codec of the types that `rasn-compiler` generates from the ASN.1 module at build time
//! (`common::reference`) is kept as `rc::reference` (feature `reference`), with the same API:
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

use serde::{Deserialize, Serialize};

use crate::common::{GnbUeId, PlmnError};

pub mod codec;
mod leaves;
#[cfg(feature = "reference")]
pub mod reference;

pub use leaves::{member_leaves, LeafOctets, MemberLeaves};

/// E2SM-RC control style "Radio Resource Allocation Control".
pub const CONTROL_STYLE_RADIO_RESOURCE_ALLOCATION: u8 = 2;
/// E2SM-RC control action "Slice-level PRB quota" of style 2.
pub const CONTROL_ACTION_SLICE_PRB_QUOTA: u8 = 6;

/// An RRM policy member: PLMN identity and S-NSSAI (TS 23.003 clause 28.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RrmPolicyMember {
    /// Mobile country code, 3 digits.
    pub mcc: String,
    /// Mobile network code, 2 or 3 digits.
    pub mnc: String,
    /// Slice/Service Type.
    pub sst: u8,
    /// Slice Differentiator (24 bits), when present.
    pub sd: Option<u32>,
}

/// Why a PRB ratio group is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    /// The ordering `100 >= max >= min >= dedicated >= 0` of TS 28.541 is broken.
    #[error(
        "PRB ratios must satisfy 100 >= max >= min >= dedicated >= 0 \
         (TS 28.541 clause 5.3.43), got max {max}, min {min}, dedicated {dedicated}"
    )]
    RatioOrder {
        /// Max PRB policy ratio.
        max: u8,
        /// Min PRB policy ratio.
        min: u8,
        /// Dedicated PRB policy ratio.
        dedicated: u8,
    },
}

/// One RRM Policy Ratio Group: a slice and its PRB ratios (percent of the cell's PRBs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RrmPolicyRatioGroup {
    /// The slice.
    pub member: RrmPolicyMember,
    /// Min PRB Policy Ratio: PRBs the slice is prioritised for, %.
    pub min_prb_ratio: u8,
    /// Max PRB Policy Ratio: PRBs the slice may use at most, %.
    pub max_prb_ratio: u8,
    /// Dedicated PRB Policy Ratio: PRBs reserved for the slice even when idle, %.
    pub dedicated_prb_ratio: u8,
}

impl RrmPolicyRatioGroup {
    /// A group, checked against the ratio ordering.
    pub fn new(
        member: RrmPolicyMember,
        min_prb_ratio: u8,
        max_prb_ratio: u8,
        dedicated_prb_ratio: u8,
    ) -> Result<Self, QuotaError> {
        let g = Self {
            member,
            min_prb_ratio,
            max_prb_ratio,
            dedicated_prb_ratio,
        };
        g.validate()?;
        Ok(g)
    }

    /// Checks `100 >= max >= min >= dedicated >= 0`.
    pub fn validate(&self) -> Result<(), QuotaError> {
        let (max, min, dedicated) = (
            self.max_prb_ratio,
            self.min_prb_ratio,
            self.dedicated_prb_ratio,
        );
        if max <= 100 && max >= min && min >= dedicated {
            Ok(())
        } else {
            Err(QuotaError::RatioOrder {
                max,
                min,
                dedicated,
            })
        }
    }
}

/// The control message: the RRM Policy Ratio List for one cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlicePrbQuotaControl {
    /// One group per slice.
    pub groups: Vec<RrmPolicyRatioGroup>,
}

impl SlicePrbQuotaControl {
    /// Checks every group.
    pub fn validate(&self) -> Result<(), QuotaError> {
        self.groups
            .iter()
            .try_for_each(RrmPolicyRatioGroup::validate)
    }
}

/// Outcome of a control request (E2AP RIC Control Acknowledge / Failure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControlOutcome {
    /// The E2 node applied the control.
    Acknowledged,
    /// The E2 node refused it, with its cause.
    Failed {
        /// Cause as reported by the node.
        cause: String,
    },
}

/// Converts a PRB count to the smallest whole percentage of `n_prb` that still grants at least
/// those PRBs (`floor(ratio * n_prb / 100) >= prbs`), capped at 100.
pub fn ratio_for_prbs(prbs: u16, n_prb: u16) -> u8 {
    if n_prb == 0 || prbs == 0 {
        return 0;
    }
    let prbs = u32::from(prbs.min(n_prb));
    let n = u32::from(n_prb);
    // smallest r with floor(r * n / 100) >= prbs  <=>  r * n >= 100 * prbs
    let r = (100 * prbs).div_ceil(n);
    r.min(100) as u8
}

/// PRBs granted by a ratio of `n_prb`: `floor(ratio * n_prb / 100)`.
pub fn prbs_for_ratio(ratio: u8, n_prb: u16) -> u16 {
    ((u32::from(ratio.min(100)) * u32::from(n_prb)) / 100) as u16
}

/// Largest input [`decode_control_message`] and [`decode_control_header`] accept. An
/// 8-slice message is under 600 bytes. (The recursion of the RAN parameter tree is bounded:
/// [`codec`] follows at most [`codec::MAX_DEPTH`] STRUCTURE/LIST levels, and
/// rasn's PER decoder, the reference (`rc::reference`), stops at 128 nested constructed
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

    /// The leaf form to send: the `configured` one (a node's `rc_leaf_encoding` setting) when
    /// there is one, otherwise [`RanParamDialect::default_leaf_encoding`].
    pub const fn leaf_encoding(self, configured: Option<LeafEncoding>) -> LeafEncoding {
        match configured {
            Some(leaves) => leaves,
            None => self.default_leaf_encoding(),
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
    codec::encode_header(header)
}

/// Decodes an E2SM-RC-ControlHeader (format 1 with a gNB-UEID).
pub fn decode_control_header(bytes: &[u8]) -> Result<RcControlHeader, RcCodecError> {
    codec::decode_control_header(bytes)
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
    codec::encode_control_message(control, dialect, leaves)
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
    codec::decode_control_message(bytes, dialect)
}

impl From<PlmnError> for RcCodecError {
    fn from(e: PlmnError) -> Self {
        RcCodecError::Plmn(e.0)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn member() -> RrmPolicyMember {
        RrmPolicyMember {
            mcc: "001".into(),
            mnc: "01".into(),
            sst: 1,
            sd: Some(1),
        }
    }

    #[test]
    fn ratio_order_is_enforced() {
        assert!(RrmPolicyRatioGroup::new(member(), 30, 40, 10).is_ok());
        assert_eq!(
            RrmPolicyRatioGroup::new(member(), 50, 40, 10),
            Err(QuotaError::RatioOrder {
                max: 40,
                min: 50,
                dedicated: 10
            })
        );
        assert!(RrmPolicyRatioGroup::new(member(), 0, 101, 0).is_err());
        assert!(RrmPolicyRatioGroup::new(member(), 5, 10, 6).is_err());
    }

    #[test]
    fn ratio_round_trip_never_grants_fewer_prbs() {
        for n_prb in [24u16, 51, 106, 273] {
            for prbs in 0..=n_prb {
                let r = ratio_for_prbs(prbs, n_prb);
                assert!(prbs_for_ratio(r, n_prb) >= prbs, "{prbs}/{n_prb} -> {r}%");
                if r > 0 {
                    assert!(
                        prbs_for_ratio(r - 1, n_prb) < prbs,
                        "{prbs}/{n_prb} not minimal"
                    );
                }
            }
        }
        assert_eq!(ratio_for_prbs(53, 106), 50);
        assert_eq!(ratio_for_prbs(54, 106), 51);
    }
}

#[cfg(all(test, feature = "reference"))]
mod aper_tests {
    use super::reference::{element, int, list_value, octets, pid, structure, structure_item};
    use super::*;
    use crate::common::reference::rc as g;
    use crate::common::{plmn_from_bcd, plmn_to_bcd, Plmn, NO_SD};

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
        // Both stop at their maximum depth (codec::MAX_DEPTH, rasn's 128) long before the
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

    #[test]
    fn a_configured_leaf_encoding_wins_over_the_dialects() {
        for dialect in [RanParamDialect::Oran, RanParamDialect::Oai] {
            assert_eq!(dialect.leaf_encoding(None), dialect.default_leaf_encoding());
            for leaves in [LeafEncoding::Binary, LeafEncoding::Ascii] {
                assert_eq!(dialect.leaf_encoding(Some(leaves)), leaves);
            }
        }
    }
}
