//! A1-P v2 request handlers: parse, validate, call the store, answer with A1AP v2 codes.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use maestro_api::a1::{self, EnforceReason, PolicyStatus, SliceSlaPolicy};
use serde::Deserialize;

use super::body::{parse_policy, ValidatedPolicy};
use super::{A1Error, A1State};
use crate::cell_scope::CellScope;
use crate::security::Denied;
use crate::slice_map::member_of;
use crate::store::{PolicyKey, PutOutcome, StoreError, StoredPolicy};

/// Counts every request by method and status code.
pub async fn count_requests(State(state): State<A1State>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    state
        .metrics
        .a1_request(&method, response.status().as_u16());
    response
}

/// Checks the bearer token (RFC 6750) of every request but the health probes: 401 without a
/// known token, 403 when a read-only token writes.
pub async fn authorize(State(state): State<A1State>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let probe = path.starts_with("/ric/v1/health/") || path == "/healthz" || path == "/readyz";
    if !probe {
        let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        match state.security.authorize(presented, writes) {
            Ok(()) => {}
            Err(Denied::Unauthenticated) => {
                return A1Error::Unauthorized(
                    "a bearer token is required (Authorization: Bearer <token>)".into(),
                )
                .into_response()
            }
            Err(Denied::Forbidden) => {
                return A1Error::Forbidden(format!(
                    "this token may only read; {} needs a write token",
                    req.method()
                ))
                .into_response()
            }
        }
    }
    next.run(req).await
}

/// Rate-limits PUT and DELETE per client address (429 + Retry-After).
pub async fn limit_writes(State(state): State<A1State>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::PUT | Method::DELETE) {
        let client = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        if let Err(retry_after_s) = state.limiter.admit(client, Instant::now()) {
            return A1Error::TooManyRequests {
                message: format!(
                    "more than {} writes/s from this client; retry in {retry_after_s} s",
                    state.limiter.limits().writes_per_second
                ),
                retry_after_s,
            }
            .into_response();
        }
    }
    next.run(req).await
}

/// `GET /A1-P/v2/openapi.json`: the OpenAPI document of this A1-P service.
pub async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        a1::A1P_OPENAPI,
    )
}

fn store_failed(e: StoreError) -> A1Error {
    tracing::error!(error = %e, "policy store failure");
    A1Error::Unavailable(format!("policy store unavailable, nothing changed: {e}"))
}

/// Runs a blocking store operation off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, A1Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| A1Error::Unavailable(format!("store task failed: {e}")))?
        .map_err(store_failed)
}

fn known_type<'a>(
    state: &'a A1State,
    type_id: &str,
) -> Result<&'a maestro_api::policy_type::PolicyType, A1Error> {
    state
        .registry
        .get(type_id)
        .ok_or_else(|| A1Error::NotFound(format!("policy type '{type_id}' is not supported")))
}

fn stored(state: &A1State, type_id: &str, policy_id: &str) -> Result<StoredPolicy, A1Error> {
    known_type(state, type_id)?;
    state
        .store
        .get(&PolicyKey::new(type_id, policy_id))
        .ok_or_else(|| A1Error::NotFound(format!("no policy '{policy_id}' of type '{type_id}'")))
}

/// `GET /A1-P/v2/policytypes`: ids of the supported types.
pub async fn list_policy_types(State(state): State<A1State>) -> Json<Vec<String>> {
    Json(state.registry.ids())
}

/// `GET /A1-P/v2/policytypes/{type}`: the type's schemas.
pub async fn get_policy_type(
    State(state): State<A1State>,
    Path(type_id): Path<String>,
) -> Result<Json<a1::PolicyTypeObject>, A1Error> {
    Ok(Json(known_type(&state, &type_id)?.object()))
}

/// `GET /A1-P/v2/policytypes/{type}/policies`: ids of its policies.
pub async fn list_policies(
    State(state): State<A1State>,
    Path(type_id): Path<String>,
) -> Result<Json<Vec<String>>, A1Error> {
    known_type(&state, &type_id)?;
    Ok(Json(state.store.ids_of_type(&type_id)))
}

/// `GET .../policies/{id}`: the policy statement as stored.
pub async fn get_policy(
    State(state): State<A1State>,
    Path((type_id, policy_id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, A1Error> {
    Ok(Json(stored(&state, &type_id, &policy_id)?.statement))
}

/// `GET .../policies/{id}/status`.
pub async fn get_policy_status(
    State(state): State<A1State>,
    Path((type_id, policy_id)): Path<(String, String)>,
) -> Result<Json<PolicyStatus>, A1Error> {
    Ok(Json(stored(&state, &type_id, &policy_id)?.status))
}

/// Query parameters of a PUT (A1AP v2: `notificationDestination`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutParams {
    notification_destination: Option<String>,
}

/// Policy ids are path segments: keep them to a safe, readable alphabet.
fn check_policy_id(id: &str) -> Result<(), A1Error> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'));
    if ok {
        Ok(())
    } else {
        Err(A1Error::BadRequest(format!(
            "policy id {id:?} must be 1-128 characters of A-Z a-z 0-9 - _ . ~"
        )))
    }
}

/// A PUT body must be JSON (A1AP v2 clause 6.2: `application/json`); a missing Content-Type is
/// read as JSON, any other media type is 415 (RFC 9110 clause 15.5.16).
fn check_content_type(headers: &HeaderMap) -> Result<(), A1Error> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let media = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media == "application/json"
        || (media.starts_with("application/") && media.ends_with("+json"))
    {
        Ok(())
    } else {
        Err(A1Error::UnsupportedMediaType(format!(
            "a policy body must be application/json, not {:?}",
            value.to_str().unwrap_or("(not text)")
        )))
    }
}

/// `PUT .../policies/{id}`: create (201 + Location) or update (200) a policy.
pub async fn put_policy(
    State(state): State<A1State>,
    Path((type_id, policy_id)): Path<(String, String)>,
    query: Result<Query<PutParams>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, A1Error> {
    check_content_type(&headers)?;
    let body = body.map_err(|e| match e.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => A1Error::PayloadTooLarge(format!(
            "a policy body may be at most {} bytes",
            super::MAX_BODY_BYTES
        )),
        _ => A1Error::BadRequest(e.body_text()),
    })?;
    let policy_type = known_type(&state, &type_id)?;
    check_policy_id(&policy_id)?;
    let Query(params) = query.map_err(|e| A1Error::BadRequest(e.body_text()))?;
    if let Some(dest) = &params.notification_destination {
        let parsed = reqwest::Url::parse(dest).map_err(|e| {
            A1Error::BadRequest(format!(
                "notificationDestination {dest:?} is not a URL: {e}"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(A1Error::BadRequest(format!(
                "notificationDestination {dest:?} must be an http(s) URL"
            )));
        }
    }
    let ValidatedPolicy {
        statement,
        slice_sla,
    } = parse_policy(policy_type, &body).map_err(|e| A1Error::BadRequest(e.to_string()))?;
    let mut write_guard = None;
    if let Some(slice) = slice_sla {
        let member = member_of(&slice.scope.slice_id).map_err(A1Error::BadRequest)?;
        let cells = CellScope::of(&slice).map_err(|e| A1Error::BadRequest(e.to_string()))?;
        let unknown = cells.unknown(&state.cells.snapshot());
        if !unknown.is_empty() {
            // A cell of another shard is named with its owner; any other is unknown here.
            let (mut elsewhere, mut named) = (Vec::new(), Vec::new());
            for cell in &unknown {
                match state.shard.served_elsewhere(cell) {
                    Some(owner) => elsewhere.push(owner),
                    None => named.push(cell.to_string()),
                }
            }
            let mut reasons = Vec::new();
            if !named.is_empty() {
                reasons.push(format!(
                    "sliceSlaResources.cellIdList names cells this xApp does not serve: {}",
                    named.join("; ")
                ));
            }
            if !elsewhere.is_empty() {
                reasons.push(format!(
                    "sliceSlaResources.cellIdList: {}",
                    elsewhere.join("; ")
                ));
            }
            return Err(A1Error::BadRequest(reasons.join("; ")));
        }
        write_guard = Some(state.writes.clone().lock_owned().await);
        // One policy per slice and cell: a second one would leave its target undefined.
        for other in state.store.all() {
            if other.policy_type != type_id || other.policy_id == policy_id {
                continue;
            }
            let same_slice = serde_json::from_value::<SliceSlaPolicy>(other.statement.clone())
                .ok()
                .and_then(|o| member_of(&o.scope.slice_id).ok())
                .is_some_and(|m| m == member);
            if same_slice && cells.overlaps(&CellScope::of_statement(&other.statement)) {
                return Err(A1Error::Conflict(format!(
                    "slice {} is already governed by policy '{}' in some of these cells; update or delete that one",
                    slice.scope.slice_id, other.policy_id
                )));
            }
        }
    }
    let key = PolicyKey::new(&type_id, &policy_id);
    let location = a1::policy_path(&type_id, &policy_id);
    let previous = state.store.get(&key);
    let previous_is_none = previous.is_none();
    // Until the controller has evaluated it, a new policy is not enforced; an update keeps the
    // last status until the next period re-evaluates it.
    let status = previous
        .map(|p| p.status)
        .unwrap_or_else(|| PolicyStatus::not_enforced(EnforceReason::OtherReason));
    let record = StoredPolicy {
        policy_type: type_id,
        policy_id,
        statement: statement.clone(),
        notification_destination: params.notification_destination,
        status,
    };
    let store = state.store.clone();
    let _write_guard = match write_guard {
        Some(g) => g,
        None => state.writes.clone().lock_owned().await,
    };
    if previous_is_none && state.store.all().len() >= state.limiter.limits().max_policies {
        return Err(A1Error::InsufficientStorage(format!(
            "the policy store holds its maximum of {} policies; delete one first",
            state.limiter.limits().max_policies
        )));
    }
    let outcome = blocking(move || store.put(record)).await?;
    state.metrics.set_policies(state.store.all().len());
    state.changed.notify_one();
    let code = match outcome {
        PutOutcome::Created => StatusCode::CREATED,
        PutOutcome::Updated => StatusCode::OK,
    };
    Ok((code, [(header::LOCATION, location)], Json(statement)).into_response())
}

/// `DELETE .../policies/{id}`: 204 when deleted.
pub async fn delete_policy(
    State(state): State<A1State>,
    Path((type_id, policy_id)): Path<(String, String)>,
) -> Result<StatusCode, A1Error> {
    known_type(&state, &type_id)?;
    let key = PolicyKey::new(&type_id, &policy_id);
    let store = state.store.clone();
    let _write_guard = state.writes.lock().await;
    let removed = blocking(move || store.delete(&key)).await?;
    match removed {
        Some(_) => {
            state.metrics.set_policies(state.store.all().len());
            state.changed.notify_one();
            Ok(StatusCode::NO_CONTENT)
        }
        None => Err(A1Error::NotFound(format!(
            "no policy '{policy_id}' of type '{type_id}'"
        ))),
    }
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(State(state): State<A1State>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: 200 once the E2 node has reported, 503 before; 200 at once for a shard that
/// owns no configured cell (it has nothing to wait for).
pub async fn readyz(State(state): State<A1State>) -> Response {
    let seq = state.last_report.load(Ordering::Relaxed);
    if seq > 0 {
        (StatusCode::OK, format!("ready: E2 report {seq}\n")).into_response()
    } else if state.shard.owns_no_configured_cell() {
        let shard = state.shard.shard();
        let text =
            format!("ready: shard {shard} owns no configured cell, no E2 report to wait for\n");
        (StatusCode::OK, text).into_response()
    } else {
        A1Error::Unavailable("no E2 report received yet".into()).into_response()
    }
}

/// Any other path.
pub async fn not_found(uri: Uri) -> A1Error {
    A1Error::NotFound(format!("no resource at {}", uri.path()))
}

/// A known path with an unsupported method.
pub async fn method_not_allowed(uri: Uri) -> A1Error {
    A1Error::MethodNotAllowed(format!("method not allowed on {}", uri.path()))
}
