//! E2SM-KPM v02.03 and v03.00 against vectors that asn1tools encoded from the STANDARD
//! O-RAN modules (FlexRIC c74bcef0's `e2sm_kpm_v02.03_standard.asn1` and
//! `e2sm_kpm_v03.00_standard.asn1`): byte-exact round trips both ways through the
//! hand-written codec (`kpm::codec`, behind `kpm`) and the rasn reference
//! (`kpm::reference`); what the TimeStamp means in each version; FlexRIC's Unix-µs
//! TimeStamp; and the error a header of the wrong version gives.

mod kpm_common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kpm_common::{action_f1, action_f4, event_trigger, hex, msg_f1, msg_f3};
use maestro_e2sm::kpm::{self, reference, KpmCodecError};
use maestro_e2sm::kpm::{
    KpmIndicationHeader, KpmIndicationMessage, KpmVersion, NtpTimestamp, TimeStampForm,
};

// Made by `.ci/e2sm-kpm-vectors.py` (asn1tools 0.169.0, codec 'per' (ALIGNED PER), python
// 3.11.7) from the standard modules of FlexRIC's tree,
// src/sm/kpm_sm/kpm_sm_v0X.0Y/ie/asn/e2sm_kpm_v0X.0Y_standard.asn1 at commit c74bcef0 of
// github.com/openaicellular/flexric (sha256 bb0c81b4... v02.03, ab473a9c... v03.00). Values:
// the functions of kpm_common and the headers below. Times: NTP (3913056000, 2^31) =
// 2024-01-01T00:00:00.5Z, NTP (3928739696, 2^30) = 2024-06-30T12:34:56.25Z, Unix µs
// 1704067200250000 = 2024-01-01T00:00:00.25Z.
const V0203_EVENT_TRIGGER: &str = "0803e7";
const V0203_ACTION_F1: &str = "00010108000200a04452422e5545546870446c02080000808000000118000000f1100080305252552e50726255736564446c0120000000d0434152522e57424351494469737402000100000000030000000f00630000f11000bc614e10";
const V0203_ACTION_F4: &str = "0001048031000001384001000404010000013810010010010500000100a04452422e5545546870446c01200000200006010000020063";
const V0203_MSG_F1: &str = "0c0001000308cb20006a4801000000000200a04452422e5545546870446c0120000000c05252552e50726255736564446c0120000000d05252552e507262417661696c446c012000000063";
const V0203_MSG_F3: &str = "4000590000010000010000f1100100404000000002084e200032000100a04452422e5545546870446c01080000808000000100c05252552e50726255736564446c012000000010ffffffffff00130014abffea200000000240000063";
const V0203_HEADER: &str = "1ee93c7f00307630322e30330000146d61657374726f20656d756c6174656420674e4218674e420e4d61657374726f";
const V0203_HEADER_BARE: &str = "00ea2bcf70";
const V0300_EVENT_TRIGGER: &str = "0803e7";
const V0300_ACTION_F1: &str = "00010108000200a04452422e5545546870446c02080000808000000118000000f1100080305252552e50726255736564446c0120000000d0434152522e57424351494469737402000100000000030000000f00630000f11000bc614e10";
const V0300_ACTION_F4: &str = "0001048031000001384001000404010000013810010010010500000100a04452422e5545546870446c01200000200006010000020063";
const V0300_MSG_F1: &str = "0c0001000308cb20006a4801000000000200a04452422e5545546870446c0120000000c05252552e50726255736564446c0120000000d05252552e507262417661696c446c012000000063";
const V0300_MSG_F3: &str = "4000590000010000010000f1100100404000000002084e200032000100a04452422e5545546870446c01080000808000000100c05252552e50726255736564446c012000000010ffffffffff00130014abffea200000000240000063";
const V0300_HEADER: &str = "1ee93c7f0080000000307630332e30300000146d61657374726f20656d756c6174656420674e4218674e420e4d61657374726f";
const V0300_HEADER_BARE: &str = "00ea2bcf7040000000";
const V0300_HEADER_FLEXRIC_US: &str =
    "0e00060dd71024f09000000b4d79204f41492d4d4f4e4f204d4f4e4f064f4149";

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`),
/// written here so that the expected times do not come from the code under test.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A UTC date and time as a [`SystemTime`].
fn utc(y: i64, mo: i64, d: i64, h: u64, mi: u64, s: u64, ms: u64) -> SystemTime {
    let days = u64::try_from(days_from_civil(y, mo, d)).expect("after 1970");
    UNIX_EPOCH + Duration::from_millis(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms)
}

fn strings(
    h: KpmIndicationHeader,
    file_format_version: &str,
    sender: &str,
    kind: &str,
    vendor: &str,
) -> KpmIndicationHeader {
    KpmIndicationHeader {
        file_format_version: (!file_format_version.is_empty()).then(|| file_format_version.into()),
        sender_name: Some(sender.into()),
        sender_type: Some(kind.into()),
        vendor_name: Some(vendor.into()),
        ..h
    }
}

fn bare(time: NtpTimestamp, form: TimeStampForm) -> KpmIndicationHeader {
    KpmIndicationHeader {
        collect_start_time: time,
        collect_start_time_form: form,
        file_format_version: None,
        sender_name: None,
        sender_type: None,
        vendor_name: None,
    }
}

/// The headers of the vectors, with their version.
fn headers() -> [(&'static str, KpmVersion, KpmIndicationHeader); 5] {
    let ntp = |seconds, fraction| NtpTimestamp { seconds, fraction };
    let maestro = |h, v| strings(h, v, "maestro emulated gNB", "gNB", "Maestro");
    let flexric_time = NtpTimestamp::from_unix_micros(1_704_067_200_250_000).expect("2024");
    [
        (
            V0203_HEADER,
            KpmVersion::V2_03,
            maestro(bare(ntp(3_913_056_000, 0), TimeStampForm::Ntp), "v02.03"),
        ),
        (
            V0203_HEADER_BARE,
            KpmVersion::V2_03,
            bare(ntp(3_928_739_696, 0), TimeStampForm::Ntp),
        ),
        (
            V0300_HEADER,
            KpmVersion::V3_00,
            maestro(
                bare(ntp(3_913_056_000, 1 << 31), TimeStampForm::Ntp),
                "v03.00",
            ),
        ),
        (
            V0300_HEADER_BARE,
            KpmVersion::V3_00,
            bare(ntp(3_928_739_696, 1 << 30), TimeStampForm::Ntp),
        ),
        (
            V0300_HEADER_FLEXRIC_US,
            KpmVersion::V3_00,
            strings(
                bare(flexric_time, TimeStampForm::UnixMicros),
                "",
                "My OAI-MONO",
                "MONO",
                "OAI",
            ),
        ),
    ]
}

#[test]
fn headers_round_trip_byte_exact_through_both_codecs() {
    for (vector, version, header) in headers() {
        let bytes = hex(vector);
        // Hand-written codec, directly and behind kpm.
        assert_eq!(
            kpm::codec::decode_indication_header(&bytes, version),
            Ok(header.clone()),
            "{version} {vector}"
        );
        assert_eq!(
            kpm::codec::encode_indication_header(&header, version),
            Ok(bytes.clone())
        );
        assert_eq!(
            kpm::decode_indication_header(&bytes, version),
            Ok(header.clone())
        );
        assert_eq!(
            kpm::encode_indication_header(&header, version),
            Ok(bytes.clone())
        );
        // rasn reference (the subset's v03.00 header type or its v02.03 twin).
        assert_eq!(
            reference::decode_indication_header(&bytes, version),
            Ok(header.clone()),
            "{version} {vector}"
        );
        assert_eq!(
            reference::encode_indication_header(&header, version),
            Ok(bytes)
        );
    }
}

#[test]
fn messages_round_trip_byte_exact_through_both_codecs_in_both_versions() {
    let cases: [(&str, &str, KpmIndicationMessage); 2] = [
        (V0203_MSG_F1, V0300_MSG_F1, msg_f1()),
        (V0203_MSG_F3, V0300_MSG_F3, msg_f3()),
    ];
    for (v2, v3, msg) in cases {
        for vector in [v2, v3] {
            let bytes = hex(vector);
            assert_eq!(
                kpm::codec::decode_indication_message(&bytes),
                Ok(msg.clone())
            );
            assert_eq!(
                kpm::codec::encode_indication_message(&msg),
                Ok(bytes.clone())
            );
            assert_eq!(
                reference::decode_indication_message(&bytes),
                Ok(msg.clone())
            );
            assert_eq!(reference::encode_indication_message(&msg), Ok(bytes));
        }
    }
}

#[test]
fn event_triggers_and_action_definitions_round_trip_in_both_versions() {
    // One codec (rasn) for these: they are not on the per-period path.
    for vector in [V0203_EVENT_TRIGGER, V0300_EVENT_TRIGGER] {
        let bytes = hex(vector);
        assert_eq!(kpm::decode_event_trigger(&bytes), Ok(event_trigger()));
        assert_eq!(kpm::encode_event_trigger(&event_trigger()), Ok(bytes));
    }
    for (vector, def) in [
        (V0203_ACTION_F1, action_f1()),
        (V0300_ACTION_F1, action_f1()),
        (V0203_ACTION_F4, action_f4()),
        (V0300_ACTION_F4, action_f4()),
    ] {
        let bytes = hex(vector);
        assert_eq!(kpm::decode_action_definition(&bytes), Ok(def.clone()));
        assert_eq!(kpm::encode_action_definition(&def), Ok(bytes));
    }
}

#[test]
fn the_versions_differ_only_in_the_header_time_stamp() {
    for (v2, v3) in [
        (V0203_EVENT_TRIGGER, V0300_EVENT_TRIGGER),
        (V0203_ACTION_F1, V0300_ACTION_F1),
        (V0203_ACTION_F4, V0300_ACTION_F4),
        (V0203_MSG_F1, V0300_MSG_F1),
        (V0203_MSG_F3, V0300_MSG_F3),
    ] {
        assert_eq!(v2, v3);
    }
    // Same header (same seconds and strings but "v02.03" / "v03.00"): v03.00 has the 4
    // fraction octets after the 4 seconds octets, which follow the 1 octet of preamble
    // (extension and presence bits, X.691 clause 19).
    let (v2, v3) = (hex(V0203_HEADER), hex(V0300_HEADER));
    assert_eq!(v3.len(), v2.len() + 4);
    assert_eq!(v2[..5], v3[..5]);
    assert_eq!(v3[5..9], [0x80, 0, 0, 0]);
    // After the TimeStamp: the strings, in which only fileFormatversion differs.
    let v2_tail = String::from_utf8_lossy(&v2[5..]).replace("v02.03", "v03.00");
    assert_eq!(v2_tail, String::from_utf8_lossy(&v3[9..]));
}

#[test]
fn a_v0300_header_carries_the_64_bit_ntp_time() {
    let h = kpm::decode_indication_header(&hex(V0300_HEADER), KpmVersion::V3_00)
        .expect("v03.00 header");
    assert_eq!(h.collect_start_time_form, TimeStampForm::Ntp);
    // 2024-01-01T00:00:00Z is NTP 3,913,056,000 s (3,913,056,000 - 2,208,988,800 =
    // 1,704,067,200, the Unix time of that date); the fraction 2^31 is half a second.
    assert_eq!(h.collect_start_time.seconds, 3_913_056_000);
    assert_eq!(
        h.collect_start_time.to_system_time(),
        utc(2024, 1, 1, 0, 0, 0, 500)
    );
    let bare = kpm::decode_indication_header(&hex(V0300_HEADER_BARE), KpmVersion::V3_00)
        .expect("v03.00 header");
    assert_eq!(
        SystemTime::from(bare.collect_start_time),
        utc(2024, 6, 30, 12, 34, 56, 250)
    );
    assert_eq!(bare.sender_name, None);
}

#[test]
fn a_v0203_header_carries_the_ntp_seconds() {
    let h = kpm::decode_indication_header(&hex(V0203_HEADER), KpmVersion::V2_03)
        .expect("v02.03 header");
    assert_eq!(h.collect_start_time_form, TimeStampForm::Ntp);
    assert_eq!(
        h.collect_start_time,
        NtpTimestamp::from_seconds(3_913_056_000)
    );
    assert_eq!(
        h.collect_start_time.to_system_time(),
        utc(2024, 1, 1, 0, 0, 0, 0)
    );
    assert_eq!(h.file_format_version.as_deref(), Some("v02.03"));
    let bare = kpm::decode_indication_header(&hex(V0203_HEADER_BARE), KpmVersion::V2_03)
        .expect("v02.03 header");
    assert_eq!(
        bare.collect_start_time.to_system_time(),
        utc(2024, 6, 30, 12, 34, 56, 0)
    );
    // Encoding drops the fraction: v02.03 carries the seconds only.
    let with_fraction = KpmIndicationHeader {
        collect_start_time: NtpTimestamp {
            seconds: 3_928_739_696,
            fraction: 1 << 30,
        },
        ..bare
    };
    assert_eq!(
        kpm::encode_indication_header(&with_fraction, KpmVersion::V2_03),
        Ok(hex(V0203_HEADER_BARE))
    );
}

#[test]
fn a_flexric_microsecond_header_decodes_to_the_right_time_and_says_so() {
    for decoded in [
        kpm::codec::decode_indication_header(&hex(V0300_HEADER_FLEXRIC_US), KpmVersion::V3_00),
        reference::decode_indication_header(&hex(V0300_HEADER_FLEXRIC_US), KpmVersion::V3_00),
    ] {
        let h = decoded.expect("FlexRIC header");
        assert_eq!(h.collect_start_time_form, TimeStampForm::UnixMicros);
        assert_eq!(
            h.collect_start_time.to_system_time(),
            utc(2024, 1, 1, 0, 0, 0, 250)
        );
        assert_eq!(h.collect_start_time.to_unix_micros(), 1_704_067_200_250_000);
        assert_eq!(h.sender_name.as_deref(), Some("My OAI-MONO"));
    }
    // Read as NTP, those octets are 396,759 s (4.6 days) into an era: 1900-01-05 or
    // 2036-02-11, neither plausible for a measurement.
    let raw = 1_704_067_200_250_000u64;
    assert_eq!(raw >> 32, 396_759);
    assert!(NtpTimestamp::from_bits(raw).reads_as_unix_micros());
    // The standard header of the same time is different bytes, and reads back as NTP.
    let ntp = KpmIndicationHeader {
        collect_start_time_form: TimeStampForm::Ntp,
        ..kpm::decode_indication_header(&hex(V0300_HEADER_FLEXRIC_US), KpmVersion::V3_00)
            .expect("FlexRIC header")
    };
    let bytes = kpm::encode_indication_header(&ntp, KpmVersion::V3_00).expect("encode");
    assert_ne!(bytes, hex(V0300_HEADER_FLEXRIC_US));
    assert_eq!(
        kpm::decode_indication_header(&bytes, KpmVersion::V3_00),
        Ok(ntp)
    );
}

#[test]
fn a_header_of_the_other_version_is_a_clear_error() {
    let cases = [
        (V0203_HEADER, KpmVersion::V2_03),
        (V0203_HEADER_BARE, KpmVersion::V2_03),
        (V0300_HEADER, KpmVersion::V3_00),
        (V0300_HEADER_BARE, KpmVersion::V3_00),
        (V0300_HEADER_FLEXRIC_US, KpmVersion::V3_00),
    ];
    for (vector, found) in cases {
        let bytes = hex(vector);
        let expected = found.other();
        let want = Err(KpmCodecError::VersionMismatch {
            expected,
            found,
            len: bytes.len(),
        });
        assert_eq!(kpm::codec::decode_indication_header(&bytes, expected), want);
        assert_eq!(reference::decode_indication_header(&bytes, expected), want);
        let text = kpm::decode_indication_header(&bytes, expected)
            .expect_err("wrong version")
            .to_string();
        for part in [
            format!(
                "expected {expected} (TimeStamp of {} octets)",
                expected.timestamp_octets()
            ),
            format!(
                "are a {found} header (TimeStamp of {} octets)",
                found.timestamp_octets()
            ),
        ] {
            assert!(text.contains(&part), "{text:?} lacks {part:?}");
        }
    }
    // Garbage is malformed, and the error names the version it was read as.
    let text = kpm::decode_indication_header(&[0x1e, 0xe9], KpmVersion::V3_00)
        .expect_err("truncated")
        .to_string();
    assert!(
        text.contains("v03.00 indication header (TimeStamp of 8 octets)"),
        "{text}"
    );
}
