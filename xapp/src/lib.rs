//! The MAESTRO near-RT xApp.
//!
//! It terminates A1-P v2 ([`a1`]), keeps policies durably ([`store`]), maps each policy's
//! slice to the E2 RRM policy member it governs ([`slice_map`]), turns each slice's
//! throughput target into a PRB quota from the live CQI ([`controller`], using the 3GPP
//! arithmetic of [`nr`]), controls the gNB through an E2 backend ([`e2`]) in a near-RT loop
//! ([`control_loop`]), and exports KPIs as Prometheus metrics and a gRPC stream ([`kpi`]).
//!
//! [`start`] wires it all on the configured addresses and returns once everything listens.

pub mod a1;
pub mod cell_scope;
pub mod cell_split;
pub mod config;
pub mod control_loop;
pub mod controller;
pub mod e2;
pub mod kpi;
pub mod notify;
pub mod nr;
pub mod security;
pub mod serve;
pub mod shard_scope;
pub mod slice_map;
pub mod status_filter;
pub mod status_writer;
pub mod store;

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use maestro_api::policy_type::PolicyTypeRegistry;
use maestro_api::shard::ShardError;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::config::XappConfig;
use crate::control_loop::ControlLoop;
use crate::e2::bridge::{BridgeBackend, BridgeStatus};
use crate::e2::E2Backend;
use crate::kpi::metrics::XappMetrics;
use crate::kpi::stream::KpiHub;
use crate::shard_scope::ShardScope;
use crate::slice_map::slice_id_of;
use crate::store::PolicyStore;

/// Why the xApp could not start.
#[derive(Debug, thiserror::Error)]
pub enum XappError {
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// OS error.
        source: std::io::Error,
    },
    /// The policy store could not be opened.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The E2 backend could not start.
    #[error(transparent)]
    Emulator(#[from] e2::emulator::EmulatorError),
    /// The supervised E2 bridge could not start.
    #[error(transparent)]
    Bridge(#[from] e2::bridge::supervisor::BridgeError),
    /// Credentials or TLS are unusable, or a listener would be open to anyone.
    #[error(transparent)]
    Security(#[from] security::SecurityError),
    /// The configured shard cannot be.
    #[error("shard: {0}")]
    Shard(#[from] ShardError),
    /// Anything else during set-up.
    #[error("xApp set-up: {0}")]
    Setup(String),
}

impl From<e2::StartError> for XappError {
    fn from(e: e2::StartError) -> Self {
        match e {
            e2::StartError::Emulator(e) => Self::Emulator(e),
            e2::StartError::Bridge(e) => Self::Bridge(e),
            e2::StartError::ChildConfig(e) => Self::Setup(e),
            other => Self::Setup(other.to_string()),
        }
    }
}

/// How long [`RunningXapp::shutdown`] lets open requests and streams finish.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// A running xApp.
pub struct RunningXapp {
    /// Where A1-P, `/metrics` and the health endpoints listen.
    pub http_addr: SocketAddr,
    /// Where the gRPC KPI stream listens.
    pub grpc_addr: SocketAddr,
    /// Policies restored from the store at start.
    pub restored_policies: usize,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    _backend: Arc<dyn E2Backend>,
    bridge: Option<Arc<BridgeBackend>>,
}

impl RunningXapp {
    /// Stops serving: in-flight requests get up to [`SHUTDOWN_GRACE`] to finish (a KPI
    /// subscriber's stream never does by itself), then the servers are stopped.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        for mut t in self.tasks {
            if tokio::time::timeout_at(deadline, &mut t).await.is_err() {
                t.abort();
                let _ = t.await;
            }
        }
        // Stop the bridge child and reap it (no zombie, no orphan holding the E2 node).
        if let Some(bridge) = &self.bridge {
            bridge.shutdown().await;
        }
    }

    /// The E2 bridge's link state, when the E2 node runs in a supervised child.
    pub fn e2_bridge(&self) -> Option<watch::Receiver<BridgeStatus>> {
        self.bridge.as_ref().map(|b| b.status())
    }
}

/// Starts the xApp: opens the store, starts the configured E2 backend ([`e2::start()`]) on the
/// cells of its shard (`config.shard`), binds both servers.
pub async fn start(config: XappConfig) -> Result<RunningXapp, XappError> {
    let shard = config.shard();
    shard.validate()?;
    let started = e2::start(
        &config.e2,
        e2::Host::Xapp {
            state_dir: &config.state_dir,
            shard,
        },
    )
    .await?;
    let scope = ShardScope::new(shard, config.e2.ran_cells());
    start_inner(config, started.backend, started.bridge, scope).await
}

/// Starts the xApp on an E2 backend the caller built (`config.e2` is then ignored): for
/// backends that are not in the config file, and for benchmarks that observe the controls.
/// With `config.shard`, the backend's cells are taken as the shard's (the caller filters).
pub async fn start_with_backend(
    config: XappConfig,
    backend: Arc<dyn E2Backend>,
) -> Result<RunningXapp, XappError> {
    let shard = config.shard();
    shard.validate()?;
    start_inner(config, backend, None, ShardScope::new(shard, Vec::new())).await
}

/// [`start_with_backend`], with the bridge whose link state gates readiness, when there is one,
/// and the shard of the configured RAN the backend serves.
async fn start_inner(
    config: XappConfig,
    backend: Arc<dyn E2Backend>,
    bridge: Option<Arc<BridgeBackend>>,
    scope: ShardScope,
) -> Result<RunningXapp, XappError> {
    let mut config = config;
    config.security = config.security.resolve()?;
    config
        .security
        .check(&[config.http_addr, config.grpc_addr])?;
    let tls = config.security.server_tls()?;
    let grpc_tls = kpi::server::tls_config(&config.security)?;
    if !config.security.authenticates_clients() {
        tracing::info!("no client credentials configured: A1 and gRPC listen on loopback only");
    }
    let store = PolicyStore::open(&config.state_dir)?;
    let restored_policies = store.all().len();
    let registry =
        Arc::new(PolicyTypeRegistry::shipped().map_err(|e| XappError::Setup(e.to_string()))?);
    let metrics = XappMetrics::with_config(config.metrics.clone())
        .map_err(|e| XappError::Setup(e.to_string()))?;
    metrics.set_policies(restored_policies);
    let notifier = notify::StatusNotifier::new().map_err(|e| XappError::Setup(e.to_string()))?;
    let hub = KpiHub::for_cells(metrics.clone(), backend.cell_ids().len());
    let changed = Arc::new(Notify::new());
    let last_report = Arc::new(AtomicU64::new(0));
    let (shutdown_tx, shutdown_rx) = watch::channel(false);

    let http = tokio::net::TcpListener::bind(config.http_addr)
        .await
        .map_err(|source| XappError::Bind {
            addr: config.http_addr,
            source,
        })?;
    let http_addr = http
        .local_addr()
        .map_err(|e| XappError::Setup(e.to_string()))?;
    let grpc = tokio::net::TcpListener::bind(config.grpc_addr)
        .await
        .map_err(|source| XappError::Bind {
            addr: config.grpc_addr,
            source,
        })?;
    let grpc_addr = grpc
        .local_addr()
        .map_err(|e| XappError::Setup(e.to_string()))?;

    let cells = cell_scope::KnownCells::default();
    let served_cells = backend.cell_ids();
    for id in &served_cells {
        cells.insert(id);
    }
    metrics.set_shard(scope.shard(), served_cells.len());
    announce_shard(&scope, &served_cells);
    // The configured cells and slices are known to KPI filters before their first report.
    hub.announce(
        backend.cell_ids(),
        backend.slices().iter().map(|m| slice_id_of(m).to_string()),
    );
    let state = a1::A1State {
        registry,
        cells: cells.clone(),
        store: store.clone(),
        served: Arc::new(backend.slices().to_vec()),
        changed: Arc::clone(&changed),
        metrics: metrics.clone(),
        last_report: Arc::clone(&last_report),
        writes: Arc::default(),
        limiter: Arc::new(a1::limit::WriteLimiter::new(config.a1.clone())),
        security: Arc::new(config.security.clone()),
        shard: Arc::new(scope),
    };
    let mut tasks = Vec::new();
    let mut router = a1::router(state);
    match &bridge {
        Some(bridge) => {
            router = router.layer(axum::middleware::from_fn_with_state(
                bridge.status(),
                e2::bridge::health::gate_ready,
            ));
            tasks.push(tokio::spawn(e2::bridge::health::follow_link(
                bridge.status(),
                store.clone(),
                notifier.clone(),
                metrics.clone(),
                shutdown_rx.clone(),
            )));
        }
        None => metrics.set_e2_connected(true),
    }
    tasks.push(
        serve::serve_http_on_own_thread(http, router, tls, shutdown_rx.clone())
            .map_err(|e| XappError::Setup(format!("cannot start the A1 server thread: {e}")))?,
    );
    tasks.push(tokio::spawn(kpi::server::serve(
        grpc,
        hub.clone(),
        config.security.clone(),
        grpc_tls,
        shutdown_rx.clone(),
    )));
    let control = ControlLoop {
        backend: Arc::clone(&backend),
        cells,
        store,
        hub,
        metrics,
        notifier,
        last_report,
        changed,
        tuning: config.control.clone(),
    };
    tasks.push(tokio::spawn(control.run(shutdown_rx)));
    tracing::info!(%http_addr, %grpc_addr, backend = backend.name(), restored_policies, "xApp up");
    // With a bridge the nodes are known after the child's hello; the supervisor logs them then.
    for node in backend.nodes() {
        for f in &node.ran_functions {
            tracing::info!(node = %node.node_id, ran_function = f.id, name = %f.name, oid = %f.oid, revision = f.revision, "E2 node RAN function");
        }
    }
    Ok(RunningXapp {
        http_addr,
        grpc_addr,
        restored_policies,
        shutdown: shutdown_tx,
        tasks,
        _backend: backend,
        bridge,
    })
}

/// The start-up log line of what this replica serves: its shard and its cells (the first
/// [`shard_scope::CELLS_NAMED`], and how many), or a warning when the shard owns no cell.
fn announce_shard(scope: &ShardScope, served: &[String]) {
    let shard = scope.shard();
    if scope.owns_no_configured_cell() {
        tracing::warn!(
            %shard,
            cells = 0,
            "shard {shard} owns none of the configured cells: this xApp serves no cell \
             (A1 policies are kept and stay NOT_ENFORCED; ready without E2 reports)"
        );
        return;
    }
    tracing::info!(
        %shard,
        cells = served.len(),
        "serving shard {shard}: {} cell(s): {}",
        served.len(),
        shard_scope::name_cells(served)
    );
}
