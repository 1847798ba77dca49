//! E2SM-KPM v02.03 and v03.00 monitoring messages as plain Rust types
//! (O-RAN.WG3.E2SM-KPM-v02.03 and -v03.00), and the versions themselves.
//!
//! What the xApp subscribes with and what the E2 node reports back:
//!
//! - [`KpmEventTrigger`]: event trigger definition format 1, the report period (clause 8.2.1.1).
//! - [`KpmActionDefinition`]: action definition format 1 (cell-level measurements, report
//!   style 1) or format 4 (UE-level measurements of the UEs matching conditions, report
//!   style 4), clause 8.2.1.2.
//! - [`KpmIndicationHeader`]: indication header format 1, clause 8.2.1.3, whose
//!   `colletStartTime` is a [`NtpTimestamp`] (TimeStamp, clause 8.3.12).
//! - [`KpmIndicationMessage`]: indication message format 1 (one measurement report) or
//!   format 3 (one report per UE), clause 8.2.1.4.
//! - [`KpmVersion`]: which of the two modules a RAN function speaks, from its OID.
//!
//! Measurement names are those of 3GPP TS 28.552 clause 5 (e.g. `DRB.UEThpDl`,
//! `RRU.PrbUsedDl`, `CARR.WBCQIDist`). The APER API is below
//! ("As ASN.1 ALIGNED PER (APER) bytes").
//!
//! # v02.03 and v03.00
//!
//! The standard ASN.1 modules of the two versions (as FlexRIC ships them:
//! `src/sm/kpm_sm/kpm_sm_v0X.0Y/ie/asn/e2sm_kpm_v0X.0Y_standard.asn1` at commit c74bcef0 of
//! github.com/openaicellular/flexric), compared with comments and white space removed,
//! differ in exactly two places:
//!
//! 1. the module OID of `E2SM-KPM-IEs`: `... oran(53148) e2(1) version2(2) e2sm(2)
//!    e2sm-KPMMON-IEs(2)` vs `... version3(3) ...`, i.e. the RAN function OIDs
//!    [`KpmVersion::oid`] `1.3.6.1.4.1.53148.1.2.2.2` and `1.3.6.1.4.1.53148.1.3.2.2`;
//! 2. `TimeStamp ::= OCTET STRING (SIZE(4))` vs `OCTET STRING (SIZE(8))` (clause 8.3.12),
//!    used only by `colletStartTime` of E2SM-KPM-IndicationHeader-Format1 (clause 8.2.1.3).
//!    v02.03 carries the NTP seconds (the first 4 octets of the RFC 5905 clause 6 64-bit
//!    timestamp), v03.00 the whole 64-bit timestamp (seconds and fraction).
//!
//! Everything else (event trigger, action definitions, indication messages, the E2SM common
//! IEs) is the same text, so the same APER bits: only the indication header codec takes a
//! [`KpmVersion`]. `tests/kpm_versions.rs` checks this with vectors that asn1tools encoded
//! from both standard modules (`.ci/e2sm-kpm-vectors.py`).
//!
//! v02.01 (not supported) differs from v02.03 more, and only in ways that leave the
//! indication header and messages format 1 and 3 of this crate bit-identical: its module has
//! the same OID as v02.03 (`version2(2)`, so an OID cannot tell them apart) and the same
//! 4-octet TimeStamp; it lacks extension additions that v02.03 has (ssbIndex,
//! nonGoB-BFmode-Index and mIMO-mode-Index of MeasurementLabel, distMeasBinRangeInfo of
//! action definition format 1, logicalOR of MatchingUeCondPerSubItem, binRangeDef,
//! matchingUEidPerGP), and absent additions do not change an encoding; TestCond-Value lacks
//! the extension alternative valueReal. (Checked with asn1tools and FlexRIC's v02.01 module:
//! the v02.03 vectors of `tests/kpm_versions.rs` encode to the same bytes, but for action
//! definition format 4.) What would break is the action definition format 4: in v02.01
//! TestCondInfo's `testExpr` and `testValue` are mandatory (no presence bits before them)
//! and TestCond-Type has no extension alternatives (no ul-rSRP, cQI, fiveQI, qCI, sNSSAI);
//! also MatchingCondItem (action definition format 3, indication message format 2, neither
//! in this crate) is a CHOICE where v02.03 has a SEQUENCE with logicalOR. Supporting v02.01
//! would take a version parameter on the action definition codec with a v02.01 TestCondInfo
//! (two mandatory fields) and the refusal of the TestCond-Type alternatives it lacks;
//! headers and messages could use the v02.03 codec as is.
//!
//! This module holds the types and the APER API (encode and decode functions,
//! [`KpmVersion`], [`NtpTimestamp`], the errors); [`codec`] is the hand-written codec behind
//! the API, `kpm::reference` the rasn reference (feature `reference`), [`cell`] a cell's
//! per-period report as KPM indications.
//!
//! ## As ASN.1 ALIGNED PER (APER) bytes
//!
//! The ASN.1 types come from `asn1/e2sm-kpm-subset.asn` (with `asn1/e2sm-common-subset.asn`).
//! The event trigger and action definition have no hand-written codec yet: they are encoded
//! with rasn's APER codec, on the types `rasn-compiler` generates at build time, in
//! `kpm::reference`, and so exist only with the feature `reference` (the xApp does not
//! subscribe itself: FlexRIC or the emulator does).
//!
//! Only the indication header takes a [`KpmVersion`]: its TimeStamp (clause 8.3.12) is the
//! one difference between the versions' modules (see above), so event triggers,
//! action definitions and indication messages are the same bytes in both. A PER encoding
//! does not say its version; the caller knows it from the RAN function OID
//! ([`KpmVersion::from_oid`]). A header decoded as the wrong version fails, and when it does
//! decode as the other one the error says so ([`KpmCodecError::VersionMismatch`]).
//!
//! The indication header and message functions use the hand-written ALIGNED PER codec of
//! [`codec`] (over [`crate::per`]), which is about 20 times faster than rasn's and
//! also encodes and decodes REAL measurement values ([`MeasurementValue::Real`], X.691
//! clause 15 / X.690 clause 8.5). Their rasn versions are kept as `kpm::reference`
//! (feature `reference`), checked against the fast codec by
//! `tests/kpm_per_differential.rs`. rasn's APER codec has no REAL: there a REAL value gives
//! [`KpmCodecError::Real`] (never a panic).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub use crate::common::{GnbUeId, Snssai};

pub mod cell;
pub mod codec;
#[cfg(feature = "reference")]
pub mod reference;

#[cfg(feature = "reference")]
pub use reference::{
    decode_action_definition, decode_event_trigger, encode_action_definition, encode_event_trigger,
};

/// REPORT service style 1, "E2 Node Measurement" (clause 7.4.2): action definition format 1,
/// indication message format 1.
pub const REPORT_STYLE_NODE_MEASUREMENT: i64 = 1;
/// REPORT service style 4, "Common Condition-based, UE-level E2 Node Measurement"
/// (clause 7.4.5): action definition format 4, indication message format 3.
pub const REPORT_STYLE_UE_LEVEL_CONDITIONAL: i64 = 4;

/// A measurement, by name (TS 28.552) or by the ID the E2 node assigned in its RAN function
/// definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MeasurementType {
    /// `measName`, 1..150 PrintableString characters.
    Name(String),
    /// `measID`, 1..65536.
    Id(u32),
}

/// `startEndInd` of a measurement label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StartEnd {
    /// start
    Start,
    /// end
    End,
}

/// MeasurementLabel (clause 8.3.11): what subset of a measurement a value is about. Every
/// field of the label's root is here; `false`/`None` means absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MeasurementLabel {
    /// `noLabel`: the measurement as a whole.
    pub no_label: bool,
    /// `plmnID`, 3 octets BCD (TS 38.413 clause 9.3.3.5).
    pub plmn: Option<[u8; 3]>,
    /// `sliceID`.
    pub slice: Option<Snssai>,
    /// `fiveQI`, 0..255.
    pub five_qi: Option<u8>,
    /// `qFI`, 0..63.
    pub qfi: Option<u8>,
    /// `qCI`, 0..255.
    pub qci: Option<u8>,
    /// `qCImax`, 0..255.
    pub qci_max: Option<u8>,
    /// `qCImin`, 0..255.
    pub qci_min: Option<u8>,
    /// `aRPmax`, 1..15.
    pub arp_max: Option<u8>,
    /// `aRPmin`, 1..15.
    pub arp_min: Option<u8>,
    /// `bitrateRange`, 1..65535.
    pub bitrate_range: Option<u16>,
    /// `layerMU-MIMO`, 1..65535.
    pub layer_mu_mimo: Option<u16>,
    /// `sUM`.
    pub sum: bool,
    /// `distBinX`, 1..65535: the bin of a distribution measurement (e.g. `CARR.WBCQIDist`).
    pub dist_bin_x: Option<u16>,
    /// `distBinY`, 1..65535.
    pub dist_bin_y: Option<u16>,
    /// `distBinZ`, 1..65535.
    pub dist_bin_z: Option<u16>,
    /// `preLabelOverride`.
    pub pre_label_override: bool,
    /// `startEndInd`.
    pub start_end: Option<StartEnd>,
    /// `min`.
    pub min: bool,
    /// `max`.
    pub max: bool,
    /// `avg`.
    pub avg: bool,
}

impl MeasurementLabel {
    /// The label `noLabel`: the measurement as a whole.
    pub fn none() -> Self {
        Self {
            no_label: true,
            ..Self::default()
        }
    }
}

/// MeasurementInfoItem: a measurement and the labels it is reported for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MeasurementInfo {
    /// The measurement.
    pub meas_type: MeasurementType,
    /// Its labels, at least one.
    pub labels: Vec<MeasurementLabel>,
}

/// MeasurementRecordItem: one reported value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum MeasurementValue {
    /// `integer`, 0..2^32-1.
    Integer(u32),
    /// `real` (X.690 clause 8.5 content in PER, X.691 clause 15).
    Real(f64),
    /// `noValue`: the node has no value for this one.
    NoValue,
}

/// MeasurementDataItem: the values of one granularity period, one per (measurement, label)
/// pair of the measurement info list, in its order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasurementDataItem {
    /// The values, at least one.
    pub record: Vec<MeasurementValue>,
    /// `incompleteFlag`: the period's collection was not complete.
    pub incomplete: bool,
}

/// E2SM-KPM-IndicationMessage-Format1: one measurement report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasurementReport {
    /// One item per granularity period, at least one.
    pub data: Vec<MeasurementDataItem>,
    /// What the records' values are (absent: as in the subscription).
    pub info: Option<Vec<MeasurementInfo>>,
    /// Granularity period, ms (absent: as in the subscription).
    pub granularity_period_ms: Option<u32>,
}

/// UEMeasurementReportItem: one UE's report in an indication message format 3.
#[derive(Debug, Clone, PartialEq)]
pub struct UeMeasurementReport {
    /// The UE (gNB-UEID alternative of UEID).
    pub ue: GnbUeId,
    /// Its measurements.
    pub report: MeasurementReport,
}

/// E2SM-KPM-IndicationMessage.
#[derive(Debug, Clone, PartialEq)]
pub enum KpmIndicationMessage {
    /// Format 1: one report (REPORT style 1).
    Format1(MeasurementReport),
    /// Format 3: one report per UE, at least one (REPORT style 4).
    Format3(Vec<UeMeasurementReport>),
}

/// E2SM-KPM-IndicationHeader, format 1 (clause 8.2.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KpmIndicationHeader {
    /// `colletStartTime` (TimeStamp, clause 8.3.12): start of the collection. v03.00 carries
    /// all of it, v02.03 only its seconds (an encoder drops the fraction).
    pub collect_start_time: NtpTimestamp,
    /// How `colletStartTime` is written: [`TimeStampForm::Ntp`], the standard, unless a
    /// decoder recognised FlexRIC's Unix microseconds ([`TimeStampForm::UnixMicros`]); an
    /// encoder writes this form, so a decoded header encodes to the same bytes.
    #[serde(default)]
    pub collect_start_time_form: TimeStampForm,
    /// `fileFormatversion`, ≤ 15 characters.
    pub file_format_version: Option<String>,
    /// `senderName`, ≤ 400 characters.
    pub sender_name: Option<String>,
    /// `senderType`, ≤ 8 characters.
    pub sender_type: Option<String>,
    /// `vendorName`, ≤ 32 characters.
    pub vendor_name: Option<String>,
}

/// E2SM-KPM-EventTriggerDefinition, format 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KpmEventTrigger {
    /// `reportingPeriod`, ms, ≥ 1.
    pub reporting_period_ms: u32,
}

/// NR CGI (TS 38.413 clause 9.3.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NrCgi {
    /// PLMN identity, 3 octets BCD.
    pub plmn: [u8; 3],
    /// NR cell identity, 36 bits.
    pub cell_identity: u64,
}

/// E2SM-KPM-ActionDefinition-Format1: what to measure, how often, where.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SubscriptionInfo {
    /// Measurements and labels, at least one.
    pub info: Vec<MeasurementInfo>,
    /// Granularity period, ms, ≥ 1.
    pub granularity_period_ms: u32,
    /// The cell, when the node serves several.
    pub cell: Option<NrCgi>,
}

/// TestCond-Type: what a UE matching condition tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TestCondKind {
    /// gBR
    Gbr,
    /// aMBR
    Ambr,
    /// isStat
    IsStat,
    /// isCatM
    IsCatM,
    /// rSRP
    Rsrp,
    /// rSRQ
    Rsrq,
    /// ul-rSRP (extension)
    UlRsrp,
    /// cQI (extension)
    Cqi,
    /// fiveQI (extension)
    FiveQi,
    /// qCI (extension)
    Qci,
    /// sNSSAI (extension)
    Snssai,
}

/// TestCond-Expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TestExpression {
    /// equal
    Equal,
    /// greaterthan
    GreaterThan,
    /// lessthan
    LessThan,
    /// contains
    Contains,
    /// present
    Present,
}

/// TestCond-Value (the root alternatives but `valueBitS`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TestValue {
    /// valueInt
    Int(i64),
    /// valueEnum
    Enum(i64),
    /// valueBool
    Bool(bool),
    /// valueOctS
    Octets(Vec<u8>),
    /// valuePrtS
    Printable(String),
}

/// TestCondInfo: one UE matching condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TestCondition {
    /// What is tested.
    pub kind: TestCondKind,
    /// How.
    pub expression: Option<TestExpression>,
    /// Against what.
    pub value: Option<TestValue>,
}

/// The format of an action definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionDefinitionFormat {
    /// Format 1: cell-level measurements.
    Format1(SubscriptionInfo),
    /// Format 4: UE-level measurements of the UEs that match all conditions.
    Format4 {
        /// Matching UE conditions, at least one.
        ue_conditions: Vec<TestCondition>,
        /// What to measure for them.
        subscription: SubscriptionInfo,
    },
}

/// E2SM-KPM-ActionDefinition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KpmActionDefinition {
    /// RIC style type (1 with format 1, 4 with format 4).
    pub style: i64,
    /// The format.
    pub format: ActionDefinitionFormat,
}

// =========================================================================================
// Versions
// =========================================================================================

/// The E2SM-KPM version a RAN function speaks: the last component but two of its OID (see
/// the module documentation for what differs).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(into = "String", try_from = "String")]
pub enum KpmVersion {
    /// O-RAN.WG3.E2SM-KPM-v02.03: 4-octet TimeStamp (NTP seconds).
    V2_03,
    /// O-RAN.WG3.E2SM-KPM-v03.00: 8-octet TimeStamp (NTP seconds and fraction).
    #[default]
    V3_00,
}

/// Prefix of the O-RAN service model OIDs: iso(1) identified-organization(3) dod(6)
/// internet(1) private(4) enterprise(1) oran(53148) e2(1); then version, e2sm(2) and the
/// model (2 for KPM, `e2sm-KPMMON-IEs(2)` in the module header).
const ORAN_E2_OID_PREFIX: &str = "1.3.6.1.4.1.53148.1.";

impl KpmVersion {
    /// Both versions, oldest first.
    pub const ALL: [KpmVersion; 2] = [KpmVersion::V2_03, KpmVersion::V3_00];

    /// The RAN function OID of this version (the `E2SM-KPM-IEs` module OID): what an E2 node
    /// announces in its RAN Function Definition (E2AP clause 9.2.23).
    pub const fn oid(self) -> &'static str {
        match self {
            KpmVersion::V2_03 => "1.3.6.1.4.1.53148.1.2.2.2",
            KpmVersion::V3_00 => "1.3.6.1.4.1.53148.1.3.2.2",
        }
    }

    /// The version an E2SM-KPM RAN function OID names (white space around it ignored);
    /// `None` for any other OID, including KPM versions this crate does not speak (see
    /// [`is_kpm_oid`]). The v2 OID is also that of v02.01 and v02.02, whose indication
    /// headers and messages are those of v02.03.
    pub fn from_oid(oid: &str) -> Option<KpmVersion> {
        let oid = oid.trim();
        KpmVersion::ALL.into_iter().find(|v| v.oid() == oid)
    }

    /// Octets of TimeStamp (clause 8.3.12): 4 in v02.03, 8 in v03.00.
    pub const fn timestamp_octets(self) -> usize {
        match self {
            KpmVersion::V2_03 => 4,
            KpmVersion::V3_00 => 8,
        }
    }

    /// The other version (for diagnosing a mismatch).
    pub const fn other(self) -> KpmVersion {
        match self {
            KpmVersion::V2_03 => KpmVersion::V3_00,
            KpmVersion::V3_00 => KpmVersion::V2_03,
        }
    }
}

/// Whether `oid` is an O-RAN E2SM-KPM RAN function OID of any version
/// (`1.3.6.1.4.1.53148.1.<version>.2.2`), known to [`KpmVersion::from_oid`] or not.
pub fn is_kpm_oid(oid: &str) -> bool {
    oid.trim()
        .strip_prefix(ORAN_E2_OID_PREFIX)
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(version, model)| {
            !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) && model == "2.2"
        })
}

impl fmt::Display for KpmVersion {
    /// `v02.03` / `v03.00`, as the specification names its versions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KpmVersion::V2_03 => "v02.03",
            KpmVersion::V3_00 => "v03.00",
        })
    }
}

/// A text that names no E2SM-KPM version this crate speaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown E2SM-KPM version {0:?} (expected v02.03 or v03.00, e.g. \"2.03\", \"v03.00\")")]
pub struct ParseKpmVersionError(pub String);

impl FromStr for KpmVersion {
    type Err = ParseKpmVersionError;

    /// `2.03`, `02.03`, `v2.03`, `v02.03`, `V02.03`, `E2SM-KPM-v02.03`; same for `3.00` (also
    /// `3.0`). A bare `2` or `3` is refused: v2 had several versions, v4 may follow v3.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t
            .strip_prefix("E2SM-KPM-")
            .or_else(|| t.strip_prefix("e2sm-kpm-"))
            .unwrap_or(t);
        let t = t
            .strip_prefix('v')
            .or_else(|| t.strip_prefix('V'))
            .unwrap_or(t);
        match t {
            "2.03" | "02.03" => Ok(KpmVersion::V2_03),
            "3.00" | "03.00" | "3.0" => Ok(KpmVersion::V3_00),
            _ => Err(ParseKpmVersionError(s.to_owned())),
        }
    }
}

impl From<KpmVersion> for String {
    fn from(v: KpmVersion) -> String {
        v.to_string()
    }
}

impl TryFrom<String> for KpmVersion {
    type Error = ParseKpmVersionError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

// =========================================================================================
// TimeStamp
// =========================================================================================

/// Seconds from the NTP prime epoch (1900-01-01T00:00:00Z, era 0) to the Unix epoch: the
/// NTP timestamp of 1970-01-01 in RFC 5905 clause 6, Figure 4.
pub const NTP_UNIX_OFFSET_SECONDS: i64 = 2_208_988_800;

/// Unix µs of 2000-01-01T00:00:00Z: the earliest FlexRIC-style TimeStamp accepted as one.
const FLEXRIC_MICROS_MIN: u64 = 946_684_800_000_000;
/// Unix µs of 2036-02-07T06:28:16Z, the end of NTP era 0: the end of that window.
const FLEXRIC_MICROS_END: u64 = ((1u64 << 32) - NTP_UNIX_OFFSET_SECONDS as u64) * 1_000_000;

/// A 64-bit NTP timestamp (RFC 5905 clause 6): 32 bits of seconds and 32 bits of fraction
/// of a second.
///
/// A timestamp has no era of its own; conversions to and from Unix time follow RFC 4330
/// clause 3: with the most significant bit of `seconds` set the time is in era 0
/// (1968-01-20T03:14:08Z to 2036-02-07T06:28:15Z), with it clear in era 1 (2036-02-07T06:28:16Z
/// to 2104-02-26T09:42:23Z). Unix nanoseconds and microseconds survive the round trip
/// through the 2^-32 s fraction exactly (rounding to nearest both ways).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct NtpTimestamp {
    /// Seconds since the start of the era.
    pub seconds: u32,
    /// Fraction of a second, in units of 2^-32 s.
    pub fraction: u32,
}

/// How an indication header's TimeStamp octets encode the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeStampForm {
    /// The standard (clause 8.3.12): v03.00 the 64-bit NTP timestamp, v02.03 its seconds.
    #[default]
    Ntp,
    /// FlexRIC's v03.00 quirk: the 8 octets are Unix time in microseconds, big-endian.
    ///
    /// Seen in FlexRIC (github.com/openaicellular/flexric at c74bcef0):
    /// `src/sm/kpm_sm/kpm_sm_v03.00/enc/enc_asn/enc_ric_ind_hdr_frm_1.c` writes
    /// `htonll(ind_hdr->collectStartTime)` with `int_64_to_octet_string` (a `memcpy`), and its
    /// E2 agents fill `collectStartTime = time_now_us()` (e.g. `fill_rnd_kpm_ind_hdr_frm_1` of
    /// `examples/emulator/agent/sm_kpm.c`, `test/rnd/fill_rnd_data_kpm.c`). A decoder takes
    /// 8 octets for this form when, read as NTP, their seconds have the most significant bit
    /// clear (era 1, 2036 or later) and, read as Unix µs, they fall in 2000-01-01 ..
    /// 2036-02-07T06:28:16Z: Unix µs of today read as NTP give seconds near 400,000, i.e.
    /// 2036-02-11 in era 1 or 1900-01-05 in era 0. The price: a genuine v03.00 NTP time
    /// between 2036-02-09T19:41:53Z and 2036-02-12T21:22:55Z would read as this form, so the
    /// encoders refuse to write those as NTP ([`TimeStampError::AmbiguousWithUnixMicros`]).
    ///
    /// (FlexRIC's v02.03 encoder has a quirk of its own that no decoder can undo:
    /// `htonl(collectStartTime)` through the shift-based `INT32_TO_OCTET_STRING` puts the
    /// octets in little-endian order on a little-endian host, and its agents fill the
    /// 32-bit field with `time_now_us()`, i.e. the low 32 bits of Unix µs. Such headers decode
    /// as some NTP seconds, form [`TimeStampForm::Ntp`].)
    UnixMicros,
}

/// Why a time cannot be a TimeStamp, or TimeStamp octets cannot be read as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeStampError {
    /// Outside NTP eras 0 and 1 as RFC 4330 clause 3 splits them.
    #[error(
        "{unix_nanos} ns from the Unix epoch is outside the NTP timestamp range \
         1968-01-20T03:14:08Z .. 2104-02-26T09:42:23Z (RFC 5905 clause 6, RFC 4330 clause 3)"
    )]
    OutOfRange {
        /// The time, ns from the Unix epoch.
        unix_nanos: i128,
    },
    /// FlexRIC's Unix-µs form needs the 8 octets of v03.00.
    #[error("the Unix-microseconds TimeStamp form needs 8 octets (v03.00), {version} has {}", .version.timestamp_octets())]
    FormNeedsV3 {
        /// The version asked for.
        version: KpmVersion,
    },
    /// Unix µs before 1970 do not fit FlexRIC's unsigned 64-bit field.
    #[error(
        "{unix_micros} µs from the Unix epoch cannot be written as FlexRIC's unsigned Unix µs"
    )]
    NegativeUnixMicros {
        /// The time, µs from the Unix epoch.
        unix_micros: i64,
    },
    /// An NTP time a decoder would read as FlexRIC's Unix µs (see [`TimeStampForm::UnixMicros`]).
    #[error(
        "NTP time {seconds}.{fraction:08x} (era 1, 2036-02-09/12) reads as FlexRIC's Unix-µs \
         TimeStamp; refusing the ambiguous v03.00 encoding"
    )]
    AmbiguousWithUnixMicros {
        /// The NTP seconds.
        seconds: u32,
        /// The NTP fraction.
        fraction: u32,
    },
    /// Not as many octets as the version's TimeStamp has.
    #[error("{version} TimeStamp has {} octets, got {len}", .version.timestamp_octets())]
    Length {
        /// The version.
        version: KpmVersion,
        /// Octets given.
        len: usize,
    },
}

/// A TimeStamp as it travels: 4 (v02.03) or 8 (v03.00) octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeStampOctets {
    buf: [u8; 8],
    len: usize,
}

impl TimeStampOctets {
    /// The octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

const NANOS_PER_SECOND: i128 = 1_000_000_000;

impl NtpTimestamp {
    /// A timestamp of whole `seconds` (fraction 0).
    pub const fn from_seconds(seconds: u32) -> Self {
        Self {
            seconds,
            fraction: 0,
        }
    }

    /// The seconds and fraction as one 64-bit number, seconds in the high half (the
    /// on-the-wire order of RFC 5905 clause 6).
    pub const fn to_bits(self) -> u64 {
        ((self.seconds as u64) << 32) | self.fraction as u64
    }

    /// The inverse of [`NtpTimestamp::to_bits`].
    pub const fn from_bits(bits: u64) -> Self {
        Self {
            seconds: (bits >> 32) as u32,
            fraction: bits as u32,
        }
    }

    /// Seconds since the NTP prime epoch (1900), era 0 or 1 by RFC 4330 clause 3.
    fn absolute_seconds(self) -> i64 {
        let era = if self.seconds & 0x8000_0000 != 0 {
            0
        } else {
            1i64 << 32
        };
        era + i64::from(self.seconds)
    }

    /// The time in ns from the Unix epoch (the fraction rounded to the nearest ns).
    pub fn to_unix_nanos(self) -> i128 {
        let secs = i128::from(self.absolute_seconds() - NTP_UNIX_OFFSET_SECONDS);
        let nanos = (i128::from(self.fraction) * NANOS_PER_SECOND + (1 << 31)) >> 32;
        secs * NANOS_PER_SECOND + nanos
    }

    /// The time `unix_nanos` ns from the Unix epoch (the fraction rounded to the nearest
    /// 2^-32 s), or [`TimeStampError::OutOfRange`] outside 1968-01-20T03:14:08Z ..
    /// 2104-02-26T09:42:23Z.
    pub fn from_unix_nanos(unix_nanos: i128) -> Result<Self, TimeStampError> {
        let out = || TimeStampError::OutOfRange { unix_nanos };
        let ntp_nanos = unix_nanos + i128::from(NTP_UNIX_OFFSET_SECONDS) * NANOS_PER_SECOND;
        let secs = ntp_nanos.div_euclid(NANOS_PER_SECOND);
        let sub = ntp_nanos.rem_euclid(NANOS_PER_SECOND);
        // < 2^32 for every sub < 10^9 (the largest gives 4294967292).
        let fraction = u32::try_from(((sub << 32) + NANOS_PER_SECOND / 2) / NANOS_PER_SECOND)
            .map_err(|_| out())?;
        if !((1i128 << 31)..(1i128 << 32) + (1i128 << 31)).contains(&secs) {
            return Err(out());
        }
        Ok(Self {
            // Era 0 or 1: the seconds modulo 2^32.
            seconds: (secs & 0xFFFF_FFFF) as u32,
            fraction,
        })
    }

    /// The time in µs from the Unix epoch, rounded to the nearest µs.
    pub fn to_unix_micros(self) -> i64 {
        let secs = self.absolute_seconds() - NTP_UNIX_OFFSET_SECONDS;
        let micros = ((u64::from(self.fraction) * 1_000_000 + (1 << 31)) >> 32) as i64;
        secs * 1_000_000 + micros
    }

    /// The time `unix_micros` µs from the Unix epoch ([`NtpTimestamp::from_unix_nanos`]).
    pub fn from_unix_micros(unix_micros: i64) -> Result<Self, TimeStampError> {
        Self::from_unix_nanos(i128::from(unix_micros) * 1_000)
    }

    /// The time `unix_millis` ms from the Unix epoch ([`NtpTimestamp::from_unix_nanos`]).
    pub fn from_unix_millis(unix_millis: i64) -> Result<Self, TimeStampError> {
        Self::from_unix_nanos(i128::from(unix_millis) * 1_000_000)
    }

    /// The time as a [`SystemTime`] (the fraction rounded to the nearest ns).
    pub fn to_system_time(self) -> SystemTime {
        let nanos = self.to_unix_nanos();
        let secs = nanos.div_euclid(NANOS_PER_SECOND) as i64;
        let sub = Duration::from_nanos(nanos.rem_euclid(NANOS_PER_SECOND) as u64);
        // 1968 .. 2104: within SystemTime on every platform Rust supports.
        if secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs()) + sub
        } else {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + sub
        }
    }

    /// The NTP timestamp of a [`SystemTime`] ([`NtpTimestamp::from_unix_nanos`]).
    pub fn from_system_time(t: SystemTime) -> Result<Self, TimeStampError> {
        let nanos = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        };
        Self::from_unix_nanos(nanos)
    }

    /// Whether v03.00 octets of this NTP time would read as FlexRIC's Unix µs
    /// ([`TimeStampForm::UnixMicros`]): era-1 times of 2036-02-09/12.
    pub fn reads_as_unix_micros(self) -> bool {
        let bits = self.to_bits();
        self.seconds & 0x8000_0000 == 0 && (FLEXRIC_MICROS_MIN..FLEXRIC_MICROS_END).contains(&bits)
    }

    /// TimeStamp octets (clause 8.3.12) of this time, written in `form` for `version`:
    /// v03.00 NTP the 8 octets of seconds and fraction (refused when they would read as
    /// FlexRIC µs), v02.03 NTP the 4 octets of the seconds (the fraction dropped), v03.00
    /// Unix µs FlexRIC's 8 big-endian octets.
    pub fn to_time_stamp(
        self,
        form: TimeStampForm,
        version: KpmVersion,
    ) -> Result<TimeStampOctets, TimeStampError> {
        let mut buf = [0u8; 8];
        match (version, form) {
            (KpmVersion::V2_03, TimeStampForm::Ntp) => {
                buf[..4].copy_from_slice(&self.seconds.to_be_bytes());
            }
            (KpmVersion::V2_03, TimeStampForm::UnixMicros) => {
                return Err(TimeStampError::FormNeedsV3 { version })
            }
            (KpmVersion::V3_00, TimeStampForm::Ntp) => {
                if self.reads_as_unix_micros() {
                    return Err(TimeStampError::AmbiguousWithUnixMicros {
                        seconds: self.seconds,
                        fraction: self.fraction,
                    });
                }
                buf = self.to_bits().to_be_bytes();
            }
            (KpmVersion::V3_00, TimeStampForm::UnixMicros) => {
                let unix_micros = self.to_unix_micros();
                let us = u64::try_from(unix_micros)
                    .map_err(|_| TimeStampError::NegativeUnixMicros { unix_micros })?;
                buf = us.to_be_bytes();
            }
        }
        Ok(TimeStampOctets {
            buf,
            len: version.timestamp_octets(),
        })
    }

    /// Reads TimeStamp octets (clause 8.3.12) of `version`, recognising FlexRIC's Unix µs in
    /// v03.00 ([`TimeStampForm::UnixMicros`]).
    pub fn from_time_stamp(
        octets: &[u8],
        version: KpmVersion,
    ) -> Result<(NtpTimestamp, TimeStampForm), TimeStampError> {
        let length = || TimeStampError::Length {
            version,
            len: octets.len(),
        };
        match version {
            KpmVersion::V2_03 => {
                let s: [u8; 4] = octets.try_into().map_err(|_| length())?;
                Ok((
                    NtpTimestamp::from_seconds(u32::from_be_bytes(s)),
                    TimeStampForm::Ntp,
                ))
            }
            KpmVersion::V3_00 => {
                let b: [u8; 8] = octets.try_into().map_err(|_| length())?;
                let ntp = NtpTimestamp::from_bits(u64::from_be_bytes(b));
                if !ntp.reads_as_unix_micros() {
                    return Ok((ntp, TimeStampForm::Ntp));
                }
                // 2000 .. 2036 (below 2^51): an i64, and within NTP era 0.
                let micros = ntp.to_bits() as i64;
                Ok((
                    NtpTimestamp::from_unix_micros(micros)?,
                    TimeStampForm::UnixMicros,
                ))
            }
        }
    }
}

impl TryFrom<SystemTime> for NtpTimestamp {
    type Error = TimeStampError;

    fn try_from(t: SystemTime) -> Result<Self, Self::Error> {
        NtpTimestamp::from_system_time(t)
    }
}

impl From<NtpTimestamp> for SystemTime {
    fn from(t: NtpTimestamp) -> SystemTime {
        t.to_system_time()
    }
}

// ---------------------------------------------------------------------------------------
// APER: errors
// ---------------------------------------------------------------------------------------

/// Largest input the decoders accept: a format 3 indication of 1,000 UEs with a few
/// measurements each stays under it.
pub const MAX_MESSAGE_LEN: usize = 1024 * 1024;

/// Errors of the E2SM-KPM APER codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KpmCodecError {
    /// The bytes are not a valid APER encoding of the message.
    #[error("malformed E2SM-KPM message: {0}")]
    Malformed(String),
    /// The input is longer than [`MAX_MESSAGE_LEN`].
    #[error("E2SM-KPM message of {len} bytes exceeds the {max}-byte limit")]
    TooLong {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A value is outside what the ASN.1 type allows (e.g. an empty list, a 0 ms period).
    #[error("invalid E2SM-KPM value: {0}")]
    Invalid(String),
    /// A well-formed message this subset does not represent (e.g. a UEID other than
    /// gNB-UEID, action definition format 2).
    #[error("unsupported E2SM-KPM content: {0}")]
    Unsupported(String),
    /// REAL values: rasn's APER codec has none.
    #[error("REAL measurement values are not supported by the rasn APER codec")]
    Real,
    /// The encoder failed.
    #[error("E2SM-KPM encoding failed: {0}")]
    Encode(String),
    /// The header's time cannot be written as the version's TimeStamp (clause 8.3.12).
    #[error("E2SM-KPM TimeStamp: {0}")]
    TimeStamp(#[from] TimeStampError),
    /// The bytes do not decode as an indication header of the expected version but do as
    /// one of the other version: the two ends disagree on the E2SM-KPM version.
    #[error(
        "E2SM-KPM indication header: expected {expected} (TimeStamp of {} octets), but the \
         {len} bytes are a {found} header (TimeStamp of {} octets); the version the decoder \
         took from the RAN function OID is not the one the E2 node encodes",
        .expected.timestamp_octets(),
        .found.timestamp_octets()
    )]
    VersionMismatch {
        /// The version the decoder was given.
        expected: KpmVersion,
        /// The version the bytes decode as.
        found: KpmVersion,
        /// Length of the header, octets.
        len: usize,
    },
}

/// Decodes a header with `decode` as `version`; when that fails as malformed, tells a header
/// of the other version ([`KpmCodecError::VersionMismatch`]) from garbage (the malformed
/// error, naming the version and its TimeStamp size). Shared by both header codecs, so they
/// agree.
pub(crate) fn diagnose_header_version(
    bytes: &[u8],
    version: KpmVersion,
    decode: impl Fn(&[u8], KpmVersion) -> Result<KpmIndicationHeader>,
) -> Result<KpmIndicationHeader> {
    match decode(bytes, version) {
        Err(KpmCodecError::Malformed(why)) => {
            let other = version.other();
            if decode(bytes, other).is_ok() {
                Err(KpmCodecError::VersionMismatch {
                    expected: version,
                    found: other,
                    len: bytes.len(),
                })
            } else {
                Err(KpmCodecError::Malformed(format!(
                    "{version} indication header (TimeStamp of {} octets): {why}",
                    version.timestamp_octets()
                )))
            }
        }
        result => result,
    }
}

/// The results of the APER API (with another error type where given).
type Result<T, E = KpmCodecError> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------------------
// Indication header and message
// ---------------------------------------------------------------------------------------

/// Encodes an E2SM-KPM-IndicationHeader format 1 of `version` (clause 8.2.1.3).
pub fn encode_indication_header(
    header: &KpmIndicationHeader,
    version: KpmVersion,
) -> Result<Vec<u8>> {
    codec::encode_indication_header(header, version)
}

/// Decodes an E2SM-KPM-IndicationHeader (format 1) of `version`: a v03.00 TimeStamp in
/// FlexRIC's Unix microseconds is recognised ([`crate::kpm::TimeStampForm::UnixMicros`]).
pub fn decode_indication_header(bytes: &[u8], version: KpmVersion) -> Result<KpmIndicationHeader> {
    codec::decode_indication_header(bytes, version)
}

/// Encodes an E2SM-KPM-IndicationMessage (format 1 or 3), REAL values included; the same
/// bytes in v02.03 and v03.00.
pub fn encode_indication_message(msg: &KpmIndicationMessage) -> Result<Vec<u8>> {
    codec::encode_indication_message(msg)
}

/// Decodes an E2SM-KPM-IndicationMessage (format 1 or 3), REAL values included; v02.03 and
/// v03.00 alike.
pub fn decode_indication_message(bytes: &[u8]) -> Result<KpmIndicationMessage> {
    codec::decode_indication_message(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_print_and_map_to_oids() {
        for (text, v) in [
            ("2.03", KpmVersion::V2_03),
            ("v02.03", KpmVersion::V2_03),
            ("E2SM-KPM-v02.03", KpmVersion::V2_03),
            ("3.00", KpmVersion::V3_00),
            (" V03.00 ", KpmVersion::V3_00),
            ("3.0", KpmVersion::V3_00),
        ] {
            assert_eq!(text.parse::<KpmVersion>(), Ok(v), "{text}");
        }
        for bad in ["2", "3", "2.01", "v4.00", ""] {
            assert!(bad.parse::<KpmVersion>().is_err(), "{bad}");
        }
        for v in KpmVersion::ALL {
            assert_eq!(v.to_string().parse::<KpmVersion>(), Ok(v));
            assert_eq!(KpmVersion::from_oid(v.oid()), Some(v));
            assert!(is_kpm_oid(v.oid()));
            // serde writes the Display form (`into = "String"`).
            assert_eq!(String::from(v), v.to_string());
        }
        assert_eq!(KpmVersion::V3_00.to_string(), "v03.00");
        assert_eq!(KpmVersion::default(), KpmVersion::V3_00);
        assert_eq!(KpmVersion::from_oid("1.3.6.1.4.1.53148.1.4.2.2"), None);
        assert!(is_kpm_oid("1.3.6.1.4.1.53148.1.4.2.2"));
        // E2SM-RC and FlexRIC's MAC statistics are not KPM.
        assert!(!is_kpm_oid("1.3.6.1.4.1.53148.1.1.2.3"));
        assert!(!is_kpm_oid("1.3.6.1.4.1.53148.1.1.2.142"));
        assert!(!is_kpm_oid("1.3.6.1.4.1.53148.1..2.2"));
    }

    #[test]
    fn ntp_conversions_round_trip_and_follow_the_eras() {
        // RFC 5905 Figure 4: 1970-01-01 is NTP 2,208,988,800; 2036-02-07T06:28:16Z starts
        // era 1 (seconds 0).
        assert_eq!(
            NtpTimestamp::from_unix_nanos(0),
            Ok(NtpTimestamp::from_seconds(2_208_988_800))
        );
        let era1 = NtpTimestamp::from_seconds(0);
        assert_eq!(era1.to_unix_micros(), 2_085_978_496_000_000);
        assert_eq!(
            NtpTimestamp::from_unix_micros(2_085_978_496_000_000),
            Ok(era1)
        );
        for us in [
            -61_505_152_000_000,
            0,
            1,
            999_999,
            1_704_067_200_250_000,
            4_233_462_143_999_999,
        ] {
            let t = NtpTimestamp::from_unix_micros(us).expect("in range");
            assert_eq!(t.to_unix_micros(), us, "{us}");
            assert_eq!(NtpTimestamp::from_system_time(t.to_system_time()), Ok(t));
        }
        for ns in [-1, 1, 999_999_999, 1_704_067_200_123_456_789] {
            let t = NtpTimestamp::from_unix_nanos(ns).expect("in range");
            assert_eq!(t.to_unix_nanos(), ns);
        }
        assert!(NtpTimestamp::from_unix_micros(-61_505_152_000_001).is_err());
        assert!(NtpTimestamp::from_unix_micros(4_233_462_144_000_000).is_err());
    }

    #[test]
    fn time_stamp_octets_per_version_and_form() {
        let t = NtpTimestamp {
            seconds: 3_913_056_000,
            fraction: 0x8000_0000,
        };
        let v3 = t
            .to_time_stamp(TimeStampForm::Ntp, KpmVersion::V3_00)
            .expect("v3");
        assert_eq!(v3.as_bytes(), [0xE9, 0x3C, 0x7F, 0x00, 0x80, 0, 0, 0]);
        let v2 = t
            .to_time_stamp(TimeStampForm::Ntp, KpmVersion::V2_03)
            .expect("v2");
        assert_eq!(v2.as_bytes(), [0xE9, 0x3C, 0x7F, 0x00]);
        assert_eq!(
            NtpTimestamp::from_time_stamp(v3.as_bytes(), KpmVersion::V3_00),
            Ok((t, TimeStampForm::Ntp))
        );
        assert_eq!(
            NtpTimestamp::from_time_stamp(v2.as_bytes(), KpmVersion::V2_03),
            Ok((
                NtpTimestamp::from_seconds(3_913_056_000),
                TimeStampForm::Ntp
            ))
        );
        let us = t
            .to_time_stamp(TimeStampForm::UnixMicros, KpmVersion::V3_00)
            .expect("µs");
        assert_eq!(us.as_bytes(), 1_704_067_200_500_000u64.to_be_bytes());
        assert_eq!(
            NtpTimestamp::from_time_stamp(us.as_bytes(), KpmVersion::V3_00),
            Ok((t, TimeStampForm::UnixMicros))
        );
        assert!(matches!(
            t.to_time_stamp(TimeStampForm::UnixMicros, KpmVersion::V2_03),
            Err(TimeStampError::FormNeedsV3 { .. })
        ));
        assert!(matches!(
            NtpTimestamp::from_time_stamp(v2.as_bytes(), KpmVersion::V3_00),
            Err(TimeStampError::Length { len: 4, .. })
        ));
        let ambiguous = NtpTimestamp::from_bits(1_704_067_200_500_000);
        assert!(ambiguous.reads_as_unix_micros());
        assert!(matches!(
            ambiguous.to_time_stamp(TimeStampForm::Ntp, KpmVersion::V3_00),
            Err(TimeStampError::AmbiguousWithUnixMicros { .. })
        ));
    }
}
