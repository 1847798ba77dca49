//! Client of the O-RAN SC Non-RT RIC A1 Policy Management Service (PMS), API
//! `/a1-policy-management/v1` (O-RAN SC `nonrtric-plt-a1policymanagementservice`,
//! `api/pms-api-v3.yaml`, which follows O-RAN R1AP "A1 policy management" data types).
//!
//! The PMS sits in the SMO above many near-RT RICs: a policy names its target RIC
//! (`nearRtRicId`), its owner (`serviceId`) and its type (`policyTypeId`); the PMS forwards it
//! over A1-P and keeps it in sync. Creation is `POST /policies`, replacement
//! `PUT /policies/{policyId}` with the bare policy data, so [`PmsClient::put_policy`] looks the
//! id up first to keep the A1-P v2 "PUT creates or replaces" meaning of the [`A1Adapter`].

use futures::future::BoxFuture;
use maestro_api::a1::PolicyStatus;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use super::http;
use super::{A1Adapter, A1AdapterKind, A1ClientError, PutResult};
use crate::auth::ClientAuth;

/// API prefix of the PMS (`servers: {apiRoot}/a1-policy-management/v1`).
pub const PMS_API: &str = "/a1-policy-management/v1";

/// What to check when the PMS refuses a request with `status`.
fn hint(status: u16) -> Option<&'static str> {
    match status {
        400 => Some("the PMS refused the request: does the statement match the policy type's schema?"),
        404 => Some("unknown near-RT RIC, policy type or policy at the PMS: `maestro a1 --a1-adapter nonrtric_pms rics` lists the RICs and their types"),
        423 => Some("the PMS has the near-RT RIC locked (e.g. synchronizing); retry later"),
        502 => Some("the PMS could not reach the near-RT RIC"),
        _ => None,
    }
}

/// "PolicyTypeInformation": a type supported at a RIC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyTypeInformation {
    /// A1 policy type id (`typename_version`).
    pub policy_type_id: String,
    /// The near-RT RIC supporting it.
    pub near_rt_ric_id: String,
}

/// "PolicyInformation": a policy and the RIC it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyInformation {
    /// Policy id.
    pub policy_id: String,
    /// The near-RT RIC holding it.
    pub near_rt_ric_id: String,
}

/// "PolicyObjectInformation": the body of `POST /policies`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyObjectInformation {
    /// Target near-RT RIC.
    pub near_rt_ric_id: String,
    /// If true, the PMS drops the policy when the RIC restarts instead of re-pushing it.
    #[serde(default)]
    pub transient: bool,
    /// Wanted policy id (the PMS generates one when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// Owning service.
    #[serde(default)]
    pub service_id: String,
    /// The policy data, per the type's schema.
    pub policy_object: serde_json::Value,
    /// A1 policy type id.
    pub policy_type_id: String,
}

/// "RicInfo": a near-RT RIC as the PMS knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RicInfo {
    /// RIC id.
    pub ric_id: String,
    /// Managed elements (e.g. gNBs) it controls.
    #[serde(default)]
    pub managed_element_ids: Vec<String>,
    /// UNAVAILABLE | AVAILABLE | SYNCHRONIZING | CONSISTENCY_CHECK.
    #[serde(default)]
    pub state: Option<String>,
    /// Policy types it supports.
    #[serde(default)]
    pub policy_type_ids: Vec<String>,
}

/// "RicInfoList".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RicInfoList {
    /// The RICs.
    #[serde(default)]
    pub rics: Vec<RicInfo>,
}

/// Client of one PMS, acting for one service towards one near-RT RIC.
#[derive(Debug, Clone)]
pub struct PmsClient {
    base: reqwest::Url,
    base_text: String,
    ric_id: String,
    service_id: String,
    http: reqwest::Client,
}

impl PmsClient {
    /// A client of the PMS at `base` (scheme, host, port; `/a1-policy-management/v1` may be
    /// given) placing policies in near-RT RIC `ric_id` on behalf of `service_id`.
    pub fn with_auth(
        base: &str,
        ric_id: &str,
        service_id: &str,
        auth: &ClientAuth,
    ) -> Result<Self, A1ClientError> {
        if ric_id.trim().is_empty() {
            return Err(A1ClientError::Config(
                "adapter nonrtric_pms needs a near-RT RIC id".into(),
            ));
        }
        Self::build(base, ric_id, service_id, auth)
    }

    /// A client for RIC-independent queries ([`PmsClient::rics`]) only.
    pub fn for_queries(base: &str, auth: &ClientAuth) -> Result<Self, A1ClientError> {
        Self::build(base, "", super::DEFAULT_SERVICE_ID, auth)
    }

    fn build(
        base: &str,
        ric_id: &str,
        service_id: &str,
        auth: &ClientAuth,
    ) -> Result<Self, A1ClientError> {
        let base_text = http::api_base(base, PMS_API)?;
        let url =
            reqwest::Url::parse(&base_text).map_err(|_| A1ClientError::BadBase(base.into()))?;
        if url.cannot_be_a_base() {
            return Err(A1ClientError::BadBase(base.into()));
        }
        // The PMS: "Only application/json is allowed" as Accept.
        let http = http::client(&base_text, auth, "application/json")?;
        Ok(Self {
            base: url,
            base_text,
            ric_id: ric_id.to_owned(),
            service_id: service_id.to_owned(),
            http,
        })
    }

    /// The near-RT RIC the policies go to.
    pub fn ric_id(&self) -> &str {
        &self.ric_id
    }

    /// The service owning the policies.
    pub fn service_id(&self) -> &str {
        &self.service_id
    }

    /// The URL of `segments` under the API base, each segment percent-encoded.
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> String {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url.to_string()
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, A1ClientError> {
        let resp = http::send(url, self.http.get(url), hint).await?;
        http::json(url, resp).await
    }

    /// `GET /rics`: the near-RT RICs the PMS manages.
    pub async fn rics(&self) -> Result<Vec<RicInfo>, A1ClientError> {
        let list: RicInfoList = self.get(&self.url(&["rics"], &[])).await?;
        Ok(list.rics)
    }

    /// `GET /rics/{ricId}`: the configured RIC.
    pub async fn ric(&self) -> Result<RicInfo, A1ClientError> {
        self.get(&self.url(&["rics", &self.ric_id], &[])).await
    }

    /// `GET /policy-types?nearRtRicId=...`: the types of the configured RIC.
    pub async fn policy_types(&self) -> Result<Vec<String>, A1ClientError> {
        let url = self.url(&["policy-types"], &[("nearRtRicId", &self.ric_id)]);
        let types: Vec<PolicyTypeInformation> = self.get(&url).await?;
        let mut ids: Vec<String> = types.into_iter().map(|t| t.policy_type_id).collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// `GET /policies?policyTypeId=...&nearRtRicId=...`.
    pub async fn policy_ids(&self, policy_type: &str) -> Result<Vec<String>, A1ClientError> {
        let url = self.url(
            &["policies"],
            &[("policyTypeId", policy_type), ("nearRtRicId", &self.ric_id)],
        );
        let list: Vec<PolicyInformation> = self.get(&url).await?;
        Ok(list.into_iter().map(|p| p.policy_id).collect())
    }

    /// `GET /policies/{policyId}`: the policy data.
    pub async fn get_policy(&self, policy_id: &str) -> Result<serde_json::Value, A1ClientError> {
        self.get(&self.url(&["policies", policy_id], &[])).await
    }

    /// Creates (`POST /policies`, 201) or, when the id exists, replaces
    /// (`PUT /policies/{policyId}`, 200) a policy of `policy_type` in the configured RIC.
    pub async fn put_policy(
        &self,
        policy_type: &str,
        policy_id: &str,
        statement: &serde_json::Value,
    ) -> Result<PutResult, A1ClientError> {
        let one = self.url(&["policies", policy_id], &[]);
        let exists = match http::send(&one, self.http.get(&one), hint).await {
            Ok(_) => true,
            Err(e) if e.status() == Some(StatusCode::NOT_FOUND.as_u16()) => false,
            Err(e) => return Err(e),
        };
        if exists {
            http::send(&one, self.http.put(&one).json(statement), hint).await?;
            return Ok(PutResult::Updated);
        }
        let url = self.url(&["policies"], &[]);
        let body = PolicyObjectInformation {
            near_rt_ric_id: self.ric_id.clone(),
            transient: false,
            policy_id: Some(policy_id.to_owned()),
            service_id: self.service_id.clone(),
            policy_object: statement.clone(),
            policy_type_id: policy_type.to_owned(),
        };
        let resp = http::send(&url, self.http.post(&url).json(&body), hint).await?;
        Ok(if resp.status() == StatusCode::CREATED {
            PutResult::Created
        } else {
            PutResult::Updated
        })
    }

    /// `GET /policies/{policyId}/status`: the status the near-RT RIC reported. The PMS passes
    /// the A1-P "PolicyStatusObject" through; a `{"status": {...}}` wrapper is accepted too.
    pub async fn policy_status(&self, policy_id: &str) -> Result<PolicyStatus, A1ClientError> {
        let url = self.url(&["policies", policy_id, "status"], &[]);
        let value: serde_json::Value = self.get(&url).await?;
        let inner = match (value.get("enforceStatus"), value.get("status")) {
            (None, Some(wrapped)) => wrapped.clone(),
            _ => value.clone(),
        };
        serde_json::from_value(inner).map_err(|e| A1ClientError::Unexpected {
            url,
            status: 200,
            body: format!(
                "not an A1-P v2 PolicyStatusObject ({e}): {}",
                value.to_string().chars().take(300).collect::<String>()
            ),
            hint: String::new(),
        })
    }

    /// `DELETE /policies/{policyId}`.
    pub async fn delete_policy(&self, policy_id: &str) -> Result<(), A1ClientError> {
        let url = self.url(&["policies", policy_id], &[]);
        http::send(&url, self.http.delete(&url), hint)
            .await
            .map(|_| ())
    }
}

impl A1Adapter for PmsClient {
    fn kind(&self) -> A1AdapterKind {
        A1AdapterKind::NonrtricPms
    }

    fn base(&self) -> &str {
        &self.base_text
    }

    fn policy_types(&self) -> BoxFuture<'_, Result<Vec<String>, A1ClientError>> {
        Box::pin(PmsClient::policy_types(self))
    }

    fn policy_ids<'a>(
        &'a self,
        policy_type: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, A1ClientError>> {
        Box::pin(PmsClient::policy_ids(self, policy_type))
    }

    fn put_policy<'a>(
        &'a self,
        policy_type: &'a str,
        policy_id: &'a str,
        statement: &'a serde_json::Value,
        notification_destination: Option<&'a str>,
    ) -> BoxFuture<'a, Result<PutResult, A1ClientError>> {
        if notification_destination.is_some() {
            // The PMS notifies registered services (PUT /services, callbackUrl) of RIC
            // events; it has no per-policy notification destination.
            tracing::warn!("the Non-RT RIC PMS has no per-policy notificationDestination; ignored");
        }
        Box::pin(PmsClient::put_policy(
            self,
            policy_type,
            policy_id,
            statement,
        ))
    }

    fn get_policy<'a>(
        &'a self,
        _policy_type: &'a str,
        policy_id: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, A1ClientError>> {
        Box::pin(PmsClient::get_policy(self, policy_id))
    }

    fn policy_status<'a>(
        &'a self,
        _policy_type: &'a str,
        policy_id: &'a str,
    ) -> BoxFuture<'a, Result<PolicyStatus, A1ClientError>> {
        Box::pin(PmsClient::policy_status(self, policy_id))
    }

    fn delete_policy<'a>(
        &'a self,
        _policy_type: &'a str,
        policy_id: &'a str,
    ) -> BoxFuture<'a, Result<(), A1ClientError>> {
        Box::pin(PmsClient::delete_policy(self, policy_id))
    }
}

#[cfg(test)]
mod tests {
    use super::super::pms_double::PmsDouble;
    use super::*;
    use maestro_api::a1::{EnforceStatus, SLICE_SLA_TARGET_TYPE};
    use serde_json::json;

    fn statement(kbps: f64) -> serde_json::Value {
        json!({
            "scope": {"sliceId": {"sst": 1, "sd": "000001", "plmnId": {"mcc": "001", "mnc": "01"}}},
            "sliceSlaObjectives": {"guaDlThptPerSlice": kbps, "maxDlThptPerSlice": kbps}
        })
    }

    fn client(double: &PmsDouble, ric: &str) -> PmsClient {
        PmsClient::with_auth(&double.url, ric, "maestro-rapp", &ClientAuth::default()).unwrap()
    }

    #[tokio::test]
    async fn full_policy_life_cycle_through_the_trait() {
        let double = PmsDouble::start().await;
        let pms = client(&double, "ric1");
        let peer: &dyn A1Adapter = &pms;
        assert_eq!(peer.base(), format!("{}{PMS_API}", double.url));
        assert_eq!(
            peer.policy_types().await.unwrap(),
            vec![SLICE_SLA_TARGET_TYPE.to_owned()]
        );
        assert!(peer
            .policy_ids(SLICE_SLA_TARGET_TYPE)
            .await
            .unwrap()
            .is_empty());

        let put = peer
            .put_policy(
                SLICE_SLA_TARGET_TYPE,
                "maestro-bo-cost",
                &statement(40000.0),
                None,
            )
            .await
            .unwrap();
        assert_eq!(put, PutResult::Created);
        // The POST carried the PolicyObjectInformation the OpenAPI defines.
        let stored = double.policy("maestro-bo-cost").unwrap();
        assert_eq!(stored.near_rt_ric_id, "ric1");
        assert_eq!(stored.service_id, "maestro-rapp");
        assert_eq!(stored.policy_type_id, SLICE_SLA_TARGET_TYPE);
        assert!(!stored.transient);
        assert_eq!(stored.policy_object, statement(40000.0));

        let put = peer
            .put_policy(
                SLICE_SLA_TARGET_TYPE,
                "maestro-bo-cost",
                &statement(55000.0),
                None,
            )
            .await
            .unwrap();
        assert_eq!(put, PutResult::Updated);
        assert_eq!(
            peer.get_policy(SLICE_SLA_TARGET_TYPE, "maestro-bo-cost")
                .await
                .unwrap(),
            statement(55000.0)
        );
        assert_eq!(
            peer.policy_ids(SLICE_SLA_TARGET_TYPE).await.unwrap(),
            vec!["maestro-bo-cost".to_owned()]
        );
        let status = peer
            .policy_status(SLICE_SLA_TARGET_TYPE, "maestro-bo-cost")
            .await
            .unwrap();
        assert_eq!(status.enforce_status, EnforceStatus::Enforced);

        peer.delete_policy(SLICE_SLA_TARGET_TYPE, "maestro-bo-cost")
            .await
            .unwrap();
        assert!(double.policy("maestro-bo-cost").is_none());
        let err = peer
            .get_policy(SLICE_SLA_TARGET_TYPE, "maestro-bo-cost")
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(404));
        let text = err.to_string();
        assert!(
            text.contains("/a1-policy-management/v1/policies/maestro-bo-cost"),
            "{text}"
        );
        assert!(text.contains("404 Not Found"), "{text}");
    }

    #[tokio::test]
    async fn rics_and_policy_lists_are_per_ric() {
        let double = PmsDouble::start().await;
        let ric1 = client(&double, "ric1");
        let ric2 = client(&double, "ric2");
        ric1.put_policy(SLICE_SLA_TARGET_TYPE, "p1", &statement(1000.0))
            .await
            .unwrap();
        let rics = ric1.rics().await.unwrap();
        let ids: Vec<&str> = rics.iter().map(|r| r.ric_id.as_str()).collect();
        assert_eq!(ids, ["ric1", "ric2"]);
        assert_eq!(
            ric1.ric().await.unwrap().state.as_deref(),
            Some("AVAILABLE")
        );
        assert_eq!(
            ric1.policy_ids(SLICE_SLA_TARGET_TYPE).await.unwrap(),
            ["p1"]
        );
        assert!(ric2
            .policy_ids(SLICE_SLA_TARGET_TYPE)
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn refusals_become_clear_errors_with_the_peers_problem_and_a_hint() {
        let double = PmsDouble::start().await;
        // Unknown RIC: the PMS's ProblemDetails, plus what to check.
        let nowhere = client(&double, "ric-nope");
        let err = nowhere
            .put_policy(SLICE_SLA_TARGET_TYPE, "p1", &statement(1.0))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.status(), Some(404), "{text}");
        assert!(text.contains("Near-RT RIC not found: ric-nope"), "{text}");
        assert!(text.contains("lists the RICs"), "{text}");

        // A type the RIC does not support.
        let ric1 = client(&double, "ric1");
        let err = ric1
            .put_policy("STD_QOS_0.2.0", "p2", &statement(1.0))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(404), "{err}");
        assert!(err.to_string().contains("STD_QOS_0.2.0"), "{err}");

        // A statement missing a required member of the type's schema: 400.
        let err = ric1
            .put_policy(SLICE_SLA_TARGET_TYPE, "p3", &json!({"scope": {}}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(400), "{err}");
        assert!(err.to_string().contains("sliceSlaObjectives"), "{err}");

        // A RIC the PMS holds locked: 423 with the "ErrorInformation" shape (no type).
        let locked = client(&double, "ric2");
        let err = locked
            .put_policy(SLICE_SLA_TARGET_TYPE, "p4", &statement(1.0))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.status(), Some(423), "{text}");
        assert!(text.contains("Locked"), "{text}");
        assert!(text.contains("retry later"), "{text}");

        // Nothing was stored by any of the refused requests.
        assert_eq!(double.policy_count(), 0);
    }

    #[tokio::test]
    async fn the_pms_is_asked_for_json_only() {
        let double = PmsDouble::start().await;
        // The double answers 406 to any other Accept, as the PMS's OpenAPI allows only JSON.
        let raw = reqwest::Client::new()
            .get(format!("{}{PMS_API}/rics", double.url))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(raw.status(), 406);
        // Our client passes.
        assert_eq!(client(&double, "ric1").rics().await.unwrap().len(), 2);
    }
}
