//! The rApp's A1 side: one [`A1Adapter`] trait over the peers a consensus can be handed to,
//! chosen by [`A1PeerConfig`]:
//!
//! - [`a1p_v2`]: any standard A1-P v2 termination (O-RAN A1AP v2 clause 6.2) — our xApp, the
//!   O-RAN SC A1 simulator (`STD_2.0.0`), a near-RT RIC's A1 mediator;
//! - [`pms`]: the O-RAN SC Non-RT RIC A1 Policy Management Service, API
//!   `/a1-policy-management/v1`, which forwards the policies to the near-RT RIC `ric_id`.
//!
//! The rApp's pass (`run`) and the `maestro a1` CLI only see the trait.

pub mod a1p_v2;
mod http;
pub mod pms;
#[cfg(test)]
mod pms_double;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use futures::future::BoxFuture;
use maestro_api::a1::PolicyStatus;
use maestro_api::problem::ProblemDetails;
use serde::{Deserialize, Serialize};

use crate::auth::ClientAuth;

pub use a1p_v2::A1Client;
pub use pms::PmsClient;

/// Where the rApp's A1 peer is when nothing else says: our xApp on loopback.
pub const DEFAULT_A1_URL: &str = "http://127.0.0.1:8080";

/// Service id the rApp owns its policies under in a Non-RT RIC PMS when none is configured.
pub const DEFAULT_SERVICE_ID: &str = "maestro-rapp";

/// A1 client failures (both adapters).
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
    /// The peer answered with an RFC 7807 problem.
    #[error("A1 peer refused {url}: {problem}{hint}")]
    Problem {
        /// Request URL.
        url: String,
        /// The problem it sent.
        problem: Box<ProblemDetails>,
        /// What to check, e.g. " (is the policy type loaded in the near-RT RIC?)"; may be empty.
        hint: String,
    },
    /// Any other unexpected answer.
    #[error("A1 peer answered {status} to {url}: {body}{hint}")]
    Unexpected {
        /// Request URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// Body text (truncated), or "(empty body)".
        body: String,
        /// What to check; may be empty.
        hint: String,
    },
    /// The base URL is unusable.
    #[error("invalid A1 base URL {0:?}: expected e.g. http://127.0.0.1:8080")]
    BadBase(String),
    /// The configured credentials are unusable.
    #[error("A1 client credentials: {0}")]
    Credentials(String),
    /// The A1 peer configuration is incomplete or contradictory.
    #[error("A1 peer configuration: {0}")]
    Config(String),
}

impl A1ClientError {
    /// HTTP status of a refusal (problem or unexpected answer), if the peer answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Problem { problem, .. } => Some(problem.status),
            Self::Unexpected { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Result of a PUT (or, on a PMS, of the create-or-update).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutResult {
    /// 201: a new policy.
    Created,
    /// 200: an existing policy was replaced.
    Updated,
}

/// Which kind of A1 peer the rApp talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum A1AdapterKind {
    /// A standard A1-P v2 termination (`/A1-P/v2`).
    #[default]
    A1pV2,
    /// The O-RAN SC Non-RT RIC A1 Policy Management Service (`/a1-policy-management/v1`).
    NonrtricPms,
}

impl A1AdapterKind {
    /// The name used in config files, environment and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A1pV2 => "a1p_v2",
            Self::NonrtricPms => "nonrtric_pms",
        }
    }
}

impl fmt::Display for A1AdapterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for A1AdapterKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "a1p_v2" => Ok(Self::A1pV2),
            "nonrtric_pms" => Ok(Self::NonrtricPms),
            other => Err(format!(
                "unknown A1 adapter '{other}': expected a1p_v2 or nonrtric_pms"
            )),
        }
    }
}

/// The `"a1"` block of the rApp's config (the scenario file), e.g.
/// `{"adapter": "nonrtric_pms", "url": "http://pms:8081", "ric_id": "ric1",
/// "service_id": "maestro-rapp"}`. Every key is optional.
///
/// Precedence, highest first: command-line flag, environment variable (`MAESTRO_A1_*`),
/// this block, built-in default ([`A1AdapterKind::A1pV2`] at [`DEFAULT_A1_URL`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct A1PeerConfig {
    /// `a1p_v2` (default) or `nonrtric_pms`.
    #[serde(default)]
    pub adapter: A1AdapterKind,
    /// Base URL of the peer (scheme, host, port; an API prefix such as `/A1-P/v2` or
    /// `/a1-policy-management/v1` may be included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `nonrtric_pms` only: the near-RT RIC (as the PMS names it) that receives the policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ric_id: Option<String>,
    /// `nonrtric_pms` only: the service owning the policies [default: `maestro-rapp`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
}

impl A1PeerConfig {
    /// `self` with every value `over` sets replacing ours (`over` has higher precedence);
    /// `over_adapter` is the higher-precedence adapter choice, if any.
    pub fn overridden_by(
        mut self,
        over_adapter: Option<A1AdapterKind>,
        over: &A1PeerConfig,
    ) -> A1PeerConfig {
        if let Some(kind) = over_adapter {
            if kind != self.adapter {
                // ric_id / service_id of ours belong to the adapter being overridden.
                self.ric_id = None;
                self.service_id = None;
            }
            self.adapter = kind;
        }
        if over.url.is_some() {
            self.url = over.url.clone();
        }
        if over.ric_id.is_some() {
            self.ric_id = over.ric_id.clone();
        }
        if over.service_id.is_some() {
            self.service_id = over.service_id.clone();
        }
        self
    }

    /// The peer's URL, or [`DEFAULT_A1_URL`].
    pub fn url_or_default(&self) -> &str {
        self.url.as_deref().unwrap_or(DEFAULT_A1_URL)
    }

    /// Checks the combination: a PMS needs a `ric_id`; the PMS-only keys are refused on an
    /// A1-P v2 peer (where they would silently do nothing).
    pub fn validate(&self) -> Result<(), A1ClientError> {
        match self.adapter {
            A1AdapterKind::NonrtricPms => {
                if self.ric_id.as_deref().is_none_or(|r| r.trim().is_empty()) {
                    return Err(A1ClientError::Config(
                        "adapter nonrtric_pms needs the near-RT RIC id the PMS should send the \
                         policies to: --a1-ric-id, MAESTRO_A1_RIC_ID or \"a1\": {\"ric_id\": ...}"
                            .into(),
                    ));
                }
                if self
                    .service_id
                    .as_deref()
                    .is_some_and(|s| s.trim().is_empty())
                {
                    return Err(A1ClientError::Config("service_id must not be empty".into()));
                }
            }
            A1AdapterKind::A1pV2 => {
                if self.ric_id.is_some() || self.service_id.is_some() {
                    return Err(A1ClientError::Config(
                        "ric_id and service_id apply to adapter nonrtric_pms only; \
                         adapter a1p_v2 talks to one near-RT RIC directly"
                            .into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The adapter this configuration describes, with `auth` on every request.
    pub fn connect(&self, auth: &ClientAuth) -> Result<Arc<dyn A1Adapter>, A1ClientError> {
        self.validate()?;
        let url = self.url_or_default();
        Ok(match self.adapter {
            A1AdapterKind::A1pV2 => Arc::new(A1Client::with_auth(url, auth)?),
            A1AdapterKind::NonrtricPms => Arc::new(PmsClient::with_auth(
                url,
                self.ric_id.as_deref().unwrap_or_default(),
                self.service_id.as_deref().unwrap_or(DEFAULT_SERVICE_ID),
                auth,
            )?),
        })
    }
}

/// What the rApp and `maestro a1` need from an A1 peer: the A1-P v2 verbs, by policy type and
/// policy id. Statements and stored policies are the policy type's JSON (for us
/// `ORAN_SliceSLATarget_1.0.0`), the status the A1AP v2 "PolicyStatusObject".
pub trait A1Adapter: Send + Sync + fmt::Debug {
    /// Which kind of peer this is.
    fn kind(&self) -> A1AdapterKind;

    /// The peer's base URL, as requests are built from it (API prefix included).
    fn base(&self) -> &str;

    /// Policy type ids the peer supports (for a PMS: those of the configured near-RT RIC).
    fn policy_types(&self) -> BoxFuture<'_, Result<Vec<String>, A1ClientError>>;

    /// Policy ids of a type.
    fn policy_ids<'a>(
        &'a self,
        policy_type: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, A1ClientError>>;

    /// Creates or replaces a policy; `notification_destination` asks for status callbacks
    /// where the peer supports them per policy (A1-P v2).
    fn put_policy<'a>(
        &'a self,
        policy_type: &'a str,
        policy_id: &'a str,
        statement: &'a serde_json::Value,
        notification_destination: Option<&'a str>,
    ) -> BoxFuture<'a, Result<PutResult, A1ClientError>>;

    /// The statement as the peer stores it.
    fn get_policy<'a>(
        &'a self,
        policy_type: &'a str,
        policy_id: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, A1ClientError>>;

    /// The policy's enforcement status.
    fn policy_status<'a>(
        &'a self,
        policy_type: &'a str,
        policy_id: &'a str,
    ) -> BoxFuture<'a, Result<PolicyStatus, A1ClientError>>;

    /// Deletes a policy.
    fn delete_policy<'a>(
        &'a self,
        policy_type: &'a str,
        policy_id: &'a str,
    ) -> BoxFuture<'a, Result<(), A1ClientError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_names_round_trip_through_config_and_flags() {
        for kind in [A1AdapterKind::A1pV2, A1AdapterKind::NonrtricPms] {
            assert_eq!(kind.as_str().parse::<A1AdapterKind>().unwrap(), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
        }
        assert_eq!(
            "nonrtric-pms".parse::<A1AdapterKind>().unwrap(),
            A1AdapterKind::NonrtricPms
        );
        let err = "oran".parse::<A1AdapterKind>().unwrap_err();
        assert!(err.contains("a1p_v2 or nonrtric_pms"), "{err}");
    }

    #[test]
    fn config_block_parses_and_rejects_unknown_keys() {
        let c: A1PeerConfig = serde_json::from_str(
            r#"{"adapter": "nonrtric_pms", "url": "http://pms:8081", "ric_id": "ric1"}"#,
        )
        .unwrap();
        assert_eq!(c.adapter, A1AdapterKind::NonrtricPms);
        assert_eq!(c.ric_id.as_deref(), Some("ric1"));
        assert_eq!(c.service_id, None);
        let empty: A1PeerConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, A1PeerConfig::default());
        assert_eq!(empty.url_or_default(), DEFAULT_A1_URL);
        let typo = serde_json::from_str::<A1PeerConfig>(r#"{"ricId": "x"}"#).unwrap_err();
        assert!(typo.to_string().contains("unknown field `ricId`"), "{typo}");
    }

    #[test]
    fn flags_and_environment_override_the_config_block() {
        let file = A1PeerConfig {
            adapter: A1AdapterKind::NonrtricPms,
            url: Some("http://pms:8081".into()),
            ric_id: Some("ric-file".into()),
            service_id: None,
        };
        let over = A1PeerConfig {
            url: None,
            ric_id: Some("ric-flag".into()),
            service_id: Some("svc".into()),
            ..A1PeerConfig::default()
        };
        let merged = file.clone().overridden_by(None, &over);
        assert_eq!(merged.adapter, A1AdapterKind::NonrtricPms);
        assert_eq!(merged.url.as_deref(), Some("http://pms:8081"));
        assert_eq!(merged.ric_id.as_deref(), Some("ric-flag"));
        assert_eq!(merged.service_id.as_deref(), Some("svc"));
        // Switching the adapter drops the file's PMS-only keys with it.
        let v2 = file.overridden_by(Some(A1AdapterKind::A1pV2), &A1PeerConfig::default());
        assert_eq!(v2.adapter, A1AdapterKind::A1pV2);
        assert_eq!(v2.ric_id, None);
        assert_eq!(v2.url.as_deref(), Some("http://pms:8081"));
        v2.validate().unwrap();
    }

    #[test]
    fn a_pms_without_ric_id_and_pms_keys_on_a1p_v2_are_refused() {
        let pms = A1PeerConfig {
            adapter: A1AdapterKind::NonrtricPms,
            ..A1PeerConfig::default()
        };
        let err = pms.connect(&ClientAuth::default()).unwrap_err();
        assert!(err.to_string().contains("--a1-ric-id"), "{err}");
        let v2 = A1PeerConfig {
            ric_id: Some("ric1".into()),
            ..A1PeerConfig::default()
        };
        let err = v2.connect(&ClientAuth::default()).unwrap_err();
        assert!(err.to_string().contains("nonrtric_pms only"), "{err}");
        let ok = A1PeerConfig {
            adapter: A1AdapterKind::NonrtricPms,
            ric_id: Some("ric1".into()),
            ..A1PeerConfig::default()
        };
        let peer = ok.connect(&ClientAuth::default()).unwrap();
        assert_eq!(peer.kind(), A1AdapterKind::NonrtricPms);
        assert_eq!(peer.base(), "http://127.0.0.1:8080/a1-policy-management/v1");
    }
}
