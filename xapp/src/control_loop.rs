//! The near-RT control loop: on every E2 report (and right after an A1 change) run the
//! controller, send the PRB quota control when it changed, record policy statuses (notifying
//! their owners), and publish the period's KPIs. With no report for `report_silence_ms`, every
//! policy goes NOT_ENFORCED (A1AP v2 clause 5.2.6: the status says whether the policy is in
//! force) until reports resume, and the quotas are re-sent then.

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
use crate::store::{PolicyKey, PolicyStore};

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
                        self.step(&mut controller, &m, &mut last_control, true).await;
                        latest = Some(m);
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(skipped = n, "control loop lagging behind E2 reports");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = self.changed.notified() => {
                    if let Some(m) = latest.clone() {
                        self.step(&mut controller, &m, &mut last_control, false).await;
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
                    let statuses = self
                        .store
                        .all()
                        .iter()
                        .map(|p| (p.key(), PolicyStatus::not_enforced(EnforceReason::OtherReason)))
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
        let mut statuses = decision.statuses.clone();

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
                for (_, s) in &mut statuses {
                    *s = PolicyStatus::not_enforced(EnforceReason::OtherReason);
                }
            }
        }
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

    async fn record_statuses(&self, statuses: Vec<(PolicyKey, PolicyStatus)>) {
        // Only changes touch the disk; most periods change nothing.
        let changed: Vec<(PolicyKey, PolicyStatus)> = statuses
            .into_iter()
            .filter(|(k, s)| self.store.get(k).is_some_and(|p| &p.status != s))
            .collect();
        if changed.is_empty() {
            return;
        }
        write_statuses(&self.store, &self.notifier, changed).await;
    }
}

/// Writes policy statuses to the store (one commit) off the async threads, then logs each written one and
/// notifies its owner (A1AP v2 clause 5.2.6, policy status notification). Shared by the
/// control loop and the E2 bridge's outage follower.
pub(crate) async fn write_statuses(
    store: &PolicyStore,
    notifier: &StatusNotifier,
    changed: Vec<(PolicyKey, PolicyStatus)>,
) {
    let store = store.clone();
    let written = tokio::task::spawn_blocking(move || match store.set_statuses(changed) {
        Ok(written) => written,
        Err(e) => {
            tracing::error!(error = %e, "cannot record policy statuses");
            Vec::new()
        }
    })
    .await
    .unwrap_or_default();
    for p in written {
        tracing::info!(policy = %p.policy_id, status = ?p.status.enforce_status, reason = ?p.status.enforce_reason, "policy status");
        if let Some(dest) = p.notification_destination {
            notifier.notify(dest, p.policy_id, p.status);
        }
    }
}
