//! E2SM-KPM APER codec: byte-exact vectors from an independent ASN.1 implementation,
//! round trips of every message, and robustness against arbitrary bytes. The vectors here
//! are of our subset module (its header a v02.03 one); `tests/kpm_versions.rs` has those of
//! the standard v02.03 and v03.00 modules.

mod kpm_common;

use kpm_common::{action_f1, action_f4, event_trigger, hex, msg_f1, msg_f3, subscription};
use maestro_e2sm::common::{GnbUeId, Plmn};
use maestro_e2sm::kpm::{
    decode_action_definition, decode_event_trigger, decode_indication_header,
    decode_indication_message, encode_action_definition, encode_event_trigger,
    encode_indication_header, encode_indication_message, KpmCodecError,
};
use maestro_e2sm::kpm::{
    ActionDefinitionFormat, KpmActionDefinition, KpmEventTrigger, KpmIndicationHeader,
    KpmIndicationMessage, KpmVersion, MeasurementDataItem, MeasurementInfo, MeasurementLabel,
    MeasurementReport, MeasurementType, MeasurementValue, NrCgi, NtpTimestamp, Snssai, StartEnd,
    SubscriptionInfo, TestCondKind, TestCondition, TestExpression, TestValue, TimeStampForm,
    UeMeasurementReport,
};
use proptest::prelude::*;

// Made by `.ci/e2sm-kpm-vectors.py`: asn1tools 0.169.0 (PyPI), codec 'per' (ALIGNED PER),
// python 3.11.7, compiling e2sm/asn1/e2sm-common-subset.asn and e2sm-kpm-subset.asn (HEADER
// with its v02.03 header type; the script checks each equals the standard modules'
// encoding). The values are the functions of the same (lower-case) names in kpm_common and
// below.
const EVENT_TRIGGER: &str = "0803e7";
const ACTION_F1: &str = "00010108000200a04452422e5545546870446c02080000808000000118000000f1100080305252552e50726255736564446c0120000000d0434152522e57424351494469737402000100000000030000000f00630000f11000bc614e10";
const ACTION_F4: &str = "0001048031000001384001000404010000013810010010010500000100a04452422e5545546870446c01200000200006010000020063";
const HEADER: &str = "1ee8d4a510307630332e30300000146d61657374726f20656d756c6174656420674e4218674e420e4d61657374726f";
const MSG_F1: &str = "0c0001000308cb20006a4801000000000200a04452422e5545546870446c0120000000c05252552e50726255736564446c0120000000d05252552e507262417661696c446c012000000063";
const MSG_F3: &str = "4000590000010000010000f1100100404000000002084e200032000100a04452422e5545546870446c01080000808000000100c05252552e50726255736564446c012000000010ffffffffff00130014abffea200000000240000063";
const MSG_F1_REAL: &str = "0000000005200380ff69200980c90ccccccccccccd00072003c000032000";

fn header() -> KpmIndicationHeader {
    KpmIndicationHeader {
        collect_start_time: NtpTimestamp::from_seconds(0xE8D4A510),
        collect_start_time_form: TimeStampForm::Ntp,
        file_format_version: Some("v03.00".into()),
        sender_name: Some("maestro emulated gNB".into()),
        sender_type: Some("gNB".into()),
        vendor_name: Some("Maestro".into()),
    }
}

#[test]
fn event_trigger_matches_asn1tools() {
    assert_eq!(
        encode_event_trigger(&event_trigger()).unwrap(),
        hex(EVENT_TRIGGER)
    );
    assert_eq!(
        decode_event_trigger(&hex(EVENT_TRIGGER)).unwrap(),
        event_trigger()
    );
}

#[test]
fn action_definitions_match_asn1tools() {
    for (def, vector) in [(action_f1(), ACTION_F1), (action_f4(), ACTION_F4)] {
        assert_eq!(
            encode_action_definition(&def).unwrap(),
            hex(vector),
            "{def:?}"
        );
        assert_eq!(decode_action_definition(&hex(vector)).unwrap(), def);
    }
}

#[test]
fn indication_header_matches_asn1tools() {
    let v2 = KpmVersion::V2_03;
    assert_eq!(
        encode_indication_header(&header(), v2).unwrap(),
        hex(HEADER)
    );
    assert_eq!(
        decode_indication_header(&hex(HEADER), v2).unwrap(),
        header()
    );
}

#[test]
fn indication_messages_match_asn1tools() {
    for (msg, vector) in [(msg_f1(), MSG_F1), (msg_f3(), MSG_F3)] {
        assert_eq!(
            encode_indication_message(&msg).unwrap(),
            hex(vector),
            "{msg:?}"
        );
        assert_eq!(decode_indication_message(&hex(vector)).unwrap(), msg);
    }
}

#[test]
fn real_values_round_trip_and_the_asn1tools_real_vector_decodes() {
    let real = KpmIndicationMessage::Format1(MeasurementReport {
        data: vec![MeasurementDataItem {
            record: vec![MeasurementValue::Real(52.5)],
            incomplete: false,
        }],
        info: None,
        granularity_period_ms: None,
    });
    let bytes = encode_indication_message(&real).unwrap();
    assert_eq!(decode_indication_message(&bytes).unwrap(), real);
    // asn1tools' REAL encodings are ours too, byte for byte.
    let m = decode_indication_message(&hex(MSG_F1_REAL)).unwrap();
    assert_eq!(encode_indication_message(&m).unwrap(), hex(MSG_F1_REAL));
    // rasn, the reference, has no REAL.
    assert_eq!(
        maestro_e2sm::kpm::reference::encode_indication_message(&real),
        Err(KpmCodecError::Real)
    );
    assert!(maestro_e2sm::kpm::reference::decode_indication_message(&hex(MSG_F1_REAL)).is_err());
}

#[test]
fn values_outside_the_asn1_types_are_refused() {
    let zero_period = KpmEventTrigger {
        reporting_period_ms: 0,
    };
    assert!(matches!(
        encode_event_trigger(&zero_period),
        Err(KpmCodecError::Invalid(_))
    ));
    let mut no_info = subscription();
    no_info.info.clear();
    let def = KpmActionDefinition {
        style: 1,
        format: ActionDefinitionFormat::Format1(no_info),
    };
    assert!(matches!(
        encode_action_definition(&def),
        Err(KpmCodecError::Invalid(_))
    ));
    let mut bad_label = subscription();
    bad_label.info[0].labels[0].slice = Some(Snssai {
        sst: 1,
        sd: Some(1 << 24),
    });
    let def = KpmActionDefinition {
        style: 1,
        format: ActionDefinitionFormat::Format1(bad_label),
    };
    assert!(matches!(
        encode_action_definition(&def),
        Err(KpmCodecError::Invalid(_))
    ));
    assert!(matches!(
        encode_indication_message(&KpmIndicationMessage::Format3(vec![])),
        Err(KpmCodecError::Invalid(_))
    ));
    let mut bad_name = header();
    bad_name.vendor_name = Some("Maestro™".into());
    for version in KpmVersion::ALL {
        assert!(matches!(
            encode_indication_header(&bad_name, version),
            Err(KpmCodecError::Invalid(_))
        ));
    }
}

#[test]
fn truncated_vectors_are_errors() {
    type Decoder = fn(&[u8]) -> bool;
    let cases: [(&str, Decoder); 6] = [
        (EVENT_TRIGGER, |b| decode_event_trigger(b).is_err()),
        (ACTION_F1, |b| decode_action_definition(b).is_err()),
        (ACTION_F4, |b| decode_action_definition(b).is_err()),
        (HEADER, |b| {
            decode_indication_header(b, KpmVersion::V2_03).is_err()
                && decode_indication_header(b, KpmVersion::V3_00).is_err()
        }),
        (MSG_F1, |b| decode_indication_message(b).is_err()),
        (MSG_F3, |b| decode_indication_message(b).is_err()),
    ];
    for (vector, fails) in cases {
        let bytes = hex(vector);
        for len in 0..bytes.len() {
            assert!(
                fails(&bytes[..len]),
                "a {len}-byte prefix of {vector} decoded"
            );
        }
    }
}

// ----------------------------------------------------------------------------------------
// Property tests
// ----------------------------------------------------------------------------------------

fn printable_text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9 .:/()+,=?-]{{1,{max}}}"))
        .expect("valid regex")
}

fn label() -> impl Strategy<Value = MeasurementLabel> {
    (
        any::<bool>(),
        proptest::option::of(any::<[u8; 3]>()),
        proptest::option::of((any::<u8>(), proptest::option::of(0u32..1 << 24))),
        proptest::option::of(any::<u8>()),
        proptest::option::of(0u8..64),
        proptest::option::of(1u8..16),
        proptest::option::of(1u16..),
        proptest::option::of(1u16..),
        any::<[bool; 5]>(),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            |(no_label, plmn, slice, five_qi, qfi, arp, bin_x, bin_y, flags, start_end)| {
                MeasurementLabel {
                    no_label,
                    plmn,
                    slice: slice.map(|(sst, sd)| Snssai { sst, sd }),
                    five_qi,
                    qfi,
                    arp_max: arp,
                    dist_bin_x: bin_x,
                    dist_bin_y: bin_y,
                    sum: flags[0],
                    pre_label_override: flags[1],
                    min: flags[2],
                    max: flags[3],
                    avg: flags[4],
                    start_end: start_end.map(|s| if s { StartEnd::Start } else { StartEnd::End }),
                    ..MeasurementLabel::default()
                }
            },
        )
}

fn info() -> impl Strategy<Value = MeasurementInfo> {
    (
        prop_oneof![
            printable_text(150).prop_map(MeasurementType::Name),
            (1u32..=65536).prop_map(MeasurementType::Id),
        ],
        proptest::collection::vec(label(), 1..4),
    )
        .prop_map(|(meas_type, labels)| MeasurementInfo { meas_type, labels })
}

fn value() -> impl Strategy<Value = MeasurementValue> {
    prop_oneof![
        any::<u32>().prop_map(MeasurementValue::Integer),
        Just(MeasurementValue::NoValue),
    ]
}

fn report() -> impl Strategy<Value = MeasurementReport> {
    (
        proptest::collection::vec(
            (proptest::collection::vec(value(), 1..6), any::<bool>())
                .prop_map(|(record, incomplete)| MeasurementDataItem { record, incomplete }),
            1..4,
        ),
        proptest::option::of(proptest::collection::vec(info(), 1..4)),
        proptest::option::of(1u32..),
    )
        .prop_map(|(data, info, granularity_period_ms)| MeasurementReport {
            data,
            info,
            granularity_period_ms,
        })
}

fn ue() -> impl Strategy<Value = GnbUeId> {
    (
        0u64..1 << 40,
        prop_oneof![
            Just(("001", "01")),
            Just(("310", "410")),
            Just(("208", "93"))
        ],
        any::<u8>(),
        0u16..1 << 10,
        0u8..1 << 6,
    )
        .prop_map(|(id, (mcc, mnc), region, set, pointer)| GnbUeId {
            amf_ue_ngap_id: id,
            plmn: Plmn::new(mcc, mnc).expect("PLMN"),
            amf_region_id: region,
            amf_set_id: set,
            amf_pointer: pointer,
        })
}

fn subscription_info() -> impl Strategy<Value = SubscriptionInfo> {
    (
        proptest::collection::vec(info(), 1..4),
        1u32..,
        proptest::option::of((any::<[u8; 3]>(), 0u64..1 << 36)),
    )
        .prop_map(|(info, granularity_period_ms, cell)| SubscriptionInfo {
            info,
            granularity_period_ms,
            cell: cell.map(|(plmn, cell_identity)| NrCgi {
                plmn,
                cell_identity,
            }),
        })
}

fn condition() -> impl Strategy<Value = TestCondition> {
    let kinds = [
        TestCondKind::Gbr,
        TestCondKind::Ambr,
        TestCondKind::IsStat,
        TestCondKind::IsCatM,
        TestCondKind::Rsrp,
        TestCondKind::Rsrq,
        TestCondKind::UlRsrp,
        TestCondKind::Cqi,
        TestCondKind::FiveQi,
        TestCondKind::Qci,
        TestCondKind::Snssai,
    ];
    let exprs = [
        TestExpression::Equal,
        TestExpression::GreaterThan,
        TestExpression::LessThan,
        TestExpression::Contains,
        TestExpression::Present,
    ];
    (
        proptest::sample::select(kinds.to_vec()),
        proptest::option::of(proptest::sample::select(exprs.to_vec())),
        proptest::option::of(prop_oneof![
            any::<i64>().prop_map(TestValue::Int),
            any::<i64>().prop_map(TestValue::Enum),
            any::<bool>().prop_map(TestValue::Bool),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(TestValue::Octets),
            printable_text(20).prop_map(TestValue::Printable),
        ]),
    )
        .prop_map(|(kind, expression, value)| TestCondition {
            kind,
            expression,
            value,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn event_trigger_round_trips(period in 1u32..) {
        let t = KpmEventTrigger { reporting_period_ms: period };
        prop_assert_eq!(decode_event_trigger(&encode_event_trigger(&t).unwrap()).unwrap(), t);
    }

    #[test]
    fn action_definition_round_trips(
        sub in subscription_info(),
        conditions in proptest::collection::vec(condition(), 1..4),
        format4 in any::<bool>(),
    ) {
        let def = if format4 {
            KpmActionDefinition {
                style: 4,
                format: ActionDefinitionFormat::Format4 { ue_conditions: conditions, subscription: sub },
            }
        } else {
            KpmActionDefinition { style: 1, format: ActionDefinitionFormat::Format1(sub) }
        };
        let bytes = encode_action_definition(&def).unwrap();
        prop_assert_eq!(decode_action_definition(&bytes).unwrap(), def);
    }

    #[test]
    fn indication_header_round_trips(
        seconds in any::<u32>(),
        fraction in any::<u32>(),
        v3 in any::<bool>(),
        file_version in proptest::option::of(printable_text(15)),
        name in proptest::option::of(printable_text(400)),
        kind in proptest::option::of(printable_text(8)),
        vendor in proptest::option::of(printable_text(32)),
    ) {
        let (version, fraction) = if v3 { (KpmVersion::V3_00, fraction) } else { (KpmVersion::V2_03, 0) };
        let time = NtpTimestamp { seconds, fraction };
        // Era-1 NTP times of 2036-02-09/12 would read as FlexRIC's Unix µs: refused.
        prop_assume!(!(v3 && time.reads_as_unix_micros()));
        let h = KpmIndicationHeader {
            collect_start_time: time,
            collect_start_time_form: TimeStampForm::Ntp,
            file_format_version: file_version,
            sender_name: name,
            sender_type: kind,
            vendor_name: vendor,
        };
        let bytes = encode_indication_header(&h, version).unwrap();
        prop_assert!(bytes.len() > version.timestamp_octets());
        prop_assert_eq!(decode_indication_header(&bytes, version).unwrap(), h);
    }

    #[test]
    fn indication_message_format1_round_trips(r in report()) {
        let msg = KpmIndicationMessage::Format1(r);
        let bytes = encode_indication_message(&msg).unwrap();
        prop_assert_eq!(decode_indication_message(&bytes).unwrap(), msg);
    }

    #[test]
    fn indication_message_format3_round_trips(
        ues in proptest::collection::vec((ue(), report()), 1..5),
    ) {
        let msg = KpmIndicationMessage::Format3(
            ues.into_iter().map(|(ue, report)| UeMeasurementReport { ue, report }).collect(),
        );
        let bytes = encode_indication_message(&msg).unwrap();
        prop_assert_eq!(decode_indication_message(&bytes).unwrap(), msg);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_event_trigger(&bytes);
        let _ = decode_action_definition(&bytes);
        for version in KpmVersion::ALL {
            let _ = decode_indication_header(&bytes, version);
        }
        let _ = decode_indication_message(&bytes);
    }

    #[test]
    fn flipped_bits_of_a_vector_never_panic(
        which in 0usize..5,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..6),
    ) {
        let mut bytes = hex([ACTION_F1, ACTION_F4, HEADER, MSG_F1, MSG_F3][which]);
        for (i, bit) in flips {
            let at = i.index(bytes.len());
            bytes[at] ^= 1 << bit;
        }
        let _ = decode_action_definition(&bytes);
        for version in KpmVersion::ALL {
            let _ = decode_indication_header(&bytes, version);
        }
        let _ = decode_indication_message(&bytes);
    }
}
