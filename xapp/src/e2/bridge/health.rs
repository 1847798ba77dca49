//! How the xApp reacts to the E2 bridge's state: `/ric/v1/health/ready` (and `/readyz`)
//! answer 503 with the reason while the link is not connected, the metrics
//! `maestro_xapp_e2_connected` and `maestro_xapp_e2_bridge_restarts_total` follow it, and
//! every ENFORCED policy turns NOT_ENFORCED (`enforceReason` OTHER_REASON of the A1-P v2
//! policy status object) while the E2 side is down — the control loop sets ENFORCED again on
//! the first report after the link is back.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maestro_api::a1::{EnforceReason, EnforceStatus, PolicyStatus};
use maestro_api::problem::{ProblemDetails, PROBLEM_JSON};
use tokio::sync::watch;

use super::supervisor::{BridgeStatus, LinkState};
use crate::kpi::metrics::XappMetrics;
use crate::notify::StatusNotifier;
use crate::store::PolicyStore;

/// Middleware: the readiness probes answer 503 (problem+json, the reason in `detail`) while
/// the E2 link is not connected; everything else passes through.
pub async fn gate_ready(
    State(status): State<watch::Receiver<BridgeStatus>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if path == "/ric/v1/health/ready" || path == "/readyz" {
        let current = status.borrow().clone();
        if current.state != LinkState::Connected {
            let code = StatusCode::SERVICE_UNAVAILABLE;
            let problem = ProblemDetails::new(
                code.as_u16(),
                code.canonical_reason().unwrap_or("Service Unavailable"),
                current.reason(),
            );
            let body = serde_json::to_vec(&problem).unwrap_or_default();
            return (code, [(header::CONTENT_TYPE, PROBLEM_JSON)], body).into_response();
        }
    }
    next.run(req).await
}

/// Follows the link until `stop`: metrics on every change; while not connected, ENFORCED
/// policies are set NOT_ENFORCED (again every second, so a control-loop step that raced
/// with the loss cannot leave one ENFORCED).
pub async fn follow_link(
    mut status: watch::Receiver<BridgeStatus>,
    store: PolicyStore,
    notifier: StatusNotifier,
    metrics: XappMetrics,
    mut stop: watch::Receiver<bool>,
) {
    let mut restarts_seen = 0u64;
    loop {
        let current = status.borrow_and_update().clone();
        let connected = current.state == LinkState::Connected;
        metrics.set_e2_connected(connected);
        if current.restarts > restarts_seen {
            metrics.e2_bridge_restarts(current.restarts - restarts_seen);
            restarts_seen = current.restarts;
        }
        if !connected {
            mark_not_enforced(&store, &notifier, &metrics).await;
        }
        let recheck = if connected {
            std::time::Duration::MAX
        } else {
            std::time::Duration::from_secs(1)
        };
        tokio::select! {
            changed = status.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep(recheck.min(std::time::Duration::from_secs(3600))) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Sets every ENFORCED policy NOT_ENFORCED (OTHER_REASON) and notifies its owner. A fact, so
/// no hysteresis: the control loop's status filter takes a written OTHER_REASON as one and
/// answers the first report after the link is back at once (`crate::status_filter`).
async fn mark_not_enforced(store: &PolicyStore, notifier: &StatusNotifier, metrics: &XappMetrics) {
    let enforced: Vec<_> = store
        .all()
        .into_iter()
        .filter(|p| p.status.enforce_status == EnforceStatus::Enforced)
        .map(|p| p.key())
        .collect();
    if enforced.is_empty() {
        return;
    }
    tracing::info!(
        policies = enforced.len(),
        "the E2 side is down: ENFORCED policies become NOT_ENFORCED"
    );
    let not_enforced = PolicyStatus::not_enforced(EnforceReason::OtherReason);
    let changed = enforced
        .into_iter()
        .map(|key| (key, not_enforced.clone()))
        .collect();
    crate::status_writer::write_statuses(store, notifier, metrics, changed).await;
}
