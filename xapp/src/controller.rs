//! The policy -> PRB controller: from the A1 policies in force and the cell's latest per-UE CQI,
//! decide each slice's PRB quota (E2SM-RC slice-level PRB quota) and each policy's status.
//!
//! Per slice, the target throughput is the policy's `guaDlThptPerSlice` capped by
//! `maxDlThptPerSlice` (kbps; a max of 0 switches the slice off). The quota is the fewest PRBs
//! that carry the target at the slice's current CQIs (`nr::prbs_for_slice`, TS 38.214). The sum
//! never exceeds the cell: when targets claim more than the cell has, every targeted slice is
//! scaled down proportionally and its policy reported NOT_ENFORCED (STATEMENT_NOT_APPLICABLE).
//! Slices without a policy share the PRBs left over equally.

use maestro_api::a1::{EnforceReason, PolicyStatus, SliceSlaPolicy};
use maestro_e2sm::rc::{
    ratio_for_prbs, RrmPolicyMember, RrmPolicyRatioGroup, SlicePrbQuotaControl,
};
use maestro_e2sm::report::CellMeasurement;

use crate::config::member_of;
use crate::nr::{self, CellConfig};
use crate::store::{PolicyKey, StoredPolicy};

/// A slice throughput target taken from an A1 policy.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceTarget {
    /// Which policy asks for it.
    pub policy: PolicyKey,
    /// Which slice.
    pub member: RrmPolicyMember,
    /// Throughput to hold the slice at, bits/s.
    pub target_bps: f64,
}

/// Turns stored slice SLA policies into targets; policies that cannot apply get a status.
pub fn targets_from_policies(
    policies: &[StoredPolicy],
    served: &[RrmPolicyMember],
) -> (Vec<SliceTarget>, Vec<(PolicyKey, PolicyStatus)>) {
    let mut targets: Vec<SliceTarget> = Vec::new();
    let mut rejected = Vec::new();
    for p in policies {
        let key = p.key();
        let parsed = serde_json::from_value::<SliceSlaPolicy>(p.statement.clone())
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
        let kbps = match (o.gua_dl_thpt_per_slice, o.max_dl_thpt_per_slice) {
            (Some(g), Some(m)) => g.min(m),
            (Some(g), None) => g,
            (None, Some(m)) => m,
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
    /// PRBs the target needs at those CQIs; `None` when even the whole cell falls short.
    pub required_prbs: Option<u16>,
    /// PRBs granted.
    pub quota_prbs: u16,
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

/// Decides quotas and statuses for the cell from its latest measurement.
pub fn decide(
    cell: &CellConfig,
    measurement: &CellMeasurement,
    served: &[RrmPolicyMember],
    targets: &[SliceTarget],
) -> Decision {
    let n_prb = cell.n_prb;
    let mut slices: Vec<SliceDecision> = served
        .iter()
        .map(|member| {
            let target = targets.iter().find(|t| &t.member == member);
            let ue_cqis: Vec<u8> = measurement
                .ue_cqis(member)
                .into_iter()
                .filter(|&c| c > 0)
                .collect();
            let (policy, target_bps, required) = match target {
                Some(t) => (
                    Some(t.policy.clone()),
                    t.target_bps,
                    nr::prbs_for_slice(t.target_bps, &ue_cqis, cell),
                ),
                None => (None, 0.0, None),
            };
            SliceDecision {
                member: member.clone(),
                policy,
                target_bps,
                ue_cqis,
                required_prbs: required,
                quota_prbs: 0,
                achievable: false,
            }
        })
        .collect();

    // What each targeted slice claims: its requirement, or the whole cell when unachievable.
    let claim = |s: &SliceDecision| -> u32 {
        if s.policy.is_none() {
            0
        } else {
            u32::from(s.required_prbs.unwrap_or(n_prb))
        }
    };
    let claimed: u32 = slices.iter().map(claim).sum();
    for s in slices.iter_mut().filter(|s| s.policy.is_some()) {
        let c = claim(s);
        s.quota_prbs = if claimed <= u32::from(n_prb) {
            c as u16
        } else {
            (c * u32::from(n_prb) / claimed) as u16
        };
        s.achievable = s.required_prbs.is_some_and(|r| s.quota_prbs >= r);
    }
    let used: u32 = slices.iter().map(|s| u32::from(s.quota_prbs)).sum();
    let free = u32::from(n_prb).saturating_sub(used);
    let untargeted = slices.iter().filter(|s| s.policy.is_none()).count() as u32;
    for s in slices.iter_mut().filter(|s| s.policy.is_none()) {
        s.quota_prbs = (free / untargeted) as u16;
        s.achievable = true;
    }

    let groups = slices
        .iter()
        .filter_map(|s| {
            // Untargeted slices get a ratio that never grants more than their share.
            let ratio = if s.policy.is_some() {
                ratio_for_prbs(s.quota_prbs, n_prb)
            } else {
                (u32::from(s.quota_prbs) * 100 / u32::from(n_prb.max(1))) as u8
            };
            let min = if s.policy.is_some() { ratio } else { 0 };
            RrmPolicyRatioGroup::new(s.member.clone(), min, ratio, 0).ok()
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

#[cfg(test)]
mod tests {
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

    fn measurement(cqis: &[&[u8]]) -> CellMeasurement {
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

    #[test]
    fn quota_is_what_nr_needs_for_the_target_at_the_slice_cqis() {
        let cell = CellConfig::oai_40mhz();
        let served = [member(1), member(2)];
        let m = measurement(&[&[15, 12, 9], &[11, 0, 13]]);
        let d = decide(&cell, &m, &served, &[target(1, 30.0), target(2, 25.0)]);
        let want1 = nr::prbs_for_slice(30e6, &[15, 12, 9], &cell).unwrap();
        let want2 = nr::prbs_for_slice(25e6, &[11, 13], &cell).unwrap();
        assert_eq!(d.slices[0].quota_prbs, want1);
        assert_eq!(d.slices[1].quota_prbs, want2);
        assert_eq!(d.slices[1].ue_cqis, vec![11, 13], "CQI 0 UEs are left out");
        assert!(u32::from(want1) + u32::from(want2) <= 106);
        assert!(d
            .statuses
            .iter()
            .all(|(_, s)| s == &PolicyStatus::enforced()));
        // The control carries min = max = the ratio that grants at least the quota.
        let g = &d.control.groups[0];
        assert_eq!(g.max_prb_ratio, ratio_for_prbs(want1, 106));
        assert_eq!(g.min_prb_ratio, g.max_prb_ratio);
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
