//! Observability unit, fed by the xApp's KPI stream: the cell's maximum achievable throughput
//! now, and per slice how the delivered throughput tracks the enforced target.

use std::collections::BTreeMap;

use maestro_api::kpi::{CellReport, SliceReport};
use serde::Serialize;

/// Relative tolerance within which a slice counts as holding its target (5%).
pub const TARGET_TOLERANCE: f64 = 0.05;

/// Maximum achievable throughput per slice now, Mbps, if `n_slices` share the cell equally.
pub fn fair_share_mbps(report: &CellReport, n_slices: usize) -> f64 {
    report.capacity_bps / 1e6 / n_slices.max(1) as f64
}

/// Running account of one slice since its target was enforced.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SliceTally {
    /// Target in force, bits/s.
    pub target_bps: f64,
    /// Periods observed with that target in force for the whole period.
    pub periods: u64,
    /// Of those, periods where the target fit the cell at the period's CQIs.
    pub achievable_periods: u64,
    /// Sum of measured throughput over achievable periods, bits/s.
    pub achievable_throughput_sum_bps: f64,
    /// Achievable periods whose own throughput was within tolerance.
    pub periods_within_tolerance: u64,
    /// The slice's last report.
    #[serde(skip)]
    pub last: Option<SliceReport>,
    #[serde(skip)]
    prev_target_bps: Option<f64>,
}

impl SliceTally {
    /// Mean measured throughput over achievable periods, bits/s.
    pub fn mean_achievable_bps(&self) -> Option<f64> {
        (self.achievable_periods > 0)
            .then(|| self.achievable_throughput_sum_bps / self.achievable_periods as f64)
    }
}

/// Folds KPI reports into per-slice tallies.
#[derive(Debug, Default)]
pub struct Observer {
    /// Reports received.
    pub reports: u64,
    /// Latest report.
    pub latest: Option<CellReport>,
    /// Per slice label.
    pub slices: BTreeMap<String, SliceTally>,
}

impl Observer {
    /// Accounts one report. A period counts for a slice only when the same non-zero target was
    /// already in force in the previous report (so the controller had set the quota for it).
    pub fn observe(&mut self, report: CellReport) {
        self.reports += 1;
        for s in &report.slices {
            let t = self.slices.entry(s.label.clone()).or_default();
            let settled = s.target_bps > 0.0 && t.prev_target_bps == Some(s.target_bps);
            if t.target_bps != s.target_bps {
                // A new target: restart the account.
                *t = SliceTally {
                    target_bps: s.target_bps,
                    ..Default::default()
                };
            }
            if settled {
                t.periods += 1;
                if s.achievable {
                    t.achievable_periods += 1;
                    t.achievable_throughput_sum_bps += s.dl_throughput_bps;
                    if (s.dl_throughput_bps - s.target_bps).abs() <= TARGET_TOLERANCE * s.target_bps
                    {
                        t.periods_within_tolerance += 1;
                    }
                }
            }
            t.prev_target_bps = Some(s.target_bps);
            t.last = Some(s.clone());
        }
        self.latest = Some(report);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(seq: u64, target: f64, measured: f64, achievable: bool) -> CellReport {
        CellReport {
            sequence: seq,
            capacity_bps: 100e6,
            slices: vec![SliceReport {
                label: "s1".into(),
                target_bps: target,
                dl_throughput_bps: measured,
                achievable,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn counts_only_settled_achievable_periods() {
        let mut o = Observer::default();
        o.observe(report(1, 0.0, 50e6, true));
        o.observe(report(2, 40e6, 55e6, true)); // target just arrived: quota not yet in force
        o.observe(report(3, 40e6, 41e6, true));
        o.observe(report(4, 40e6, 30e6, false)); // channel too poor
        o.observe(report(5, 40e6, 39e6, true));
        let t = &o.slices["s1"];
        assert_eq!(o.reports, 5);
        assert_eq!(t.periods, 3);
        assert_eq!(t.achievable_periods, 2);
        assert_eq!(t.mean_achievable_bps(), Some(40e6));
        assert_eq!(t.periods_within_tolerance, 2);
        assert_eq!(fair_share_mbps(o.latest.as_ref().unwrap(), 2), 50.0);
    }
}
