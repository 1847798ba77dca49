//! The parent side of the E2 bridge: [`BridgeBackend`], an [`E2Backend`] whose E2 node lives
//! in a supervised `maestro e2-bridge` child process.
//!
//! It spawns the child, reads its stdout on a task, matches `outcome`s to pending controls by
//! `seq` (no answer within the control timeout: [`E2Error::Unreachable`]), and restarts the
//! child with exponential backoff when it exits, when no `hello` comes, or when it stops
//! reporting (watchdog). After a restart (or an `e2_state` back to connected) it re-sends the
//! last PRB quota control before it calls the link connected again. The link's state is
//! published as a [`BridgeStatus`] for health and metrics.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use maestro_e2sm::rc::{ControlOutcome, RrmPolicyMember, SlicePrbQuotaControl};
use maestro_e2sm::report::CellMeasurement;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::protocol::{encode_line, ChildMessage, LineReader, ParentMessage, ProtocolError};
use super::stderr_tail::StderrTail;
use crate::e2::node_kind::{NodeKind, NotABridgeChildNode};
use crate::e2::{BoxFuture, E2Backend, E2Error, E2NodeInfo};
use crate::nr::CellConfig;

/// Supervision knobs (all optional in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BridgeOptions {
    /// Child program [default: this executable].
    pub program: Option<PathBuf>,
    /// Replaces the child's whole argument list (default: `e2-bridge --node N --config F`
    /// followed by `extra_args`).
    pub args: Option<Vec<String>>,
    /// Appended to the default arguments, e.g. `["--journal", "controls.jsonl"]`.
    pub extra_args: Vec<String>,
    /// How long a control may wait for its outcome, ms.
    pub control_timeout_ms: u64,
    /// How long a new child may take to say `hello` (FlexRIC: E2 setup included), ms.
    pub hello_timeout_ms: u64,
    /// Restart the child when it sent no report for this many report periods ...
    pub watchdog_periods: u32,
    /// ... but never sooner than this, ms (a loaded machine delays reports).
    pub watchdog_min_ms: u64,
    /// First restart delay, ms; doubled after each failed start.
    pub backoff_initial_ms: u64,
    /// Longest restart delay, ms.
    pub backoff_max_ms: u64,
}

impl Default for BridgeOptions {
    fn default() -> Self {
        Self {
            program: None,
            args: None,
            extra_args: Vec::new(),
            control_timeout_ms: 5_000,
            hello_timeout_ms: 30_000,
            watchdog_periods: 20,
            watchdog_min_ms: 3_000,
            backoff_initial_ms: 500,
            backoff_max_ms: 30_000,
        }
    }
}

/// What the child serves and how to start it.
#[derive(Debug, Clone)]
pub struct ChildSpec {
    /// The backend inside the child (`--node`): [`NodeKind::Emulator`] or
    /// [`NodeKind::Flexric`].
    pub node: NodeKind,
    /// Its config file (JSON), written by [`BridgeBackend::start`].
    pub config_path: PathBuf,
    /// Its config.
    pub config: serde_json::Value,
    /// The cell the node serves (from the config; a `hello` that disagrees is logged).
    pub cell: CellConfig,
    /// Its slices.
    pub slices: Vec<RrmPolicyMember>,
    /// Wall-clock report period, for the watchdog.
    pub report_period: Duration,
}

/// State of the E2 link as the xApp sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// The child said hello, the last quota is in place, reports flow.
    Connected,
    /// The child is gone; a new one starts after the backoff.
    Restarting,
    /// A child runs but the E2 side is not usable (no hello yet, E2 node or RIC lost), or the
    /// bridge was shut down.
    Down,
}

/// The E2 link's state, restart count and last error (for health and metrics).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BridgeStatus {
    /// Connected, restarting or down.
    pub state: LinkState,
    /// Children started after the first one.
    pub restarts: u64,
    /// Delay before the next restart, ms (grows while children keep failing).
    pub backoff_ms: u64,
    /// What is going on, in words.
    pub detail: String,
    /// The last failure seen (child exit, bad line, watchdog, ...).
    pub last_error: Option<String>,
    /// Process id of the current child.
    pub child_pid: Option<u32>,
}

impl BridgeStatus {
    /// One line for `/ric/v1/health/ready` and logs.
    pub fn reason(&self) -> String {
        let state = match self.state {
            LinkState::Connected => "connected",
            LinkState::Restarting => "restarting",
            LinkState::Down => "down",
        };
        let mut text = format!(
            "E2 bridge {state}: {} (restarts: {}",
            self.detail, self.restarts
        );
        if self.state == LinkState::Restarting {
            text.push_str(&format!(
                ", next start in {:.1} s",
                self.backoff_ms as f64 / 1000.0
            ));
        }
        text.push(')');
        if let Some(e) = &self.last_error {
            text.push_str(&format!("; last error: {e}"));
        }
        text
    }
}

/// Why the bridge could not start.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The child's config file could not be written.
    #[error("E2 bridge: cannot write {path}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No program to run.
    #[error("E2 bridge: cannot find the maestro executable: {0}")]
    Program(String),
    /// The spec asks the child for a node it does not host.
    #[error("E2 bridge: {0}")]
    Node(#[from] NotABridgeChildNode),
}

/// What the control path and the session share.
#[derive(Default)]
struct Link {
    /// Lines to the current child (None: no child).
    to_child: Option<mpsc::Sender<ParentMessage>>,
    /// Controls are accepted (hello seen, last quota re-applied).
    connected: bool,
    /// Controls waiting for their outcome, by seq.
    pending: HashMap<u64, oneshot::Sender<ControlOutcome>>,
    /// The last control the control loop asked for, per cell (`None`: sent without one),
    /// re-sent after a restart.
    last_controls: BTreeMap<Option<String>, SlicePrbQuotaControl>,
}

struct Shared {
    spec: ChildSpec,
    /// Backend name for logs and `/readyz`.
    name: &'static str,
    options: BridgeOptions,
    program: PathBuf,
    args: Vec<String>,
    link: Mutex<Link>,
    next_seq: AtomicU64,
    status: watch::Sender<BridgeStatus>,
    reports: broadcast::Sender<Arc<CellMeasurement>>,
    nodes: Mutex<Vec<E2NodeInfo>>,
    /// The cells the child's last hello announced.
    cells: Mutex<Vec<String>>,
}

impl Shared {
    fn link(&self) -> MutexGuard<'_, Link> {
        self.link.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update(&self, change: impl FnOnce(&mut BridgeStatus)) {
        self.status.send_modify(change);
    }

    /// Every cell's last quota, to re-send to a child whose E2 side came up.
    fn quotas_to_restore(&self) -> Vec<(Option<String>, SlicePrbQuotaControl)> {
        self.link().last_controls.clone().into_iter().collect()
    }

    fn control_timeout(&self) -> Duration {
        Duration::from_millis(self.options.control_timeout_ms)
    }

    fn watchdog(&self) -> Duration {
        let periods = self.spec.report_period * self.options.watchdog_periods.max(1);
        periods.max(Duration::from_millis(self.options.watchdog_min_ms))
    }
}

/// An E2 node in a supervised `maestro e2-bridge` child.
pub struct BridgeBackend {
    shared: Arc<Shared>,
    status: watch::Receiver<BridgeStatus>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for BridgeBackend {
    fn drop(&mut self) {
        // The supervisor asks the child to stop, then kills it; if the runtime is gone
        // first, `kill_on_drop` kills it.
        let _ = self.stop.send(true);
    }
}

impl BridgeBackend {
    /// Writes the child's config file and starts supervising; returns at once (the link is
    /// [`LinkState::Down`] until the child's hello).
    pub fn start(spec: ChildSpec, options: BridgeOptions) -> Result<Arc<Self>, BridgeError> {
        let name = match spec.node.bridge_child()? {
            NodeKind::Flexric => "e2-bridge:flexric",
            NodeKind::Emulator | NodeKind::BridgeEmulator => "e2-bridge:emulator",
        };
        let text = serde_json::to_string_pretty(&spec.config).map_err(|e| BridgeError::Config {
            path: spec.config_path.clone(),
            reason: e.to_string(),
        })?;
        if let Some(dir) = spec.config_path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| BridgeError::Config {
                    path: spec.config_path.clone(),
                    reason: e.to_string(),
                })?;
            }
        }
        std::fs::write(&spec.config_path, text).map_err(|e| BridgeError::Config {
            path: spec.config_path.clone(),
            reason: e.to_string(),
        })?;
        let program = match &options.program {
            Some(p) => p.clone(),
            None => std::env::current_exe().map_err(|e| BridgeError::Program(e.to_string()))?,
        };
        let args = match &options.args {
            Some(args) => args.clone(),
            None => {
                let mut args = vec![
                    "e2-bridge".to_owned(),
                    "--node".to_owned(),
                    spec.node.as_str().to_owned(),
                    "--config".to_owned(),
                    spec.config_path.display().to_string(),
                ];
                args.extend(options.extra_args.iter().cloned());
                args
            }
        };
        let (status_tx, status) = watch::channel(BridgeStatus {
            state: LinkState::Down,
            restarts: 0,
            backoff_ms: options.backoff_initial_ms,
            detail: "starting the E2 bridge".into(),
            last_error: None,
            child_pid: None,
        });
        let (reports, _) = broadcast::channel(256);
        let shared = Arc::new(Shared {
            spec,
            name,
            options,
            program,
            args,
            link: Mutex::new(Link::default()),
            next_seq: AtomicU64::new(1),
            status: status_tx,
            reports,
            nodes: Mutex::new(Vec::new()),
            cells: Mutex::new(Vec::new()),
        });
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(supervise(Arc::clone(&shared), stop_rx));
        Ok(Arc::new(Self {
            shared,
            status,
            stop,
            task: Mutex::new(Some(task)),
        }))
    }

    /// The link's state; changes are signalled to the receiver.
    pub fn status(&self) -> watch::Receiver<BridgeStatus> {
        self.status.clone()
    }

    /// Stops the child (`shutdown`, then SIGKILL after a second) and waits until it is
    /// reaped.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut task) = task {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl E2Backend for BridgeBackend {
    fn name(&self) -> &'static str {
        self.shared.name
    }

    fn cell(&self) -> &CellConfig {
        &self.shared.spec.cell
    }

    fn slices(&self) -> &[RrmPolicyMember] {
        &self.shared.spec.slices
    }

    fn nodes(&self) -> Vec<E2NodeInfo> {
        self.shared
            .nodes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<CellMeasurement>> {
        self.shared.reports.subscribe()
    }

    fn cell_ids(&self) -> Vec<String> {
        self.shared
            .cells
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn control(
        &self,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        self.send_control(None, control)
    }

    fn control_cell(
        &self,
        cell_id: &str,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        self.send_control(Some(cell_id.to_owned()), control)
    }
}

impl BridgeBackend {
    /// Sends `control` to the child (for `cell_id`'s node) and waits for its outcome.
    fn send_control(
        &self,
        cell_id: Option<String>,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        Box::pin(async move {
            control
                .validate()
                .map_err(|e| E2Error::InvalidControl(e.to_string()))?;
            let shared = &self.shared;
            let (seq, answer, to_child) = {
                let mut link = shared.link();
                link.last_controls.insert(cell_id.clone(), control.clone());
                let to_child = match (&link.to_child, link.connected) {
                    (Some(tx), true) => tx.clone(),
                    _ => {
                        drop(link);
                        let why = shared.status.borrow().reason();
                        return Err(E2Error::Unreachable(format!(
                            "{why} (the quota is re-sent once it is back)"
                        )));
                    }
                };
                let seq = shared.next_seq.fetch_add(1, Ordering::Relaxed);
                let (tx, rx) = oneshot::channel();
                link.pending.insert(seq, tx);
                (seq, rx, to_child)
            };
            if to_child
                .send(ParentMessage::Control {
                    seq,
                    control,
                    cell_id,
                })
                .await
                .is_err()
            {
                shared.link().pending.remove(&seq);
                return Err(E2Error::Unreachable(
                    "the E2 bridge child is gone (restarting)".into(),
                ));
            }
            match tokio::time::timeout(shared.control_timeout(), answer).await {
                Ok(Ok(outcome)) => Ok(outcome),
                Ok(Err(_)) => Err(E2Error::Unreachable(format!(
                    "the E2 bridge child exited before answering control {seq}"
                ))),
                Err(_) => {
                    shared.link().pending.remove(&seq);
                    Err(E2Error::Unreachable(format!(
                        "the E2 bridge did not answer control {seq} within {} ms",
                        shared.options.control_timeout_ms
                    )))
                }
            }
        })
    }
}

/// How one child's life ended.
struct SessionEnd {
    /// Why (for the status' last error).
    reason: String,
    /// It reached Connected and reported: the backoff starts over.
    healthy: bool,
    /// The bridge is shutting down: no restart.
    stopped: bool,
}

/// Runs children one after the other until stopped.
async fn supervise(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let initial = Duration::from_millis(shared.options.backoff_initial_ms.max(1));
    let max = Duration::from_millis(shared.options.backoff_max_ms).max(initial);
    let mut backoff = initial;
    let mut restarts = 0u64;
    loop {
        let end = session(&shared, &mut stop).await;
        {
            let mut link = shared.link();
            link.to_child = None;
            link.connected = false;
            // Dropping the senders answers every waiting control with Unreachable.
            link.pending.clear();
        }
        if end.stopped || *stop.borrow() {
            shared.update(|s| {
                s.state = LinkState::Down;
                s.detail = "the E2 bridge was shut down".into();
                s.child_pid = None;
            });
            return;
        }
        if end.healthy {
            backoff = initial;
        }
        restarts += 1;
        tracing::warn!(
            restart = restarts,
            backoff_ms = backoff.as_millis() as u64,
            "E2 bridge child lost: {}; restarting",
            end.reason
        );
        shared.update(|s| {
            s.state = LinkState::Restarting;
            s.restarts = restarts;
            s.backoff_ms = backoff.as_millis() as u64;
            s.detail = "waiting to start a new child".into();
            s.last_error = Some(end.reason.clone());
            s.child_pid = None;
        });
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => {}
        }
        backoff = (backoff * 2).min(max);
    }
}

/// Where a child is in its start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Started, no hello yet.
    AwaitHello,
    /// Hello seen; the last quota was re-sent and its outcome is awaited.
    Restoring,
    /// Connected.
    Up,
    /// The child says its E2 side is lost.
    E2Lost,
}

/// One child, from spawn to exit.
async fn session(shared: &Arc<Shared>, stop: &mut watch::Receiver<bool>) -> SessionEnd {
    let failed = |reason: String| SessionEnd {
        reason,
        healthy: false,
        stopped: false,
    };
    let mut command = Command::new(&shared.program);
    command
        .args(&shared.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => return failed(format!("cannot start {}: {e}", shared.program.display())),
    };
    let pid = child.id();
    shared.update(|s| {
        s.child_pid = pid;
        s.detail = format!("waiting for the hello of child {}", pid.unwrap_or(0));
    });
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        reap(&mut child).await;
        return failed("the child has no stdin/stdout/stderr pipe".into());
    };
    let stderr = StderrTail::follow(stderr);
    let (to_child, from_parent) = mpsc::channel::<ParentMessage>(64);
    let writer = AbortOnDrop(tokio::spawn(write_to_child(from_parent, stdin)));
    // Reading on its own task: a line is never half-read when another event wins.
    let (lines_tx, mut lines) = mpsc::channel(64);
    let reader = AbortOnDrop(tokio::spawn(async move {
        let mut reader = LineReader::new(BufReader::new(stdout));
        while let Some(line) = reader.next::<ChildMessage>().await {
            if lines_tx.send(line).await.is_err() {
                return;
            }
        }
    }));

    let mut phase = Phase::AwaitHello;
    let mut deadline = Instant::now() + Duration::from_millis(shared.options.hello_timeout_ms);
    let mut restore: Option<(u64, oneshot::Receiver<ControlOutcome>, Instant)> = None;
    // The last quotas still to re-send after a hello, one cell at a time.
    let mut restoring: Vec<(Option<String>, SlicePrbQuotaControl)> = Vec::new();
    let mut healthy = false;
    let mut stdout_open = true;
    let end = loop {
        let restore_deadline = restore.as_ref().map(|r| r.2);
        tokio::select! {
            line = lines.recv(), if stdout_open => match line {
                None => stdout_open = false,
                Some(Err(e)) => {
                    tracing::error!(pid, "{e}");
                    let fatal = matches!(e, ProtocolError::Io(_));
                    shared.update(|s| s.last_error = Some(e.to_string()));
                    if fatal {
                        stdout_open = false;
                    }
                }
                Some(Ok(message)) => match message {
                    ChildMessage::Hello { backend, cell, slices, nodes, cells } => {
                        check_hello(shared, &backend, &cell, &slices, &nodes);
                        *shared.nodes.lock().unwrap_or_else(|p| p.into_inner()) = nodes;
                        *shared.cells.lock().unwrap_or_else(|p| p.into_inner()) = cells;
                        restoring = shared.quotas_to_restore();
                        restore = begin_restore(shared, &to_child, &mut phase, &mut restoring).await;
                        deadline = Instant::now() + shared.watchdog();
                    }
                    ChildMessage::Report { measurement } => {
                        deadline = Instant::now() + shared.watchdog();
                        if phase == Phase::Up {
                            healthy = true;
                            let _ = shared.reports.send(Arc::new(measurement));
                        }
                    }
                    ChildMessage::Outcome { seq, outcome } => {
                        let waiting = shared.link().pending.remove(&seq);
                        match waiting {
                            Some(tx) => {
                                let _ = tx.send(outcome);
                            }
                            None => tracing::debug!(seq, "late outcome from the E2 bridge dropped"),
                        }
                    }
                    ChildMessage::E2State { connected: false, detail } => {
                        // The child is alive and says why nothing comes: not a watchdog case.
                        deadline = Instant::now() + shared.watchdog();
                        if phase == Phase::E2Lost {
                            continue;
                        }
                        tracing::warn!(pid, %detail, "E2 bridge: E2 side lost");
                        phase = Phase::E2Lost;
                        restore = None;
                        shared.link().connected = false;
                        shared.update(|s| {
                            s.state = LinkState::Down;
                            s.detail = detail.clone();
                            s.last_error = Some(detail);
                        });
                    }
                    ChildMessage::E2State { connected: true, detail } => {
                        tracing::info!(pid, %detail, "E2 bridge: E2 side back");
                        deadline = Instant::now() + shared.watchdog();
                        if phase != Phase::AwaitHello {
                            restoring = shared.quotas_to_restore();
                            restore = begin_restore(shared, &to_child, &mut phase, &mut restoring).await;
                        }
                    }
                },
            },
            answer = async {
                match restore.as_mut() {
                    Some((_, rx, _)) => rx.await,
                    None => std::future::pending().await,
                }
            } => {
                let seq = restore.as_ref().map_or(0, |r| r.0);
                match answer {
                    Ok(ControlOutcome::Acknowledged) => {
                        tracing::info!(pid, seq, "E2 bridge: last PRB quota re-applied");
                    }
                    Ok(ControlOutcome::Failed { cause }) => {
                        tracing::warn!(pid, seq, %cause, "E2 bridge: re-sent PRB quota refused");
                        shared.update(|s| s.last_error = Some(format!("re-sent PRB quota refused: {cause}")));
                    }
                    Err(_) => break failed("the child dropped the re-sent PRB quota".into()),
                }
                // Many cells: the next cell's last quota, until every cell has its own back.
                restore = begin_restore(shared, &to_child, &mut phase, &mut restoring).await;
            }
            _ = sleep_until_opt(restore_deadline) => {
                break failed(format!(
                    "no answer to the re-sent PRB quota within {} ms",
                    shared.options.control_timeout_ms
                ));
            }
            status = child.wait() => {
                let mut reason = match status {
                    Ok(s) => format!("child {} exited ({s})", pid.unwrap_or(0)),
                    Err(e) => format!("child {} lost: {e}", pid.unwrap_or(0)),
                };
                // Why it died, in its own words (a C assert, a config error).
                if let Some(line) = stderr.last_line().await {
                    reason.push_str(&format!("; its last stderr line: {line}"));
                }
                break failed(reason);
            }
            _ = tokio::time::sleep_until(deadline) => {
                let reason = if phase == Phase::AwaitHello {
                    format!("no hello within {} ms", shared.options.hello_timeout_ms)
                } else {
                    format!("no report for {} ms (watchdog)", shared.watchdog().as_millis())
                };
                break failed(reason);
            }
            _ = stop.changed() => {
                let _ = to_child.send(ParentMessage::Shutdown).await;
                if tokio::time::timeout(Duration::from_secs(1), child.wait()).await.is_err() {
                    tracing::warn!(pid, "E2 bridge child ignored shutdown; killing it");
                }
                break SessionEnd { reason: "shut down".into(), healthy, stopped: true };
            }
        }
    };
    {
        let mut link = shared.link();
        link.connected = false;
        link.to_child = None;
    }
    drop(writer);
    drop(reader);
    reap(&mut child).await;
    SessionEnd { healthy, ..end }
}

/// Sends the next of the last PRB quotas still `restoring` (one per cell) to a child whose
/// E2 side just came up; when none is left, the link is connected.
async fn begin_restore(
    shared: &Arc<Shared>,
    to_child: &mpsc::Sender<ParentMessage>,
    phase: &mut Phase,
    restoring: &mut Vec<(Option<String>, SlicePrbQuotaControl)>,
) -> Option<(u64, oneshot::Receiver<ControlOutcome>, Instant)> {
    let (cell_id, last, seq, rx) = {
        let mut link = shared.link();
        link.to_child = Some(to_child.clone());
        link.connected = false;
        let Some((cell_id, last)) = restoring.pop() else {
            drop(link);
            go_up(shared, phase, None);
            return None;
        };
        let seq = shared.next_seq.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        link.pending.insert(seq, tx);
        (cell_id, last, seq, rx)
    };
    *phase = Phase::Restoring;
    shared.update(|s| s.detail = format!("re-sending the last PRB quota (control {seq})"));
    if to_child
        .send(ParentMessage::Control {
            seq,
            control: last,
            cell_id,
        })
        .await
        .is_err()
    {
        shared.link().pending.remove(&seq);
    }
    Some((seq, rx, Instant::now() + shared.control_timeout()))
}

/// Marks the link connected.
fn go_up(shared: &Shared, phase: &mut Phase, pid: Option<u32>) {
    *phase = Phase::Up;
    shared.link().connected = true;
    shared.update(|s| {
        s.state = LinkState::Connected;
        s.detail = match pid.or(s.child_pid) {
            Some(pid) => format!("child {pid} up"),
            None => "child up".into(),
        };
        s.backoff_ms = shared.options.backoff_initial_ms;
    });
    tracing::info!(
        pid = shared.status.borrow().child_pid,
        "E2 bridge connected"
    );
}

/// Logs the E2 nodes a hello announces, and any disagreement with the configured cell.
fn check_hello(
    shared: &Shared,
    backend: &str,
    cell: &CellConfig,
    slices: &[RrmPolicyMember],
    nodes: &[E2NodeInfo],
) {
    tracing::info!(backend, nodes = nodes.len(), "E2 bridge hello");
    for node in nodes {
        for f in &node.ran_functions {
            tracing::info!(node = %node.node_id, ran_function = f.id, name = %f.name, oid = %f.oid, revision = f.revision, "E2 node RAN function");
        }
    }
    if cell != &shared.spec.cell || slices != shared.spec.slices.as_slice() {
        let e = format!(
            "the child's cell/slices differ from the configured ones ({} PRBs, {} slices vs {} PRBs, {} slices); \
             the configured ones are used",
            cell.n_prb,
            slices.len(),
            shared.spec.cell.n_prb,
            shared.spec.slices.len()
        );
        tracing::error!("{e}");
        shared.update(|s| s.last_error = Some(e));
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Writes parent messages to the child's stdin, one line each.
async fn write_to_child(
    mut rx: mpsc::Receiver<ParentMessage>,
    mut stdin: tokio::process::ChildStdin,
) {
    while let Some(message) = rx.recv().await {
        let line = match encode_line(&message) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("E2 bridge: cannot encode {message:?}: {e}");
                continue;
            }
        };
        if stdin.write_all(line.as_bytes()).await.is_err() || stdin.flush().await.is_err() {
            return;
        }
    }
}

/// Kills the child if it still runs and waits for it (no zombie).
async fn reap(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = child.start_kill();
    if tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .is_err()
    {
        tracing::error!(pid = child.id(), "E2 bridge child not reaped after SIGKILL");
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
