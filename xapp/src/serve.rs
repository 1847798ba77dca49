//! How the A1/metrics/health router is served: plain HTTP by `axum::serve`, or HTTPS (and
//! mutual TLS when a client CA is configured) by a rustls accept loop feeding hyper. Either
//! way each request carries its peer address (`ConnectInfo`) for the per-client limits.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Serves `router` on `listener` until `stop` changes, on a runtime of its own: a
/// single-threaded tokio runtime on a dedicated thread (from the caller's blocking pool). A1,
/// `/metrics` and the probes then never wait in the same task queue as the KPI fan-out and
/// the control loop; the kernel schedules the thread like any other, so an A1 request is
/// answered as soon as it gets a CPU, not after the fan-out's queued work.
pub fn serve_http_on_own_thread(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    // A tokio listener belongs to the runtime that made it: hand it over as a std one.
    let listener = listener.into_std()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("maestro-xapp-a1")
        .build()?;
    Ok(tokio::task::spawn_blocking(move || {
        runtime.block_on(async move {
            let served = match TcpListener::from_std(listener) {
                Ok(listener) => serve_http(listener, router, tls, stop).await,
                Err(e) => Err(e),
            };
            if let Err(e) = served {
                tracing::error!(error = %e, "A1 server stopped");
            }
        });
    }))
}

/// Serves `router` on `listener` until `stop` changes.
pub async fn serve_http(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let Some(tls) = tls else {
        let app = router.into_make_service_with_connect_info::<SocketAddr>();
        return axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.changed().await;
            })
            .await;
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = stop.changed() => return Ok(()),
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            // A failed handshake (no or untrusted client certificate) ends here.
            let stream = match acceptor.accept(tcp).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::info!(%peer, error = %e, "TLS handshake refused");
                    return;
                }
            };
            let service = router.map_request(move |mut req: axum::extract::Request<_>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
            let served = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .await;
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "HTTPS connection ended");
            }
        });
    }
}
