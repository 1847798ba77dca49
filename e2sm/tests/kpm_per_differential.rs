//! Differential tests: the hand-written E2SM-KPM indication codec (`maestro_e2sm::kpm::codec`)
//! against the rasn-based `kpm::reference` (messages without REAL, which rasn cannot encode), plus
//! REAL round trips and the asn1tools vectors.

use maestro_e2sm::common::{GnbUeId, Plmn};
use maestro_e2sm::kpm;
use maestro_e2sm::kpm::{
    KpmIndicationHeader, KpmIndicationMessage, KpmVersion, MeasurementDataItem, MeasurementInfo,
    MeasurementLabel, MeasurementReport, MeasurementType, MeasurementValue, NtpTimestamp, Snssai,
    StartEnd, TimeStampForm, UeMeasurementReport,
};
use proptest::prelude::*;

// From tests/kpm_aper.rs (asn1tools 0.169.0, codec 'per'); HEADER is a v02.03 header.
const HEADER: &str = "1ee8d4a510307630332e30300000146d61657374726f20656d756c6174656420674e4218674e420e4d61657374726f";
const MSG_F1: &str = "0c0001000308cb20006a4801000000000200a04452422e5545546870446c0120000000c05252552e50726255736564446c0120000000d05252552e507262417661696c446c012000000063";
const MSG_F3: &str = "4000590000010000010000f1100100404000000002084e200032000100a04452422e5545546870446c01080000808000000100c05252552e50726255736564446c012000000010ffffffffff00130014abffea200000000240000063";
const MSG_F1_REAL: &str = "0000000005200380ff69200980c90ccccccccccccd00072003c000032000";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test vector is hex"))
        .collect()
}

#[test]
fn asn1tools_vectors_decode_and_re_encode() {
    let v2 = KpmVersion::V2_03;
    let h = kpm::codec::decode_indication_header(&hex(HEADER), v2).expect("header");
    assert_eq!(
        Ok(h.clone()),
        kpm::reference::decode_indication_header(&hex(HEADER), v2)
    );
    assert_eq!(
        kpm::codec::encode_indication_header(&h, v2),
        Ok(hex(HEADER))
    );
    for v in [MSG_F1, MSG_F3] {
        let m = kpm::codec::decode_indication_message(&hex(v)).expect("message");
        assert_eq!(
            Ok(m.clone()),
            kpm::reference::decode_indication_message(&hex(v))
        );
        assert_eq!(kpm::codec::encode_indication_message(&m), Ok(hex(v)));
    }
}

#[test]
fn asn1tools_real_vector_decodes_and_re_encodes() {
    let m = kpm::codec::decode_indication_message(&hex(MSG_F1_REAL)).expect("REAL message");
    let KpmIndicationMessage::Format1(r) = &m else {
        panic!("format 1 expected: {m:?}");
    };
    assert!(
        r.data
            .iter()
            .flat_map(|d| &d.record)
            .any(|v| matches!(v, MeasurementValue::Real(_))),
        "{m:?}"
    );
    println!("{m:?}");
    assert_eq!(
        kpm::codec::encode_indication_message(&m),
        Ok(hex(MSG_F1_REAL))
    );
}

#[test]
fn real_values_round_trip() {
    for x in [
        0.0,
        -0.0,
        1.0,
        -52.5,
        0.1,
        1e300,
        -4.9e-324,
        f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        let m = KpmIndicationMessage::Format1(MeasurementReport {
            data: vec![MeasurementDataItem {
                record: vec![MeasurementValue::Real(x), MeasurementValue::Integer(7)],
                incomplete: false,
            }],
            info: None,
            granularity_period_ms: Some(1000),
        });
        let bytes = kpm::codec::encode_indication_message(&m).expect("encode");
        let back = kpm::codec::decode_indication_message(&bytes).expect("decode");
        let KpmIndicationMessage::Format1(r) = back else {
            panic!("format 1 expected")
        };
        match r.data[0].record[0] {
            MeasurementValue::Real(y) => assert_eq!(y.to_bits(), x.to_bits(), "{x}"),
            ref other => panic!("{other:?}"),
        }
    }
    let nan = KpmIndicationMessage::Format1(MeasurementReport {
        data: vec![MeasurementDataItem {
            record: vec![MeasurementValue::Real(f64::NAN)],
            incomplete: false,
        }],
        info: None,
        granularity_period_ms: None,
    });
    let bytes = kpm::codec::encode_indication_message(&nan).expect("encode");
    assert!(matches!(
        kpm::codec::decode_indication_message(&bytes),
        Ok(KpmIndicationMessage::Format1(MeasurementReport { ref data, .. }))
            if matches!(data[0].record[0], MeasurementValue::Real(v) if v.is_nan())
    ));
}

#[test]
fn large_format3_uses_a_fragmented_open_type() {
    let ue = |i: u64| UeMeasurementReport {
        ue: GnbUeId {
            amf_ue_ngap_id: i,
            ..GnbUeId::placeholder()
        },
        report: MeasurementReport {
            data: vec![MeasurementDataItem {
                record: (0..20).map(MeasurementValue::Integer).collect(),
                incomplete: false,
            }],
            info: None,
            granularity_period_ms: None,
        },
    };
    let m = KpmIndicationMessage::Format3((0..1000).map(ue).collect());
    let fast = kpm::codec::encode_indication_message(&m).expect("encode");
    assert!(fast.len() > 16 * 1024, "{}", fast.len());
    assert_eq!(
        kpm::reference::encode_indication_message(&m).as_ref(),
        Ok(&fast)
    );
    assert_eq!(kpm::codec::decode_indication_message(&fast), Ok(m.clone()));
    assert_eq!(kpm::reference::decode_indication_message(&fast), Ok(m));
}

fn printable_text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9 '.:/()+,=?-]{{0,{max}}}"))
        .expect("valid regex")
}

fn label() -> impl Strategy<Value = MeasurementLabel> {
    (
        (
            any::<bool>(),
            proptest::option::of(any::<[u8; 3]>()),
            proptest::option::of((any::<u8>(), proptest::option::of(0u32..1 << 24))),
            proptest::option::of(any::<u8>()),
            proptest::option::of(0u8..64),
            proptest::option::of(any::<u8>()),
            proptest::option::of(any::<u8>()),
            proptest::option::of(any::<u8>()),
        ),
        (
            proptest::option::of(1u8..16),
            proptest::option::of(1u8..16),
            proptest::option::of(1u16..),
            proptest::option::of(1u16..),
            proptest::option::of(1u16..),
            proptest::option::of(1u16..),
            proptest::option::of(1u16..),
            any::<[bool; 5]>(),
            proptest::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |(
                (no_label, plmn, slice, five_qi, qfi, qci, qci_max, qci_min),
                (arp_max, arp_min, bitrate, layer, bin_x, bin_y, bin_z, flags, start_end),
            )| MeasurementLabel {
                no_label,
                plmn,
                slice: slice.map(|(sst, sd)| Snssai { sst, sd }),
                five_qi,
                qfi,
                qci,
                qci_max,
                qci_min,
                arp_max,
                arp_min,
                bitrate_range: bitrate,
                layer_mu_mimo: layer,
                dist_bin_x: bin_x,
                dist_bin_y: bin_y,
                dist_bin_z: bin_z,
                sum: flags[0],
                pre_label_override: flags[1],
                min: flags[2],
                max: flags[3],
                avg: flags[4],
                start_end: start_end.map(|s| if s { StartEnd::Start } else { StartEnd::End }),
            },
        )
}

fn info() -> impl Strategy<Value = MeasurementInfo> {
    (
        prop_oneof![
            printable_text(200)
                .prop_filter("measName is not empty", |s| !s.is_empty())
                .prop_map(MeasurementType::Name),
            (1u32..=65536).prop_map(MeasurementType::Id),
            any::<u32>().prop_map(|i| MeasurementType::Id(i.max(1))),
        ],
        proptest::collection::vec(label(), 1..4),
    )
        .prop_map(|(meas_type, labels)| MeasurementInfo { meas_type, labels })
}

fn value() -> impl Strategy<Value = MeasurementValue> {
    prop_oneof![
        any::<u32>().prop_map(MeasurementValue::Integer),
        (0u32..300).prop_map(MeasurementValue::Integer),
        Just(MeasurementValue::NoValue),
    ]
}

fn report() -> impl Strategy<Value = MeasurementReport> {
    (
        proptest::collection::vec(
            (proptest::collection::vec(value(), 1..8), any::<bool>())
                .prop_map(|(record, incomplete)| MeasurementDataItem { record, incomplete }),
            1..4,
        ),
        proptest::option::of(proptest::collection::vec(info(), 1..3)),
        proptest::option::of(prop_oneof![1u32.., Just(u32::MAX), 1u32..300]),
    )
        .prop_map(|(data, info, granularity_period_ms)| MeasurementReport {
            data,
            info,
            granularity_period_ms,
        })
}

fn ue() -> impl Strategy<Value = GnbUeId> {
    (
        prop_oneof![0u64..1 << 40, 0u64..300],
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

fn message() -> impl Strategy<Value = KpmIndicationMessage> {
    prop_oneof![
        report().prop_map(KpmIndicationMessage::Format1),
        proptest::collection::vec(
            (ue(), report()).prop_map(|(ue, report)| UeMeasurementReport { ue, report }),
            1..6
        )
        .prop_map(KpmIndicationMessage::Format3),
    ]
}

/// Unix µs of 2000-01-01 and of the end of NTP era 0 (2036-02-07T06:28:16Z): the window of
/// FlexRIC's Unix-µs TimeStamps.
const FLEXRIC_US: std::ops::Range<i64> = 946_684_800_000_000..2_085_978_496_000_000;

/// A header and the version to encode it as: v02.03 headers have whole NTP seconds; v03.00
/// ones any NTP time but the few an encoder refuses as ambiguous, or FlexRIC's Unix µs.
fn header() -> impl Strategy<Value = (KpmIndicationHeader, KpmVersion)> {
    let time = prop_oneof![
        (any::<u32>(), any::<u32>(), any::<bool>()).prop_map(|(seconds, fraction, v3)| {
            if v3 {
                (
                    NtpTimestamp { seconds, fraction },
                    TimeStampForm::Ntp,
                    KpmVersion::V3_00,
                )
            } else {
                (
                    NtpTimestamp::from_seconds(seconds),
                    TimeStampForm::Ntp,
                    KpmVersion::V2_03,
                )
            }
        }),
        FLEXRIC_US.prop_map(|us| {
            let t = NtpTimestamp::from_unix_micros(us).expect("2000 .. 2036");
            (t, TimeStampForm::UnixMicros, KpmVersion::V3_00)
        }),
    ]
    .prop_filter("ambiguous with FlexRIC's µs", |(t, form, v)| {
        !(*v == KpmVersion::V3_00 && *form == TimeStampForm::Ntp && t.reads_as_unix_micros())
    });
    (
        time,
        proptest::option::of(printable_text(20)),
        proptest::option::of(printable_text(420)),
        proptest::option::of(printable_text(12)),
        proptest::option::of(printable_text(40)),
    )
        .prop_map(|((t, form, version), f, n, ty, v)| {
            (
                KpmIndicationHeader {
                    collect_start_time: t,
                    collect_start_time_form: form,
                    file_format_version: f,
                    sender_name: n,
                    sender_type: ty,
                    vendor_name: v,
                },
                version,
            )
        })
}

fn assert_agree(bytes: &[u8]) -> Result<(), TestCaseError> {
    let fast = kpm::codec::decode_indication_message(bytes);
    let slow = kpm::reference::decode_indication_message(bytes);
    if slow.is_ok() {
        prop_assert_eq!(&fast, &slow, "bytes {:02x?}", bytes);
    }
    if fast.is_ok() && slow.is_err() {
        // Only a REAL value, which rasn cannot decode, may make the reference fail.
        let has_real = |m: &KpmIndicationMessage| {
            let reports: Vec<&MeasurementReport> = match m {
                KpmIndicationMessage::Format1(r) => vec![r],
                KpmIndicationMessage::Format3(u) => u.iter().map(|u| &u.report).collect(),
            };
            reports
                .iter()
                .flat_map(|r| &r.data)
                .flat_map(|d| &d.record)
                .any(|v| matches!(v, MeasurementValue::Real(_)))
        };
        prop_assert!(
            fast.as_ref().is_ok_and(has_real),
            "fast {:?}, rasn {:?}, bytes {:02x?}",
            fast,
            slow,
            bytes
        );
    }
    for version in KpmVersion::ALL {
        let fast = kpm::codec::decode_indication_header(bytes, version);
        let slow = kpm::reference::decode_indication_header(bytes, version);
        if fast.is_ok() || slow.is_ok() {
            prop_assert_eq!(&fast, &slow, "{} header bytes {:02x?}", version, bytes);
        }
        // A version mismatch is diagnosed alike.
        if let Err(maestro_e2sm::kpm::KpmCodecError::VersionMismatch { .. }) = fast {
            prop_assert_eq!(&fast, &slow, "{} header bytes {:02x?}", version, bytes);
        }
    }
    Ok(())
}

proptest! {
    // 512 cases unless PROPTEST_CASES says otherwise.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn messages_are_byte_identical(m in message()) {
        let fast = kpm::codec::encode_indication_message(&m);
        let slow = kpm::reference::encode_indication_message(&m);
        prop_assert_eq!(&fast, &slow);
        let bytes = fast.expect("encode");
        prop_assert_eq!(kpm::codec::decode_indication_message(&bytes), Ok(m.clone()));
        prop_assert_eq!(kpm::reference::decode_indication_message(&bytes), Ok(m));
    }

    #[test]
    fn headers_are_byte_identical((h, version) in header()) {
        let fast = kpm::codec::encode_indication_header(&h, version);
        let slow = kpm::reference::encode_indication_header(&h, version);
        prop_assert_eq!(&fast, &slow);
        let bytes = fast.expect("encode");
        prop_assert_eq!(kpm::codec::decode_indication_header(&bytes, version), Ok(h.clone()));
        prop_assert_eq!(kpm::reference::decode_indication_header(&bytes, version), Ok(h));
        // As the other version: never a (wrong) header, and both codecs fail the same way.
        let other = version.other();
        let fast = kpm::codec::decode_indication_header(&bytes, other);
        let slow = kpm::reference::decode_indication_header(&bytes, other);
        prop_assert!(fast.is_err() || fast == slow, "{:?} / {:?}", fast, slow);
        assert_agree(&bytes)?;
    }

    #[test]
    fn random_bytes_never_panic_and_agree(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        assert_agree(&bytes)?;
    }

    #[test]
    fn mutated_messages_agree(
        m in message(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = kpm::codec::encode_indication_message(&m).expect("encode");
        let mut mutated = bytes.clone();
        for (at, bit) in &flips {
            let i = at.index(mutated.len());
            mutated[i] ^= 1 << bit;
        }
        assert_agree(&mutated)?;
        let truncated = &bytes[..cut.index(bytes.len())];
        prop_assert!(kpm::codec::decode_indication_message(truncated).is_err());
        assert_agree(truncated)?;
    }

    #[test]
    fn mutated_headers_agree(
        (h, version) in header(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..3),
    ) {
        let mut bytes = kpm::codec::encode_indication_header(&h, version).expect("encode");
        for (at, bit) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        assert_agree(&bytes)?;
    }
}
