//! The policy -> PRB controller: from the A1 policies in force and the cell's latest report,
//! decide each slice's PRB quota (E2SM-RC slice-level PRB quota, O-RAN E2SM-RC v1.03 control
//! style 2 action 6) and each policy's status.
//!
//! - **Target.** Per slice, `guaDlThptPerSlice` capped by `maxDlThptPerSlice` (kbps; a max of
//!   0 switches the slice off). A policy with a guaranteed rate has priority *guaranteed*; one
//!   with only a max has priority *best effort*.
//! - **Feed-forward.** The slice's throughput at `q` PRBs is modelled from its UEs' current
//!   wide-band CQIs (`nr::slice_throughput_bps`, TS 38.214: UEs sharing the slice in time).
//! - **Feedback.** The model ignores what the MAC really does (PF riding fast fading, HARQ,
//!   TDD details), so each slice keeps a *gain* = measured / modelled throughput at the quota
//!   that was in force, smoothed over periods. The quota is the ratio whose modelled
//!   throughput times the gain is nearest to the target (E2SM-RC ratios are whole percent:
//!   `floor(ratio * N_RB / 100)` PRBs, TS 28.541 clause 5.3.69).
//! - **Hysteresis.** The quota in force is kept while its predicted throughput is within the
//!   dead band of the target, so measurement noise does not flip between adjacent ratios.
//! - **Sharing.** Guaranteed claims first, then best-effort claims, each group scaled down
//!   proportionally when it claims more than is left (and its policies reported NOT_ENFORCED,
//!   STATEMENT_NOT_APPLICABLE); slices without a policy share what is left equally. The sum
//!   never exceeds the cell.

use std::collections::HashMap;

use maestro_api::a1::{EnforceReason, PolicyStatus, SliceSlaPolicy};
use maestro_e2sm::rc::{
    prbs_for_ratio, RrmPolicyMember, RrmPolicyRatioGroup, SlicePrbQuotaControl,
};
use maestro_e2sm::report::{CellMeasurement, SliceMeasurement, UeMeasurement};
use serde::{Deserialize, Serialize};

use crate::nr::{self, CellConfig};
use crate::slice_map::member_of;
use crate::store::{PolicyKey, StoredPolicy};

/// Which claims are served first when the cell is short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    /// The policy guarantees a rate (`guaDlThptPerSlice`).
    Guaranteed,
    /// The policy only caps the rate (`maxDlThptPerSlice`).
    BestEffort,
}

/// A slice throughput target taken from an A1 policy.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceTarget {
    /// Which policy asks for it.
    pub policy: PolicyKey,
    /// Which slice.
    pub member: RrmPolicyMember,
    /// Throughput to hold the slice at, bits/s.
    pub target_bps: f64,
    /// Its claim's priority.
    pub priority: Priority,
}

/// Turns stored slice SLA policies into targets; policies that cannot apply get a status.
pub fn targets_from_policies<'a>(
    policies: impl IntoIterator<Item = &'a StoredPolicy>,
    served: &[RrmPolicyMember],
) -> (Vec<SliceTarget>, Vec<(PolicyKey, PolicyStatus)>) {
    let mut targets: Vec<SliceTarget> = Vec::new();
    let mut rejected = Vec::new();
    for p in policies {
        let key = p.key();
        // Read in place: the loop parses every policy for every cell's period.
        let parsed = SliceSlaPolicy::deserialize(&p.statement)
            .map_err(|e| e.to_string())
            .and_then(|s| Ok((member_of(&s.scope.slice_id)?, s)));
        let Ok((member, statement)) = parsed else {
            rejected.push((key, PolicyStatus::not_enforced(EnforceReason::OtherReason)));
            continue;
        };
        if !served.contains(&member) {
            rejected.push((
                key,
                PolicyStatus::not_enforced(EnforceReason::ScopeNotApplicable),
            ));
            continue;
        }
        if targets.iter().any(|t| t.member == member) {
            // Two policies on one slice (the A1 server refuses this with 409; a store written
            // by an older version might still hold it): the first in key order wins.
            rejected.push((key, PolicyStatus::not_enforced(EnforceReason::OtherReason)));
            continue;
        }
        let o = &statement.slice_sla_objectives;
        let (kbps, priority) = match (o.gua_dl_thpt_per_slice, o.max_dl_thpt_per_slice) {
            (Some(g), Some(m)) => (g.min(m), Priority::Guaranteed),
            (Some(g), None) => (g, Priority::Guaranteed),
            (None, Some(m)) => (m, Priority::BestEffort),
            (None, None) => {
                rejected.push((
                    key,
                    PolicyStatus::not_enforced(EnforceReason::StatementNotApplicable),
                ));
                continue;
            }
        };
        targets.push(SliceTarget {
            policy: key,
            member,
            target_bps: kbps * 1000.0,
            priority,
        });
    }
    (targets, rejected)
}

/// The controller's decision for one slice.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceDecision {
    /// The slice.
    pub member: RrmPolicyMember,
    /// The policy steering it, if any.
    pub policy: Option<PolicyKey>,
    /// Target throughput, bits/s (0 when no policy).
    pub target_bps: f64,
    /// The CQIs the decision used (UEs with CQI 0 are not schedulable and left out).
    pub ue_cqis: Vec<u8>,
    /// PRBs the target needs at those CQIs (gain applied); `None` when even the whole cell
    /// falls short.
    pub required_prbs: Option<u16>,
    /// PRBs granted.
    pub quota_prbs: u16,
    /// Max PRB ratio granted, percent of the cell.
    pub ratio: u8,
    /// Measured / modelled throughput learnt for this slice (1 = the model is exact).
    pub gain: f64,
    /// Throughput predicted for the grant at these CQIs, bits/s.
    pub predicted_bps: f64,
    /// Whether the target is met by the grant.
    pub achievable: bool,
}

/// The controller's decision for the cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Per served slice, in the node's order.
    pub slices: Vec<SliceDecision>,
    /// The E2SM-RC control to send.
    pub control: SlicePrbQuotaControl,
    /// New status of every policy.
    pub statuses: Vec<(PolicyKey, PolicyStatus)>,
}

/// Knobs of the closed loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopTuning {
    /// Weight of the newest measured/modelled ratio in the gain (0 = open loop, 1 = no
    /// smoothing).
    pub gain_smoothing: f64,
    /// Keep the quota while its prediction is within this fraction of the target.
    pub dead_band: f64,
    /// The gain is kept within [1/limit, limit].
    pub gain_limit: f64,
    /// With no E2 report from a cell for this long (wall clock, ms), every policy applying
    /// in that cell goes NOT_ENFORCED there (with one cell: every policy) until its reports
    /// resume: nothing shows the quota is still in force at the node.
    #[serde(default = "default_report_silence_ms")]
    pub report_silence_ms: u64,
    /// Hysteresis on policy statuses (ms of report time, the reports' `time_ms`): a status
    /// change estimated from the measurements (the cell can or cannot carry the target) is
    /// written, and notified to the policy's owner (A1AP v2 clause 5.2.6), only once every
    /// report for this long has decided it; 0 writes every change at once. Facts are never
    /// held: a refused or failed E2 control, the E2 side down, a policy rejected at
    /// validation, and the first status of a new or updated policy (see
    /// [`crate::status_filter`]).
    ///
    /// In ms rather than report periods: the flapping it is for is a matter of time, not of
    /// report count (FlexRIC's emulated agent, random MAC statistics, flips the estimate
    /// after 1-4 s, whatever its report period), and the owner reads notifications in time.
    /// Default 5 s: longer than the longest of those runs (4 s) so none of them reaches the
    /// owner, 50 periods of the default 100 ms report, and the same as
    /// `report_silence_ms`, the xApp's other "believe it after" time. The price is that a real
    /// change of capacity reaches the owner 5 s late, well inside the non-RT RIC's loop
    /// (A1 policies are managed on a scale of seconds and more).
    #[serde(default = "default_status_hold_ms")]
    pub status_hold_ms: u64,
}

fn default_report_silence_ms() -> u64 {
    5_000
}

fn default_status_hold_ms() -> u64 {
    5_000
}

impl Default for LoopTuning {
    /// Smoothing 0.5, dead band 1.5 %, gain within [0.5, 2], silence after 5 s, statuses held
    /// 5 s.
    fn default() -> Self {
        Self {
            gain_smoothing: 0.5,
            dead_band: 0.015,
            gain_limit: 2.0,
            report_silence_ms: default_report_silence_ms(),
            status_hold_ms: default_status_hold_ms(),
        }
    }
}

/// What the loop remembers per slice between periods.
#[derive(Debug, Clone, PartialEq)]
struct SliceLoop {
    /// Measured / modelled throughput, smoothed.
    gain: f64,
    /// Ratio in force.
    ratio: Option<u8>,
    /// The CQIs of the last report.
    cqis: Vec<u8>,
    /// The CQI mix changed: the next settled period sets the gain outright.
    relearn: bool,
}

/// The closed-loop controller: decides each period from the report, learning per-slice
/// gains.
#[derive(Debug, Clone, Default)]
pub struct Controller {
    tuning: LoopTuning,
    slices: HashMap<RrmPolicyMember, SliceLoop>,
}

/// Modelled slice throughput at `ratio` with the learnt gain.
fn predicted(ratio: u8, cqis: &CqiHistogram, gain: f64, cell: &CellConfig) -> f64 {
    gain * cqis.slice_throughput_bps(prbs_for_ratio(ratio, cell.n_prb), cell)
}

/// UE CQIs of a slice counted per CQI value: the model's cost then depends on 16 values,
/// not on the number of UEs.
#[derive(Debug, Clone, Default, PartialEq)]
struct CqiHistogram {
    counts: [u32; 16],
    ues: u32,
}

impl CqiHistogram {
    fn of(cqis: &[u8]) -> Self {
        let mut h = Self::default();
        for &c in cqis {
            if let Some(slot) = h.counts.get_mut(usize::from(c)) {
                *slot += 1;
                h.ues += 1;
            }
        }
        h
    }

    /// Same as `nr::slice_throughput_bps` on the UEs' CQIs.
    fn slice_throughput_bps(&self, prbs: u16, cell: &CellConfig) -> f64 {
        if self.ues == 0 {
            return 0.0;
        }
        let sum: f64 = (1u8..=15)
            .filter(|&c| self.counts[usize::from(c)] > 0)
            .map(|c| f64::from(self.counts[usize::from(c)]) * nr::throughput_bps(prbs, c, cell))
            .sum();
        sum / f64::from(self.ues)
    }
}

impl Controller {
    /// A controller with these knobs.
    pub fn new(tuning: LoopTuning) -> Self {
        Self {
            tuning,
            slices: HashMap::new(),
        }
    }

    /// The gain learnt for a slice (1 before any report).
    pub fn gain(&self, member: &RrmPolicyMember) -> f64 {
        self.slices.get(member).map_or(1.0, |s| s.gain)
    }

    /// Forgets a slice's quota in force (e.g. after a control failed), keeping its gain.
    pub fn forget_quotas(&mut self) {
        for s in self.slices.values_mut() {
            s.ratio = None;
        }
    }

    /// Learns from the period's measurement, then decides quotas and statuses.
    pub fn decide(
        &mut self,
        cell: &CellConfig,
        measurement: &CellMeasurement,
        served: &[RrmPolicyMember],
        targets: &[SliceTarget],
    ) -> Decision {
        let n_prb = cell.n_prb;
        let tuning = self.tuning.clone();
        // 1. Learn: measured / modelled throughput at the quota that was in force.
        //    A period in which the slice's CQIs changed is not learnt from: the MAC's PF
        //    averages are still settling on the new mix. The first settled period after a
        //    change replaces the gain outright (the gain depends on the CQI mix); later ones
        //    smooth it.
        for sm in &measurement.slices {
            let entry = self.slices.entry(sm.member.clone()).or_insert(SliceLoop {
                gain: 1.0,
                ratio: None,
                cqis: Vec::new(),
                relearn: true,
            });
            let cqis: Vec<u8> = sm.ues.iter().map(effective_cqi).collect();
            if cqis != entry.cqis {
                entry.cqis = cqis;
                entry.relearn = true;
                continue;
            }
            if let Some(ratio) = observed_gain(sm, cell) {
                let a = tuning.gain_smoothing.clamp(0.0, 1.0);
                let a = if entry.relearn && a > 0.0 { 1.0 } else { a };
                let limit = tuning.gain_limit.max(1.0);
                entry.gain = (entry.gain + a * (ratio - entry.gain)).clamp(1.0 / limit, limit);
                entry.relearn = false;
            }
        }
        // 2. Plan each slice's claim.
        struct Plan {
            decision: SliceDecision,
            priority: Option<Priority>,
            claim_ratio: u8,
            feasible: bool,
        }
        let mut plans: Vec<Plan> = served
            .iter()
            .map(|member| {
                let target = targets.iter().find(|t| &t.member == member);
                let ue_cqis: Vec<u8> = measurement
                    .slices
                    .iter()
                    .filter(|s| &s.member == member)
                    .flat_map(|s| s.ues.iter().map(effective_cqi))
                    .filter(|&c| c > 0)
                    .collect();
                let hist = CqiHistogram::of(&ue_cqis);
                let state = self.slices.get(member);
                let gain = state.map_or(1.0, |s| s.gain);
                let (claim_ratio, feasible) = match target {
                    None => (0, true),
                    Some(t) => plan_ratio(
                        t.target_bps,
                        &hist,
                        gain,
                        state.and_then(|s| s.ratio),
                        &tuning,
                        cell,
                    ),
                };
                Plan {
                    decision: SliceDecision {
                        member: member.clone(),
                        policy: target.map(|t| t.policy.clone()),
                        target_bps: target.map_or(0.0, |t| t.target_bps),
                        required_prbs: feasible.then(|| prbs_for_ratio(claim_ratio, n_prb)),
                        ue_cqis,
                        quota_prbs: 0,
                        ratio: 0,
                        gain,
                        predicted_bps: 0.0,
                        achievable: false,
                    },
                    priority: target.map(|t| t.priority),
                    claim_ratio,
                    feasible,
                }
            })
            .collect();
        // 3. Share the cell: guaranteed claims, then best effort, each scaled down if short.
        let mut left = u32::from(n_prb);
        for class in [Priority::Guaranteed, Priority::BestEffort] {
            let claimed: u32 = plans
                .iter()
                .filter(|p| p.priority == Some(class))
                .map(|p| u32::from(prbs_for_ratio(p.claim_ratio, n_prb)))
                .sum();
            let mut used = 0;
            for p in plans.iter_mut().filter(|p| p.priority == Some(class)) {
                let claim = u32::from(prbs_for_ratio(p.claim_ratio, n_prb));
                let (ratio, scaled) = if claimed <= left {
                    (p.claim_ratio, false)
                } else {
                    (ratio_within(claim * left / claimed.max(1), n_prb), true)
                };
                p.decision.ratio = ratio;
                p.decision.quota_prbs = prbs_for_ratio(ratio, n_prb);
                p.decision.achievable = p.feasible && !scaled;
                used += u32::from(p.decision.quota_prbs);
            }
            left = left.saturating_sub(used);
        }
        let untargeted = plans.iter().filter(|p| p.priority.is_none()).count() as u32;
        if let Some(share) = left.checked_div(untargeted) {
            for p in plans.iter_mut().filter(|p| p.priority.is_none()) {
                p.decision.ratio = ratio_within(share, n_prb);
                p.decision.quota_prbs = prbs_for_ratio(p.decision.ratio, n_prb);
                p.decision.achievable = true;
            }
        }
        // 4. Remember, and emit the control and statuses.
        for p in &mut plans {
            let hist = CqiHistogram::of(&p.decision.ue_cqis);
            p.decision.predicted_bps = predicted(p.decision.ratio, &hist, p.decision.gain, cell);
            if let Some(s) = self.slices.get_mut(&p.decision.member) {
                s.ratio = p.priority.map(|_| p.decision.ratio);
            }
        }
        let slices: Vec<SliceDecision> = plans.into_iter().map(|p| p.decision).collect();
        let groups = slices
            .iter()
            .filter_map(|s| {
                // Guaranteed and best-effort slices get min = max (the quota is both what
                // they may use and what they are promised); slices without a policy get
                // min 0, so they never block others.
                let min = if s.policy.is_some() { s.ratio } else { 0 };
                RrmPolicyRatioGroup::new(s.member.clone(), min, s.ratio, 0).ok()
            })
            .collect();
        let statuses = slices
            .iter()
            .filter_map(|s| {
                let key = s.policy.clone()?;
                Some((
                    key,
                    if s.achievable {
                        PolicyStatus::enforced()
                    } else {
                        PolicyStatus::not_enforced(EnforceReason::StatementNotApplicable)
                    },
                ))
            })
            .collect();
        Decision {
            slices,
            control: SlicePrbQuotaControl { groups },
            statuses,
        }
    }
}

/// The CQI the controller plans a UE with: its wide-band CQI when it reported one (1..=15);
/// for CQI 0 (TS 38.214 "out of range", which is also what a node reports for a UE without a
/// CQI report, e.g. OAI without CSI-RS or with a noiseless rfsimulator channel) that the
/// scheduler nevertheless served this period, the CQI its MCS implies (`nr::cqi_for_mcs`);
/// otherwise 0 (left out of the plan). The one rule for the plan, the cell's capacity on the
/// KPI stream and `/metrics`, and a cell's weight in the split of a target across cells.
pub fn effective_cqi(u: &UeMeasurement) -> u8 {
    let served = u.prbs > 0.0 || u.dl_throughput_bps > 0.0;
    if u.wb_cqi == 0 && served {
        nr::cqi_for_mcs(u.mcs).unwrap_or(0)
    } else {
        u.wb_cqi
    }
}

/// The CQIs one slice's UEs in the report are planned with ([`effective_cqi`]), in report
/// order.
pub fn slice_effective_cqis(m: &CellMeasurement, member: &RrmPolicyMember) -> Vec<u8> {
    m.slices
        .iter()
        .filter(|s| &s.member == member)
        .flat_map(|s| s.ues.iter().map(effective_cqi))
        .collect()
}

/// Measured / modelled throughput of a slice over the period, when both are meaningful.
fn observed_gain(sm: &SliceMeasurement, cell: &CellConfig) -> Option<f64> {
    if sm.prb_quota == 0 || sm.dl_throughput_bps <= 0.0 {
        return None;
    }
    let cqis: Vec<u8> = sm.ues.iter().map(effective_cqi).collect();
    let hist = CqiHistogram::of(&cqis);
    let model = hist.slice_throughput_bps(sm.prb_quota, cell);
    (model > 0.0).then(|| sm.dl_throughput_bps / model)
}

/// Largest ratio whose PRBs do not exceed `prbs`.
fn ratio_within(prbs: u32, n_prb: u16) -> u8 {
    (0..=100u8)
        .rev()
        .find(|&r| u32::from(prbs_for_ratio(r, n_prb)) <= prbs)
        .unwrap_or(0)
}

/// The ratio a slice claims for `target_bps`, and whether the target is reachable at all.
fn plan_ratio(
    target_bps: f64,
    hist: &CqiHistogram,
    gain: f64,
    in_force: Option<u8>,
    tuning: &LoopTuning,
    cell: &CellConfig,
) -> (u8, bool) {
    if target_bps <= 0.0 {
        return (0, true);
    }
    let full = predicted(100, hist, gain, cell);
    if full.is_nan() || full <= 0.0 || full < target_bps * (1.0 - tuning.dead_band) {
        // Unreachable even with the whole cell: claim it all.
        return (100, false);
    }
    // Smallest ratio whose prediction reaches the target (prediction is monotone in ratio).
    let (mut lo, mut hi) = (0u8, 100u8);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if predicted(mid, hist, gain, cell) >= target_bps {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    // The ratio just below may land nearer the target.
    let above = lo;
    let nearest = match above.checked_sub(1) {
        Some(below)
            if target_bps - predicted(below, hist, gain, cell)
                < predicted(above, hist, gain, cell) - target_bps =>
        {
            below
        }
        _ => above,
    };
    // Hysteresis: keep the ratio in force unless the nearest one is better by more than the
    // dead band (measurement noise then cannot flip between neighbouring ratios).
    if let Some(r) = in_force {
        let err = |r: u8| (predicted(r, hist, gain, cell) - target_bps).abs() / target_bps;
        if err(r) <= err(nearest) + tuning.dead_band {
            return (r, true);
        }
    }
    (nearest, true)
}

/// A one-shot, open-loop decision (no history): the first period of a fresh [`Controller`].
pub fn decide(
    cell: &CellConfig,
    measurement: &CellMeasurement,
    served: &[RrmPolicyMember],
    targets: &[SliceTarget],
) -> Decision {
    Controller::default().decide(cell, measurement, served, targets)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use maestro_e2sm::report::{SliceMeasurement, UeMeasurement};

    fn member(sd: u32) -> RrmPolicyMember {
        RrmPolicyMember {
            mcc: "001".into(),
            mnc: "01".into(),
            sst: 1,
            sd: Some(sd),
        }
    }

    /// One slice per entry (SD 1, 2, ...), one UE per CQI; cell "c", 106 PRBs, no use.
    pub(crate) fn measurement(cqis: &[&[u8]]) -> CellMeasurement {
        CellMeasurement {
            sequence: 1,
            time_ms: 100,
            period_ms: 100,
            cell_id: "c".into(),
            n_prb: 106,
            slices: cqis
                .iter()
                .enumerate()
                .map(|(i, c)| SliceMeasurement {
                    member: member(i as u32 + 1),
                    prb_quota: 0,
                    prb_used: 0.0,
                    dl_throughput_bps: 0.0,
                    ues: c
                        .iter()
                        .map(|&q| UeMeasurement {
                            ue_id: 0,
                            wb_cqi: q,
                            mcs: 0,
                            prbs: 0.0,
                            dl_throughput_bps: 0.0,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn target(sd: u32, mbps: f64) -> SliceTarget {
        SliceTarget {
            policy: PolicyKey::new("T", &format!("p{sd}")),
            member: member(sd),
            target_bps: mbps * 1e6,
            priority: Priority::Guaranteed,
        }
    }

    fn stored(id: &str, statement: serde_json::Value) -> StoredPolicy {
        StoredPolicy {
            policy_type: "T".into(),
            policy_id: id.into(),
            statement,
            notification_destination: None,
            status: PolicyStatus::enforced(),
        }
    }

    /// Seen against OAI nr-softmodem in rfsim (issue 21): no usable CSI report, so the MAC
    /// stats carry wb_cqi 0 while the scheduler serves the UE at MCS 9 with ~7 Mbit/s. A 3
    /// Mbit/s policy read NOT_ENFORCED / STATEMENT_NOT_APPLICABLE and the slice got the whole
    /// carrier: the plan had no CQI to work with.
    #[test]
    fn a_served_ue_without_cqi_is_planned_with_the_cqi_its_mcs_implies() {
        let cell = CellConfig::oai_40mhz();
        let served = [member(1)];
        let mut m = measurement(&[&[0]]);
        m.slices[0].prb_quota = 106;
        m.slices[0].dl_throughput_bps = 7.0e6;
        let ue = &mut m.slices[0].ues[0];
        ue.mcs = 9;
        ue.prbs = 30.0;
        ue.dl_throughput_bps = 7.0e6;
        let d = decide(&cell, &m, &served, &[target(1, 3.0)]);
        assert_eq!(d.slices[0].ue_cqis, vec![6], "MCS 9 implies CQI 6");
        assert!(d.slices[0].ratio < 100, "ratio {}", d.slices[0].ratio);
        assert!(d
            .statuses
            .iter()
            .all(|(_, s)| s == &PolicyStatus::enforced()));
        // A UE with CQI 0 that the scheduler did not serve still counts as out of range.
        let idle = measurement(&[&[0]]);
        let d = decide(&cell, &idle, &served, &[target(1, 3.0)]);
        assert!(d.slices[0].ue_cqis.is_empty());
        assert!(d
            .statuses
            .iter()
            .all(|(_, s)| s == &PolicyStatus::not_enforced(EnforceReason::StatementNotApplicable)));
    }

    /// The same rule outside the plan: the slice's CQIs for a cell's weight in a split.
    #[test]
    fn slice_effective_cqis_count_a_served_ue_by_its_mcs_and_only_that_slice() {
        let mut m = measurement(&[&[0, 0, 12], &[9]]);
        let ue = &mut m.slices[0].ues[0];
        ue.mcs = 9;
        ue.prbs = 30.0;
        assert_eq!(slice_effective_cqis(&m, &member(1)), vec![6, 0, 12]);
        assert_eq!(slice_effective_cqis(&m, &member(2)), vec![9]);
        assert!(slice_effective_cqis(&m, &member(3)).is_empty());
    }

    #[test]
    fn quota_is_the_ratio_whose_nr_throughput_is_nearest_the_target() {
        let cell = CellConfig::oai_40mhz();
        let served = [member(1), member(2)];
        let m = measurement(&[&[15, 12, 9], &[11, 0, 13]]);
        let d = decide(&cell, &m, &served, &[target(1, 30.0), target(2, 25.0)]);
        for (s, cqis, want) in [
            (&d.slices[0], vec![15u8, 12, 9], 30e6),
            (&d.slices[1], vec![11u8, 13], 25e6),
        ] {
            let at = |r: u8| nr::slice_throughput_bps(prbs_for_ratio(r, 106), &cqis, &cell);
            let err = |r: u8| (at(r) - want).abs();
            assert!(err(s.ratio) <= err(s.ratio - 1) && err(s.ratio) <= err(s.ratio + 1));
            assert_eq!(s.quota_prbs, prbs_for_ratio(s.ratio, 106));
            assert!(err(s.ratio) / want < 0.03, "{}", err(s.ratio) / want);
            assert_eq!(s.predicted_bps, at(s.ratio));
        }
        assert_eq!(d.slices[1].ue_cqis, vec![11, 13], "CQI 0 UEs are left out");
        assert!(d
            .statuses
            .iter()
            .all(|(_, s)| s == &PolicyStatus::enforced()));
        let g = &d.control.groups[0];
        assert_eq!(g.max_prb_ratio, d.slices[0].ratio);
        assert_eq!(g.min_prb_ratio, g.max_prb_ratio);
    }

    fn report(cqis: &[u8], quota: u16, measured_bps: f64) -> CellMeasurement {
        let mut m = measurement(&[cqis]);
        m.slices[0].prb_quota = quota;
        m.slices[0].dl_throughput_bps = measured_bps;
        m
    }

    #[test]
    fn the_loop_learns_the_gain_and_holds_the_quota_in_the_dead_band() {
        let cell = CellConfig::oai_40mhz();
        let served = [member(1)];
        let cqis = [10u8, 11, 12];
        let mut c = Controller::default();
        let t = [target(1, 20.0)];
        let d0 = c.decide(&cell, &measurement(&[&cqis]), &served, &t);
        let q0 = d0.slices[0].quota_prbs;
        // The cell delivers 10 % more than modelled.
        let model = nr::slice_throughput_bps(q0, &cqis, &cell);
        let d1 = c.decide(&cell, &report(&cqis, q0, 1.1 * model), &served, &t);
        // The first settled period after a change of CQI mix sets the gain outright.
        assert!((c.gain(&member(1)) - 1.1).abs() < 1e-9);
        assert!(
            d1.slices[0].quota_prbs < q0,
            "fewer PRBs for the same target"
        );
        let mut q = d1.slices[0].quota_prbs;
        for _ in 0..10 {
            let model = nr::slice_throughput_bps(q, &cqis, &cell);
            q = c
                .decide(&cell, &report(&cqis, q, 1.1 * model), &served, &t)
                .slices[0]
                .quota_prbs;
        }
        assert!((c.gain(&member(1)) - 1.1).abs() < 0.01);
        let delivered = 1.1 * nr::slice_throughput_bps(q, &cqis, &cell);
        assert!((delivered / 20e6 - 1.0).abs() < 0.03, "{delivered}");
        // Noise of +-0.5 % does not move the quota.
        for k in 0..10 {
            let noise = if k % 2 == 0 { 1.105 } else { 1.095 };
            let model = nr::slice_throughput_bps(q, &cqis, &cell);
            let next = c
                .decide(&cell, &report(&cqis, q, noise * model), &served, &t)
                .slices[0]
                .quota_prbs;
            assert_eq!(next, q, "period {k}");
        }
    }

    #[test]
    fn guaranteed_claims_come_before_best_effort() {
        let cell = CellConfig::oai_40mhz();
        let served = [member(1), member(2)];
        let m = measurement(&[&[10, 10], &[10, 10]]);
        let mut best_effort = target(2, 60.0);
        best_effort.priority = Priority::BestEffort;
        let d = decide(&cell, &m, &served, &[target(1, 40.0), best_effort]);
        assert!(d.slices[0].achievable);
        assert!(!d.slices[1].achievable);
        let need = nr::prbs_for_slice(40e6, &[10, 10], &cell).unwrap();
        assert!(d.slices[0].quota_prbs + 2 >= need);
        assert_eq!(
            u32::from(d.slices[0].quota_prbs) + u32::from(d.slices[1].quota_prbs),
            u32::from(prbs_for_ratio(d.slices[0].ratio + d.slices[1].ratio, 106)).min(106)
        );
        assert!(u32::from(d.slices[0].quota_prbs) + u32::from(d.slices[1].quota_prbs) <= 106);
        assert_eq!(d.statuses[0].1, PolicyStatus::enforced());
        assert_eq!(
            d.statuses[1].1,
            PolicyStatus::not_enforced(EnforceReason::StatementNotApplicable)
        );
    }

    #[test]
    fn overbooked_cell_scales_down_and_reports_not_enforced() {
        let cell = CellConfig::oai_40mhz();
        let served = [member(1), member(2)];
        let m = measurement(&[&[10, 10], &[10, 10]]);
        let d = decide(&cell, &m, &served, &[target(1, 60.0), target(2, 60.0)]);
        let total: u32 = d.slices.iter().map(|s| u32::from(s.quota_prbs)).sum();
        assert!(total <= 106, "sum {total} exceeds the cell");
        assert_eq!(d.slices[0].quota_prbs, d.slices[1].quota_prbs);
        for (_, s) in &d.statuses {
            assert_eq!(
                s,
                &PolicyStatus::not_enforced(EnforceReason::StatementNotApplicable)
            );
        }
    }

    #[test]
    fn untargeted_slices_share_the_rest() {
        let cell = CellConfig::oai_40mhz();
        let served = [member(1), member(2)];
        let m = measurement(&[&[15], &[15]]);
        let d = decide(&cell, &m, &served, &[target(1, 20.0)]);
        let q1 = d.slices[0].quota_prbs;
        assert_eq!(d.slices[1].quota_prbs, 106 - q1);
        assert!(d.slices[1].policy.is_none());
        assert_eq!(d.statuses.len(), 1);
    }

    #[test]
    fn policies_map_to_targets_with_scope_checks_and_max_caps() {
        let served = [member(1)];
        let stmt = |sd: &str, obj: serde_json::Value| {
            serde_json::json!({
                "scope": {"sliceId": {"sst": 1, "sd": sd, "plmnId": {"mcc": "001", "mnc": "01"}}},
                "sliceSlaObjectives": obj
            })
        };
        let policies = vec![
            stored(
                "a",
                stmt(
                    "000001",
                    serde_json::json!({"guaDlThptPerSlice": 40000, "maxDlThptPerSlice": 30000}),
                ),
            ),
            stored(
                "b",
                stmt("00000f", serde_json::json!({"guaDlThptPerSlice": 1000})),
            ),
            stored(
                "c",
                stmt("000001", serde_json::json!({"guaDlThptPerSlice": 1000})),
            ),
        ];
        let (targets, rejected) = targets_from_policies(&policies, &served);
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].target_bps, 30e6, "max caps gua");
        assert_eq!(
            rejected,
            vec![
                (
                    PolicyKey::new("T", "b"),
                    PolicyStatus::not_enforced(EnforceReason::ScopeNotApplicable)
                ),
                (
                    PolicyKey::new("T", "c"),
                    PolicyStatus::not_enforced(EnforceReason::OtherReason)
                ),
            ]
        );
    }

    #[test]
    fn max_zero_switches_the_slice_off() {
        let cell = CellConfig::oai_40mhz();
        let served = [member(1), member(2)];
        let m = measurement(&[&[15], &[15]]);
        let mut off = target(1, 0.0);
        off.target_bps = 0.0;
        let d = decide(&cell, &m, &served, &[off]);
        assert_eq!(d.slices[0].quota_prbs, 0);
        assert_eq!(d.control.groups[0].max_prb_ratio, 0);
        assert_eq!(d.slices[1].quota_prbs, 106);
        assert_eq!(d.statuses[0].1, PolicyStatus::enforced());
    }
}
