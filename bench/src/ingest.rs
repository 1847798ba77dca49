//! `maestro-bench ingest`: the controller's cost per CQI report, single-threaded: per-UE CQI
//! samples ingested per second (report -> quotas and statuses -> KPI report).

use std::time::{Duration, Instant};

use maestro_api::a1::SLICE_SLA_TARGET_TYPE;
use maestro_e2sm::rc::RrmPolicyMember;
use maestro_e2sm::report::{CellMeasurement, SliceMeasurement, UeMeasurement};
use maestro_xapp::controller::{Controller, LoopTuning, Priority, SliceTarget};
use maestro_xapp::kpi::cell_report;
use maestro_xapp::nr::CellConfig;
use maestro_xapp::store::PolicyKey;
use serde::Serialize;

use crate::harness::bench_slices;

/// Ingest figures.
#[derive(Debug, Serialize)]
pub struct Ingest {
    /// UEs per report.
    pub ues_per_report: usize,
    /// Slices.
    pub slices: usize,
    /// Reports per second.
    pub reports_per_second: f64,
    /// Per-UE CQI samples per second.
    pub ue_samples_per_second: f64,
}

impl Ingest {
    /// One line for the terminal.
    pub fn line(&self) -> String {
        format!(
            "{:>12.0} UE-samples/s  ({:.0} reports/s of {} UEs in {} slices, one core)",
            self.ue_samples_per_second, self.reports_per_second, self.ues_per_report, self.slices
        )
    }
}

/// The `ingest` figure: `decide` + KPI report per synthetic measurement, one thread.
pub fn run(ues: usize, slices: usize, seconds: f64) -> Ingest {
    let cell = CellConfig::oai_40mhz();
    let served = bench_slices(u32::try_from(slices).unwrap_or(u32::MAX));
    let targets: Vec<SliceTarget> = served
        .iter()
        .enumerate()
        .map(|(i, member)| SliceTarget {
            policy: PolicyKey::new(SLICE_SLA_TARGET_TYPE, &format!("bench-{i}")),
            member: member.clone(),
            target_bps: 10e6,
            priority: Priority::Guaranteed,
        })
        .collect();
    // A handful of distinct reports so the CQI mix moves like a drive would.
    let reports: Vec<CellMeasurement> = (0..16u64)
        .map(|k| measurement(&served, ues, k, cell.n_prb))
        .collect();
    let mut controller = Controller::new(LoopTuning::default());
    let started = Instant::now();
    let budget = Duration::from_secs_f64(seconds);
    let mut n = 0u64;
    let mut sink = 0usize;
    while started.elapsed() < budget {
        for m in &reports {
            let decision = controller.decide(&cell, m, &served, &targets);
            let report = cell_report(&cell, m, &decision);
            sink = sink.wrapping_add(report.slices.len());
            n += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    std::hint::black_box(sink);
    let reports_per_second = n as f64 / elapsed;
    Ingest {
        ues_per_report: ues,
        slices,
        reports_per_second,
        ue_samples_per_second: reports_per_second * ues as f64,
    }
}

/// A report with `ues` UEs spread over the slices; CQIs vary with `k`.
fn measurement(served: &[RrmPolicyMember], ues: usize, k: u64, n_prb: u16) -> CellMeasurement {
    let per_slice = ues.div_ceil(served.len());
    let mut id = 0u32;
    let slices = served
        .iter()
        .map(|member| {
            let count = per_slice.min(ues - id as usize);
            let ues = (0..count)
                .map(|_| {
                    id += 1;
                    UeMeasurement {
                        ue_id: id,
                        wb_cqi: (3 + (id as u64 * 7 + k * 3) % 13) as u8,
                        mcs: 10,
                        prbs: 1.0,
                        dl_throughput_bps: 3e6,
                    }
                })
                .collect::<Vec<_>>();
            SliceMeasurement {
                member: member.clone(),
                prb_quota: n_prb / served.len() as u16,
                prb_used: 20.0,
                dl_throughput_bps: 3e6 * ues.len() as f64,
                ues,
            }
        })
        .collect();
    CellMeasurement {
        sequence: k,
        time_ms: k * 100,
        period_ms: 100,
        cell_id: "bench".into(),
        n_prb,
        slices,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_reports_hold_every_ue_once() {
        let served = bench_slices(3);
        let m = measurement(&served, 1000, 5, 106);
        let n: usize = m.slices.iter().map(|s| s.ues.len()).sum();
        assert_eq!(n, 1000);
        assert!(m
            .slices
            .iter()
            .flat_map(|s| &s.ues)
            .all(|u| (3..=15).contains(&u.wb_cqi)));
    }
}
