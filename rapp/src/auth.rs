//! How the rApp proves who it is to the xApp: a bearer token (RFC 6750) and/or a TLS client
//! certificate (mutual TLS), and which CA it trusts for the xApp's own certificate. The same
//! credentials serve the A1 client and the gRPC KPI stream.

use std::path::{Path, PathBuf};

/// Client credentials; all optional (the default talks plain HTTP/gRPC without a token).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientAuth {
    /// Bearer token sent on every A1 request and on the KPI subscription.
    pub token: Option<String>,
    /// PEM CA certificate(s) to trust for the xApp's TLS certificate (on top of none: the
    /// xApp's certificates are usually from a private CA).
    pub ca: Option<PathBuf>,
    /// PEM client certificate chain for mutual TLS.
    pub cert: Option<PathBuf>,
    /// PEM private key of `cert`.
    pub key: Option<PathBuf>,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("ca", &self.ca)
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish()
    }
}

/// Unusable credentials.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A file could not be read.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A certificate and a key come together.
    #[error(
        "a client certificate needs its key, and a key its certificate (--tls-cert with --tls-key)"
    )]
    HalfIdentity,
    /// The TLS stack refused them.
    #[error("TLS client configuration: {0}")]
    Tls(String),
    /// The token cannot be an HTTP header value.
    #[error("the bearer token contains characters not allowed in an HTTP header")]
    BadToken,
}

fn read(path: &Path) -> Result<Vec<u8>, AuthError> {
    std::fs::read(path).map_err(|e| AuthError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// A client certificate chain and its key, PEM.
struct IdentityPem {
    cert: Vec<u8>,
    key: Vec<u8>,
}

impl ClientAuth {
    /// The client identity, if configured.
    fn identity_pem(&self) -> Result<Option<IdentityPem>, AuthError> {
        match (&self.cert, &self.key) {
            (None, None) => Ok(None),
            (Some(c), Some(k)) => Ok(Some(IdentityPem {
                cert: read(c)?,
                key: read(k)?,
            })),
            _ => Err(AuthError::HalfIdentity),
        }
    }

    /// `Authorization` header value, if a token is configured.
    pub fn authorization(&self) -> Result<Option<String>, AuthError> {
        match &self.token {
            None => Ok(None),
            Some(t) if t.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(format!("Bearer {t}"))),
            Some(_) => Err(AuthError::BadToken),
        }
    }

    /// A reqwest client builder carrying the CA and the client identity.
    pub fn http_builder(&self) -> Result<reqwest::ClientBuilder, AuthError> {
        let mut b = reqwest::Client::builder();
        if let Some(ca) = &self.ca {
            let pem = read(ca)?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| AuthError::Tls(format!("{}: {e}", ca.display())))?
            {
                b = b.add_root_certificate(cert);
            }
        }
        if let Some(IdentityPem { cert, key }) = self.identity_pem()? {
            let mut pem = cert;
            pem.push(b'\n');
            pem.extend_from_slice(&key);
            let identity =
                reqwest::Identity::from_pem(&pem).map_err(|e| AuthError::Tls(e.to_string()))?;
            b = b.identity(identity);
        }
        if let Some(value) = self.authorization()? {
            let mut headers = reqwest::header::HeaderMap::new();
            let mut value =
                reqwest::header::HeaderValue::from_str(&value).map_err(|_| AuthError::BadToken)?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
            b = b.default_headers(headers);
        }
        Ok(b)
    }

    /// tonic's TLS settings for an `https://` KPI endpoint (`None` for `http://`).
    pub fn grpc_tls(
        &self,
        endpoint: &str,
    ) -> Result<Option<tonic::transport::ClientTlsConfig>, AuthError> {
        if !endpoint.starts_with("https://") {
            return Ok(None);
        }
        let mut tls = tonic::transport::ClientTlsConfig::new();
        if let Some(ca) = &self.ca {
            tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(read(ca)?));
        }
        if let Some(IdentityPem { cert, key }) = self.identity_pem()? {
            tls = tls.identity(tonic::transport::Identity::from_pem(cert, key));
        }
        Ok(Some(tls))
    }

    /// The `authorization` metadata value for gRPC requests.
    pub fn grpc_authorization(
        &self,
    ) -> Result<Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>, AuthError> {
        self.authorization()?
            .map(|v| v.parse().map_err(|_| AuthError::BadToken))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_redacted_and_checked() {
        let auth = ClientAuth {
            token: Some("s3cret-token-0123456789".into()),
            ..ClientAuth::default()
        };
        assert!(!format!("{auth:?}").contains("s3cret"));
        assert_eq!(
            auth.authorization().unwrap().as_deref(),
            Some("Bearer s3cret-token-0123456789")
        );
        let bad = ClientAuth {
            token: Some("two words".into()),
            ..ClientAuth::default()
        };
        assert!(matches!(bad.authorization(), Err(AuthError::BadToken)));
    }

    #[test]
    fn half_an_identity_and_missing_files_are_errors() {
        let half = ClientAuth {
            cert: Some("c.pem".into()),
            ..ClientAuth::default()
        };
        assert!(matches!(half.http_builder(), Err(AuthError::HalfIdentity)));
        let missing = ClientAuth {
            ca: Some("/nonexistent/ca.pem".into()),
            ..ClientAuth::default()
        };
        let err = missing.http_builder().err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("/nonexistent/ca.pem")));
        assert!(ClientAuth::default()
            .grpc_tls("http://x:1")
            .unwrap()
            .is_none());
    }
}
