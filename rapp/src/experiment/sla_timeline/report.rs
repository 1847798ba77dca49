//! What a timeline run produced — the KPI periods, the negotiations, the event log — and its
//! analysis: the spans each enforced consensus was in force and how it was held, the run's
//! totals.

use serde::{Deserialize, Serialize};

use crate::negotiation::arbitral::Incentive;
use crate::negotiation::NegotiationOutcome;
use crate::observability::{Fired, TARGET_TOLERANCE};

/// One KPI period as the observability unit saw it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Sample {
    /// gNB clock, s.
    pub t_s: f64,
    /// Mean wide-band CQI.
    pub cqi: f64,
    /// Maximum achievable throughput, Mbps.
    pub max_achievable_mbps: f64,
    /// Target of the slice's policy in force (as the xApp reports it), Mbps.
    pub enforced_mbps: f64,
    /// Measured throughput of the slice, Mbps.
    pub measured_mbps: f64,
    /// The xApp judges the target reachable at this period's CQIs.
    pub achievable: bool,
    /// PRBs the slice could use.
    pub prb_quota: u32,
    /// The control had settled (target and CQI unchanged for the settle time).
    pub settled: bool,
}

/// Why a negotiation ran.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    /// The session's opening negotiation.
    Start,
    /// The observability unit's trigger.
    Observability {
        /// What fired.
        fired: Fired,
    },
    /// The previous negotiation halted because its topic became invalid; restarted on the
    /// new capacity (also the observability unit's doing).
    TopicInvalid {
        /// Capacity when it halted, Mbps.
        max_achievable_mbps: f64,
    },
}

impl Cause {
    /// Whether the observability unit caused it (not the session start).
    pub fn by_observability(&self) -> bool {
        !matches!(self, Cause::Start)
    }

    pub(super) fn label(&self) -> &'static str {
        match self {
            Cause::Start => "start",
            Cause::Observability { fired } => match fired.reason {
                crate::observability::TriggerReason::Unachievable => "unachievable",
                crate::observability::TriggerReason::FarBelowCapacity => "far below",
            },
            Cause::TopicInvalid { .. } => "topic void",
        }
    }
}

/// One negotiation of the timeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimelineNegotiation {
    /// 1, 2, ...
    pub index: usize,
    /// Transcript id, when stored.
    pub transcript_id: Option<String>,
    /// Why it ran.
    pub cause: Cause,
    /// Phase of the intents.
    pub phase: String,
    /// gNB clock when it started and ended, s.
    pub start_s: f64,
    /// End, s.
    pub end_s: f64,
    /// Maximum achievable throughput when it started, Mbps.
    pub max_achievable_mbps: f64,
    /// Operators that voted to switch off.
    pub switch_off_votes: Vec<String>,
    /// What was enforced (`None`: halted, nothing enforced), Mbps.
    pub enforced_mbps: Option<f64>,
    /// Every operator voted to switch off, and the slice was switched off.
    pub switch_off: bool,
    /// The negotiation itself, round by round, with the arbitral log.
    pub outcome: NegotiationOutcome,
}

/// One line of the event log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// gNB clock, s.
    pub t_s: f64,
    /// What happened.
    pub kind: String,
    /// Details.
    pub detail: String,
}

/// How one enforced consensus was held.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Segment {
    /// Negotiation that set it.
    pub negotiation: usize,
    /// Enforced, Mbps.
    pub target_mbps: f64,
    /// In force from, to (gNB clock, s).
    pub from_s: f64,
    /// To.
    pub to_s: f64,
    /// Settled periods where the target was achievable.
    pub settled_achievable_periods: usize,
    /// Of those, within 5% of the target.
    pub periods_within_tolerance: usize,
    /// Mean measured throughput over them, Mbps.
    pub mean_measured_mbps: Option<f64>,
    /// The mean is within 5% of the target (true when never achievable and settled).
    pub holds: bool,
}

/// The whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimelineReport {
    /// Scenario name.
    pub scenario: String,
    /// CQI source, for the plot's title.
    pub cqi_source: String,
    /// LLM backend.
    pub llm: String,
    /// gNB seconds covered.
    pub duration_s: f64,
    /// Wall time of the run, s.
    pub wall_s: f64,
    /// KPI reports received.
    pub kpi_reports: u64,
    /// Reports the stream dropped because we read too slowly.
    pub kpi_dropped: u64,
    /// Negotiations, in order.
    pub negotiations: Vec<TimelineNegotiation>,
    /// The event log.
    pub events: Vec<Event>,
    /// How each consensus was held.
    pub segments: Vec<Segment>,
    /// Every KPI period.
    pub samples: Vec<Sample>,
    /// Negotiations the observability unit triggered.
    pub observability_triggers: usize,
    /// Arbitral warnings given.
    pub warnings: usize,
    /// A switch-off was enforced as a zero-throughput policy and the slice went to 0 PRBs.
    pub switch_off_enforced: bool,
    /// Share of settled, achievable periods within 5% of the target.
    pub share_within_tolerance: f64,
    /// Every segment holds its target.
    pub all_segments_hold: bool,
}

/// What a run recorded, for [`TimelineReport::analyse`].
pub(super) struct RunRecord {
    /// Scenario name.
    pub scenario: String,
    /// CQI source.
    pub cqi_source: String,
    /// LLM backend.
    pub llm: String,
    /// Wall time of the run, s.
    pub wall_s: f64,
    /// KPI reports received.
    pub kpi_reports: u64,
    /// Reports the stream dropped.
    pub kpi_dropped: u64,
    /// Negotiations, in order.
    pub negotiations: Vec<TimelineNegotiation>,
    /// The event log.
    pub events: Vec<Event>,
    /// Every KPI period.
    pub samples: Vec<Sample>,
}

impl TimelineReport {
    /// The report of a run: how each consensus was held, and the run's totals.
    pub(super) fn analyse(run: RunRecord) -> Self {
        let RunRecord {
            scenario,
            cqi_source,
            llm,
            wall_s,
            kpi_reports,
            kpi_dropped,
            negotiations,
            events,
            samples,
        } = run;
        let segments = segments(&samples, &negotiations);
        let settled: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.settled && s.achievable && s.enforced_mbps > 0.0)
            .collect();
        let within = settled
            .iter()
            .filter(|s| within_tolerance(s.measured_mbps, s.enforced_mbps))
            .count();
        let switch_off_enforced = negotiations.iter().any(|n| n.switch_off)
            && samples.iter().any(|s| {
                s.enforced_mbps == 0.0 && s.prb_quota == 0 && s.measured_mbps == 0.0 && s.t_s > 0.0
            });
        Self {
            scenario,
            cqi_source,
            llm,
            duration_s: samples.last().map_or(0.0, |s| s.t_s),
            wall_s,
            kpi_reports,
            kpi_dropped,
            observability_triggers: negotiations
                .iter()
                .filter(|n| n.cause.by_observability())
                .count(),
            warnings: negotiations
                .iter()
                .flat_map(|n| &n.outcome.arbitral_log)
                .filter(|d| d.incentive == Incentive::Warning)
                .count(),
            switch_off_enforced,
            share_within_tolerance: if settled.is_empty() {
                1.0
            } else {
                within as f64 / settled.len() as f64
            },
            all_segments_hold: segments.iter().all(|s| s.holds),
            negotiations,
            events,
            segments,
            samples,
        }
    }
}

pub(super) fn incentive_name(i: Incentive) -> &'static str {
    match i {
        Incentive::None => "none",
        Incentive::Warning => "warning",
        Incentive::Penalty => "penalty",
        Incentive::Exclusion => "exclusion",
    }
}

fn within_tolerance(measured: f64, target: f64) -> bool {
    (measured - target).abs() <= TARGET_TOLERANCE * target
}

/// Splits the run into the spans each enforced consensus was in force (as the xApp reported
/// the target), and measures how it was held once settled.
fn segments(samples: &[Sample], negotiations: &[TimelineNegotiation]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let enforced: Vec<&TimelineNegotiation> = negotiations
        .iter()
        .filter(|n| n.enforced_mbps.is_some())
        .collect();
    let mut k = 0usize;
    for s in samples {
        // Which negotiation's value is in force: the latest one whose value the xApp reports.
        while k + 1 < enforced.len()
            && s.t_s >= enforced[k + 1].end_s
            && (s.enforced_mbps - enforced[k + 1].enforced_mbps.unwrap_or(-1.0)).abs() < 1e-3
        {
            k += 1;
        }
        let Some(n) = enforced.get(k) else { break };
        let target = n.enforced_mbps.unwrap_or(0.0);
        if (s.enforced_mbps - target).abs() > 1e-3 || s.t_s < n.end_s {
            continue;
        }
        if out.last().is_none_or(|seg| seg.negotiation != n.index) {
            out.push(Segment {
                negotiation: n.index,
                target_mbps: target,
                from_s: s.t_s,
                to_s: s.t_s,
                settled_achievable_periods: 0,
                periods_within_tolerance: 0,
                mean_measured_mbps: None,
                holds: true,
            });
        }
        if let Some(seg) = out.last_mut() {
            seg.to_s = s.t_s;
            if s.settled && s.achievable && target > 0.0 {
                let n0 = seg.settled_achievable_periods as f64;
                let m = seg.mean_measured_mbps.unwrap_or(0.0);
                seg.mean_measured_mbps = Some((m * n0 + s.measured_mbps) / (n0 + 1.0));
                seg.settled_achievable_periods += 1;
                if within_tolerance(s.measured_mbps, target) {
                    seg.periods_within_tolerance += 1;
                }
            }
        }
    }
    for seg in &mut out {
        seg.holds = seg
            .mean_measured_mbps
            .is_none_or(|m| within_tolerance(m, seg.target_mbps));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::negotiation::{PressureMode, StopReason};

    fn sample(t_s: f64, target: f64, measured: f64) -> Sample {
        Sample {
            t_s,
            cqi: 15.0,
            max_achievable_mbps: 134.0,
            enforced_mbps: target,
            measured_mbps: measured,
            achievable: true,
            prb_quota: 40,
            settled: true,
        }
    }

    #[test]
    fn segments_follow_the_enforced_target() {
        let outcome = |v: f64| NegotiationOutcome {
            consensus_mbps: v,
            agreed_mbps: Some(v),
            theoretical_mbps: None,
            rounds: 1,
            converged: true,
            stop: StopReason::Consensus,
            messages: 0,
            llm: "t".into(),
            llm_usage: None,
            pressure: PressureMode::Hard,
            citations: vec![],
            finals: BTreeMap::new(),
            wall_ms: 0.0,
            history: vec![],
            arbitral_log: vec![],
            standing: BTreeMap::new(),
        };
        let neg = |index, end_s, v: f64| TimelineNegotiation {
            index,
            transcript_id: None,
            cause: Cause::Start,
            phase: "p".into(),
            start_s: end_s,
            end_s,
            max_achievable_mbps: 134.0,
            switch_off_votes: vec![],
            enforced_mbps: Some(v),
            switch_off: false,
            outcome: outcome(v),
        };
        let samples = vec![
            sample(0.1, 0.0, 0.0),
            sample(1.0, 50.0, 50.5),
            sample(2.0, 50.0, 49.0),
            sample(3.0, 50.0, 40.0), // the target is held on average, not each period
            sample(4.0, 30.0, 30.1),
            sample(5.0, 30.0, 30.2),
        ];
        let segs = segments(&samples, &[neg(1, 0.5, 50.0), neg(2, 3.5, 30.0)]);
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].settled_achievable_periods, 3);
        assert_eq!(segs[0].periods_within_tolerance, 2);
        assert!(!segs[0].holds, "mean 46.5 is 7% off");
        assert!(segs[1].holds);
        assert_eq!((segs[1].from_s, segs[1].to_s), (4.0, 5.0));
    }
}
