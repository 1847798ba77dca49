//! Who may talk to the xApp: bearer tokens with a role (RFC 6750), and TLS with optional
//! client-certificate authentication (mutual TLS, rustls), on A1 and on the gRPC KPI stream.
//!
//! O-RAN.WG11 security requirements ask for mutual TLS on A1 and for authorised access; the
//! bearer tokens are for deployments behind a TLS-terminating ingress. Without any credential
//! configured the xApp refuses to listen anywhere but on loopback, and says so at start.
//!
//! Roles: a `read` token may GET (policies, statuses, metrics, the KPI stream); a `write`
//! token may also PUT and DELETE. The health endpoints stay open (kubelet probes carry no
//! token). With TLS and a client CA, a client without a certificate that chains to that CA
//! cannot even complete the handshake.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// GET only.
    Read,
    /// GET, PUT, DELETE.
    Write,
}

/// One accepted bearer token: inline, or read at start from a file (e.g. a mounted Kubernetes
/// Secret; surrounding whitespace is ignored).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenConfig {
    /// The token (an opaque string; at least 16 characters); empty when `token_file` is set.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
    /// File holding the token, read by [`SecurityConfig::resolve`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    /// What it allows.
    pub role: Role,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("token", &"<redacted>")
            .field("token_file", &self.token_file)
            .field("role", &self.role)
            .finish()
    }
}

/// TLS for the A1 and gRPC listeners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsConfig {
    /// Server certificate chain, PEM.
    pub cert: PathBuf,
    /// Server private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA whose certificates clients must present (mutual TLS); `None`: no client certs.
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
}

/// The `security` section of the xApp config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityConfig {
    /// Accepted bearer tokens (none: no token is asked for).
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// TLS (none: plain TCP).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

/// Security set-up failures.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    /// Listening beyond loopback with nothing to authenticate clients.
    #[error(
        "refusing to listen on {0} without credentials: configure security.tokens or \
         security.tls (with client_ca), or listen on 127.0.0.1"
    )]
    OpenListener(SocketAddr),
    /// A token is too short to be a secret.
    #[error("a bearer token has {0} characters; use at least 16")]
    WeakToken(usize),
    /// A PEM file is missing or unreadable.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Tls(String),
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No token, or not one we know (401).
    Unauthenticated,
    /// A known token whose role does not allow this (403).
    Forbidden,
}

impl SecurityConfig {
    /// Reads every `token_file` into its token.
    pub fn resolve(mut self) -> Result<Self, SecurityError> {
        for t in &mut self.tokens {
            if let Some(path) = &t.token_file {
                t.token = std::fs::read_to_string(path)
                    .map_err(|e| pem_error(path, e))?
                    .trim()
                    .to_owned();
            }
        }
        Ok(self)
    }

    /// Whether clients have to prove who they are (a token or a client certificate).
    pub fn authenticates_clients(&self) -> bool {
        !self.tokens.is_empty() || self.tls.as_ref().is_some_and(|t| t.client_ca.is_some())
    }

    /// Checks the tokens and that every listener is on loopback unless clients authenticate.
    pub fn check(&self, listeners: &[SocketAddr]) -> Result<(), SecurityError> {
        if let Some(t) = self.tokens.iter().find(|t| t.token.chars().count() < 16) {
            return Err(SecurityError::WeakToken(t.token.chars().count()));
        }
        if !self.authenticates_clients() {
            if let Some(open) = listeners.iter().find(|a| !a.ip().is_loopback()) {
                return Err(SecurityError::OpenListener(*open));
            }
        }
        Ok(())
    }

    /// Decides on a request from its `Authorization` header value and whether it writes.
    pub fn authorize(&self, authorization: Option<&str>, writes: bool) -> Result<(), Denied> {
        if self.tokens.is_empty() {
            return Ok(());
        }
        let presented = authorization
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Denied::Unauthenticated)?;
        let role = self
            .tokens
            .iter()
            .find(|t| constant_time_eq(t.token.as_bytes(), presented.as_bytes()))
            .map(|t| t.role)
            .ok_or(Denied::Unauthenticated)?;
        match (role, writes) {
            (Role::Read, true) => Err(Denied::Forbidden),
            _ => Ok(()),
        }
    }

    /// The rustls server configuration, when TLS is configured.
    pub fn server_tls(&self) -> Result<Option<Arc<rustls::ServerConfig>>, SecurityError> {
        let Some(tls) = &self.tls else {
            return Ok(None);
        };
        let certs = read_certs(&tls.cert)?;
        let key = read_key(&tls.key)?;
        let builder = rustls::ServerConfig::builder();
        let builder = match &tls.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in read_certs(ca)? {
                    roots
                        .add(cert)
                        .map_err(|e| SecurityError::Tls(format!("client CA: {e}")))?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
                    .build()
                    .map_err(|e| SecurityError::Tls(format!("client CA: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| SecurityError::Tls(e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Some(Arc::new(config)))
    }
}

/// Compares two secrets in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn pem_error(path: &Path, reason: impl std::fmt::Display) -> SecurityError {
    SecurityError::Pem {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Reads a PEM certificate chain.
pub fn read_certs(
    path: &Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, SecurityError> {
    use rustls::pki_types::pem::PemObject;
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, e))?;
    if certs.is_empty() {
        return Err(pem_error(path, "no CERTIFICATE block"));
    }
    Ok(certs)
}

/// Reads a PEM private key.
pub fn read_key(path: &Path) -> Result<rustls::pki_types::PrivateKeyDer<'static>, SecurityError> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::PrivateKeyDer::from_pem_file(path).map_err(|e| pem_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> SecurityConfig {
        SecurityConfig {
            tokens: vec![
                TokenConfig {
                    token: "read-token-0123456789".into(),
                    token_file: None,
                    role: Role::Read,
                },
                TokenConfig {
                    token: "write-token-0123456789".into(),
                    token_file: None,
                    role: Role::Write,
                },
            ],
            tls: None,
        }
    }

    #[test]
    fn roles_decide_reads_and_writes() {
        let s = tokens();
        assert_eq!(s.authorize(None, false), Err(Denied::Unauthenticated));
        assert_eq!(
            s.authorize(Some("Bearer nope-nope-nope-nope"), false),
            Err(Denied::Unauthenticated)
        );
        assert_eq!(
            s.authorize(Some("Basic read-token-0123456789"), false),
            Err(Denied::Unauthenticated)
        );
        assert_eq!(
            s.authorize(Some("Bearer read-token-0123456789"), false),
            Ok(())
        );
        assert_eq!(
            s.authorize(Some("Bearer read-token-0123456789"), true),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            s.authorize(Some("Bearer write-token-0123456789"), true),
            Ok(())
        );
        assert_eq!(SecurityConfig::default().authorize(None, true), Ok(()));
    }

    #[test]
    fn open_listeners_need_credentials() {
        let loopback: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(SecurityConfig::default().check(&[loopback]).is_ok());
        assert!(matches!(
            SecurityConfig::default().check(&[loopback, any]),
            Err(SecurityError::OpenListener(a)) if a == any
        ));
        assert!(tokens().check(&[any]).is_ok());
        let weak = SecurityConfig {
            tokens: vec![TokenConfig {
                token: "short".into(),
                token_file: None,
                role: Role::Write,
            }],
            tls: None,
        };
        assert!(matches!(
            weak.check(&[loopback]),
            Err(SecurityError::WeakToken(5))
        ));
        // Server-only TLS does not authenticate clients.
        let server_tls = SecurityConfig {
            tokens: vec![],
            tls: Some(TlsConfig {
                cert: "c.pem".into(),
                key: "k.pem".into(),
                client_ca: None,
            }),
        };
        assert!(server_tls.check(&[any]).is_err());
    }

    #[test]
    fn token_files_are_read_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "file-token-0123456789\n").unwrap();
        let s = SecurityConfig {
            tokens: vec![TokenConfig {
                token: String::new(),
                token_file: Some(path),
                role: Role::Write,
            }],
            tls: None,
        }
        .resolve()
        .unwrap();
        assert_eq!(
            s.authorize(Some("Bearer file-token-0123456789"), true),
            Ok(())
        );
        let missing = SecurityConfig {
            tokens: vec![TokenConfig {
                token: String::new(),
                token_file: Some(dir.path().join("absent")),
                role: Role::Read,
            }],
            tls: None,
        };
        assert!(missing.resolve().is_err());
    }

    #[test]
    fn tokens_are_not_printed() {
        let text = format!("{:?}", tokens());
        assert!(!text.contains("0123456789"), "{text}");
    }

    #[test]
    fn missing_pem_files_name_the_file() {
        let s = SecurityConfig {
            tokens: vec![],
            tls: Some(TlsConfig {
                cert: "/nonexistent/cert.pem".into(),
                key: "/nonexistent/key.pem".into(),
                client_ca: None,
            }),
        };
        let err = s.server_tls().expect_err("fails").to_string();
        assert!(err.contains("/nonexistent/cert.pem"), "{err}");
    }
}
