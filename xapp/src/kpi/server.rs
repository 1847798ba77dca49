//! The gRPC KPI server: tonic on the xApp's gRPC listener, TLS from the same PEM files as A1
//! ([`tls_config`]), and a bearer-token check in front of [`KpiStreamService`] ([`serve`]).

use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use super::service::KpiStreamService;
use super::stream::KpiHub;
use crate::security::{SecurityConfig, SecurityError};

/// tonic's TLS settings for the KPI stream, from the same PEM files as A1 (`None`: plain
/// HTTP/2).
pub fn tls_config(security: &SecurityConfig) -> Result<Option<ServerTlsConfig>, SecurityError> {
    let Some(tls) = &security.tls else {
        return Ok(None);
    };
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| SecurityError::Pem {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    };
    let mut config =
        ServerTlsConfig::new().identity(Identity::from_pem(read(&tls.cert)?, read(&tls.key)?));
    if let Some(ca) = &tls.client_ca {
        config = config.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(Some(config))
}

/// Serves the KPI stream of `hub` on `listener` until `stop` changes; any token `security`
/// knows may read it. Failures are logged (the task has no one to return them to).
pub async fn serve(
    listener: TcpListener,
    hub: KpiHub,
    security: SecurityConfig,
    tls: Option<ServerTlsConfig>,
    mut stop: watch::Receiver<bool>,
) {
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        builder = match builder.tls_config(tls) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "KPI gRPC TLS configuration refused");
                return;
            }
        };
    }
    let check = move |req: tonic::Request<()>| authorize(&security, req);
    let served = builder
        .add_service(KpiStreamService::with_interceptor(hub, check))
        .serve_with_incoming_shutdown(incoming, async move {
            let _ = stop.changed().await;
        })
        .await;
    if let Err(e) = served {
        tracing::error!(error = %e, "KPI gRPC server stopped");
    }
}

/// Any known token may read the stream (RFC 6750 in the `authorization` metadata).
fn authorize(
    security: &SecurityConfig,
    req: tonic::Request<()>,
) -> Result<tonic::Request<()>, tonic::Status> {
    let presented = req
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    match security.authorize(presented, false) {
        Ok(()) => Ok(req),
        Err(_) => Err(tonic::Status::unauthenticated(
            "a bearer token is required (authorization: Bearer <token>)",
        )),
    }
}
