//! The near-RT control loop: on every E2 report (and right after an A1 change) run the
//! controller, send the PRB quota control when it changed, record policy statuses (notifying
//! their owners), and publish the period's KPIs. With no report for `report_silence_ms`, every
//! policy goes NOT_ENFORCED (A1AP v2 clause 5.2.6: the status says whether the policy is in
//! force) until reports resume, and the quotas are re-sent then.
//!
//! The statuses the controller estimates from the measurements pass the hysteresis of
//! [`crate::status_filter`] (`status_hold_ms`); facts do not: a refused or failed E2 control,
//! the reports gone silent, a policy rejected at validation (each resets the filter for the
//! policies it concerns), and the first status of a new or updated policy. Every status
//! written is logged and counted (`maestro_xapp_policy_status_changes_total`), and every flap
//! the hysteresis kept from an owner too (`maestro_xapp_policy_status_flaps_suppressed_total`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use maestro_api::a1::{EnforceReason, PolicyStatus};
use maestro_e2sm::rc::{ControlOutcome, SlicePrbQuotaControl};
use maestro_e2sm::report::CellMeasurement;
use tokio::sync::{broadcast, watch, Notify};

use crate::controller::{targets_from_policies, Controller, LoopTuning};
use crate::e2::E2Backend;
use crate::kpi::cell_report;
use crate::kpi::metrics::XappMetrics;
use crate::kpi::stream::KpiHub;
use crate::notify::StatusNotifier;
use crate::status_filter::{StatusFilter, Verdict};
use crate::store::{PolicyKey, PolicyStore, StoredPolicy};

/// What the loop works with.
pub struct ControlLoop {
    /// The E2 node.
    pub backend: Arc<dyn E2Backend>,
    /// Durable policies.
    pub store: PolicyStore,
    /// KPI stream fan-out.
    pub hub: KpiHub,
    /// Metrics.
    pub metrics: XappMetrics,
    /// Status notifications.
    pub notifier: StatusNotifier,
    /// Sequence of the last processed report (read by `/readyz`).
    pub last_report: Arc<AtomicU64>,
    /// Woken by the A1 server after a change.
    pub changed: Arc<Notify>,
    /// Closed-loop knobs.
    pub tuning: LoopTuning,
}

impl ControlLoop {
    /// Runs until `shutdown` turns true or the backend's report stream closes.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut reports = self.backend.subscribe();
        let mut last_control: Option<SlicePrbQuotaControl> = None;
        let mut latest: Option<Arc<CellMeasurement>> = None;
        let mut controller = Controller::new(self.tuning.clone());
        let mut filter = StatusFilter::new(self.tuning.status_hold_ms);
        let silence_limit = Duration::from_millis(self.tuning.report_silence_ms.max(1));
        let silence = tokio::time::sleep(silence_limit);
        tokio::pin!(silence);
        let mut silent = false;
        loop {
            tokio::select! {
                r = reports.recv() => match r {
                    Ok(m) => {
                        silence.as_mut().reset(tokio::time::Instant::now() + silence_limit);
                        if std::mem::take(&mut silent) {
                            tracing::info!(sequence = m.sequence, "E2 reports resumed");
                        }
                        self.step(&mut controller, &mut filter, &m, &mut last_control, true)
                            .await;
                        latest = Some(m);
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(skipped = n, "control loop lagging behind E2 reports");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = self.changed.notified() => {
                    if let Some(m) = latest.clone() {
                        self.step(&mut controller, &mut filter, &m, &mut last_control, false)
                            .await;
                    }
                }
                () = &mut silence, if !silent => {
                    silent = true;
                    tracing::warn!(
                        silence_ms = silence_limit.as_millis() as u64,
                        "no E2 report: policies NOT_ENFORCED until reports resume"
                    );
                    // The node may come back with none of our quotas: send them again then.
                    last_control = None;
                    controller.forget_quotas();
                    // A fact (nothing shows the quotas are in force): no hysteresis.
                    let statuses = self
                        .store
                        .all()
                        .iter()
                        .map(|p| {
                            filter.reset(&p.key());
                            (p.key(), PolicyStatus::not_enforced(EnforceReason::OtherReason))
                        })
                        .collect();
                    self.record_statuses(statuses).await;
                }
                _ = shutdown.changed() => break,
            }
        }
    }

    async fn step(
        &self,
        controller: &mut Controller,
        filter: &mut StatusFilter,
        m: &CellMeasurement,
        last_control: &mut Option<SlicePrbQuotaControl>,
        publish: bool,
    ) {
        let started = std::time::Instant::now();
        let cell = self.backend.cell();
        let served = self.backend.slices();
        let policies = self.store.all();
        let (targets, rejected) = targets_from_policies(&policies, served);
        let decision = controller.decide(cell, m, served, &targets);
        let mut control_failed = false;

        if last_control.as_ref() != Some(&decision.control) {
            let outcome = self.backend.control(decision.control.clone()).await;
            let failure = match outcome {
                Ok(ControlOutcome::Acknowledged) => {
                    self.metrics.e2_control("ack");
                    *last_control = Some(decision.control.clone());
                    None
                }
                Ok(ControlOutcome::Failed { cause }) => {
                    self.metrics.e2_control("failed");
                    Some(cause)
                }
                Err(e) => {
                    self.metrics.e2_control("error");
                    Some(e.to_string())
                }
            };
            if let Some(cause) = failure {
                tracing::warn!(%cause, "E2 control not applied");
                controller.forget_quotas();
                control_failed = true;
            }
        }
        let mut statuses = if control_failed {
            // A fact: the node did not take the quotas.
            decision
                .statuses
                .iter()
                .map(|(key, _)| {
                    filter.reset(key);
                    (
                        key.clone(),
                        PolicyStatus::not_enforced(EnforceReason::OtherReason),
                    )
                })
                .collect()
        } else {
            self.filter_statuses(filter, &policies, &decision.statuses, m.time_ms)
        };
        // Facts too: the policy cannot apply whatever the cell does.
        for (key, _) in &rejected {
            filter.reset(key);
        }
        filter.retain(|key| policies.iter().any(|p| is_policy(p, key)));
        self.metrics
            .control_latency(started.elapsed().as_secs_f64());
        statuses.extend(rejected);
        self.record_statuses(statuses).await;

        if publish {
            self.last_report.store(m.sequence, Ordering::Relaxed);
            let report = cell_report(cell, m, &decision);
            self.metrics.observe(&report);
            self.hub.publish(report);
        }
    }

    /// The statuses estimated from the measurements, through the hysteresis: what to write
    /// now (a held change keeps the written status, so it is left out).
    fn filter_statuses(
        &self,
        filter: &mut StatusFilter,
        policies: &[StoredPolicy],
        decided: &[(PolicyKey, PolicyStatus)],
        time_ms: u64,
    ) -> Vec<(PolicyKey, PolicyStatus)> {
        let mut out = Vec::with_capacity(decided.len());
        let mut suppressed = 0;
        for (key, status) in decided {
            let Some(policy) = policies.iter().find(|p| is_policy(p, key)) else {
                continue;
            };
            let f = filter.filter(policy, status, time_ms);
            if f.flap_suppressed {
                suppressed += 1;
                tracing::debug!(policy = %key.policy_id, status = ?policy.status.enforce_status, "status flap suppressed by the hysteresis");
            }
            match f.verdict {
                Verdict::Write(s) => out.push((key.clone(), s)),
                Verdict::Held => {
                    tracing::trace!(policy = %key.policy_id, candidate = ?status.enforce_status, "status change held by the hysteresis");
                }
                Verdict::Unchanged => {}
            }
        }
        if suppressed > 0 {
            self.metrics.policy_status_flaps_suppressed(suppressed);
        }
        out
    }

    async fn record_statuses(&self, statuses: Vec<(PolicyKey, PolicyStatus)>) {
        // Only changes touch the disk; most periods change nothing.
        let changed: Vec<(PolicyKey, PolicyStatus)> = statuses
            .into_iter()
            .filter(|(k, s)| self.store.get(k).is_some_and(|p| &p.status != s))
            .collect();
        if changed.is_empty() {
            return;
        }
        crate::status_writer::write_statuses(&self.store, &self.notifier, &self.metrics, changed)
            .await;
    }
}

/// Whether `p` is the policy `key` names (without building its key).
fn is_policy(p: &StoredPolicy, key: &PolicyKey) -> bool {
    p.policy_id == key.policy_id && p.policy_type == key.policy_type
}
