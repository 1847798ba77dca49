//! The A1-P v2 termination (O-RAN A1AP v2 clause 6.2) plus the operational endpoints
//! (`/metrics`; health at `/ric/v1/health/alive` and `/ric/v1/health/ready` as the O-RAN SC
//! RIC platform probes them, with `/healthz` and `/readyz` as aliases; the OpenAPI document at
//! `/A1-P/v2/openapi.json`), as one axum router.
//!
//! Every request but the health probes passes the bearer-token check of
//! [`crate::security`] first (401/403 problem+json).
//!
//! Handlers are thin: they parse and validate, then call the [`PolicyStore`]; the controller
//! picks stored policies up on its next report period.

pub mod body;
mod error;
mod handlers;
pub mod limit;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use maestro_api::a1::A1P_BASE;
use maestro_api::policy_type::PolicyTypeRegistry;
use maestro_e2sm::rc::RrmPolicyMember;
use tokio::sync::Notify;

pub use error::A1Error;

use crate::kpi::metrics::XappMetrics;
use crate::store::PolicyStore;

/// What the handlers share.
#[derive(Clone)]
pub struct A1State {
    /// Supported policy types.
    pub registry: Arc<PolicyTypeRegistry>,
    /// Durable policies.
    pub store: PolicyStore,
    /// The cells the xApp knows (a policy listing another cell is refused).
    pub cells: crate::cell_scope::KnownCells,
    /// Slices the E2 node serves (a policy for another slice is SCOPE_NOT_APPLICABLE).
    pub served: Arc<Vec<RrmPolicyMember>>,
    /// Wakes the controller after a change.
    pub changed: Arc<Notify>,
    /// Metrics.
    pub metrics: XappMetrics,
    /// Sequence of the last E2 report processed (0: none yet; `/readyz` is 503 until then).
    pub last_report: Arc<AtomicU64>,
    /// Held across a PUT's conflict check and its write, and across a DELETE, so concurrent
    /// requests cannot both claim one slice.
    pub writes: Arc<tokio::sync::Mutex<()>>,
    /// Per-client write rate limits and the store's capacity.
    pub limiter: Arc<limit::WriteLimiter>,
    /// Bearer tokens and their roles.
    pub security: Arc<crate::security::SecurityConfig>,
    /// This replica's shard of the configured RAN (a policy naming another shard's cell is
    /// refused with its owner; a shard owning no cell is ready without reports).
    pub shard: Arc<crate::shard_scope::ShardScope>,
}

/// Largest A1 request body accepted, bytes (a slice SLA statement is a few hundred; anything
/// near this is not a policy). Larger bodies get 413 problem+json.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The router: A1-P v2 under `/A1-P/v2`, plus `/metrics` and the health endpoints. Serve it
/// with connect info (`into_make_service_with_connect_info::<SocketAddr>`) so writes are
/// rate-limited per client address.
pub fn router(state: A1State) -> Router {
    use handlers::*;
    let a1 = Router::new()
        .route("/policytypes", get(list_policy_types))
        .route("/policytypes/{type_id}", get(get_policy_type))
        .route("/policytypes/{type_id}/policies", get(list_policies))
        .route(
            "/policytypes/{type_id}/policies/{policy_id}",
            get(get_policy).put(put_policy).delete(delete_policy),
        )
        .route(
            "/policytypes/{type_id}/policies/{policy_id}/status",
            get(get_policy_status),
        )
        .route("/openapi.json", get(openapi))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit_writes,
        ));
    Router::new()
        .nest(A1P_BASE, a1)
        .route("/metrics", get(metrics))
        .route("/ric/v1/health/alive", get(healthz))
        .route("/ric/v1/health/ready", get(readyz))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authorize,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .with_state(state)
}
