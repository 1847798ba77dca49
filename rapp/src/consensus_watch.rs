//! Watching an enforced consensus for the renegotiation trigger: per KPI report of the cell,
//! what one slice may carry now against what was agreed, through [`RenegotiationTrigger`].
//!
//! A pass (and with many cells, each cell's pass: its own stream, its own watch) feeds every
//! report it reads after the A1 PUTs to one [`ConsensusWatch`]; the first time the trigger
//! fires is kept in the pass's report, and a many-cell run may renegotiate that cell
//! ([`crate::cells`]).

use maestro_api::kpi::CellReport;

use crate::negotiation::theory::optimal_consensus;
use crate::negotiation::utility::Utility;
use crate::negotiation::Bounds;
use crate::observability::{CellView, Fired, RenegotiationTrigger, TriggerConfig};

/// One consensus in force on one cell, and the trigger that judges it.
#[derive(Debug, Clone)]
pub struct ConsensusWatch {
    trigger: RenegotiationTrigger,
    consensus_mbps: f64,
    utilities: Vec<Utility>,
    slices: usize,
    headroom: f64,
    min_mbps: f64,
}

impl ConsensusWatch {
    /// Watches `consensus_mbps` per slice, agreed among operators with `utilities` (one slice
    /// each), bounded as the negotiation was: at least `min_mbps`, at most `headroom` of a
    /// slice's fair share of the cell.
    pub fn new(
        config: TriggerConfig,
        consensus_mbps: f64,
        utilities: Vec<Utility>,
        headroom: f64,
        min_mbps: f64,
    ) -> Self {
        Self {
            trigger: RenegotiationTrigger::new(config),
            consensus_mbps,
            slices: utilities.len().max(1),
            utilities,
            headroom,
            min_mbps,
        }
    }

    /// What one slice of the cell may carry now, as the trigger sees it: the cell's view with
    /// its maximum achievable throughput shared among the slices.
    pub fn slice_view(&self, report: &CellReport) -> CellView {
        let cell = CellView::from_report(report);
        CellView {
            max_achievable_mbps: cell.max_achievable_mbps / self.slices as f64,
            ..cell
        }
    }

    /// What the operators would agree on now: the optimum of their utilities within the bounds
    /// the cell's current capacity sets (0 when there is no optimum).
    pub fn wanted_mbps(&self, view: &CellView) -> f64 {
        let max_mbps = (view.max_achievable_mbps * self.headroom).max(0.0);
        let bounds = Bounds {
            min_mbps: self.min_mbps.min(max_mbps),
            max_mbps,
        };
        optimal_consensus(&self.utilities, &bounds).unwrap_or(0.0)
    }

    /// Accounts one report; the trigger when it fires.
    pub fn observe(&mut self, report: &CellReport) -> Option<Fired> {
        let view = self.slice_view(report);
        let wanted = self.wanted_mbps(&view);
        self.trigger
            .update(&view, Some(self.consensus_mbps), wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observability::TriggerReason;
    use maestro_api::kpi::SliceReport;

    fn report(t_ms: u64, capacity_mbps: f64) -> CellReport {
        CellReport {
            sim_time_ms: t_ms,
            capacity_bps: capacity_mbps * 1e6,
            slices: vec![
                SliceReport {
                    model_gain: 1.0,
                    ..Default::default()
                };
                2
            ],
            ..Default::default()
        }
    }

    fn watch(consensus_mbps: f64) -> ConsensusWatch {
        let quadratic = |target| Utility::Quadratic { a: 1.0, target };
        ConsensusWatch::new(
            TriggerConfig::default(),
            consensus_mbps,
            vec![quadratic(20.0), quadratic(100.0)],
            0.85,
            1.0,
        )
    }

    #[test]
    fn a_consensus_the_cell_can_no_longer_carry_fires_after_the_hold() {
        let mut w = watch(50.0);
        // 2 slices share 80 Mbps: 40 each, under the 50 agreed.
        assert_eq!(w.observe(&report(0, 80.0)), None);
        assert_eq!(w.observe(&report(2_000, 80.0)), None);
        let fired = w.observe(&report(3_000, 80.0)).expect("fires after 3 s");
        assert_eq!(fired.reason, TriggerReason::Unachievable);
        assert_eq!((fired.since_ms, fired.at_ms), (0, 3_000));
    }

    #[test]
    fn a_consensus_within_reach_and_near_the_optimum_never_fires() {
        // 120 Mbps: 60 per slice, 51 within the headroom; the optimum of 20 and 100 is 60,
        // clipped to 51; a consensus of 50 is near it.
        let mut w = watch(50.0);
        for t in (0..20_000).step_by(100) {
            assert_eq!(w.observe(&report(t, 120.0)), None, "t = {t}");
        }
    }

    #[test]
    fn a_consensus_far_below_a_recovered_cell_fires() {
        let mut w = watch(10.0);
        let fired = (0..=3_000)
            .step_by(100)
            .find_map(|t| w.observe(&report(t, 200.0)))
            .expect("fires");
        assert_eq!(fired.reason, TriggerReason::FarBelowCapacity);
    }
}
