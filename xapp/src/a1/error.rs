//! A1-P errors and their RFC 7807 `application/problem+json` responses (O-RAN A1AP v2
//! clause 6.2: 400 bad request, 404 not found, 409 conflict, 429 too many requests, 503 service
//! unavailable, 507 insufficient storage; 413 and 415 (RFC 9110 clauses 15.5.14, 15.5.16) for
//! bodies too large or not JSON; 401/403 from the bearer-token check, RFC 6750
//! clause 3).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maestro_api::problem::{ProblemDetails, PROBLEM_JSON};

/// An A1-P request failure.
#[derive(Debug, thiserror::Error)]
pub enum A1Error {
    /// Malformed body or parameter, or a statement that breaks the type's schema.
    #[error("{0}")]
    BadRequest(String),
    /// Unknown policy type, policy or path.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the stored policies.
    #[error("{0}")]
    Conflict(String),
    /// The method is not allowed on this resource.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The store failed; nothing was changed.
    #[error("{0}")]
    Unavailable(String),
    /// The client sent more requests than its rate allows.
    #[error("{message}")]
    TooManyRequests {
        /// What happened.
        message: String,
        /// Seconds until a request will be accepted again.
        retry_after_s: u64,
    },
    /// The request body is larger than an A1 policy can be.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The request body is not `application/json`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The store holds as many policies as it may; nothing was stored.
    #[error("{0}")]
    InsufficientStorage(String),
    /// No bearer token, or an unknown one.
    #[error("{0}")]
    Unauthorized(String),
    /// The token's role does not allow this request.
    #[error("{0}")]
    Forbidden(String),
}

impl A1Error {
    /// HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            A1Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            A1Error::NotFound(_) => StatusCode::NOT_FOUND,
            A1Error::Conflict(_) => StatusCode::CONFLICT,
            A1Error::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            A1Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            A1Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            A1Error::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            A1Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            A1Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            A1Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            A1Error::Forbidden(_) => StatusCode::FORBIDDEN,
        }
    }
}

impl IntoResponse for A1Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let title = status.canonical_reason().unwrap_or("Error");
        let problem = ProblemDetails::new(status.as_u16(), title, self.to_string());
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, [(header::CONTENT_TYPE, PROBLEM_JSON)], body).into_response();
        match self {
            A1Error::TooManyRequests { retry_after_s, .. } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            }
            // RFC 6750 clause 3: the challenge, and why the token did not do.
            A1Error::Unauthorized(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"maestro-a1\""),
                );
            }
            A1Error::Forbidden(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer realm=\"maestro-a1\", error=\"insufficient_scope\"",
                    ),
                );
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn every_error_is_a_problem_with_its_status() {
        let cases = [
            (A1Error::BadRequest("b".into()), 400),
            (A1Error::NotFound("n".into()), 404),
            (A1Error::MethodNotAllowed("m".into()), 405),
            (A1Error::Conflict("c".into()), 409),
            (
                A1Error::TooManyRequests {
                    message: "t".into(),
                    retry_after_s: 2,
                },
                429,
            ),
            (A1Error::Unavailable("store down".into()), 503),
            (A1Error::InsufficientStorage("full".into()), 507),
            (A1Error::PayloadTooLarge("big".into()), 413),
            (A1Error::UnsupportedMediaType("text/plain".into()), 415),
            (A1Error::Unauthorized("who".into()), 401),
            (A1Error::Forbidden("read only".into()), 403),
        ];
        for (error, status) in cases {
            let detail = error.to_string();
            let response = error.into_response();
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
            assert_eq!(
                response.headers().contains_key(header::RETRY_AFTER),
                status == 429
            );
            assert_eq!(
                response.headers().contains_key(header::WWW_AUTHENTICATE),
                status == 401 || status == 403
            );
            let problem = body(response).await;
            assert_eq!(problem["status"], status);
            assert_eq!(problem["detail"], detail.as_str());
        }
    }
}
