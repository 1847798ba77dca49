//! A cell's per-period report through the E2SM-KPM indications an E2 node sends, in both
//! versions: what the emulated gNB encodes is what the xApp decodes, and a decoder of the
//! other version says so.

use maestro_e2sm::kpm::cell::{decode_cell_report, encode_cell_report, names, KpmCellError};
use maestro_e2sm::kpm::{decode_indication_header, decode_indication_message, KpmCodecError};
use maestro_e2sm::kpm::{KpmIndicationMessage, KpmVersion, MeasurementType, TimeStampForm};
use maestro_e2sm::rc::RrmPolicyMember;
use maestro_e2sm::report::{CellMeasurement, SliceMeasurement, UeMeasurement};
use proptest::prelude::*;

fn member(mcc: &str, mnc: &str, sst: u8, sd: Option<u32>) -> RrmPolicyMember {
    RrmPolicyMember {
        mcc: mcc.into(),
        mnc: mnc.into(),
        sst,
        sd,
    }
}

fn ue(ue_id: u32, wb_cqi: u8, mcs: u8, prbs: f64, kbps: u32) -> UeMeasurement {
    UeMeasurement {
        ue_id,
        wb_cqi,
        mcs,
        prbs,
        dl_throughput_bps: f64::from(kbps) * 1e3,
    }
}

fn report() -> CellMeasurement {
    CellMeasurement {
        sequence: 42,
        time_ms: 4_300,
        period_ms: 100,
        cell_id: "001-01-0000000001".into(),
        n_prb: 106,
        slices: vec![
            SliceMeasurement {
                member: member("001", "01", 1, Some(1)),
                prb_quota: 42,
                prb_used: 41.7,
                dl_throughput_bps: 20_004e3,
                ues: vec![ue(1, 15, 27, 14.2, 7_001), ue(2, 9, 16, 13.5, 6_500)],
            },
            SliceMeasurement {
                member: member("310", "410", 2, None),
                prb_quota: 64,
                prb_used: 0.0,
                dl_throughput_bps: 0.0,
                ues: vec![ue(70_000, 0, 0, 0.0, 0)],
            },
        ],
    }
}

#[test]
fn a_report_crosses_kpm_unchanged() {
    let m = report();
    let ind = encode_cell_report(&m, KpmVersion::V3_00).unwrap();
    assert_eq!(decode_cell_report(&ind, KpmVersion::V3_00).unwrap(), m);
    // The UE-level message is a format 3 with one item per UE and the TS 28.552 names.
    let Ok(KpmIndicationMessage::Format3(ues)) =
        decode_indication_message(ind.ues.as_deref().unwrap())
    else {
        panic!("not format 3");
    };
    assert_eq!(ues.len(), 3);
    let first: Vec<_> = ues[0]
        .report
        .info
        .as_ref()
        .unwrap()
        .iter()
        .map(|i| i.meas_type.clone())
        .collect();
    assert_eq!(
        first,
        [
            names::UE_THP_DL,
            names::PRB_USED_DL,
            names::WB_CQI_DIST,
            names::PDSCH_MCS_DIST
        ]
        .map(|n| MeasurementType::Name(n.into()))
    );
    // 2 slices x 3 UEs at 100 ms: a few hundred bytes per period.
    let total = ind.header.len() + ind.cell.len() + ind.ues.as_ref().map_or(0, Vec::len);
    assert!((200..1_000).contains(&total), "{total} bytes");
}

#[test]
fn a_cell_without_ues_sends_no_ue_indication() {
    let mut m = report();
    for s in &mut m.slices {
        s.ues.clear();
    }
    for version in KpmVersion::ALL {
        let ind = encode_cell_report(&m, version).unwrap();
        assert!(ind.ues.is_none());
        assert_eq!(decode_cell_report(&ind, version).unwrap(), m);
    }
}

#[test]
fn mismatched_messages_are_shape_errors() {
    let ind = encode_cell_report(&report(), KpmVersion::V3_00).unwrap();
    let mut swapped = ind.clone();
    std::mem::swap(&mut swapped.cell, swapped.ues.as_mut().unwrap());
    assert!(decode_cell_report(&swapped, KpmVersion::V3_00).is_err());
    let mut truncated = ind;
    truncated.cell.truncate(truncated.cell.len() / 2);
    assert!(decode_cell_report(&truncated, KpmVersion::V3_00).is_err());
}

#[test]
fn both_versions_carry_the_report_and_differ_only_in_the_header() {
    let m = report();
    let v2 = encode_cell_report(&m, KpmVersion::V2_03).unwrap();
    let v3 = encode_cell_report(&m, KpmVersion::V3_00).unwrap();
    assert_eq!(decode_cell_report(&v2, KpmVersion::V2_03).unwrap(), m);
    assert_eq!(decode_cell_report(&v3, KpmVersion::V3_00).unwrap(), m);
    assert_eq!((&v2.cell, &v2.ues), (&v3.cell, &v3.ues));
    // The TimeStamp: 4 octets of NTP seconds vs 8 of NTP seconds and fraction.
    assert_eq!(v3.header.len(), v2.header.len() + 4);
    // colletStartTime is the start of the period, the node clock (4.3 s) read as Unix time.
    let h3 = decode_indication_header(&v3.header, KpmVersion::V3_00).unwrap();
    assert_eq!(h3.collect_start_time_form, TimeStampForm::Ntp);
    assert_eq!(h3.collect_start_time.to_unix_micros(), 4_200_000);
    let h2 = decode_indication_header(&v2.header, KpmVersion::V2_03).unwrap();
    assert_eq!(h2.collect_start_time.to_unix_micros(), 4_000_000);
}

#[test]
fn a_decoder_of_the_other_version_reports_the_mismatch() {
    for version in KpmVersion::ALL {
        let ind = encode_cell_report(&report(), version).unwrap();
        let err = decode_cell_report(&ind, version.other()).unwrap_err();
        assert_eq!(
            err,
            KpmCellError::Codec(KpmCodecError::VersionMismatch {
                expected: version.other(),
                found: version,
                len: ind.header.len(),
            })
        );
        let text = err.to_string();
        assert!(
            text.contains(&format!("expected {}", version.other()))
                && text.contains(&format!("are a {version} header")),
            "{text}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// Throughput travels in whole kbit/s (TS 28.552's unit): everything else is exact.
    #[test]
    fn any_report_round_trips(
        slices in proptest::collection::vec(
            (
                1u8..=255,
                proptest::option::of(0u32..1 << 24),
                0u16..=273,
                0.0f64..273.0,
                proptest::collection::vec((0u8..=15, 0u8..=28, 0.0f64..273.0, 0u32..2_000_000), 0..5),
            ),
            1..5,
        ),
        sequence in any::<u32>(),
    ) {
        let mut next_ue = 0u32;
        let m = CellMeasurement {
            sequence: u64::from(sequence),
            time_ms: u64::from(sequence) * 100 + 100,
            period_ms: 100,
            cell_id: "001-01-0000000001".into(),
            n_prb: 273,
            slices: slices
                .into_iter()
                .enumerate()
                .map(|(i, (sst, sd, quota, used, ues))| SliceMeasurement {
                    // Distinct slices: the SST carries the index.
                    member: member("001", "01", sst.wrapping_add(i as u8 * 51), sd),
                    prb_quota: quota,
                    prb_used: used,
                    dl_throughput_bps: ues.iter().map(|u| f64::from(u.3) * 1e3).sum(),
                    ues: ues
                        .into_iter()
                        .map(|(cqi, mcs, prbs, kbps)| {
                            next_ue += 1;
                            ue(next_ue, cqi, mcs, prbs, kbps)
                        })
                        .collect(),
                })
                .collect(),
        };
        let distinct: std::collections::HashSet<_> = m.slices.iter().map(|s| s.member.clone()).collect();
        prop_assume!(distinct.len() == m.slices.len());
        let version = if sequence % 2 == 0 { KpmVersion::V3_00 } else { KpmVersion::V2_03 };
        let ind = encode_cell_report(&m, version).unwrap();
        prop_assert_eq!(decode_cell_report(&ind, version).unwrap(), m);
    }
}
