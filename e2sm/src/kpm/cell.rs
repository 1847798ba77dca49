//! A cell's per-period report ([`CellMeasurement`]) as the E2SM-KPM indications (v02.03 or
//! v03.00) an E2 node sends for the xApp's two subscriptions, and back.
//!
//! - **Cell level** (REPORT style 1, indication message format 1, one data item):
//!   `RRU.PrbAvailDl` with `noLabel` (the carrier's PRBs) and, labelled with each slice's
//!   PLMN + S-NSSAI, the PRBs available to the slice (its quota); `RRU.PrbUsedDl` (mean PRBs
//!   per slot) and `DRB.UEThpDl` (kbit/s) per slice. TS 28.552 clauses 5.1.1.2 (PRB usage)
//!   and 5.1.1.3.1 (UE throughput), slice subcounters `.SNSSAI`.
//! - **UE level** (REPORT style 4, indication message format 3, one item per UE, the UE
//!   identified by its gNB-UEID with the RAN UE id as AMF UE NGAP ID): `DRB.UEThpDl` labelled
//!   with the UE's slice, `RRU.PrbUsedDl`, and its wide-band CQI and MCS as one-sample
//!   distributions `CARR.WBCQIDist` / `CARR.PDSCHMCSDist` whose `distBinX` is the value + 1
//!   (TS 28.552: bin i counts reports of value i - 1).
//!
//! Throughput travels in kbit/s as the spec's unit; PRB usage as REAL. The sequence number and
//! the node's clock travel in E2AP (RIC Indication SN), not in the E2SM payload: they are
//! fields of [`KpmCellIndications`]. The header's `colletStartTime` is the start of the
//! period, the node clock read as milliseconds since the Unix epoch (FlexRIC's clock is;
//! the emulated gNB's starts at 0, i.e. 1970), as the version's TimeStamp.
//!
//! The [`KpmVersion`] is a parameter of [`encode_cell_report`] and [`decode_cell_report`],
//! not a field of [`KpmCellIndications`]: on E2 it is not in the indication either, but
//! bound to the RAN function ID, whose OID the node announced at E2 SETUP (E2AP clause
//! 9.2.23). Each side holds it from there, so a decoder configured for another version than
//! the encoder used fails ([`KpmCodecError::VersionMismatch`]) instead of trusting a field
//! that the sender filled in.

use super::{
    decode_indication_header, decode_indication_message, encode_indication_header,
    encode_indication_message, KpmCodecError,
};
use super::{
    KpmIndicationHeader, KpmIndicationMessage, KpmVersion, MeasurementDataItem, MeasurementInfo,
    MeasurementLabel, MeasurementReport, MeasurementType, MeasurementValue, NtpTimestamp, Snssai,
    TimeStampForm, UeMeasurementReport,
};
use crate::common::{plmn_from_bcd, plmn_to_bcd, GnbUeId};
use crate::rc::RrmPolicyMember;
use crate::report::{CellMeasurement, SliceMeasurement, UeMeasurement};

/// Measurement names, TS 28.552.
pub mod names {
    /// Available DL PRBs (per slice: the slice's quota).
    pub const PRB_AVAIL_DL: &str = "RRU.PrbAvailDl";
    /// Used DL PRBs, mean per slot.
    pub const PRB_USED_DL: &str = "RRU.PrbUsedDl";
    /// DL UE throughput, kbit/s.
    pub const UE_THP_DL: &str = "DRB.UEThpDl";
    /// Wide-band CQI distribution.
    pub const WB_CQI_DIST: &str = "CARR.WBCQIDist";
    /// PDSCH MCS distribution.
    pub const PDSCH_MCS_DIST: &str = "CARR.PDSCHMCSDist";
}

/// The E2SM payloads of one period (plus the E2AP fields they travel with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpmCellIndications {
    /// E2AP RIC Indication SN: the report number.
    pub sequence: u64,
    /// Node clock at the end of the period, ms (E2AP-level timing of the indication).
    pub time_ms: u64,
    /// E2SM-KPM-IndicationHeader (format 1 of the version; `senderName` is the cell id).
    pub header: Vec<u8>,
    /// Cell-level E2SM-KPM-IndicationMessage (format 1).
    pub cell: Vec<u8>,
    /// UE-level E2SM-KPM-IndicationMessage (format 3); `None` when the cell has no UE.
    pub ues: Option<Vec<u8>>,
}

/// Why a pair of indications does not make a cell report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KpmCellError {
    /// The APER layer failed.
    #[error(transparent)]
    Codec(#[from] KpmCodecError),
    /// The messages decode but do not have the shape above.
    #[error("KPM report shape: {0}")]
    Shape(String),
}

fn shape(why: impl Into<String>) -> KpmCellError {
    KpmCellError::Shape(why.into())
}

fn slice_label(m: &RrmPolicyMember) -> Result<MeasurementLabel, KpmCellError> {
    let plmn = plmn_to_bcd(&m.mcc, &m.mnc).map_err(|e| shape(e.to_string()))?;
    Ok(MeasurementLabel {
        plmn: Some(plmn),
        slice: Some(Snssai {
            sst: m.sst,
            sd: m.sd,
        }),
        ..MeasurementLabel::default()
    })
}

fn member_of(label: &MeasurementLabel) -> Result<RrmPolicyMember, KpmCellError> {
    let (Some(plmn), Some(slice)) = (label.plmn, label.slice) else {
        return Err(shape("a slice measurement without PLMN and S-NSSAI labels"));
    };
    let (mcc, mnc) = plmn_from_bcd(&plmn).map_err(|e| shape(e.to_string()))?;
    Ok(RrmPolicyMember {
        mcc,
        mnc,
        sst: slice.sst,
        sd: slice.sd,
    })
}

fn info(name: &str, labels: Vec<MeasurementLabel>) -> MeasurementInfo {
    MeasurementInfo {
        meas_type: MeasurementType::Name(name.into()),
        labels,
    }
}

fn kbps(bps: f64) -> MeasurementValue {
    MeasurementValue::Integer((bps / 1e3).round().clamp(0.0, f64::from(u32::MAX)) as u32)
}

fn bin(value: u8) -> MeasurementLabel {
    MeasurementLabel {
        dist_bin_x: Some(u16::from(value) + 1),
        ..MeasurementLabel::default()
    }
}

/// Encodes one period's report as the KPM indications of `version`.
pub fn encode_cell_report(
    m: &CellMeasurement,
    version: KpmVersion,
) -> Result<KpmCellIndications, KpmCellError> {
    let start_ms = i64::try_from(m.time_ms.saturating_sub(m.period_ms))
        .map_err(|_| shape("node clock exceeds 2^63 ms"))?;
    let header = encode_indication_header(
        &KpmIndicationHeader {
            collect_start_time: NtpTimestamp::from_unix_millis(start_ms)
                .map_err(KpmCodecError::from)?,
            collect_start_time_form: TimeStampForm::Ntp,
            file_format_version: None,
            sender_name: Some(m.cell_id.clone()),
            sender_type: Some("gNB".into()),
            vendor_name: Some("Maestro".into()),
        },
        version,
    )?;
    let labels = m
        .slices
        .iter()
        .map(|s| slice_label(&s.member))
        .collect::<Result<Vec<_>, _>>()?;
    let mut avail_labels = vec![MeasurementLabel::none()];
    avail_labels.extend(labels.iter().cloned());
    let mut record = vec![MeasurementValue::Integer(u32::from(m.n_prb))];
    record.extend(
        m.slices
            .iter()
            .map(|s| MeasurementValue::Integer(u32::from(s.prb_quota))),
    );
    record.extend(m.slices.iter().map(|s| MeasurementValue::Real(s.prb_used)));
    record.extend(m.slices.iter().map(|s| kbps(s.dl_throughput_bps)));
    let period = u32::try_from(m.period_ms).map_err(|_| shape("period exceeds 2^32 ms"))?;
    let cell = encode_indication_message(&KpmIndicationMessage::Format1(MeasurementReport {
        data: vec![MeasurementDataItem {
            record,
            incomplete: false,
        }],
        info: Some(vec![
            info(names::PRB_AVAIL_DL, avail_labels),
            info(names::PRB_USED_DL, labels.clone()),
            info(names::UE_THP_DL, labels.clone()),
        ]),
        granularity_period_ms: Some(period),
    }))?;
    let mut ue_reports = Vec::new();
    for (slice, label) in m.slices.iter().zip(&labels) {
        for ue in &slice.ues {
            ue_reports.push(UeMeasurementReport {
                ue: GnbUeId {
                    amf_ue_ngap_id: u64::from(ue.ue_id),
                    ..GnbUeId::placeholder()
                },
                report: MeasurementReport {
                    data: vec![MeasurementDataItem {
                        record: vec![
                            kbps(ue.dl_throughput_bps),
                            MeasurementValue::Real(ue.prbs),
                            MeasurementValue::Integer(1),
                            MeasurementValue::Integer(1),
                        ],
                        incomplete: false,
                    }],
                    info: Some(vec![
                        info(names::UE_THP_DL, vec![label.clone()]),
                        info(names::PRB_USED_DL, vec![MeasurementLabel::none()]),
                        info(names::WB_CQI_DIST, vec![bin(ue.wb_cqi)]),
                        info(names::PDSCH_MCS_DIST, vec![bin(ue.mcs)]),
                    ]),
                    granularity_period_ms: None,
                },
            });
        }
    }
    let ues = if ue_reports.is_empty() {
        None
    } else {
        Some(encode_indication_message(&KpmIndicationMessage::Format3(
            ue_reports,
        ))?)
    };
    Ok(KpmCellIndications {
        sequence: m.sequence,
        time_ms: m.time_ms,
        header,
        cell,
        ues,
    })
}

/// The (measurement, label, value) triples of a report, in record order.
fn triples(r: &MeasurementReport) -> Result<Vec<(&str, &MeasurementLabel, f64)>, KpmCellError> {
    let Some(info) = &r.info else {
        return Err(shape("a report without its measurement info list"));
    };
    let [item] = r.data.as_slice() else {
        return Err(shape("expected exactly one measurement data item"));
    };
    let pairs: Vec<(&str, &MeasurementLabel)> = info
        .iter()
        .flat_map(|i| {
            let name = match &i.meas_type {
                MeasurementType::Name(n) => n.as_str(),
                MeasurementType::Id(_) => "",
            };
            i.labels.iter().map(move |l| (name, l))
        })
        .collect();
    if pairs.len() != item.record.len() {
        return Err(shape(format!(
            "{} measurement/label pairs but {} values",
            pairs.len(),
            item.record.len()
        )));
    }
    pairs
        .into_iter()
        .zip(&item.record)
        .map(|((name, label), v)| {
            let value = match v {
                MeasurementValue::Integer(i) => f64::from(*i),
                MeasurementValue::Real(r) if r.is_finite() => *r,
                MeasurementValue::Real(_) => return Err(shape(format!("{name}: not finite"))),
                MeasurementValue::NoValue => return Err(shape(format!("{name}: no value"))),
            };
            Ok((name, label, value))
        })
        .collect()
}

fn small(v: f64, what: &str, max: f64) -> Result<f64, KpmCellError> {
    if (0.0..=max).contains(&v) && v.fract() == 0.0 {
        Ok(v)
    } else {
        Err(shape(format!("{what} {v} out of range")))
    }
}

/// Decodes one period's indications, encoded as `version`, into a cell report.
pub fn decode_cell_report(
    ind: &KpmCellIndications,
    version: KpmVersion,
) -> Result<CellMeasurement, KpmCellError> {
    let header = decode_indication_header(&ind.header, version)?;
    let KpmIndicationMessage::Format1(cell) = decode_indication_message(&ind.cell)? else {
        return Err(shape("the cell-level indication is not format 1"));
    };
    let period_ms = u64::from(
        cell.granularity_period_ms
            .ok_or_else(|| shape("the cell-level indication has no granularity period"))?,
    );
    let mut n_prb = None;
    let mut slices: Vec<SliceMeasurement> = Vec::new();
    for (name, label, value) in triples(&cell)? {
        if name == names::PRB_AVAIL_DL && label.no_label {
            n_prb = Some(small(value, "carrier PRBs", f64::from(u16::MAX))? as u16);
            continue;
        }
        let member = member_of(label)?;
        let i = match slices.iter().position(|s| s.member == member) {
            Some(i) => i,
            None => {
                slices.push(SliceMeasurement {
                    member,
                    prb_quota: 0,
                    prb_used: 0.0,
                    dl_throughput_bps: 0.0,
                    ues: Vec::new(),
                });
                slices.len() - 1
            }
        };
        let s = &mut slices[i];
        match name {
            names::PRB_AVAIL_DL => {
                s.prb_quota = small(value, "slice PRBs", f64::from(u16::MAX))? as u16
            }
            names::PRB_USED_DL => s.prb_used = value,
            names::UE_THP_DL => s.dl_throughput_bps = value * 1e3,
            other => return Err(shape(format!("unexpected cell measurement {other:?}"))),
        }
    }
    let n_prb = n_prb.ok_or_else(|| shape("no carrier PRB count (RRU.PrbAvailDl, noLabel)"))?;
    if let Some(ues) = &ind.ues {
        let KpmIndicationMessage::Format3(ues) = decode_indication_message(ues)? else {
            return Err(shape("the UE-level indication is not format 3"));
        };
        for u in &ues {
            let ue_id = u32::try_from(u.ue.amf_ue_ngap_id)
                .map_err(|_| shape("RAN UE id exceeds 32 bits"))?;
            let mut ue = UeMeasurement {
                ue_id,
                wb_cqi: 0,
                mcs: 0,
                prbs: 0.0,
                dl_throughput_bps: 0.0,
            };
            let mut member = None;
            for (name, label, value) in triples(&u.report)? {
                let bin_value = || -> Result<u8, KpmCellError> {
                    let b = label
                        .dist_bin_x
                        .ok_or_else(|| shape(format!("{name} without distBinX")))?;
                    u8::try_from(b - 1).map_err(|_| shape(format!("{name} bin {b}")))
                };
                match name {
                    names::UE_THP_DL => {
                        ue.dl_throughput_bps = value * 1e3;
                        member = Some(member_of(label)?);
                    }
                    names::PRB_USED_DL => ue.prbs = value,
                    names::WB_CQI_DIST => ue.wb_cqi = bin_value()?,
                    names::PDSCH_MCS_DIST => ue.mcs = bin_value()?,
                    other => return Err(shape(format!("unexpected UE measurement {other:?}"))),
                }
            }
            if ue.wb_cqi > 15 {
                return Err(shape(format!("UE {ue_id}: CQI {} > 15", ue.wb_cqi)));
            }
            let member = member.ok_or_else(|| shape(format!("UE {ue_id} has no slice")))?;
            let slice = slices
                .iter_mut()
                .find(|s| s.member == member)
                .ok_or_else(|| shape(format!("UE {ue_id} is in an unreported slice")))?;
            slice.ues.push(ue);
        }
    }
    Ok(CellMeasurement {
        sequence: ind.sequence,
        time_ms: ind.time_ms,
        period_ms,
        cell_id: header.sender_name.unwrap_or_default(),
        n_prb,
        slices,
    })
}
