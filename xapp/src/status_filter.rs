//! Hysteresis on capacity-driven policy statuses, so a cell sitting near a policy's target
//! does not flip the policy ENFORCED <-> NOT_ENFORCED (and notify its owner, A1AP v2 clause
//! 5.2.6) with every noisy report.
//!
//! [`crate::controller::Controller::decide`] *estimates* from the live CQI whether the cell can
//! carry each target. Such a status replaces the one written (stored, and last notified) only
//! once it has been decided without interruption for `control.status_hold_ms` of report time
//! ([`crate::controller::LoopTuning::status_hold_ms`]): a report that decides the written
//! status again, or yet another status, drops the pending candidate, and that counts as a
//! suppressed flap.
//!
//! Not filtered — *facts*, not estimates, are written at once by the control loop:
//! - a refused or failed E2 control, the E2 side down (reports silent, or the bridge's link
//!   follower in `e2/bridge/health.rs`), and a policy the xApp rejects (scope or statement not
//!   applicable): the loop calls [`StatusFilter::reset`] for the policies it writes such a
//!   status for, and a written status that no estimate produces (anything but ENFORCED and
//!   NOT_ENFORCED/STATEMENT_NOT_APPLICABLE, e.g. OTHER_REASON from the link follower) counts
//!   as a fact as well;
//! - the first status of a new policy, of an updated one (other statement or notification
//!   destination), of one restored at start-up, and the first one after a fact: the owner
//!   must not wait for its answer, so that status is written at once and the hysteresis
//!   applies from there on.
//!
//! The filter is pure: the caller passes the time (the reports' own `time_ms`), so tests need
//! no clock.

use std::collections::HashMap;

use maestro_api::a1::{EnforceReason, PolicyStatus};

use crate::store::{PolicyKey, StoredPolicy};

/// What the filter makes of one decided status.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The decided status is the one written: nothing to write.
    Unchanged,
    /// Write this status now (first answer, or held for the hold time).
    Write(PolicyStatus),
    /// A different status was decided, but has not held for the hold time yet: keep the
    /// written one.
    Held,
}

/// A verdict, and whether it dropped a pending candidate that had not held for the hold time
/// (a flap the hysteresis kept from the policy's owner).
#[derive(Debug, Clone, PartialEq)]
pub struct Filtered {
    /// What to do with the decided status.
    pub verdict: Verdict,
    /// A pending candidate was dropped: the estimate flapped back before the hold time.
    pub flap_suppressed: bool,
}

/// Which revision of a policy the filter has seen.
#[derive(Debug, Clone, PartialEq)]
struct Revision {
    statement: serde_json::Value,
    notification_destination: Option<String>,
}

impl Revision {
    fn of(policy: &StoredPolicy) -> Self {
        Self {
            statement: policy.statement.clone(),
            notification_destination: policy.notification_destination.clone(),
        }
    }

    fn is_of(&self, policy: &StoredPolicy) -> bool {
        self.statement == policy.statement
            && self.notification_destination == policy.notification_destination
    }
}

/// What the filter remembers per policy.
#[derive(Debug, Clone)]
struct Track {
    /// The revision whose first status has been answered.
    revision: Revision,
    /// A decided status other than the written one, and since when (report time, ms) it has
    /// been decided without interruption.
    candidate: Option<(PolicyStatus, u64)>,
}

/// Per-policy hysteresis state: a candidate status and since when it has held.
#[derive(Debug, Clone)]
pub struct StatusFilter {
    hold_ms: u64,
    tracks: HashMap<PolicyKey, Track>,
}

/// Whether `status` is one [`crate::controller::Controller::decide`] estimates from the
/// measurements (as opposed to a fact, or the A1 server's placeholder for a new policy).
pub fn is_estimate(status: &PolicyStatus) -> bool {
    *status == PolicyStatus::enforced()
        || *status == PolicyStatus::not_enforced(EnforceReason::StatementNotApplicable)
}

impl StatusFilter {
    /// A filter writing a capacity-driven change once it has held for `hold_ms` (0: at once).
    pub fn new(hold_ms: u64) -> Self {
        Self {
            hold_ms,
            tracks: HashMap::new(),
        }
    }

    /// Filters the status `decided` from the measurements for `policy`, whose status as last
    /// written is `written` (the stored one, or a cell's own), at report time `now_ms`.
    pub fn filter(
        &mut self,
        policy: &StoredPolicy,
        written: &PolicyStatus,
        decided: &PolicyStatus,
        now_ms: u64,
    ) -> Filtered {
        let key = policy.key();
        let known = self
            .tracks
            .get_mut(&key)
            .filter(|t| is_estimate(written) && t.revision.is_of(policy));
        let Some(track) = known else {
            // First answer for this revision, or the first after a fact: at once.
            self.tracks.insert(
                key,
                Track {
                    revision: Revision::of(policy),
                    candidate: None,
                },
            );
            let verdict = if decided == written {
                Verdict::Unchanged
            } else {
                Verdict::Write(decided.clone())
            };
            return Filtered {
                verdict,
                flap_suppressed: false,
            };
        };
        if decided == written {
            return Filtered {
                verdict: Verdict::Unchanged,
                flap_suppressed: track.candidate.take().is_some(),
            };
        }
        let mut flap_suppressed = false;
        let since = match &track.candidate {
            // A report time before the candidate's start (the node restarted its clock):
            // the candidate starts over.
            Some((candidate, since)) if candidate == decided && *since <= now_ms => *since,
            Some((candidate, _)) => {
                flap_suppressed = candidate != decided;
                now_ms
            }
            None => now_ms,
        };
        if now_ms.saturating_sub(since) >= self.hold_ms {
            track.candidate = None;
            Filtered {
                verdict: Verdict::Write(decided.clone()),
                flap_suppressed,
            }
        } else {
            track.candidate = Some((decided.clone(), since));
            Filtered {
                verdict: Verdict::Held,
                flap_suppressed,
            }
        }
    }

    /// A fact-driven status is being written for `key`: its pending candidate is dropped, and
    /// its next capacity-driven status is written at once.
    pub fn reset(&mut self, key: &PolicyKey) {
        self.tracks.remove(key);
    }

    /// Forgets the policies for which `keep` is false (deleted ones).
    pub fn retain(&mut self, mut keep: impl FnMut(&PolicyKey) -> bool) {
        self.tracks.retain(|k, _| keep(k));
    }

    /// The pending candidate of `key` and since when (report time, ms) it has held.
    pub fn pending(&self, key: &PolicyKey) -> Option<(&PolicyStatus, u64)> {
        self.tracks
            .get(key)
            .and_then(|t| t.candidate.as_ref())
            .map(|(s, since)| (s, *since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(statement: serde_json::Value) -> StoredPolicy {
        StoredPolicy {
            policy_type: "T".into(),
            policy_id: "p".into(),
            statement,
            notification_destination: Some("http://127.0.0.1:1/n".into()),
            // The A1 server's placeholder until the controller has evaluated a new policy.
            status: PolicyStatus::not_enforced(EnforceReason::OtherReason),
        }
    }

    fn up() -> PolicyStatus {
        PolicyStatus::enforced()
    }

    fn down() -> PolicyStatus {
        PolicyStatus::not_enforced(EnforceReason::StatementNotApplicable)
    }

    /// Feeds `(time_ms, decided)` through the filter as the control loop does (a written
    /// status is stored); returns the writes and the number of suppressed flaps.
    fn run(
        filter: &mut StatusFilter,
        p: &mut StoredPolicy,
        decided: &[(u64, PolicyStatus)],
    ) -> (Vec<(u64, PolicyStatus)>, u64) {
        let mut writes = Vec::new();
        let mut suppressed = 0;
        for (t, s) in decided {
            let f = filter.filter(p, &p.status, s, *t);
            suppressed += u64::from(f.flap_suppressed);
            if let Verdict::Write(s) = f.verdict {
                p.status = s.clone();
                writes.push((*t, s));
            }
        }
        (writes, suppressed)
    }

    #[test]
    fn a_noisy_estimate_is_written_once_and_a_lasting_change_after_the_hold() {
        let mut f = StatusFilter::new(3_000);
        let mut p = policy(serde_json::json!({"gua": 20000}));
        // Every 100 ms: up, then flaps down for 0.2-2.9 s, then down for good at 10 s.
        let mut seq = Vec::new();
        let mut t = 0;
        for (status, reports) in [
            (up(), 5),
            (down(), 2),
            (up(), 10),
            (down(), 29),
            (up(), 1),
            (down(), 15),
            (up(), 38),
            (down(), 40),
        ] {
            for _ in 0..reports {
                seq.push((t, status.clone()));
                t += 100;
            }
        }
        let (writes, suppressed) = run(&mut f, &mut p, &seq);
        // The first status at once; the last run down is written once it has held 3 s: it
        // started at report 100 (t = 10 s).
        assert_eq!(writes, vec![(0, up()), (13_000, down())]);
        assert_eq!(suppressed, 3, "the three short runs down");
        assert_eq!(f.pending(&p.key()), None);

        // Without hold, every change is written: 1 + 7.
        let mut f = StatusFilter::new(0);
        let mut p = policy(serde_json::json!({"gua": 20000}));
        let (writes, suppressed) = run(&mut f, &mut p, &seq);
        assert_eq!(writes.len(), 8, "{writes:?}");
        assert_eq!(suppressed, 0);
    }

    #[test]
    fn the_hold_is_measured_from_the_first_report_of_an_uninterrupted_run() {
        let mut f = StatusFilter::new(1_000);
        let mut p = policy(serde_json::json!({}));
        p.status = up();
        // Restored with this status: the first estimate is answered at once (it agrees).
        let seq = [(0, up()), (100, down()), (1_050, down()), (1_099, down())];
        let (writes, _) = run(&mut f, &mut p, &seq);
        assert!(writes.is_empty());
        assert_eq!(f.pending(&p.key()), Some((&down(), 100)));
        let (writes, _) = run(&mut f, &mut p, &[(1_100, down())]);
        assert_eq!(writes, vec![(1_100, down())]);
        // A report time that went back (the node restarted) starts the candidate over.
        let (writes, _) = run(&mut f, &mut p, &[(5_000, up()), (200, up()), (1_100, up())]);
        assert!(writes.is_empty());
        assert_eq!(f.pending(&p.key()), Some((&up(), 200)));
        let (writes, _) = run(&mut f, &mut p, &[(1_200, up())]);
        assert_eq!(writes, vec![(1_200, up())]);
    }

    #[test]
    fn an_update_and_a_fact_make_the_next_estimate_immediate() {
        let mut f = StatusFilter::new(5_000);
        let mut p = policy(serde_json::json!({"gua": 20000}));
        run(&mut f, &mut p, &[(0, up()), (100, down())]);
        assert_eq!(f.pending(&p.key()), Some((&down(), 100)));
        // Updated statement: its first status is written at once.
        p.statement = serde_json::json!({"gua": 90000});
        let (writes, _) = run(&mut f, &mut p, &[(200, down())]);
        assert_eq!(writes, vec![(200, down())]);
        assert_eq!(f.pending(&p.key()), None);
        // A new notification destination is an update too.
        run(&mut f, &mut p, &[(300, up())]);
        p.notification_destination = Some("http://127.0.0.1:2/n".into());
        let (writes, _) = run(&mut f, &mut p, &[(400, up())]);
        assert_eq!(writes, vec![(400, up())]);

        // A fact written by the loop (E2 control failed): candidate dropped, next at once.
        run(&mut f, &mut p, &[(500, down())]);
        assert!(f.pending(&p.key()).is_some());
        f.reset(&p.key());
        p.status = PolicyStatus::not_enforced(EnforceReason::OtherReason);
        assert_eq!(f.pending(&p.key()), None);
        let (writes, suppressed) = run(&mut f, &mut p, &[(600, up())]);
        assert_eq!(writes, vec![(600, up())]);
        assert_eq!(suppressed, 0, "a fact is no flap");

        // A fact written elsewhere (the bridge's link follower: OTHER_REASON): the next
        // estimate is written at once even without a reset, and drops the candidate.
        run(&mut f, &mut p, &[(700, down())]);
        p.status = PolicyStatus::not_enforced(EnforceReason::OtherReason);
        let (writes, _) = run(&mut f, &mut p, &[(800, up())]);
        assert_eq!(writes, vec![(800, up())]);
        assert_eq!(f.pending(&p.key()), None);
        let (writes, _) = run(&mut f, &mut p, &[(900, down()), (1_000, up())]);
        assert!(writes.is_empty(), "held again from there on: {writes:?}");
    }

    #[test]
    fn deleted_policies_are_forgotten() {
        let mut f = StatusFilter::new(5_000);
        let mut p = policy(serde_json::json!({}));
        run(&mut f, &mut p, &[(0, up()), (100, down())]);
        f.retain(|k| k != &p.key());
        assert_eq!(f.pending(&p.key()), None);
        // Re-created with the same statement and last status: answered at once again.
        let (writes, _) = run(&mut f, &mut p, &[(200, down())]);
        assert_eq!(writes, vec![(200, down())]);
    }
}
