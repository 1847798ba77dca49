//! Encode + decode of an E2SM-RC slice PRB quota control message with 8 slices (APER): the
//! hand-written codec behind `rc` (`rc_*`) and the rasn reference (`rc_rasn_*`).

#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use maestro_e2sm::rc::{
    decode_control_header, decode_control_message, encode_control_header, encode_control_message,
    reference, RanParamDialect, RrmPolicyMember, RrmPolicyRatioGroup, SlicePrbQuotaControl,
};
use std::hint::black_box;

fn eight_slices() -> SlicePrbQuotaControl {
    SlicePrbQuotaControl {
        groups: (0..8u8)
            .map(|i| RrmPolicyRatioGroup {
                member: RrmPolicyMember {
                    mcc: "001".into(),
                    mnc: "01".into(),
                    sst: 1 + i % 3,
                    sd: Some(u32::from(i) + 1),
                },
                min_prb_ratio: 5 + i,
                max_prb_ratio: 50 + i,
                dedicated_prb_ratio: i,
            })
            .collect(),
    }
}

fn bench(c: &mut Criterion) {
    let control = eight_slices();
    let dialect = RanParamDialect::Oran;
    let bytes = match encode_control_message(&control, dialect) {
        Ok(b) => b,
        Err(e) => panic!("encode: {e}"),
    };
    assert_eq!(
        reference::encode_control_message(&control, dialect).ok(),
        Some(bytes.clone())
    );
    println!("8-slice RC control message: {} bytes", bytes.len());
    let n = 20_000;
    common::cpu_time("rc_encode_8_slices", n, || {
        encode_control_message(&control, dialect)
    });
    common::cpu_time("rc_decode_8_slices", n, || {
        decode_control_message(&bytes, dialect)
    });
    common::cpu_time("rc_encode_decode_8_slices", n, || {
        encode_control_message(&control, dialect).and_then(|m| decode_control_message(&m, dialect))
    });
    common::cpu_time("rc_rasn_encode_8_slices", n / 10, || {
        reference::encode_control_message(&control, dialect)
    });
    common::cpu_time("rc_rasn_decode_8_slices", n / 10, || {
        reference::decode_control_message(&bytes, dialect)
    });
    common::cpu_time("rc_rasn_encode_decode_8_slices", n / 10, || {
        reference::encode_control_message(&control, dialect)
            .and_then(|m| reference::decode_control_message(&m, dialect))
    });
    c.bench_function("rc_encode_8_slices", |b| {
        b.iter(|| encode_control_message(black_box(&control), dialect))
    });
    c.bench_function("rc_decode_8_slices", |b| {
        b.iter(|| decode_control_message(black_box(&bytes), dialect))
    });
    c.bench_function("rc_encode_decode_8_slices", |b| {
        b.iter(|| {
            encode_control_message(black_box(&control), dialect)
                .and_then(|m| decode_control_message(&m, dialect))
        })
    });
    c.bench_function("rc_encode_decode_8_slices_oai", |b| {
        b.iter(|| {
            encode_control_message(black_box(&control), RanParamDialect::Oai)
                .and_then(|m| decode_control_message(&m, RanParamDialect::Oai))
        })
    });
    c.bench_function("rc_header_encode_decode", |b| {
        b.iter(|| encode_control_header(black_box(2), 6).and_then(|h| decode_control_header(&h)))
    });
    c.bench_function("rc_rasn_encode_8_slices", |b| {
        b.iter(|| reference::encode_control_message(black_box(&control), dialect))
    });
    c.bench_function("rc_rasn_decode_8_slices", |b| {
        b.iter(|| reference::decode_control_message(black_box(&bytes), dialect))
    });
    c.bench_function("rc_rasn_encode_decode_8_slices", |b| {
        b.iter(|| {
            reference::encode_control_message(black_box(&control), dialect)
                .and_then(|m| reference::decode_control_message(&m, dialect))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
