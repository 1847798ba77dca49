//! Encode + decode of an E2SM-KPM indication message format 3 with 100 UEs, each with 4
//! measurement records: the hand-written codec (`kpm_per`, `kpm_*`) and the rasn-based
//! `kpm_aper` (`kpm_rasn_*`).

use criterion::{criterion_group, criterion_main, Criterion};
use maestro_e2sm::kpm::{
    KpmIndicationHeader, KpmIndicationMessage, MeasurementDataItem, MeasurementInfo,
    MeasurementLabel, MeasurementReport, MeasurementType, MeasurementValue, Snssai,
    UeMeasurementReport,
};
use maestro_e2sm::rc_aper::GnbUeId;
use maestro_e2sm::{kpm_aper, kpm_per};
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

/// CPU time of this thread, ns (`/proc/thread-self/schedstat`, Linux), if available: on a
/// loaded machine it is a steadier measure than criterion's wall-clock time.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Prints the CPU time per call of `f` over `n` calls.
fn cpu_time<T>(name: &str, n: u32, mut f: impl FnMut() -> T) {
    for _ in 0..n / 10 {
        black_box(f());
    }
    let (Some(t0), (), Some(t1)) = (
        thread_cpu_ns(),
        (0..n).for_each(|_| {
            black_box(f());
        }),
        thread_cpu_ns(),
    ) else {
        return;
    };
    println!(
        "cpu time {name}: {:.0} ns/call",
        (t1 - t0) as f64 / f64::from(n)
    );
}

fn bench(c: &mut Criterion) {
    let msg = hundred_ues();
    let bytes = match kpm_per::encode_indication_message(&msg) {
        Ok(b) => b,
        Err(e) => panic!("encode: {e}"),
    };
    assert_eq!(
        kpm_aper::encode_indication_message(&msg).ok(),
        Some(bytes.clone())
    );
    println!("KPM indication format 3, 100 UEs: {} bytes", bytes.len());
    let n = 2_000;
    cpu_time("kpm_f3_encode_100_ues", n, || {
        kpm_per::encode_indication_message(&msg)
    });
    cpu_time("kpm_f3_decode_100_ues", n, || {
        kpm_per::decode_indication_message(&bytes)
    });
    cpu_time("kpm_f3_encode_decode_100_ues", n, || {
        kpm_per::encode_indication_message(&msg)
            .and_then(|m| kpm_per::decode_indication_message(&m))
    });
    cpu_time("kpm_rasn_f3_encode_decode_100_ues", n / 10, || {
        kpm_aper::encode_indication_message(&msg)
            .and_then(|m| kpm_aper::decode_indication_message(&m))
    });
    c.bench_function("kpm_f3_encode_100_ues", |b| {
        b.iter(|| kpm_per::encode_indication_message(black_box(&msg)))
    });
    c.bench_function("kpm_f3_decode_100_ues", |b| {
        b.iter(|| kpm_per::decode_indication_message(black_box(&bytes)))
    });
    c.bench_function("kpm_f3_encode_decode_100_ues", |b| {
        b.iter(|| {
            kpm_per::encode_indication_message(black_box(&msg))
                .and_then(|m| kpm_per::decode_indication_message(&m))
        })
    });
    let header = KpmIndicationHeader {
        collect_start_time: 0xE8D4_A510,
        file_format_version: Some("v03.00".into()),
        sender_name: Some("maestro emulated gNB".into()),
        sender_type: Some("gNB".into()),
        vendor_name: Some("Maestro".into()),
    };
    c.bench_function("kpm_header_encode_decode", |b| {
        b.iter(|| {
            kpm_per::encode_indication_header(black_box(&header))
                .and_then(|h| kpm_per::decode_indication_header(&h))
        })
    });
    c.bench_function("kpm_rasn_f3_encode_100_ues", |b| {
        b.iter(|| kpm_aper::encode_indication_message(black_box(&msg)))
    });
    c.bench_function("kpm_rasn_f3_decode_100_ues", |b| {
        b.iter(|| kpm_aper::decode_indication_message(black_box(&bytes)))
    });
    c.bench_function("kpm_rasn_f3_encode_decode_100_ues", |b| {
        b.iter(|| {
            kpm_aper::encode_indication_message(black_box(&msg))
                .and_then(|m| kpm_aper::decode_indication_message(&m))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
