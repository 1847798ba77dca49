//! Test double of the O-RAN SC Non-RT RIC A1 Policy Management Service (a Java service that
//! cannot run here): an axum server speaking `/a1-policy-management/v1` with the paths,
//! bodies, status codes and error shapes of `api/pms-api-v3.yaml` — ProblemDetails
//! (`application/problem+json`) for 400/404/406, "ErrorInformation" for 423 Locked.
//!
//! Its world: `ric1` (AVAILABLE) and `ric2` (SYNCHRONIZING, so writes get 423), both
//! supporting `ORAN_SliceSLATarget_1.0.0`; a policy's status is what an A1-P v2 termination
//! reports once it is in force, `{"enforceStatus": "ENFORCED"}`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maestro_api::a1::SLICE_SLA_TARGET_TYPE;
use serde_json::{json, Value};

use super::pms::{PolicyObjectInformation, RicInfo, PMS_API};

#[derive(Default)]
struct World {
    rics: Vec<RicInfo>,
    /// Policy type id -> PolicyTypeObject.
    types: BTreeMap<String, Value>,
    policies: BTreeMap<String, PolicyObjectInformation>,
}

type Shared = Arc<Mutex<World>>;

fn lock(world: &Shared) -> std::sync::MutexGuard<'_, World> {
    world.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running double on a loopback port; stops with the test's runtime.
pub struct PmsDouble {
    /// `http://127.0.0.1:PORT` (the API is under [`PMS_API`]).
    pub url: String,
    world: Shared,
}

impl PmsDouble {
    /// Starts the double.
    pub async fn start() -> Self {
        let schema: Value = serde_json::from_str(include_str!(
            "../../../api/schemas/ORAN_SliceSLATarget_1.0.0.json"
        ))
        .unwrap();
        let world = World {
            rics: vec![
                RicInfo {
                    ric_id: "ric1".into(),
                    managed_element_ids: vec!["gnb-1".into()],
                    state: Some("AVAILABLE".into()),
                    policy_type_ids: vec![SLICE_SLA_TARGET_TYPE.into()],
                },
                RicInfo {
                    ric_id: "ric2".into(),
                    managed_element_ids: vec![],
                    state: Some("SYNCHRONIZING".into()),
                    policy_type_ids: vec![SLICE_SLA_TARGET_TYPE.into()],
                },
            ],
            types: BTreeMap::from([(
                SLICE_SLA_TARGET_TYPE.to_owned(),
                json!({"policySchema": schema}),
            )]),
            policies: BTreeMap::new(),
        };
        let world = Arc::new(Mutex::new(world));
        let api = Router::new()
            .route("/rics", get(rics))
            .route("/rics/{ric_id}", get(ric))
            .route("/policy-types", get(policy_types))
            .route("/policy-types/{type_id}", get(policy_type))
            .route("/policies", get(list_policies).post(create_policy))
            .route(
                "/policies/{policy_id}",
                get(get_policy).put(update_policy).delete(delete_policy),
            )
            .route("/policies/{policy_id}/status", get(policy_status))
            .with_state(Arc::clone(&world));
        let app = Router::new()
            .nest(PMS_API, api)
            .layer(axum::middleware::from_fn(accept_json_only));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}"),
            world,
        }
    }

    /// A stored policy, as the PMS holds it.
    pub fn policy(&self, id: &str) -> Option<PolicyObjectInformation> {
        lock(&self.world).policies.get(id).cloned()
    }

    /// How many policies are stored.
    pub fn policy_count(&self) -> usize {
        lock(&self.world).policies.len()
    }
}

/// RFC 7807 ProblemDetails, as the PMS sends it.
fn problem(status: StatusCode, detail: String) -> Response {
    let body = json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

/// The 423 "ErrorInformation" of the PMS OpenAPI: detail, title, status only.
fn locked(ric: &str) -> Response {
    let body = json!({
        "status": 423,
        "title": "Locked",
        "detail": format!("State is Locked in the provided request: near-RT RIC {ric} is synchronizing"),
    });
    (
        StatusCode::LOCKED,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

fn ok_json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// "Only application/json is allowed" as Accept: anything else is 406.
async fn accept_json_only(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*")
        .to_owned();
    let fine = accept
        .split(',')
        .map(|a| a.split(';').next().unwrap_or("").trim())
        .any(|a| matches!(a, "application/json" | "*/*" | "application/*"));
    if !fine {
        return problem(
            StatusCode::NOT_ACCEPTABLE,
            format!("Accept {accept}: only application/json is allowed"),
        );
    }
    next.run(req).await
}

/// Body of a write: must be JSON sent as application/json.
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, Box<Response>> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json") {
        return Err(Box::new(problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type {ct:?} is not supported: use application/json"),
        )));
    }
    serde_json::from_slice(body).map_err(|e| {
        Box::new(problem(
            StatusCode::BAD_REQUEST,
            format!("body is not JSON: {e}"),
        ))
    })
}

/// The top-level `required` members of the type's policy schema that `data` lacks.
fn missing_members(policy_type: &Value, data: &Value) -> Vec<String> {
    let required = policy_type["policySchema"]["required"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    required
        .iter()
        .filter_map(Value::as_str)
        .filter(|m| data.get(m).is_none())
        .map(str::to_owned)
        .collect()
}

async fn rics(State(world): State<Shared>, Query(q): Query<BTreeMap<String, String>>) -> Response {
    let w = lock(&world);
    let rics: Vec<&RicInfo> = w
        .rics
        .iter()
        .filter(|r| {
            q.get("policyTypeId")
                .is_none_or(|t| r.policy_type_ids.contains(t))
        })
        .collect();
    ok_json(StatusCode::OK, &json!({ "rics": rics }))
}

async fn ric(State(world): State<Shared>, Path(ric_id): Path<String>) -> Response {
    let w = lock(&world);
    match w.rics.iter().find(|r| r.ric_id == ric_id) {
        Some(r) => ok_json(StatusCode::OK, &json!(r)),
        None => problem(
            StatusCode::NOT_FOUND,
            format!("Near-RT RIC not found: {ric_id}"),
        ),
    }
}

async fn policy_types(
    State(world): State<Shared>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let w = lock(&world);
    if let Some(id) = q.get("nearRtRicId") {
        if !w.rics.iter().any(|r| &r.ric_id == id) {
            return problem(
                StatusCode::NOT_FOUND,
                format!("Near-RT RIC not found: {id}"),
            );
        }
    }
    let list: Vec<Value> = w
        .rics
        .iter()
        .filter(|r| q.get("nearRtRicId").is_none_or(|id| &r.ric_id == id))
        .flat_map(|r| {
            r.policy_type_ids
                .iter()
                .map(|t| json!({"policyTypeId": t, "nearRtRicId": r.ric_id}))
        })
        .collect();
    ok_json(StatusCode::OK, &Value::Array(list))
}

async fn policy_type(State(world): State<Shared>, Path(type_id): Path<String>) -> Response {
    match lock(&world).types.get(&type_id) {
        Some(t) => ok_json(StatusCode::OK, t),
        None => problem(
            StatusCode::NOT_FOUND,
            format!("Policy type not found: {type_id}"),
        ),
    }
}

async fn list_policies(
    State(world): State<Shared>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let w = lock(&world);
    let list: Vec<Value> = w
        .policies
        .iter()
        .filter(|(_, p)| q.get("policyTypeId").is_none_or(|t| &p.policy_type_id == t))
        .filter(|(_, p)| q.get("nearRtRicId").is_none_or(|r| &p.near_rt_ric_id == r))
        .filter(|(_, p)| q.get("serviceId").is_none_or(|s| &p.service_id == s))
        .map(|(id, p)| json!({"policyId": id, "nearRtRicId": p.near_rt_ric_id}))
        .collect();
    ok_json(StatusCode::OK, &Value::Array(list))
}

/// Checks that `ric` exists, takes writes and supports `type_id`; the type object.
fn writable(w: &World, ric: &str, type_id: &str) -> Result<Value, Box<Response>> {
    let Some(r) = w.rics.iter().find(|r| r.ric_id == ric) else {
        return Err(Box::new(problem(
            StatusCode::NOT_FOUND,
            format!("Near-RT RIC not found: {ric}"),
        )));
    };
    if r.state.as_deref() != Some("AVAILABLE") {
        return Err(Box::new(locked(ric)));
    }
    match w.types.get(type_id) {
        Some(t) if r.policy_type_ids.iter().any(|x| x == type_id) => Ok(t.clone()),
        _ => Err(Box::new(problem(
            StatusCode::NOT_FOUND,
            format!("Policy type {type_id} is not supported by near-RT RIC {ric}"),
        ))),
    }
}

async fn create_policy(State(world): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let value = match json_body(&headers, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let info: PolicyObjectInformation = match serde_json::from_value(value) {
        Ok(i) => i,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                format!("not a PolicyObjectInformation: {e}"),
            )
        }
    };
    let mut w = lock(&world);
    let policy_type = match writable(&w, &info.near_rt_ric_id, &info.policy_type_id) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let missing = missing_members(&policy_type, &info.policy_object);
    if !missing.is_empty() {
        return problem(
            StatusCode::BAD_REQUEST,
            format!(
                "policyObject does not match the schema of {}: missing {}",
                info.policy_type_id,
                missing.join(", ")
            ),
        );
    }
    let id = info
        .policy_id
        .clone()
        .unwrap_or_else(|| format!("generated-{}", w.policies.len() + 1));
    if w.policies.contains_key(&id) {
        return problem(StatusCode::CONFLICT, format!("Policy already exists: {id}"));
    }
    let mut stored = info;
    stored.policy_id = Some(id.clone());
    let body = json!(stored);
    w.policies.insert(id.clone(), stored);
    let location = format!("{PMS_API}/policies/{id}");
    (
        StatusCode::CREATED,
        [
            (header::LOCATION, location),
            (header::CONTENT_TYPE, "application/json".to_owned()),
        ],
        body.to_string(),
    )
        .into_response()
}

async fn get_policy(State(world): State<Shared>, Path(id): Path<String>) -> Response {
    match lock(&world).policies.get(&id) {
        Some(p) => ok_json(StatusCode::OK, &p.policy_object),
        None => problem(StatusCode::NOT_FOUND, format!("Policy not found: {id}")),
    }
}

async fn update_policy(
    State(world): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let data = match json_body(&headers, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut w = lock(&world);
    let Some((ric, type_id)) = w
        .policies
        .get(&id)
        .map(|p| (p.near_rt_ric_id.clone(), p.policy_type_id.clone()))
    else {
        return problem(StatusCode::NOT_FOUND, format!("Policy not found: {id}"));
    };
    let policy_type = match writable(&w, &ric, &type_id) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let missing = missing_members(&policy_type, &data);
    if !missing.is_empty() {
        return problem(
            StatusCode::BAD_REQUEST,
            format!(
                "policy data does not match the schema of {type_id}: missing {}",
                missing.join(", ")
            ),
        );
    }
    if let Some(p) = w.policies.get_mut(&id) {
        p.policy_object = data.clone();
    }
    ok_json(StatusCode::OK, &data)
}

async fn delete_policy(State(world): State<Shared>, Path(id): Path<String>) -> Response {
    let mut w = lock(&world);
    let Some(ric) = w.policies.get(&id).map(|p| p.near_rt_ric_id.clone()) else {
        return problem(StatusCode::NOT_FOUND, format!("Policy not found: {id}"));
    };
    if w.rics
        .iter()
        .any(|r| r.ric_id == ric && r.state.as_deref() != Some("AVAILABLE"))
    {
        return locked(&ric);
    }
    w.policies.remove(&id);
    StatusCode::NO_CONTENT.into_response()
}

async fn policy_status(State(world): State<Shared>, Path(id): Path<String>) -> Response {
    match lock(&world).policies.get(&id) {
        Some(_) => ok_json(StatusCode::OK, &json!({"enforceStatus": "ENFORCED"})),
        None => problem(StatusCode::NOT_FOUND, format!("Policy not found: {id}")),
    }
}
