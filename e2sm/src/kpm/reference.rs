//! The rasn reference codec of E2SM-KPM (feature `reference`), on the rasn types that
//! `rasn-compiler` generates from `asn1/e2sm-kpm-subset.asn` (with
//! `asn1/e2sm-common-subset.asn`) at build time: the indication functions of
//! [`crate::kpm`] (the reference of [`super::codec`] in the tests,
//! `tests/kpm_per_differential.rs`; no REAL), and the event trigger and action definition,
//! which have no hand-written codec yet and are re-exported by [`crate::kpm`].

use rasn::types::{FixedBitString, FixedOctetString, Integer, PrintableString};

use super::{
    diagnose_header_version, ActionDefinitionFormat, KpmActionDefinition, KpmCodecError,
    KpmEventTrigger, KpmIndicationHeader, KpmIndicationMessage, KpmVersion, MeasurementDataItem,
    MeasurementInfo, MeasurementLabel, MeasurementReport, MeasurementType, MeasurementValue, NrCgi,
    NtpTimestamp, Result, Snssai, StartEnd, SubscriptionInfo, TestCondKind, TestCondition,
    TestExpression, TestValue, UeMeasurementReport, MAX_MESSAGE_LEN,
};
use crate::common::reference::kpm as g;
use crate::common::reference::{get_bits, gnb_ueid_from_asn, gnb_ueid_to_asn, set_bits};
use crate::common::GnbUeId;

fn invalid(what: impl Into<String>) -> KpmCodecError {
    KpmCodecError::Invalid(what.into())
}

fn encode<T: rasn::Encode>(pdu: &T) -> Result<Vec<u8>> {
    rasn::aper::encode(pdu).map_err(|e| KpmCodecError::Encode(e.to_string()))
}

fn decode<T: rasn::Decode>(bytes: &[u8]) -> Result<T> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(KpmCodecError::TooLong {
            len: bytes.len(),
            max: MAX_MESSAGE_LEN,
        });
    }
    rasn::aper::decode(bytes).map_err(|e| {
        let text = e.to_string();
        if text.contains("REAL") || text.contains("Real") || text.contains("real") {
            KpmCodecError::Real
        } else {
            KpmCodecError::Malformed(text)
        }
    })
}

// ---------------------------------------------------------------------------------------
// Event trigger and action definition
// ---------------------------------------------------------------------------------------

/// Encodes an E2SM-KPM-EventTriggerDefinition format 1.
pub fn encode_event_trigger(trigger: &KpmEventTrigger) -> Result<Vec<u8>> {
    if trigger.reporting_period_ms == 0 {
        return Err(invalid("reportingPeriod must be at least 1 ms"));
    }
    encode(&g::E2SMKPMEventTriggerDefinition::new(
        g::E2SMKPMEventTriggerDefinitionEventDefinitionFormats::eventDefinition_Format1(
            g::E2SMKPMEventTriggerDefinitionFormat1::new(trigger.reporting_period_ms),
        ),
    ))
}

/// Decodes an E2SM-KPM-EventTriggerDefinition.
pub fn decode_event_trigger(bytes: &[u8]) -> Result<KpmEventTrigger> {
    let pdu: g::E2SMKPMEventTriggerDefinition = decode(bytes)?;
    let g::E2SMKPMEventTriggerDefinitionEventDefinitionFormats::eventDefinition_Format1(f1) =
        pdu.event_definition_formats;
    Ok(KpmEventTrigger {
        reporting_period_ms: f1.reporting_period,
    })
}

/// Encodes an E2SM-KPM-ActionDefinition (format 1 or 4).
pub fn encode_action_definition(def: &KpmActionDefinition) -> Result<Vec<u8>> {
    let format = match &def.format {
        ActionDefinitionFormat::Format1(sub) => {
            g::E2SMKPMActionDefinitionActionDefinitionFormats::actionDefinition_Format1(
                subscription_to_asn(sub)?,
            )
        }
        ActionDefinitionFormat::Format4 {
            ue_conditions,
            subscription,
        } => {
            if ue_conditions.is_empty() {
                return Err(invalid("matchingUeCondList needs at least one condition"));
            }
            let conds = ue_conditions
                .iter()
                .map(|c| test_condition_to_asn(c).map(g::MatchingUeCondPerSubItem::new))
                .collect::<Result<Vec<_>>>()?;
            g::E2SMKPMActionDefinitionActionDefinitionFormats::actionDefinition_Format4(
                g::E2SMKPMActionDefinitionFormat4::new(
                    g::MatchingUeCondPerSubList(conds),
                    subscription_to_asn(subscription)?,
                ),
            )
        }
    };
    encode(&g::E2SMKPMActionDefinition::new(
        g::RICStyleType(Integer::from(def.style)),
        format,
    ))
}

/// Decodes an E2SM-KPM-ActionDefinition (format 1 or 4).
pub fn decode_action_definition(bytes: &[u8]) -> Result<KpmActionDefinition> {
    let pdu: g::E2SMKPMActionDefinition = decode(bytes)?;
    let style = i64::try_from(&pdu.ric_style_type.0)
        .map_err(|_| invalid("RIC Style Type does not fit in 64 bits"))?;
    let format = match pdu.action_definition_formats {
        g::E2SMKPMActionDefinitionActionDefinitionFormats::actionDefinition_Format1(f1) => {
            ActionDefinitionFormat::Format1(subscription_from_asn(f1)?)
        }
        g::E2SMKPMActionDefinitionActionDefinitionFormats::actionDefinition_Format4(f4) => {
            ActionDefinitionFormat::Format4 {
                ue_conditions: f4
                    .matching_ue_cond_list
                    .0
                    .into_iter()
                    .map(|c| test_condition_from_asn(c.test_cond_info))
                    .collect::<Result<_>>()?,
                subscription: subscription_from_asn(f4.subscription_info)?,
            }
        }
        _ => {
            return Err(KpmCodecError::Unsupported(
                "action definition formats 2 and 3".into(),
            ))
        }
    };
    Ok(KpmActionDefinition { style, format })
}

fn subscription_to_asn(sub: &SubscriptionInfo) -> Result<g::E2SMKPMActionDefinitionFormat1> {
    if sub.granularity_period_ms == 0 {
        return Err(invalid("granulPeriod must be at least 1 ms"));
    }
    let cell = sub
        .cell
        .map(|c| {
            if c.cell_identity >= 1 << 36 {
                return Err(invalid("NR cell identity exceeds 36 bits"));
            }
            let mut id = FixedBitString::<36>::default();
            set_bits(id.as_mut_bitslice(), c.cell_identity, 36);
            Ok(g::CGI::nR_CGI(g::NRCGI::new(
                g::PLMNIdentity(FixedOctetString::from(c.plmn)),
                g::NRCellIdentity(id),
            )))
        })
        .transpose()?;
    Ok(g::E2SMKPMActionDefinitionFormat1::new(
        info_list_to_asn(&sub.info)?,
        g::GranularityPeriod(sub.granularity_period_ms),
        cell,
    ))
}

fn subscription_from_asn(f1: g::E2SMKPMActionDefinitionFormat1) -> Result<SubscriptionInfo> {
    let cell = match f1.cell_global_id {
        None => None,
        Some(g::CGI::nR_CGI(nr)) => Some(NrCgi {
            plmn: octets3(nr.p_lmnidentity.0.as_ref()),
            cell_identity: get_bits(nr.n_rcell_identity.0.as_bitslice(), 36),
        }),
        Some(_) => return Err(KpmCodecError::Unsupported("E-UTRA CGI".into())),
    };
    if f1.granul_period.0 == 0 {
        return Err(invalid("granulPeriod 0"));
    }
    Ok(SubscriptionInfo {
        info: info_list_from_asn(f1.meas_info_list)?,
        granularity_period_ms: f1.granul_period.0,
        cell,
    })
}

fn test_condition_to_asn(c: &TestCondition) -> Result<g::TestCondInfo> {
    use g::TestCondType as T;
    let kind = match c.kind {
        TestCondKind::Gbr => T::gBR(g::TestCondTypeGBR::R_true),
        TestCondKind::Ambr => T::aMBR(g::TestCondTypeAMBR::R_true),
        TestCondKind::IsStat => T::isStat(g::TestCondTypeIsStat::R_true),
        TestCondKind::IsCatM => T::isCatM(g::TestCondTypeIsCatM::R_true),
        TestCondKind::Rsrp => T::rSRP(g::TestCondTypeRSRP::R_true),
        TestCondKind::Rsrq => T::rSRQ(g::TestCondTypeRSRQ::R_true),
        TestCondKind::UlRsrp => T::ul_rSRP(g::TestCondTypeUlRSRP::R_true),
        TestCondKind::Cqi => T::cQI(g::TestCondTypeCQI::R_true),
        TestCondKind::FiveQi => T::fiveQI(g::TestCondTypeFiveQI::R_true),
        TestCondKind::Qci => T::qCI(g::TestCondTypeQCI::R_true),
        TestCondKind::Snssai => T::sNSSAI(g::TestCondTypeSNSSAI::R_true),
    };
    let expr = c.expression.map(|e| match e {
        TestExpression::Equal => g::TestCondExpression::equal,
        TestExpression::GreaterThan => g::TestCondExpression::greaterthan,
        TestExpression::LessThan => g::TestCondExpression::lessthan,
        TestExpression::Contains => g::TestCondExpression::contains,
        TestExpression::Present => g::TestCondExpression::present,
    });
    let value = match &c.value {
        None => None,
        Some(TestValue::Int(v)) => Some(g::TestCondValue::valueInt(Integer::from(*v))),
        Some(TestValue::Enum(v)) => Some(g::TestCondValue::valueEnum(Integer::from(*v))),
        Some(TestValue::Bool(v)) => Some(g::TestCondValue::valueBool(*v)),
        Some(TestValue::Octets(v)) => Some(g::TestCondValue::valueOctS(v.clone().into())),
        Some(TestValue::Printable(s)) => Some(g::TestCondValue::valuePrtS(printable(s)?)),
    };
    Ok(g::TestCondInfo::new(kind, expr, value))
}

fn test_condition_from_asn(c: g::TestCondInfo) -> Result<TestCondition> {
    use g::TestCondType as T;
    let kind = match c.test_type {
        T::gBR(_) => TestCondKind::Gbr,
        T::aMBR(_) => TestCondKind::Ambr,
        T::isStat(_) => TestCondKind::IsStat,
        T::isCatM(_) => TestCondKind::IsCatM,
        T::rSRP(_) => TestCondKind::Rsrp,
        T::rSRQ(_) => TestCondKind::Rsrq,
        T::ul_rSRP(_) => TestCondKind::UlRsrp,
        T::cQI(_) => TestCondKind::Cqi,
        T::fiveQI(_) => TestCondKind::FiveQi,
        T::qCI(_) => TestCondKind::Qci,
        T::sNSSAI(_) => TestCondKind::Snssai,
    };
    let expression = c.test_expr.map(|e| match e {
        g::TestCondExpression::equal => TestExpression::Equal,
        g::TestCondExpression::greaterthan => TestExpression::GreaterThan,
        g::TestCondExpression::lessthan => TestExpression::LessThan,
        g::TestCondExpression::contains => TestExpression::Contains,
        g::TestCondExpression::present => TestExpression::Present,
    });
    let int = |v: &Integer| {
        i64::try_from(v).map_err(|_| invalid("test condition value does not fit in 64 bits"))
    };
    let value = match c.test_value {
        None => None,
        Some(g::TestCondValue::valueInt(v)) => Some(TestValue::Int(int(&v)?)),
        Some(g::TestCondValue::valueEnum(v)) => Some(TestValue::Enum(int(&v)?)),
        Some(g::TestCondValue::valueBool(v)) => Some(TestValue::Bool(v)),
        Some(g::TestCondValue::valueOctS(v)) => Some(TestValue::Octets(v.to_vec())),
        Some(g::TestCondValue::valuePrtS(s)) => Some(TestValue::Printable(text_of(&s))),
        Some(g::TestCondValue::valueBitS(_)) => {
            return Err(KpmCodecError::Unsupported("valueBitS test values".into()))
        }
    };
    Ok(TestCondition {
        kind,
        expression,
        value,
    })
}

// ---------------------------------------------------------------------------------------
// Indication header and message
// ---------------------------------------------------------------------------------------

/// [`super::encode_indication_header`] with rasn.
pub fn encode_indication_header(
    header: &KpmIndicationHeader,
    version: KpmVersion,
) -> Result<Vec<u8>> {
    rasn_encode_indication_header(header, version)
}

/// [`super::decode_indication_header`] with rasn.
pub fn decode_indication_header(bytes: &[u8], version: KpmVersion) -> Result<KpmIndicationHeader> {
    diagnose_header_version(bytes, version, rasn_decode_indication_header)
}

/// [`super::encode_indication_message`] with rasn ([`super::KpmCodecError::Real`] for
/// REAL values).
pub fn encode_indication_message(msg: &KpmIndicationMessage) -> Result<Vec<u8>> {
    rasn_encode_indication_message(msg)
}

/// [`super::decode_indication_message`] with rasn (REAL values do not decode).
pub fn decode_indication_message(bytes: &[u8]) -> Result<KpmIndicationMessage> {
    rasn_decode_indication_message(bytes)
}

/// [`super::encode_indication_header`] with rasn (the reference codec): the v03.00 type of the
/// subset, or its v02.03 twin `E2SM-KPM-IndicationHeader-V0203`.
fn rasn_encode_indication_header(
    header: &KpmIndicationHeader,
    version: KpmVersion,
) -> Result<Vec<u8>> {
    let opt = |s: &Option<String>| s.as_deref().map(printable).transpose();
    let (file_format_version, sender_name, sender_type, vendor_name) = (
        opt(&header.file_format_version)?,
        opt(&header.sender_name)?,
        opt(&header.sender_type)?,
        opt(&header.vendor_name)?,
    );
    let time = header
        .collect_start_time
        .to_time_stamp(header.collect_start_time_form, version)?;
    let octets_error = || KpmCodecError::Encode(format!("{version} TimeStamp octets"));
    match version {
        KpmVersion::V3_00 => {
            let t: [u8; 8] = time.as_bytes().try_into().map_err(|_| octets_error())?;
            encode(&g::E2SMKPMIndicationHeader::new(
                g::E2SMKPMIndicationHeaderIndicationHeaderFormats::indicationHeader_Format1(
                    g::E2SMKPMIndicationHeaderFormat1::new(
                        g::TimeStamp(FixedOctetString::from(t)),
                        file_format_version,
                        sender_name,
                        sender_type,
                        vendor_name,
                    ),
                ),
            ))
        }
        KpmVersion::V2_03 => {
            let t: [u8; 4] = time.as_bytes().try_into().map_err(|_| octets_error())?;
            encode(&g::E2SMKPMIndicationHeaderV0203::new(
                g::E2SMKPMIndicationHeaderV0203IndicationHeaderFormats::indicationHeader_Format1(
                    g::E2SMKPMIndicationHeaderFormat1V0203::new(
                        g::TimeStampV0203(FixedOctetString::from(t)),
                        file_format_version,
                        sender_name,
                        sender_type,
                        vendor_name,
                    ),
                ),
            ))
        }
    }
}

/// [`decode_indication_header`] with rasn (the reference codec), as `version` only.
fn rasn_decode_indication_header(bytes: &[u8], version: KpmVersion) -> Result<KpmIndicationHeader> {
    let text = |s: Option<PrintableString>| s.map(|s| text_of(&s));
    let (t, f, n, ty, v) = match version {
        KpmVersion::V3_00 => {
            let pdu: g::E2SMKPMIndicationHeader = decode(bytes)?;
            let g::E2SMKPMIndicationHeaderIndicationHeaderFormats::indicationHeader_Format1(f1) =
                pdu.indication_header_formats;
            (
                f1.collet_start_time.0.to_vec(),
                f1.file_formatversion,
                f1.sender_name,
                f1.sender_type,
                f1.vendor_name,
            )
        }
        KpmVersion::V2_03 => {
            let pdu: g::E2SMKPMIndicationHeaderV0203 = decode(bytes)?;
            let g::E2SMKPMIndicationHeaderV0203IndicationHeaderFormats::indicationHeader_Format1(
                f1,
            ) = pdu.indication_header_formats;
            (
                f1.collet_start_time.0.to_vec(),
                f1.file_formatversion,
                f1.sender_name,
                f1.sender_type,
                f1.vendor_name,
            )
        }
    };
    let (collect_start_time, collect_start_time_form) = NtpTimestamp::from_time_stamp(&t, version)?;
    Ok(KpmIndicationHeader {
        collect_start_time,
        collect_start_time_form,
        file_format_version: text(f),
        sender_name: text(n),
        sender_type: text(ty),
        vendor_name: text(v),
    })
}

/// [`encode_indication_message`] with rasn (the reference codec).
fn rasn_encode_indication_message(msg: &KpmIndicationMessage) -> Result<Vec<u8>> {
    let formats = match msg {
        KpmIndicationMessage::Format1(report) => {
            g::E2SMKPMIndicationMessageIndicationMessageFormats::indicationMessage_Format1(
                report_to_asn(report)?,
            )
        }
        KpmIndicationMessage::Format3(ues) => {
            if ues.is_empty() {
                return Err(invalid("ueMeasReportList needs at least one UE"));
            }
            let items = ues
                .iter()
                .map(|u| {
                    Ok(g::UEMeasurementReportItem::new(
                        ueid_to_asn(&u.ue)?,
                        report_to_asn(&u.report)?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            g::E2SMKPMIndicationMessageIndicationMessageFormats::indicationMessage_Format3(
                g::E2SMKPMIndicationMessageFormat3::new(g::UEMeasurementReportList(items)),
            )
        }
    };
    encode(&g::E2SMKPMIndicationMessage::new(formats))
}

/// [`decode_indication_message`] with rasn (the reference codec).
fn rasn_decode_indication_message(bytes: &[u8]) -> Result<KpmIndicationMessage> {
    let pdu: g::E2SMKPMIndicationMessage = decode(bytes)?;
    match pdu.indication_message_formats {
        g::E2SMKPMIndicationMessageIndicationMessageFormats::indicationMessage_Format1(f1) => {
            Ok(KpmIndicationMessage::Format1(report_from_asn(f1)?))
        }
        g::E2SMKPMIndicationMessageIndicationMessageFormats::indicationMessage_Format3(f3) => {
            let ues = f3
                .ue_meas_report_list
                .0
                .into_iter()
                .map(|item| {
                    Ok(UeMeasurementReport {
                        ue: ueid_from_asn(item.ue_id)?,
                        report: report_from_asn(item.meas_report)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(KpmIndicationMessage::Format3(ues))
        }
        _ => Err(KpmCodecError::Unsupported(
            "indication message format 2".into(),
        )),
    }
}

fn report_to_asn(r: &MeasurementReport) -> Result<g::E2SMKPMIndicationMessageFormat1> {
    if r.data.is_empty() {
        return Err(invalid("measData needs at least one item"));
    }
    let data = r
        .data
        .iter()
        .map(|item| {
            if item.record.is_empty() {
                return Err(invalid("measRecord needs at least one value"));
            }
            let record = item
                .record
                .iter()
                .map(|v| match v {
                    MeasurementValue::Integer(i) => Ok(g::MeasurementRecordItem::integer(*i)),
                    MeasurementValue::NoValue => Ok(g::MeasurementRecordItem::noValue(())),
                    MeasurementValue::Real(_) => Err(KpmCodecError::Real),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(g::MeasurementDataItem::new(
                g::MeasurementRecord(record),
                item.incomplete
                    .then_some(g::MeasurementDataItemIncompleteFlag::R_true),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    if r.granularity_period_ms == Some(0) {
        return Err(invalid("granulPeriod must be at least 1 ms"));
    }
    Ok(g::E2SMKPMIndicationMessageFormat1::new(
        g::MeasurementData(data),
        r.info.as_deref().map(info_list_to_asn).transpose()?,
        r.granularity_period_ms.map(g::GranularityPeriod),
    ))
}

fn report_from_asn(f1: g::E2SMKPMIndicationMessageFormat1) -> Result<MeasurementReport> {
    let data = f1
        .meas_data
        .0
        .into_iter()
        .map(|item| MeasurementDataItem {
            record: item
                .meas_record
                .0
                .into_iter()
                .map(|v| match v {
                    g::MeasurementRecordItem::integer(i) => MeasurementValue::Integer(i),
                    g::MeasurementRecordItem::real(r) => MeasurementValue::Real(r),
                    g::MeasurementRecordItem::noValue(()) => MeasurementValue::NoValue,
                })
                .collect(),
            incomplete: item.incomplete_flag.is_some(),
        })
        .collect();
    if f1.granul_period.as_ref().is_some_and(|p| p.0 == 0) {
        return Err(invalid("granulPeriod 0"));
    }
    Ok(MeasurementReport {
        data,
        info: f1.meas_info_list.map(info_list_from_asn).transpose()?,
        granularity_period_ms: f1.granul_period.map(|p| p.0),
    })
}

// ---------------------------------------------------------------------------------------
// Measurement info and labels
// ---------------------------------------------------------------------------------------

fn info_list_to_asn(info: &[MeasurementInfo]) -> Result<g::MeasurementInfoList> {
    if info.is_empty() {
        return Err(invalid("measInfoList needs at least one measurement"));
    }
    let items = info
        .iter()
        .map(|m| {
            let meas_type = match &m.meas_type {
                MeasurementType::Name(n) => {
                    if n.is_empty() {
                        return Err(invalid("measName must not be empty"));
                    }
                    g::MeasurementType::measName(g::MeasurementTypeName(printable(n)?))
                }
                MeasurementType::Id(id) => {
                    if *id == 0 {
                        return Err(invalid("measID must be at least 1"));
                    }
                    g::MeasurementType::measID(g::MeasurementTypeID(Integer::from(*id)))
                }
            };
            if m.labels.is_empty() {
                return Err(invalid("labelInfoList needs at least one label"));
            }
            let labels = m
                .labels
                .iter()
                .map(|l| label_to_asn(l).map(g::LabelInfoItem::new))
                .collect::<Result<Vec<_>>>()?;
            Ok(g::MeasurementInfoItem::new(
                meas_type,
                g::LabelInfoList(labels),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(g::MeasurementInfoList(items))
}

fn info_list_from_asn(list: g::MeasurementInfoList) -> Result<Vec<MeasurementInfo>> {
    list.0
        .into_iter()
        .map(|m| {
            let meas_type = match m.meas_type {
                g::MeasurementType::measName(n) => MeasurementType::Name(text_of(&n.0)),
                g::MeasurementType::measID(id) => MeasurementType::Id(
                    u32::try_from(&id.0).map_err(|_| invalid("measID out of range"))?,
                ),
            };
            let labels = m
                .label_info_list
                .0
                .into_iter()
                .map(|l| label_from_asn(l.meas_label))
                .collect::<Result<Vec<_>>>()?;
            Ok(MeasurementInfo { meas_type, labels })
        })
        .collect()
}

fn label_to_asn(l: &MeasurementLabel) -> Result<g::MeasurementLabel> {
    let small = |v: Option<u8>| v.map(Integer::from);
    let ranged = |v: Option<u16>, what: &str| -> Result<Option<Integer>> {
        match v {
            Some(0) => Err(invalid(format!("{what} must be at least 1"))),
            other => Ok(other.map(Integer::from)),
        }
    };
    if l.qfi.is_some_and(|q| q > 63) {
        return Err(invalid("qFI exceeds 63"));
    }
    if l.arp_max.is_some_and(|a| !(1..=15).contains(&a))
        || l.arp_min.is_some_and(|a| !(1..=15).contains(&a))
    {
        return Err(invalid("aRPmax/aRPmin must be within 1..15"));
    }
    Ok(g::MeasurementLabel::new(
        l.no_label.then_some(g::MeasurementLabelNoLabel::R_true),
        l.plmn.map(|p| g::PLMNIdentity(FixedOctetString::from(p))),
        l.slice.map(snssai_to_asn).transpose()?,
        l.five_qi.map(|v| g::FiveQI(Integer::from(v))),
        l.qfi.map(|v| g::QosFlowIdentifier(Integer::from(v))),
        l.qci.map(|v| g::QCI(Integer::from(v))),
        l.qci_max.map(|v| g::QCI(Integer::from(v))),
        l.qci_min.map(|v| g::QCI(Integer::from(v))),
        small(l.arp_max),
        small(l.arp_min),
        ranged(l.bitrate_range, "bitrateRange")?,
        ranged(l.layer_mu_mimo, "layerMU-MIMO")?,
        l.sum.then_some(g::MeasurementLabelSUM::R_true),
        ranged(l.dist_bin_x, "distBinX")?,
        ranged(l.dist_bin_y, "distBinY")?,
        ranged(l.dist_bin_z, "distBinZ")?,
        l.pre_label_override
            .then_some(g::MeasurementLabelPreLabelOverride::R_true),
        l.start_end.map(|s| match s {
            StartEnd::Start => g::MeasurementLabelStartEndInd::start,
            StartEnd::End => g::MeasurementLabelStartEndInd::end,
        }),
        l.min.then_some(g::MeasurementLabelMin::R_true),
        l.max.then_some(g::MeasurementLabelMax::R_true),
        l.avg.then_some(g::MeasurementLabelAvg::R_true),
    ))
}

fn label_from_asn(l: g::MeasurementLabel) -> Result<MeasurementLabel> {
    fn u8_of(v: Option<Integer>, what: &str) -> Result<Option<u8>> {
        v.map(|i| u8::try_from(&i).map_err(|_| invalid(format!("{what} out of range"))))
            .transpose()
    }
    fn u16_of(v: Option<Integer>, what: &str) -> Result<Option<u16>> {
        v.map(|i| u16::try_from(&i).map_err(|_| invalid(format!("{what} out of range"))))
            .transpose()
    }
    Ok(MeasurementLabel {
        no_label: l.no_label.is_some(),
        plmn: l.plmn_id.map(|p| octets3(p.0.as_ref())),
        slice: l.slice_id.map(snssai_from_asn),
        five_qi: u8_of(l.five_qi.map(|v| v.0), "fiveQI")?,
        qfi: u8_of(l.q_fi.map(|v| v.0), "qFI")?,
        qci: u8_of(l.q_ci.map(|v| v.0), "qCI")?,
        qci_max: u8_of(l.q_cimax.map(|v| v.0), "qCImax")?,
        qci_min: u8_of(l.q_cimin.map(|v| v.0), "qCImin")?,
        arp_max: u8_of(l.a_rpmax, "aRPmax")?,
        arp_min: u8_of(l.a_rpmin, "aRPmin")?,
        bitrate_range: u16_of(l.bitrate_range, "bitrateRange")?,
        layer_mu_mimo: u16_of(l.layer_mu_mimo, "layerMU-MIMO")?,
        sum: l.s_um.is_some(),
        dist_bin_x: u16_of(l.dist_bin_x, "distBinX")?,
        dist_bin_y: u16_of(l.dist_bin_y, "distBinY")?,
        dist_bin_z: u16_of(l.dist_bin_z, "distBinZ")?,
        pre_label_override: l.pre_label_override.is_some(),
        start_end: l.start_end_ind.map(|s| match s {
            g::MeasurementLabelStartEndInd::start => StartEnd::Start,
            g::MeasurementLabelStartEndInd::end => StartEnd::End,
        }),
        min: l.min.is_some(),
        max: l.max.is_some(),
        avg: l.avg.is_some(),
    })
}

// ---------------------------------------------------------------------------------------
// Common IEs
// ---------------------------------------------------------------------------------------

fn snssai_to_asn(s: Snssai) -> Result<g::SNSSAI> {
    let sd = match s.sd {
        None => None,
        Some(sd) if sd < 1 << 24 => {
            let b = sd.to_be_bytes();
            Some(g::SD(FixedOctetString::from([b[1], b[2], b[3]])))
        }
        Some(sd) => return Err(invalid(format!("SD {sd:#x} exceeds 24 bits"))),
    };
    Ok(g::SNSSAI::new(g::SST(FixedOctetString::from([s.sst])), sd))
}

fn snssai_from_asn(s: g::SNSSAI) -> Snssai {
    Snssai {
        sst: s.s_st.0[0],
        sd: s
            .s_d
            .map(|sd| u32::from_be_bytes([0, sd.0[0], sd.0[1], sd.0[2]])),
    }
}

/// The gNB-UEID alternative of UEID (E2SM common IEs clause 6.2.2.1).
fn ueid_to_asn(ue: &GnbUeId) -> Result<g::UEID> {
    ue.check().map_err(KpmCodecError::Invalid)?;
    Ok(gnb_ueid_to_asn(ue, ue.plmn.bcd()))
}

fn ueid_from_asn(ue: g::UEID) -> Result<GnbUeId> {
    let g::UEID::gNB_UEID(gnb) = ue else {
        return Err(KpmCodecError::Unsupported(
            "UEID alternatives other than gNB-UEID".into(),
        ));
    };
    let (ue, plmn) = gnb_ueid_from_asn(&gnb);
    let plmn =
        crate::common::Plmn::from_octets(plmn).map_err(|e| invalid(format!("GUAMI PLMN: {e}")))?;
    Ok(GnbUeId { plmn, ..ue })
}

fn printable(s: &str) -> Result<PrintableString> {
    PrintableString::try_from(s.to_owned()).map_err(|_| {
        invalid(format!(
            "{s:?} is not a PrintableString (X.680 clause 41.4)"
        ))
    })
}

/// A PrintableString's text (its alphabet is a subset of ASCII, X.680 clause 41.4).
fn text_of(s: &PrintableString) -> String {
    String::from_utf8_lossy(s.as_bytes()).into_owned()
}

fn octets3(o: &[u8]) -> [u8; 3] {
    let mut out = [0u8; 3];
    for (d, s) in out.iter_mut().zip(o) {
        *d = *s;
    }
    out
}
