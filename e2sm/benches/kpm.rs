//! Encode + decode of an E2SM-KPM indication message format 3 with 100 UEs, each with 4
//! measurement records: the hand-written codec (`kpm::codec`, `kpm_*`) and the rasn-based
//! `kpm::reference` (`kpm_rasn_*`).

#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use maestro_e2sm::common::GnbUeId;
use maestro_e2sm::kpm;
use maestro_e2sm::kpm::{
    KpmIndicationHeader, KpmIndicationMessage, KpmVersion, MeasurementDataItem, MeasurementInfo,
    MeasurementLabel, MeasurementReport, MeasurementType, MeasurementValue, NtpTimestamp, Snssai,
    TimeStampForm, UeMeasurementReport,
};
use std::hint::black_box;

fn hundred_ues() -> KpmIndicationMessage {
    let info = vec![
        MeasurementInfo {
            meas_type: MeasurementType::Name("DRB.UEThpDl".into()),
            labels: vec![MeasurementLabel {
                slice: Some(Snssai {
                    sst: 1,
                    sd: Some(1),
                }),
                ..MeasurementLabel::default()
            }],
        },
        MeasurementInfo {
            meas_type: MeasurementType::Name("DRB.UEThpUl".into()),
            labels: vec![MeasurementLabel::none()],
        },
        MeasurementInfo {
            meas_type: MeasurementType::Name("RRU.PrbUsedDl".into()),
            labels: vec![MeasurementLabel::none()],
        },
        MeasurementInfo {
            meas_type: MeasurementType::Name("CARR.WBCQIDist".into()),
            labels: vec![MeasurementLabel {
                dist_bin_x: Some(12),
                ..MeasurementLabel::default()
            }],
        },
    ];
    KpmIndicationMessage::Format3(
        (0..100u32)
            .map(|i| UeMeasurementReport {
                ue: GnbUeId {
                    amf_ue_ngap_id: u64::from(i) + 1,
                    ..GnbUeId::placeholder()
                },
                report: MeasurementReport {
                    data: vec![MeasurementDataItem {
                        record: vec![
                            MeasurementValue::Integer(50_000 + 17 * i),
                            MeasurementValue::Integer(2_000 + i),
                            MeasurementValue::Integer(i % 106),
                            if i % 10 == 0 {
                                MeasurementValue::NoValue
                            } else {
                                MeasurementValue::Integer(i % 16)
                            },
                        ],
                        incomplete: false,
                    }],
                    // Every 10th UE also says what its records are.
                    info: (i % 10 == 0).then(|| info.clone()),
                    granularity_period_ms: Some(1000),
                },
            })
            .collect(),
    )
}

fn bench(c: &mut Criterion) {
    let msg = hundred_ues();
    let bytes = match kpm::codec::encode_indication_message(&msg) {
        Ok(b) => b,
        Err(e) => panic!("encode: {e}"),
    };
    assert_eq!(
        kpm::reference::encode_indication_message(&msg).ok(),
        Some(bytes.clone())
    );
    println!("KPM indication format 3, 100 UEs: {} bytes", bytes.len());
    let n = 2_000;
    common::cpu_time("kpm_f3_encode_100_ues", n, || {
        kpm::codec::encode_indication_message(&msg)
    });
    common::cpu_time("kpm_f3_decode_100_ues", n, || {
        kpm::codec::decode_indication_message(&bytes)
    });
    common::cpu_time("kpm_f3_encode_decode_100_ues", n, || {
        kpm::codec::encode_indication_message(&msg)
            .and_then(|m| kpm::codec::decode_indication_message(&m))
    });
    common::cpu_time("kpm_rasn_f3_encode_decode_100_ues", n / 10, || {
        kpm::reference::encode_indication_message(&msg)
            .and_then(|m| kpm::reference::decode_indication_message(&m))
    });
    c.bench_function("kpm_f3_encode_100_ues", |b| {
        b.iter(|| kpm::codec::encode_indication_message(black_box(&msg)))
    });
    c.bench_function("kpm_f3_decode_100_ues", |b| {
        b.iter(|| kpm::codec::decode_indication_message(black_box(&bytes)))
    });
    c.bench_function("kpm_f3_encode_decode_100_ues", |b| {
        b.iter(|| {
            kpm::codec::encode_indication_message(black_box(&msg))
                .and_then(|m| kpm::codec::decode_indication_message(&m))
        })
    });
    // v03.00: the 8-octet TimeStamp (2024-01-01T00:00:00.5Z).
    let header = KpmIndicationHeader {
        collect_start_time: NtpTimestamp {
            seconds: 3_913_056_000,
            fraction: 1 << 31,
        },
        collect_start_time_form: TimeStampForm::Ntp,
        file_format_version: Some("v03.00".into()),
        sender_name: Some("maestro emulated gNB".into()),
        sender_type: Some("gNB".into()),
        vendor_name: Some("Maestro".into()),
    };
    c.bench_function("kpm_header_encode_decode", |b| {
        b.iter(|| {
            kpm::codec::encode_indication_header(black_box(&header), KpmVersion::V3_00)
                .and_then(|h| kpm::codec::decode_indication_header(&h, KpmVersion::V3_00))
        })
    });
    c.bench_function("kpm_rasn_f3_encode_100_ues", |b| {
        b.iter(|| kpm::reference::encode_indication_message(black_box(&msg)))
    });
    c.bench_function("kpm_rasn_f3_decode_100_ues", |b| {
        b.iter(|| kpm::reference::decode_indication_message(black_box(&bytes)))
    });
    c.bench_function("kpm_rasn_f3_encode_decode_100_ues", |b| {
        b.iter(|| {
            kpm::reference::encode_indication_message(black_box(&msg))
                .and_then(|m| kpm::reference::decode_indication_message(&m))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
