//! RFC 7807 problem details, the error body of every A1-P v2 error response
//! (O-RAN A1AP v2, "ProblemDetails"; media type `application/problem+json`).

use serde::{Deserialize, Serialize};

/// Media type of a [`ProblemDetails`] body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 7807 problem: what went wrong, for humans and programs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemDetails {
    /// URI reference identifying the problem type; `about:blank` when only `status` matters.
    #[serde(rename = "type", default = "about_blank")]
    pub problem_type: String,
    /// Short, human-readable summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Human-readable explanation specific to this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// URI reference of the specific occurrence (the request path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

fn about_blank() -> String {
    "about:blank".to_owned()
}

impl ProblemDetails {
    /// A problem with the given status, title and detail.
    pub fn new(status: u16, title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            problem_type: about_blank(),
            title: title.into(),
            status,
            detail: Some(detail.into()),
            instance: None,
        }
    }

    /// Sets the `instance` member (usually the request path).
    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }
}

impl std::fmt::Display for ProblemDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.title)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_type_member_and_skips_absent_fields() {
        let p = ProblemDetails::new(404, "Not Found", "no policy 'x'");
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["type"], "about:blank");
        assert_eq!(v["status"], 404);
        assert!(v.get("instance").is_none());
        assert_eq!(p.to_string(), "404 Not Found: no policy 'x'");
    }
}
