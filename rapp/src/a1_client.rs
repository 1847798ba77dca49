//! A1-P v2 client (O-RAN A1AP v2 clause 6.2): how the rApp hands its consensus to any A1
//! termination — our xApp, the O-RAN SC A1 simulator, or a Non-RT RIC policy service.

use std::time::Duration;

use maestro_api::a1::{self, PolicyStatus};
use maestro_api::problem::ProblemDetails;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::auth::ClientAuth;

/// A1 client failures.
#[derive(Debug, thiserror::Error)]
pub enum A1ClientError {
    /// Transport failure (connection refused, timeout, ...).
    #[error("A1 request to {url} failed: {reason}")]
    Transport {
        /// Request URL.
        url: String,
        /// The root cause, e.g. "Connection refused (os error 111)".
        reason: String,
    },
    /// The termination answered with an RFC 7807 problem.
    #[error("A1 termination refused {url}: {problem}")]
    Problem {
        /// Request URL.
        url: String,
        /// The problem it sent.
        problem: Box<ProblemDetails>,
    },
    /// Any other unexpected answer.
    #[error("A1 termination answered {status} to {url}: {body}")]
    Unexpected {
        /// Request URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// Body text (truncated).
        body: String,
    },
    /// The base URL is unusable.
    #[error("invalid A1 base URL {0:?}: expected e.g. http://127.0.0.1:8080")]
    BadBase(String),
    /// The configured credentials are unusable.
    #[error("A1 client credentials: {0}")]
    Credentials(String),
}

/// A transport error reduced to its innermost cause (reqwest nests the same words several
/// levels deep), or its own text when it has none.
fn transport(url: &str, e: &reqwest::Error) -> A1ClientError {
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let reason = if e.is_timeout() {
        "timed out".to_owned()
    } else {
        cause.to_string()
    };
    A1ClientError::Transport {
        url: url.to_owned(),
        reason,
    }
}

/// Result of a PUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutResult {
    /// 201: a new policy.
    Created,
    /// 200: an existing policy was replaced.
    Updated,
}

/// Client of one A1-P v2 termination.
#[derive(Debug, Clone)]
pub struct A1Client {
    base: String,
    http: reqwest::Client,
}

impl A1Client {
    /// A client for the termination at `base` (scheme, host, port; no path).
    pub fn new(base: &str) -> Result<Self, A1ClientError> {
        Self::with_auth(base, &ClientAuth::default())
    }

    /// A client with credentials: a bearer token, a trusted CA for `https://`, a client
    /// certificate for mutual TLS.
    pub fn with_auth(base: &str, auth: &ClientAuth) -> Result<Self, A1ClientError> {
        let trimmed = base.trim_end_matches('/');
        let ok = reqwest::Url::parse(trimmed)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            return Err(A1ClientError::BadBase(base.to_owned()));
        }
        let http = auth
            .http_builder()
            .map_err(|e| A1ClientError::Credentials(e.to_string()))?
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| transport(trimmed, &e))?;
        Ok(Self {
            base: trimmed.to_owned(),
            http,
        })
    }

    /// Base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn send(
        &self,
        url: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, A1ClientError> {
        let resp = req.send().await.map_err(|e| transport(url, &e))?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        Err(match serde_json::from_str::<ProblemDetails>(&body) {
            Ok(problem) => A1ClientError::Problem {
                url: url.to_owned(),
                problem: Box::new(problem),
            },
            Err(_) => A1ClientError::Unexpected {
                url: url.to_owned(),
                status,
                body: body.chars().take(500).collect(),
            },
        })
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, A1ClientError> {
        let url = self.url(path);
        let resp = self.send(&url, self.http.get(&url)).await?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| transport(&url, &e))?;
        serde_json::from_str(&body).map_err(|e| A1ClientError::Unexpected {
            url,
            status,
            body: format!(
                "not the expected JSON ({e}): {}",
                body.chars().take(300).collect::<String>()
            ),
        })
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
        let resp = self.send(&url, req).await?;
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
        self.send(&url, self.http.delete(&url)).await.map(|_| ())
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
