//! A1-P v2 client (O-RAN A1AP v2 clause 6.2): how the rApp hands its consensus to any
//! standard A1 termination — our xApp, the O-RAN SC A1 simulator (`STD_2.0.0`), a near-RT
//! RIC's A1 mediator. Paths under `/A1-P/v2`; PUT answers 201 (created, with Location) or
//! 200 (updated); DELETE 204; errors as `application/problem+json`.

use futures::future::BoxFuture;
use maestro_api::a1::{self, PolicyStatus};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::http;
use super::{A1Adapter, A1AdapterKind, A1ClientError, PutResult};
use crate::auth::ClientAuth;

/// What to check when an A1-P v2 termination refuses a request with `status`.
fn hint(status: u16) -> Option<&'static str> {
    match status {
        // The O-RAN SC A1 simulator answers 400 with no body when the statement fails the
        // type's schema; our xApp says which member in its problem.
        400 => Some("the statement does not match the policy type's schema, or the id is taken"),
        404 => Some(
            "no such policy type or policy here: `maestro a1 types` and `maestro a1 list` show \
             what exists",
        ),
        405 => Some(
            "is this an A1-P v2 termination? the URL should be its root, e.g. http://host:port",
        ),
        _ => None,
    }
}

/// Client of one A1-P v2 termination.
#[derive(Debug, Clone)]
pub struct A1Client {
    /// Scheme, host, port (and any reverse-proxy path) in front of `/A1-P/v2`.
    root: String,
    /// `root` + `/A1-P/v2`.
    base: String,
    http: reqwest::Client,
}

impl A1Client {
    /// A client for the termination at `base` (scheme, host, port; `/A1-P/v2` may be given).
    pub fn new(base: &str) -> Result<Self, A1ClientError> {
        Self::with_auth(base, &ClientAuth::default())
    }

    /// A client with credentials: a bearer token, a trusted CA for `https://`, a client
    /// certificate for mutual TLS.
    pub fn with_auth(base: &str, auth: &ClientAuth) -> Result<Self, A1ClientError> {
        let base = http::api_base(base, a1::A1P_BASE)?;
        let root = base.strip_suffix(a1::A1P_BASE).unwrap_or(&base).to_owned();
        // A1AP v2: success bodies are application/json, errors application/problem+json.
        let http = http::client(&base, auth, "application/json, application/problem+json")?;
        Ok(Self { root, base, http })
    }

    /// `path` is one of `maestro_api::a1`'s paths, which start with `/A1-P/v2`.
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.root, path)
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, A1ClientError> {
        let url = self.url(path);
        let resp = http::send(&url, self.http.get(&url), hint).await?;
        http::json(&url, resp).await
    }

    /// `GET /A1-P/v2/policytypes`.
    pub async fn policy_types(&self) -> Result<Vec<String>, A1ClientError> {
        self.get_json(&format!("{}/policytypes", a1::A1P_BASE))
            .await
    }

    /// `GET /A1-P/v2/policytypes/{type}/policies`.
    pub async fn policy_ids(&self, policy_type: &str) -> Result<Vec<String>, A1ClientError> {
        self.get_json(&a1::policies_path(policy_type)).await
    }

    /// `PUT /A1-P/v2/policytypes/{type}/policies/{id}[?notificationDestination=...]`.
    pub async fn put_policy<S: Serialize + ?Sized>(
        &self,
        policy_type: &str,
        policy_id: &str,
        statement: &S,
        notification_destination: Option<&str>,
    ) -> Result<PutResult, A1ClientError> {
        let url = self.url(&a1::policy_path(policy_type, policy_id));
        let mut req = self.http.put(&url).json(statement);
        if let Some(dest) = notification_destination {
            req = req.query(&[("notificationDestination", dest)]);
        }
        let resp = http::send(&url, req, hint).await?;
        Ok(if resp.status() == StatusCode::CREATED {
            PutResult::Created
        } else {
            PutResult::Updated
        })
    }

    /// `GET .../policies/{id}`: the statement as the termination stores it.
    pub async fn get_policy(
        &self,
        policy_type: &str,
        policy_id: &str,
    ) -> Result<serde_json::Value, A1ClientError> {
        self.get_json(&a1::policy_path(policy_type, policy_id))
            .await
    }

    /// `GET .../policies/{id}/status`.
    pub async fn policy_status(
        &self,
        policy_type: &str,
        policy_id: &str,
    ) -> Result<PolicyStatus, A1ClientError> {
        self.get_json(&a1::policy_status_path(policy_type, policy_id))
            .await
    }

    /// `DELETE .../policies/{id}`.
    pub async fn delete_policy(
        &self,
        policy_type: &str,
        policy_id: &str,
    ) -> Result<(), A1ClientError> {
        let url = self.url(&a1::policy_path(policy_type, policy_id));
        http::send(&url, self.http.delete(&url), hint)
            .await
            .map(|_| ())
    }
}

impl A1Adapter for A1Client {
    fn kind(&self) -> A1AdapterKind {
        A1AdapterKind::A1pV2
    }

    fn base(&self) -> &str {
        &self.base
    }

    fn policy_types(&self) -> BoxFuture<'_, Result<Vec<String>, A1ClientError>> {
        Box::pin(A1Client::policy_types(self))
    }

    fn policy_ids<'a>(
        &'a self,
        policy_type: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, A1ClientError>> {
        Box::pin(A1Client::policy_ids(self, policy_type))
    }

    fn put_policy<'a>(
        &'a self,
        policy_type: &'a str,
        policy_id: &'a str,
        statement: &'a serde_json::Value,
        notification_destination: Option<&'a str>,
    ) -> BoxFuture<'a, Result<PutResult, A1ClientError>> {
        Box::pin(A1Client::put_policy(
            self,
            policy_type,
            policy_id,
            statement,
            notification_destination,
        ))
    }

    fn get_policy<'a>(
        &'a self,
        policy_type: &'a str,
        policy_id: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, A1ClientError>> {
        Box::pin(A1Client::get_policy(self, policy_type, policy_id))
    }

    fn policy_status<'a>(
        &'a self,
        policy_type: &'a str,
        policy_id: &'a str,
    ) -> BoxFuture<'a, Result<PolicyStatus, A1ClientError>> {
        Box::pin(A1Client::policy_status(self, policy_type, policy_id))
    }

    fn delete_policy<'a>(
        &'a self,
        policy_type: &'a str,
        policy_id: &'a str,
    ) -> BoxFuture<'a, Result<(), A1ClientError>> {
        Box::pin(A1Client::delete_policy(self, policy_type, policy_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unusable_base_urls() {
        assert!(A1Client::new("http://127.0.0.1:8080/").is_ok());
        assert!(matches!(
            A1Client::new("127.0.0.1:8080"),
            Err(A1ClientError::BadBase(_))
        ));
        assert!(A1Client::new("ftp://x").is_err());
        let c = A1Client::new("http://127.0.0.1:8080/A1-P/v2/").unwrap();
        assert_eq!(A1Adapter::base(&c), "http://127.0.0.1:8080/A1-P/v2");
    }

    #[tokio::test]
    async fn connection_refused_is_a_transport_error_naming_the_url() {
        // Port 9 (discard) on loopback: nothing listens there in CI.
        let c = A1Client::new("http://127.0.0.1:9").unwrap();
        let err = c.policy_types().await.unwrap_err();
        assert!(matches!(err, A1ClientError::Transport { .. }));
        assert!(
            err.to_string().contains("127.0.0.1:9/A1-P/v2/policytypes"),
            "{err}"
        );
    }
}
