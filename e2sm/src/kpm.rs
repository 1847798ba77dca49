//! E2SM-KPM v3.00 monitoring messages as plain Rust types (O-RAN.WG3.E2SM-KPM-v03.00).
//!
//! What the xApp subscribes with and what the E2 node reports back:
//!
//! - [`KpmEventTrigger`]: event trigger definition format 1, the report period (clause 8.2.1.1).
//! - [`KpmActionDefinition`]: action definition format 1 (cell-level measurements, report
//!   style 1) or format 4 (UE-level measurements of the UEs matching conditions, report
//!   style 4), clause 8.2.1.2.
//! - [`KpmIndicationHeader`]: indication header format 1, clause 8.2.1.3.
//! - [`KpmIndicationMessage`]: indication message format 1 (one measurement report) or
//!   format 3 (one report per UE), clause 8.2.1.4.
//!
//! Measurement names are those of 3GPP TS 28.552 clause 5 (e.g. `DRB.UEThpDl`,
//! `RRU.PrbUsedDl`, `CARR.WBCQIDist`). The APER codec is [`crate::kpm_aper`].

use serde::{Deserialize, Serialize};

use crate::rc_aper::GnbUeId;

/// REPORT service style 1, "E2 Node Measurement" (clause 7.4.2): action definition format 1,
/// indication message format 1.
pub const REPORT_STYLE_NODE_MEASUREMENT: i64 = 1;
/// REPORT service style 4, "Common Condition-based, UE-level E2 Node Measurement"
/// (clause 7.4.5): action definition format 4, indication message format 3.
pub const REPORT_STYLE_UE_LEVEL_CONDITIONAL: i64 = 4;

/// S-NSSAI (TS 23.003 clause 28.4.2; TS 38.413 clause 9.3.1.24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Snssai {
    /// Slice/Service Type.
    pub sst: u8,
    /// Slice Differentiator (24 bits), when present.
    pub sd: Option<u32>,
}

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

/// E2SM-KPM-IndicationHeader, format 1.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KpmIndicationHeader {
    /// `colletStartTime`: start of the collection, NTP seconds (RFC 5905 clause 6; the
    /// spec's TimeStamp is 4 octets).
    pub collect_start_time: u32,
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
