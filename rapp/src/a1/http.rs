//! HTTP plumbing shared by the A1 adapters: base URLs, the client with credentials, and
//! turning refusals into [`A1ClientError`]s with the peer's RFC 7807 problem and a hint.

use std::time::Duration;

use maestro_api::problem::ProblemDetails;
use reqwest::header::{HeaderValue, ACCEPT};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::A1ClientError;
use crate::auth::ClientAuth;

/// Per-request timeout towards an A1 peer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// `base` without trailing `/` and without `api_prefix` if the user included it, checked to
/// be an http(s) URL with a host; the returned base ends with `api_prefix`.
pub(crate) fn api_base(base: &str, api_prefix: &str) -> Result<String, A1ClientError> {
    let trimmed = base.trim().trim_end_matches('/');
    let root = trimmed.strip_suffix(api_prefix).unwrap_or(trimmed);
    let ok = reqwest::Url::parse(root)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !ok {
        return Err(A1ClientError::BadBase(base.to_owned()));
    }
    Ok(format!("{}{api_prefix}", root.trim_end_matches('/')))
}

/// An HTTP client with `auth`, the A1 timeout, and `accept` on every request.
pub(crate) fn client(
    base: &str,
    auth: &ClientAuth,
    accept: &'static str,
) -> Result<reqwest::Client, A1ClientError> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(accept));
    auth.http_builder()
        .map_err(|e| A1ClientError::Credentials(e.to_string()))?
        .default_headers(headers)
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| transport(base, &e))
}

/// A transport error reduced to its innermost cause (reqwest nests the same words several
/// levels deep), or its own text when it has none.
pub(crate) fn transport(url: &str, e: &reqwest::Error) -> A1ClientError {
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

/// RFC 7807 as peers actually send it: every member optional (the PMS OpenAPI requires none,
/// types `status` as a JSON number; its 423 "ErrorInformation" has title/status/detail only).
#[derive(Debug, Deserialize)]
struct LooseProblem {
    #[serde(rename = "type")]
    problem_type: Option<String>,
    title: Option<String>,
    status: Option<f64>,
    detail: Option<String>,
    instance: Option<String>,
}

/// What to check for a refusal with `status`, as a suffix for the error message.
fn hint(status: u16, adapter_hint: fn(u16) -> Option<&'static str>) -> String {
    let generic = match status {
        401 => {
            Some("the peer wants credentials: --token / MAESTRO_TOKEN, or a TLS client certificate")
        }
        403 => Some("the credentials are not allowed to do this"),
        406 => Some("the peer refuses the Accept header (application/json)"),
        415 => Some("the peer refuses the Content-Type (application/json)"),
        429 | 503 => Some("the peer is overloaded; retry later"),
        _ => None,
    };
    adapter_hint(status)
        .or(generic)
        .map(|h| format!(" ({h})"))
        .unwrap_or_default()
}

/// Sends `req`; a non-2xx answer becomes [`A1ClientError::Problem`] (RFC 7807 body) or
/// [`A1ClientError::Unexpected`], with a hint from `adapter_hint` or the generic ones.
pub(crate) async fn send(
    url: &str,
    req: reqwest::RequestBuilder,
    adapter_hint: fn(u16) -> Option<&'static str>,
) -> Result<reqwest::Response, A1ClientError> {
    let resp = req.send().await.map_err(|e| transport(url, &e))?;
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    let hint = hint(status.as_u16(), adapter_hint);
    let problem = serde_json::from_str::<LooseProblem>(&body)
        .ok()
        .filter(|p| p.title.is_some() || p.detail.is_some());
    Err(match problem {
        Some(p) => A1ClientError::Problem {
            url: url.to_owned(),
            problem: Box::new(ProblemDetails {
                problem_type: p.problem_type.unwrap_or_else(|| "about:blank".into()),
                title: p
                    .title
                    .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned()),
                status: p
                    .status
                    .filter(|s| s.is_finite() && (100.0..600.0).contains(s))
                    .map_or(status.as_u16(), |s| s as u16),
                detail: p.detail,
                instance: p.instance,
            }),
            hint,
        },
        None => A1ClientError::Unexpected {
            url: url.to_owned(),
            status: status.as_u16(),
            body: match body.trim() {
                "" | "null" => "(empty body)".to_owned(),
                text => text.chars().take(500).collect(),
            },
            hint,
        },
    })
}

/// Decodes a JSON body; one that is not what the API defines is an [`A1ClientError::Unexpected`].
pub(crate) async fn json<T: DeserializeOwned>(
    url: &str,
    resp: reqwest::Response,
) -> Result<T, A1ClientError> {
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(|e| transport(url, &e))?;
    serde_json::from_str(&body).map_err(|e| A1ClientError::Unexpected {
        url: url.to_owned(),
        status,
        body: format!(
            "not the expected JSON ({e}): {}",
            body.chars().take(300).collect::<String>()
        ),
        hint: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_base_strips_a_given_prefix_and_trailing_slashes() {
        assert_eq!(
            api_base("http://h:1/", "/A1-P/v2").unwrap(),
            "http://h:1/A1-P/v2"
        );
        assert_eq!(
            api_base("http://h:1/A1-P/v2/", "/A1-P/v2").unwrap(),
            "http://h:1/A1-P/v2"
        );
        assert_eq!(
            api_base("https://smo/pms", "/a1-policy-management/v1").unwrap(),
            "https://smo/pms/a1-policy-management/v1"
        );
        assert!(api_base("h:1", "/A1-P/v2").is_err());
        assert!(api_base("ftp://h", "/A1-P/v2").is_err());
    }
}
