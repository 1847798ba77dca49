//! Hand-written ALIGNED PER codec of the E2SM-KPM indication header format 1 (v02.03 and
//! v03.00, which differ in the size of its TimeStamp) and indication message formats 1 and
//! 3 (the same in both) ([`crate::kpm`]), built on [`crate::per`].
//!
//! Same API, checks and errors as the rasn reference (`kpm::reference`), field by
//! field from `asn1/e2sm-kpm-subset.asn` (the comments give the ASN.1 of each step), with
//! one addition: `MeasurementRecordItem.real` is encoded and decoded (X.691 clause 15, the
//! X.690 clause 8.5 CER/DER binary form, see [`crate::per::real_contents`]), which rasn's
//! APER codec cannot do.
//!
//! Differences in what is accepted, none of which affects valid messages:
//! * unknown extension additions of SEQUENCEs are skipped and unknown extension
//!   alternatives/values of CHOICEs and ENUMERATEDs are errors, as in the reference;
//! * conversion errors (e.g. a UEID other than gNB-UEID) are reported where they occur,
//!   while the reference reports a later APER error first;
//! * lengths of 16K or more are only supported for the open type that carries format 3
//!   (fragmented, X.691 clause 11.9.3.8); a 16K-character PrintableString is refused.

use super::{
    diagnose_header_version, KpmCodecError, KpmIndicationHeader, KpmIndicationMessage, KpmVersion,
    MeasurementDataItem, MeasurementInfo, MeasurementLabel, MeasurementReport, MeasurementType,
    MeasurementValue, NtpTimestamp, StartEnd, UeMeasurementReport, MAX_MESSAGE_LEN,
};
use crate::common::{read_ueid, write_ueid_gnb, GnbUeId, Plmn, RawGnbUeId, Snssai};
use crate::per::{is_printable, PerError, PerReader, PerWriter};

type Result<T> = std::result::Result<T, KpmCodecError>;

fn invalid(what: impl Into<String>) -> KpmCodecError {
    KpmCodecError::Invalid(what.into())
}

fn malformed(e: PerError) -> KpmCodecError {
    KpmCodecError::Malformed(e.to_string())
}

fn encode_error(e: PerError) -> KpmCodecError {
    KpmCodecError::Encode(e.to_string())
}

fn check_len(bytes: &[u8]) -> Result<()> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(KpmCodecError::TooLong {
            len: bytes.len(),
            max: MAX_MESSAGE_LEN,
        });
    }
    Ok(())
}

/// `ub - lb` of INTEGER (1..4294967295) (GranularityPeriod).
const SPAN_1_U32: u64 = 4_294_967_294;
/// `ub` of maxnoofLabelInfo and maxnoofMeasurementValue: 64K or more, so their lengths are
/// unconstrained length determinants (X.691 clause 11.9.4.2).
const MAX_2_31: Option<usize> = Some(2_147_483_647);
/// `ub` of maxnoofMeasurementInfo, maxnoofMeasurementRecord, maxnoofUEMeasReport.
const MAX_65535: Option<usize> = Some(65535);

// =========================================================================================
// PrintableString with an extensible size constraint
// =========================================================================================

fn check_printable(s: &str) -> Result<()> {
    if s.bytes().all(is_printable) {
        Ok(())
    } else {
        Err(invalid(format!(
            "{s:?} is not a PrintableString (X.680 clause 41.4)"
        )))
    }
}

/// `PrintableString (SIZE(lb..ub, ...))`: extension bit 0 and the root encoding when the
/// length is within the root, else extension bit 1 and the encoding without size
/// constraint (X.691 clause 30.5.3 -> 11.9.4.2).
fn write_ext_printable(w: &mut PerWriter, s: &str, lb: usize, ub: usize) -> Result<()> {
    let b = s.as_bytes();
    let in_root = (lb..=ub).contains(&b.len());
    w.extension_bit(!in_root);
    let r = if in_root {
        w.printable_string(b, lb, Some(ub))
    } else {
        w.printable_string(b, 0, None)
    };
    r.map_err(encode_error)
}

fn read_ext_printable(
    r: &mut PerReader<'_>,
    lb: usize,
    ub: usize,
) -> std::result::Result<String, PerError> {
    let s = if r.extension_bit()? {
        r.printable_string(0, None)?
    } else {
        r.printable_string(lb, Some(ub))?
    };
    // PrintableString characters are ASCII, hence UTF-8.
    String::from_utf8(s.into_owned())
        .map_err(|_| PerError::Invalid(&"PrintableString with a non-ASCII octet"))
}

// =========================================================================================
// Indication header
// =========================================================================================

/// Encodes an E2SM-KPM-IndicationHeader format 1 of `version` (clause 8.2.1.3; the
/// TimeStamp of clause 8.3.12 in the header's form, see [`NtpTimestamp::to_time_stamp`]).
pub fn encode_indication_header(
    header: &KpmIndicationHeader,
    version: KpmVersion,
) -> Result<Vec<u8>> {
    let strings = [
        (&header.file_format_version, 15),
        (&header.sender_name, 400),
        (&header.sender_type, 8),
        (&header.vendor_name, 32),
    ];
    for (s, _) in &strings {
        if let Some(s) = s {
            check_printable(s)?;
        }
    }
    let time = header
        .collect_start_time
        .to_time_stamp(header.collect_start_time_form, version)?;
    let mut w = PerWriter::with_capacity(16);
    // E2SM-KPM-IndicationHeader ::= SEQUENCE { indicationHeader-formats CHOICE {
    //     indicationHeader-Format1, ... }, ... }: two extension bits, no index.
    w.bits(0, 2);
    // E2SM-KPM-IndicationHeader-Format1 ::= SEQUENCE { colletStartTime TimeStamp,
    //     fileFormatversion, senderName, senderType, vendorName (all OPTIONAL), ... }
    w.extension_bit(false);
    for (s, _) in &strings {
        w.bit(s.is_some());
    }
    // TimeStamp ::= OCTET STRING (SIZE(4)) in v02.03, (SIZE(8)) in v03.00: a fixed size
    // above two octets, so octet-aligned with no length (X.691 clause 17.7).
    w.aligned_octets(time.as_bytes());
    for (s, ub) in strings {
        if let Some(s) = s {
            write_ext_printable(&mut w, s, 0, ub)?;
        }
    }
    Ok(w.finish())
}

/// Decodes an E2SM-KPM-IndicationHeader (format 1) of `version`. Bytes that are a header of
/// the other version give [`KpmCodecError::VersionMismatch`].
pub fn decode_indication_header(bytes: &[u8], version: KpmVersion) -> Result<KpmIndicationHeader> {
    check_len(bytes)?;
    diagnose_header_version(bytes, version, |b, v| {
        read_indication_header(&mut PerReader::new(b), v)
    })
}

fn read_indication_header(
    r: &mut PerReader<'_>,
    version: KpmVersion,
) -> Result<KpmIndicationHeader> {
    let ext = r.extension_bit().map_err(malformed)?;
    if r.extension_bit().map_err(malformed)? {
        return Err(malformed(PerError::Invalid(
            &"E2SM-KPM-IndicationHeader: unknown format (extension alternative)",
        )));
    }
    let f1_ext = r.extension_bit().map_err(malformed)?;
    let present = r.bits(4).map_err(malformed)?;
    let t = r
        .aligned_octets(version.timestamp_octets())
        .map_err(malformed)?;
    let (collect_start_time, collect_start_time_form) = NtpTimestamp::from_time_stamp(t, version)?;
    let mut text = |bit: u64, ub: usize| -> std::result::Result<Option<String>, PerError> {
        if present & bit != 0 {
            read_ext_printable(r, 0, ub).map(Some)
        } else {
            Ok(None)
        }
    };
    let file_format_version = text(0b1000, 15).map_err(malformed)?;
    let sender_name = text(0b0100, 400).map_err(malformed)?;
    let sender_type = text(0b0010, 8).map_err(malformed)?;
    let vendor_name = text(0b0001, 32).map_err(malformed)?;
    if f1_ext {
        r.skip_sequence_extensions().map_err(malformed)?;
    }
    if ext {
        r.skip_sequence_extensions().map_err(malformed)?;
    }
    r.finish().map_err(malformed)?;
    Ok(KpmIndicationHeader {
        collect_start_time,
        collect_start_time_form,
        file_format_version,
        sender_name,
        sender_type,
        vendor_name,
    })
}

// =========================================================================================
// Indication message: encode
// =========================================================================================

/// Encodes an E2SM-KPM-IndicationMessage (format 1 or 3), REAL values included.
pub fn encode_indication_message(msg: &KpmIndicationMessage) -> Result<Vec<u8>> {
    // E2SM-KPM-IndicationMessage ::= SEQUENCE { indicationMessage-formats CHOICE {
    //     indicationMessage-Format1, indicationMessage-Format2, ..., indicationMessage-Format3
    // }, ... }
    match msg {
        KpmIndicationMessage::Format1(report) => {
            let mut w = PerWriter::with_capacity(64);
            // SEQUENCE extension bit, CHOICE extension bit, root index 0 of 2 (1 bit).
            w.bits(0, 3);
            write_report(&mut w, report)?;
            Ok(w.finish())
        }
        KpmIndicationMessage::Format3(ues) => {
            if ues.is_empty() {
                return Err(invalid("ueMeasReportList needs at least one UE"));
            }
            // Format 3 is an extension alternative: its complete encoding goes in an open
            // type (X.691 clause 23.8) after its normally small index 0.
            let mut w = PerWriter::with_capacity(16 + 48 * ues.len());
            w.extension_bit(false);
            w.extension_bit(true);
            w.normally_small_number(0).map_err(encode_error)?;
            w.open_type_with(|inner| {
                // E2SM-KPM-IndicationMessage-Format3 ::= SEQUENCE { ueMeasReportList
                //     SEQUENCE (SIZE(1..65535)) OF UEMeasurementReportItem, ... }
                inner.extension_bit(false);
                inner
                    .length(ues.len(), 1, MAX_65535)
                    .map_err(encode_error)?;
                for ue in ues {
                    // UEMeasurementReportItem ::= SEQUENCE { ueID UEID, measReport
                    //     E2SM-KPM-IndicationMessage-Format1, ... }
                    inner.extension_bit(false);
                    write_ueid_gnb(inner, &raw_ue_id(&ue.ue)?);
                    write_report(inner, &ue.report)?;
                }
                Ok::<(), KpmCodecError>(())
            })?;
            Ok(w.finish())
        }
    }
}

/// The gNB-UEID as on the wire, with the checks of the reference.
fn raw_ue_id(ue: &GnbUeId) -> Result<RawGnbUeId> {
    ue.check().map_err(KpmCodecError::Invalid)?;
    let plmn = ue.plmn.bcd();
    Ok(RawGnbUeId {
        amf_ue_ngap_id: ue.amf_ue_ngap_id,
        plmn,
        amf_region_id: ue.amf_region_id,
        amf_set_id: ue.amf_set_id,
        amf_pointer: ue.amf_pointer,
    })
}

/// E2SM-KPM-IndicationMessage-Format1 ::= SEQUENCE { measData MeasurementData,
/// measInfoList MeasurementInfoList OPTIONAL, granulPeriod GranularityPeriod OPTIONAL, ... }
fn write_report(w: &mut PerWriter, r: &MeasurementReport) -> Result<()> {
    if r.data.is_empty() {
        return Err(invalid("measData needs at least one item"));
    }
    w.extension_bit(false);
    w.bit(r.info.is_some());
    w.bit(r.granularity_period_ms.is_some());
    // MeasurementData ::= SEQUENCE (SIZE(1..65535)) OF MeasurementDataItem
    w.length(r.data.len(), 1, MAX_65535).map_err(encode_error)?;
    for item in &r.data {
        if item.record.is_empty() {
            return Err(invalid("measRecord needs at least one value"));
        }
        // MeasurementDataItem ::= SEQUENCE { measRecord MeasurementRecord, incompleteFlag
        //     ENUMERATED { true, ... } OPTIONAL, ... }
        w.extension_bit(false);
        w.bit(item.incomplete);
        // MeasurementRecord ::= SEQUENCE (SIZE(1..2147483647)) OF MeasurementRecordItem
        w.length(item.record.len(), 1, MAX_2_31)
            .map_err(encode_error)?;
        for v in &item.record {
            // MeasurementRecordItem ::= CHOICE { integer INTEGER (0..4294967295), real REAL,
            //     noValue NULL, ... }: extension bit, 2-bit index.
            match v {
                MeasurementValue::Integer(i) => {
                    w.bits(0b0_00, 3);
                    w.whole_number_u32(*i);
                }
                MeasurementValue::Real(x) => {
                    w.bits(0b0_01, 3);
                    w.real(*x).map_err(encode_error)?;
                }
                MeasurementValue::NoValue => w.bits(0b0_10, 3),
            }
        }
        if item.incomplete {
            w.enumerated(0, 1, true);
        }
    }
    if r.granularity_period_ms == Some(0) {
        return Err(invalid("granulPeriod must be at least 1 ms"));
    }
    if let Some(info) = &r.info {
        write_info_list(w, info)?;
    }
    if let Some(p) = r.granularity_period_ms {
        // GranularityPeriod ::= INTEGER (1..4294967295): indefinite-length case (11.5.7.4).
        w.constrained_whole_number(u64::from(p) - 1, SPAN_1_U32);
    }
    Ok(())
}

/// MeasurementInfoList ::= SEQUENCE (SIZE(1..65535)) OF MeasurementInfoItem
fn write_info_list(w: &mut PerWriter, info: &[MeasurementInfo]) -> Result<()> {
    if info.is_empty() {
        return Err(invalid("measInfoList needs at least one measurement"));
    }
    w.length(info.len(), 1, MAX_65535).map_err(encode_error)?;
    for m in info {
        match &m.meas_type {
            MeasurementType::Name(n) => {
                if n.is_empty() {
                    return Err(invalid("measName must not be empty"));
                }
                check_printable(n)?;
            }
            MeasurementType::Id(0) => return Err(invalid("measID must be at least 1")),
            MeasurementType::Id(_) => {}
        }
        if m.labels.is_empty() {
            return Err(invalid("labelInfoList needs at least one label"));
        }
        // MeasurementInfoItem ::= SEQUENCE { measType MeasurementType, labelInfoList, ... }
        w.extension_bit(false);
        // MeasurementType ::= CHOICE { measName, measID, ... }
        match &m.meas_type {
            MeasurementType::Name(n) => {
                w.bits(0b0_0, 2);
                // MeasurementTypeName ::= PrintableString (SIZE(1..150, ...))
                write_ext_printable(w, n, 1, 150)?;
            }
            MeasurementType::Id(id) => {
                w.bits(0b0_1, 2);
                // MeasurementTypeID ::= INTEGER (1..65536, ...)
                if *id <= 65536 {
                    w.extension_bit(false);
                    w.constrained_whole_number(u64::from(*id) - 1, 65535);
                } else {
                    w.extension_bit(true);
                    w.unconstrained_whole_number(i64::from(*id))
                        .map_err(encode_error)?;
                }
            }
        }
        // LabelInfoList ::= SEQUENCE (SIZE(1..2147483647)) OF LabelInfoItem
        w.length(m.labels.len(), 1, MAX_2_31)
            .map_err(encode_error)?;
        for l in &m.labels {
            // LabelInfoItem ::= SEQUENCE { measLabel MeasurementLabel, ... }
            w.extension_bit(false);
            write_label(w, l)?;
        }
    }
    Ok(())
}

/// An extensible constrained INTEGER `lb..=ub, ...` with a root value.
fn write_ext_int(w: &mut PerWriter, v: u64, lb: u64, ub: u64) {
    w.extension_bit(false);
    w.constrained_whole_number(v - lb, ub - lb);
}

/// MeasurementLabel ::= SEQUENCE { 21 OPTIONAL fields, ... }
fn write_label(w: &mut PerWriter, l: &MeasurementLabel) -> Result<()> {
    if l.qfi.is_some_and(|q| q > 63) {
        return Err(invalid("qFI exceeds 63"));
    }
    if l.arp_max.is_some_and(|a| !(1..=15).contains(&a))
        || l.arp_min.is_some_and(|a| !(1..=15).contains(&a))
    {
        return Err(invalid("aRPmax/aRPmin must be within 1..15"));
    }
    if let Some(sd) = l.slice.and_then(|s| s.sd).filter(|sd| *sd >= 1 << 24) {
        return Err(invalid(format!("SD {sd:#x} exceeds 24 bits")));
    }
    for (v, what) in [
        (l.bitrate_range, "bitrateRange"),
        (l.layer_mu_mimo, "layerMU-MIMO"),
        (l.dist_bin_x, "distBinX"),
        (l.dist_bin_y, "distBinY"),
        (l.dist_bin_z, "distBinZ"),
    ] {
        if v == Some(0) {
            return Err(invalid(format!("{what} must be at least 1")));
        }
    }
    w.extension_bit(false);
    let presence = [
        l.no_label,
        l.plmn.is_some(),
        l.slice.is_some(),
        l.five_qi.is_some(),
        l.qfi.is_some(),
        l.qci.is_some(),
        l.qci_max.is_some(),
        l.qci_min.is_some(),
        l.arp_max.is_some(),
        l.arp_min.is_some(),
        l.bitrate_range.is_some(),
        l.layer_mu_mimo.is_some(),
        l.sum,
        l.dist_bin_x.is_some(),
        l.dist_bin_y.is_some(),
        l.dist_bin_z.is_some(),
        l.pre_label_override,
        l.start_end.is_some(),
        l.min,
        l.max,
        l.avg,
    ];
    let bitmap = presence
        .iter()
        .fold(0u64, |acc, p| (acc << 1) | u64::from(*p));
    w.bits(bitmap, 21);
    // ENUMERATED { true, ... }: the extension bit only (one root value, 14.2 / 11.5.4).
    let flag = |w: &mut PerWriter, on: bool| {
        if on {
            w.enumerated(0, 1, true);
        }
    };
    flag(w, l.no_label);
    if let Some(p) = l.plmn {
        // PLMNIdentity ::= OCTET STRING (SIZE(3))
        w.aligned_octets(&p);
    }
    if let Some(s) = l.slice {
        // S-NSSAI ::= SEQUENCE { sST OCTET STRING (SIZE(1)), sD OCTET STRING (SIZE(3))
        //     OPTIONAL, ... }
        w.extension_bit(false);
        w.bit(s.sd.is_some());
        w.bits(u64::from(s.sst), 8);
        if let Some(sd) = s.sd {
            let [_, a, b, c] = sd.to_be_bytes();
            w.aligned_octets(&[a, b, c]);
        }
    }
    // FiveQI ::= INTEGER (0..255, ...); QosFlowIdentifier ::= INTEGER (0..63, ...);
    // QCI ::= INTEGER (0..255, ...); aRP INTEGER (1..15, ...); others (1..65535, ...)
    let small = [
        (l.five_qi, 0, 255),
        (l.qfi, 0, 63),
        (l.qci, 0, 255),
        (l.qci_max, 0, 255),
        (l.qci_min, 0, 255),
        (l.arp_max, 1, 15),
        (l.arp_min, 1, 15),
    ];
    for (v, lb, ub) in small {
        if let Some(v) = v {
            write_ext_int(w, u64::from(v), lb, ub);
        }
    }
    for v in [l.bitrate_range, l.layer_mu_mimo].into_iter().flatten() {
        write_ext_int(w, u64::from(v), 1, 65535);
    }
    flag(w, l.sum);
    for v in [l.dist_bin_x, l.dist_bin_y, l.dist_bin_z]
        .into_iter()
        .flatten()
    {
        write_ext_int(w, u64::from(v), 1, 65535);
    }
    flag(w, l.pre_label_override);
    if let Some(s) = l.start_end {
        // ENUMERATED { start, end, ... }
        w.enumerated(u64::from(s == StartEnd::End), 2, true);
    }
    flag(w, l.min);
    flag(w, l.max);
    flag(w, l.avg);
    Ok(())
}

// =========================================================================================
// Indication message: decode
// =========================================================================================

/// Decodes an E2SM-KPM-IndicationMessage (format 1 or 3), REAL values included.
pub fn decode_indication_message(bytes: &[u8]) -> Result<KpmIndicationMessage> {
    check_len(bytes)?;
    let mut r = PerReader::new(bytes);
    let ext = r.extension_bit().map_err(malformed)?;
    let msg = if !r.extension_bit().map_err(malformed)? {
        match r.constrained_whole_number(1).map_err(malformed)? {
            0 => Some(KpmIndicationMessage::Format1(read_report(&mut r)?)),
            _ => {
                // indicationMessage-Format2: KPM-Format-Placeholder ::= SEQUENCE { ... }
                if r.extension_bit().map_err(malformed)? {
                    r.skip_sequence_extensions().map_err(malformed)?;
                }
                None
            }
        }
    } else {
        let index = r.normally_small_number().map_err(malformed)?;
        let open = r.open_type().map_err(malformed)?;
        if index != 0 {
            return Err(malformed(PerError::Invalid(
                &"E2SM-KPM-IndicationMessage: unknown format (extension alternative)",
            )));
        }
        let mut inner = PerReader::new(&open);
        let ues = read_format3(&mut inner)?;
        inner.finish().map_err(malformed)?;
        Some(KpmIndicationMessage::Format3(ues))
    };
    if ext {
        r.skip_sequence_extensions().map_err(malformed)?;
    }
    r.finish().map_err(malformed)?;
    msg.ok_or_else(|| KpmCodecError::Unsupported("indication message format 2".into()))
}

fn read_format3(r: &mut PerReader<'_>) -> Result<Vec<UeMeasurementReport>> {
    let ext = r.extension_bit().map_err(malformed)?;
    let n = r.length(1, MAX_65535).map_err(malformed)?;
    let mut ues = Vec::with_capacity(n.min(r.remaining_bits() / 64 + 1));
    for _ in 0..n {
        let item_ext = r.extension_bit().map_err(malformed)?;
        let Some(raw) = read_ueid(r).map_err(malformed)? else {
            return Err(KpmCodecError::Unsupported(
                "UEID alternatives other than gNB-UEID".into(),
            ));
        };
        let plmn = Plmn::from_octets(&raw.plmn).map_err(|e| invalid(format!("GUAMI PLMN: {e}")))?;
        let ue = GnbUeId {
            amf_ue_ngap_id: raw.amf_ue_ngap_id,
            plmn,
            amf_region_id: raw.amf_region_id,
            amf_set_id: raw.amf_set_id,
            amf_pointer: raw.amf_pointer,
        };
        let report = read_report(r)?;
        if item_ext {
            r.skip_sequence_extensions().map_err(malformed)?;
        }
        ues.push(UeMeasurementReport { ue, report });
    }
    if ext {
        r.skip_sequence_extensions().map_err(malformed)?;
    }
    Ok(ues)
}

/// An extension value of an ENUMERATED is not one this subset knows.
fn known_enum(v: std::result::Result<u64, u64>) -> std::result::Result<u64, PerError> {
    v.map_err(|_| PerError::Invalid(&"unknown ENUMERATED extension value"))
}

fn read_report(r: &mut PerReader<'_>) -> Result<MeasurementReport> {
    let ext = r.extension_bit().map_err(malformed)?;
    let has_info = r.bit().map_err(malformed)?;
    let has_period = r.bit().map_err(malformed)?;
    let n = r.length(1, MAX_65535).map_err(malformed)?;
    let mut data = Vec::with_capacity(n.min(r.remaining_bits() / 16 + 1));
    for _ in 0..n {
        data.push(read_data_item(r).map_err(malformed)?);
    }
    let info = if has_info {
        Some(read_info_list(r)?)
    } else {
        None
    };
    let granularity_period_ms = if has_period {
        Some((r.constrained_whole_number(SPAN_1_U32).map_err(malformed)? + 1) as u32)
    } else {
        None
    };
    if ext {
        r.skip_sequence_extensions().map_err(malformed)?;
    }
    Ok(MeasurementReport {
        data,
        info,
        granularity_period_ms,
    })
}

fn read_data_item(r: &mut PerReader<'_>) -> std::result::Result<MeasurementDataItem, PerError> {
    let ext = r.extension_bit()?;
    let incomplete = r.bit()?;
    let n = r.length(1, MAX_2_31)?;
    let mut record = Vec::with_capacity(n.min(r.remaining_bits() / 3 + 1));
    for _ in 0..n {
        if r.extension_bit()? {
            return Err(PerError::Invalid(
                &"MeasurementRecordItem: unknown extension alternative",
            ));
        }
        record.push(match r.constrained_whole_number(2)? {
            0 => MeasurementValue::Integer(r.whole_number_u32()?),
            1 => MeasurementValue::Real(r.real()?),
            _ => MeasurementValue::NoValue,
        });
    }
    if incomplete {
        known_enum(r.enumerated(1, true)?)?;
    }
    if ext {
        r.skip_sequence_extensions()?;
    }
    Ok(MeasurementDataItem { record, incomplete })
}

fn read_info_list(r: &mut PerReader<'_>) -> Result<Vec<MeasurementInfo>> {
    let n = r.length(1, MAX_65535).map_err(malformed)?;
    let mut info = Vec::with_capacity(n.min(r.remaining_bits() / 16 + 1));
    for _ in 0..n {
        let ext = r.extension_bit().map_err(malformed)?;
        if r.extension_bit().map_err(malformed)? {
            return Err(malformed(PerError::Invalid(
                &"MeasurementType: unknown extension alternative",
            )));
        }
        let meas_type = if r.bit().map_err(malformed)? {
            if r.extension_bit().map_err(malformed)? {
                let v = r.unconstrained_whole_number();
                let id = match v {
                    Ok(v) => u32::try_from(v).ok(),
                    Err(PerError::IntegerTooLarge { .. }) => None,
                    Err(e) => return Err(malformed(e)),
                };
                MeasurementType::Id(id.ok_or_else(|| invalid("measID out of range"))?)
            } else {
                MeasurementType::Id(
                    r.constrained_whole_number(65535).map_err(malformed)? as u32 + 1,
                )
            }
        } else {
            MeasurementType::Name(read_ext_printable(r, 1, 150).map_err(malformed)?)
        };
        let n_labels = r.length(1, MAX_2_31).map_err(malformed)?;
        let mut labels = Vec::with_capacity(n_labels.min(r.remaining_bits() / 24 + 1));
        for _ in 0..n_labels {
            let item_ext = r.extension_bit().map_err(malformed)?;
            labels.push(read_label(r)?);
            if item_ext {
                r.skip_sequence_extensions().map_err(malformed)?;
            }
        }
        if ext {
            r.skip_sequence_extensions().map_err(malformed)?;
        }
        info.push(MeasurementInfo { meas_type, labels });
    }
    Ok(info)
}

/// An extensible constrained INTEGER `lb..=ub, ...`, converted like the reference converts
/// rasn's `Integer` (`what out of range` when it does not fit `T`).
fn read_ext_int<T: TryFrom<i64>>(r: &mut PerReader<'_>, lb: u64, ub: u64, what: &str) -> Result<T> {
    let v = if r.extension_bit().map_err(malformed)? {
        match r.unconstrained_whole_number() {
            Ok(v) => Some(v),
            Err(PerError::IntegerTooLarge { .. }) => None,
            Err(e) => return Err(malformed(e)),
        }
    } else {
        Some((lb + r.constrained_whole_number(ub - lb).map_err(malformed)?) as i64)
    };
    v.and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| invalid(format!("{what} out of range")))
}

fn read_label(r: &mut PerReader<'_>) -> Result<MeasurementLabel> {
    let ext = r.extension_bit().map_err(malformed)?;
    let bitmap = r.bits(21).map_err(malformed)?;
    let has = |i: u32| bitmap & (1 << (20 - i)) != 0;
    let flag = |r: &mut PerReader<'_>, i: u32| -> Result<bool> {
        if has(i) {
            known_enum(r.enumerated(1, true).map_err(malformed)?).map_err(malformed)?;
            Ok(true)
        } else {
            Ok(false)
        }
    };
    let mut l = MeasurementLabel {
        no_label: flag(r, 0)?,
        ..MeasurementLabel::default()
    };
    if has(1) {
        let p = r.aligned_octets(3).map_err(malformed)?;
        l.plmn = Some([p[0], p[1], p[2]]);
    }
    if has(2) {
        let e = r.extension_bit().map_err(malformed)?;
        let has_sd = r.bit().map_err(malformed)?;
        let sst = r.bits(8).map_err(malformed)? as u8;
        let sd = if has_sd {
            let o = r.aligned_octets(3).map_err(malformed)?;
            Some(u32::from_be_bytes([0, o[0], o[1], o[2]]))
        } else {
            None
        };
        if e {
            r.skip_sequence_extensions().map_err(malformed)?;
        }
        l.slice = Some(Snssai { sst, sd });
    }
    let opt_u8 = |r: &mut PerReader<'_>, i: u32, lb: u64, ub: u64, what: &str| {
        if has(i) {
            read_ext_int::<u8>(r, lb, ub, what).map(Some)
        } else {
            Ok(None)
        }
    };
    l.five_qi = opt_u8(r, 3, 0, 255, "fiveQI")?;
    l.qfi = opt_u8(r, 4, 0, 63, "qFI")?;
    l.qci = opt_u8(r, 5, 0, 255, "qCI")?;
    l.qci_max = opt_u8(r, 6, 0, 255, "qCImax")?;
    l.qci_min = opt_u8(r, 7, 0, 255, "qCImin")?;
    l.arp_max = opt_u8(r, 8, 1, 15, "aRPmax")?;
    l.arp_min = opt_u8(r, 9, 1, 15, "aRPmin")?;
    let opt_u16 = |r: &mut PerReader<'_>, i: u32, what: &str| {
        if has(i) {
            read_ext_int::<u16>(r, 1, 65535, what).map(Some)
        } else {
            Ok(None)
        }
    };
    l.bitrate_range = opt_u16(r, 10, "bitrateRange")?;
    l.layer_mu_mimo = opt_u16(r, 11, "layerMU-MIMO")?;
    l.sum = flag(r, 12)?;
    l.dist_bin_x = opt_u16(r, 13, "distBinX")?;
    l.dist_bin_y = opt_u16(r, 14, "distBinY")?;
    l.dist_bin_z = opt_u16(r, 15, "distBinZ")?;
    l.pre_label_override = flag(r, 16)?;
    if has(17) {
        let v = known_enum(r.enumerated(2, true).map_err(malformed)?).map_err(malformed)?;
        l.start_end = Some(if v == 0 {
            StartEnd::Start
        } else {
            StartEnd::End
        });
    }
    l.min = flag(r, 18)?;
    l.max = flag(r, 19)?;
    l.avg = flag(r, 20)?;
    if ext {
        r.skip_sequence_extensions().map_err(malformed)?;
    }
    Ok(l)
}
