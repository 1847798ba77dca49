//! Prometheus metrics of the rApp and the small HTTP server that exposes them.
//!
//! `maestro rapp --metrics-addr ADDR` serves `/metrics` (text exposition) and the O-RAN SC
//! health probes `/ric/v1/health/alive` and `/ric/v1/health/ready` while the pass runs (and
//! after it with `--keep-serving`). The figures are those of the last completed pass.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus::{Encoder, GaugeVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::run::RappReport;

/// Default address of the rApp's metrics and health endpoint.
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9102";

/// The rApp's metric families.
#[derive(Clone)]
pub struct RappMetrics {
    registry: Registry,
    negotiations: IntCounterVec,
    rounds: IntGauge,
    messages: IntGauge,
    consensus_bps: GaugeVec,
    measured_bps: GaugeVec,
    holds_target: GaugeVec,
    capacity_bps: IntGauge,
    passes: IntCounterVec,
}

impl std::fmt::Debug for RappMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RappMetrics").finish_non_exhaustive()
    }
}

impl RappMetrics {
    /// Registers every family in a fresh registry.
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let negotiations = IntCounterVec::new(
            Opts::new(
                "maestro_rapp_negotiations_total",
                "Negotiations the rApp ran, by outcome (converged | round_cap)",
            ),
            &["outcome"],
        )?;
        let rounds = IntGauge::new(
            "maestro_rapp_negotiation_rounds",
            "Rounds the last negotiation took (after the opening round)",
        )?;
        let messages = IntGauge::new(
            "maestro_rapp_negotiation_messages",
            "Messages (intents + feedback) the last negotiation exchanged",
        )?;
        let consensus_bps = GaugeVec::new(
            Opts::new(
                "maestro_rapp_consensus_dl_bps",
                "DL throughput the last negotiation agreed for the slice (sent as its A1 \
                 policy's guaranteed throughput), bit/s",
            ),
            &["slice", "operator", "cell"],
        )?;
        let measured_bps = GaugeVec::new(
            Opts::new(
                "maestro_rapp_measured_dl_bps",
                "Mean DL throughput of the slice over the observed periods where its target \
                 was achievable, from the KPI stream, bit/s",
            ),
            &["slice", "operator", "cell"],
        )?;
        let holds_target = GaugeVec::new(
            Opts::new(
                "maestro_rapp_slice_holds_target",
                "1 when the slice held its agreed target within tolerance (or it was never \
                 achievable), else 0",
            ),
            &["slice", "operator", "cell"],
        )?;
        let capacity_bps = IntGauge::new(
            "maestro_rapp_cell_capacity_dl_bps",
            "Cell DL capacity at the start of the last negotiation (all PRBs at the CQIs of the \
             first KPI report), bit/s",
        )?;
        let passes = IntCounterVec::new(
            Opts::new(
                "maestro_rapp_passes_total",
                "Completed rApp passes by result (pass | fail: a slice missed its target)",
            ),
            &["result"],
        )?;
        registry.register(Box::new(negotiations.clone()))?;
        registry.register(Box::new(rounds.clone()))?;
        registry.register(Box::new(messages.clone()))?;
        registry.register(Box::new(consensus_bps.clone()))?;
        registry.register(Box::new(measured_bps.clone()))?;
        registry.register(Box::new(holds_target.clone()))?;
        registry.register(Box::new(capacity_bps.clone()))?;
        registry.register(Box::new(passes.clone()))?;
        // Both outcomes and results start at zero, so rates and increases are defined from
        // the first scrape on.
        for outcome in ["converged", "round_cap"] {
            negotiations.with_label_values(&[outcome]);
        }
        for result in ["pass", "fail"] {
            passes.with_label_values(&[result]);
        }
        Ok(Self {
            registry,
            negotiations,
            rounds,
            messages,
            consensus_bps,
            measured_bps,
            holds_target,
            capacity_bps,
            passes,
        })
    }

    /// Records a completed pass.
    pub fn record(&self, report: &RappReport) {
        let outcome = if report.converged {
            "converged"
        } else {
            "round_cap"
        };
        self.negotiations.with_label_values(&[outcome]).inc();
        self.rounds.set(i64::from(report.rounds));
        self.messages
            .set(i64::try_from(report.messages).unwrap_or(i64::MAX));
        self.capacity_bps
            .set((report.capacity_mbps_at_start * 1e6).round() as i64);
        for s in &report.slices {
            // The cell negotiated for (many cells: one series per cell); empty, which
            // PromQL reads as no label, for the RAN as one cell.
            let cell = report.cell_id.as_deref().unwrap_or_default();
            let labels = [s.slice.as_str(), s.operator.as_str(), cell];
            self.consensus_bps
                .with_label_values(&labels)
                .set(s.target_mbps * 1e6);
            if let Some(m) = s.measured_mbps {
                self.measured_bps.with_label_values(&labels).set(m * 1e6);
            }
            self.holds_target
                .with_label_values(&labels)
                .set(if s.holds_target { 1.0 } else { 0.0 });
        }
        let result = if report.pass { "pass" } else { "fail" };
        self.passes.with_label_values(&[result]).inc();
    }

    /// Text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            return format!("# metrics encoding failed: {e}\n");
        }
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// The rApp's HTTP endpoint: `/metrics`, `/ric/v1/health/alive`, `/ric/v1/health/ready`.
pub fn router(metrics: Arc<RappMetrics>) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .route("/ric/v1/health/alive", get(alive))
        .route("/ric/v1/health/ready", get(alive))
        .with_state(metrics)
}

async fn render_metrics(State(metrics): State<Arc<RappMetrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}

async fn alive() -> &'static str {
    "ok\n"
}

/// A running metrics server.
#[derive(Debug)]
pub struct MetricsServer {
    /// The address it listens on (the port chosen when asked for port 0).
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// Binds `addr` and serves [`router`] on it.
    pub async fn start(addr: SocketAddr, metrics: Arc<RappMetrics>) -> std::io::Result<Self> {
        Self::start_with(addr, metrics, Router::new()).await
    }

    /// Binds `addr` and serves [`router`] plus `extra` routes (e.g. the live page,
    /// [`crate::web::router`]) on it.
    pub async fn start_with(
        addr: SocketAddr,
        metrics: Arc<RappMetrics>,
        extra: Router,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(metrics).merge(extra);
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "rApp metrics server stopped");
            }
        });
        Ok(Self {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_start_at_zero_and_gauges_appear_once_recorded() {
        let m = RappMetrics::new().unwrap();
        let text = m.render();
        assert!(text.contains("maestro_rapp_negotiations_total{outcome=\"converged\"} 0"));
        assert!(text.contains("maestro_rapp_passes_total{result=\"pass\"} 0"));
        assert!(text.contains("maestro_rapp_negotiation_rounds 0"));
        assert!(!text.contains("maestro_rapp_consensus_dl_bps{"));
    }

    #[tokio::test]
    async fn serves_metrics_and_health() {
        let m = Arc::new(RappMetrics::new().unwrap());
        let server = MetricsServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), m)
            .await
            .unwrap();
        let base = format!("http://{}", server.addr);
        let http = reqwest::Client::new();
        for path in ["/ric/v1/health/alive", "/ric/v1/health/ready"] {
            let r = http.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
        }
        let r = http.get(format!("{base}/metrics")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        assert!(text.contains("# TYPE maestro_rapp_negotiations_total counter"));
        server.shutdown().await;
    }
}
