//! The one path a policy status change takes: written to the durable store (one commit for
//! all of a report's changes), logged, counted on `/metrics` and notified to the policy's
//! owner. The control loop and the E2 bridge's outage follower both write through it, so
//! neither depends on the other.

use maestro_api::a1::PolicyStatus;

use crate::kpi::metrics::XappMetrics;
use crate::notify::StatusNotifier;
use crate::store::{PolicyKey, PolicyStore};

/// Writes policy statuses to the store (one commit) off the async threads, then logs and
/// counts (`maestro_xapp_policy_status_changes_total`) each written one and notifies its owner
/// (A1AP v2 clause 5.2.6, policy status notification). Shared by the control loop and the E2
/// bridge's outage follower.
pub async fn write_statuses(
    store: &PolicyStore,
    notifier: &StatusNotifier,
    metrics: &XappMetrics,
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
        metrics.policy_status_change(&p.status);
        if let Some(dest) = p.notification_destination {
            notifier.notify(dest, p.policy_id, p.status);
        }
    }
}
