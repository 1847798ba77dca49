//! The one xApp every benchmark measures: started in this process on loopback, on its own
//! tokio runtime whose threads are named [`XAPP_THREAD`] (so its CPU is told apart from the
//! load generator's), with an emulated gNB that timestamps every E2 report as it leaves the
//! node (so a KPI subscriber can measure report -> receipt) and every E2 control as it arrives
//! (so an A1 client can measure PUT -> control). With many cells ([`Harness`]) the stamps
//! name their cell: the reports of the cells a benchmark watches ([`CellStamps`]), every
//! control ([`XappUnderLoad::cell_controls`]); and the gNB may run on a runtime of its own
//! (threads [`GNB_THREAD`]), so the xApp's threads' CPU is the xApp's alone.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use maestro_e2sm::rc::{ControlOutcome, RrmPolicyMember, SlicePrbQuotaControl};
use maestro_e2sm::report::CellMeasurement;
use maestro_xapp::a1::limit::A1Limits;
use maestro_xapp::config::XappConfig;
use maestro_xapp::e2::emulator::{Clock, EmulatedGnb, EmulatedSlice, EmulatorConfig};
use maestro_xapp::e2::{BoxFuture, E2Backend, E2Error, E2NodeInfo, ServedCell};
use maestro_xapp::nr::CellConfig;
use serde_json::json;
use tokio::sync::broadcast;

use crate::stats::XAPP_THREAD;

/// Reports whose send time is remembered (a subscriber later than this many periods gets no
/// latency sample for that report).
const STAMPS: usize = 4096;

/// When each E2 report left the emulated gNB, by sequence number.
#[derive(Debug)]
pub struct ReportStamps {
    ring: Mutex<Vec<(u64, Option<Instant>)>>,
    /// Reports the gNB has sent so far.
    pub sent: AtomicU64,
    /// Sequence number of the last report sent.
    pub last_sequence: AtomicU64,
}

impl Default for ReportStamps {
    fn default() -> Self {
        Self {
            ring: Mutex::new(vec![(0, None); STAMPS]),
            sent: AtomicU64::new(0),
            last_sequence: AtomicU64::new(0),
        }
    }
}

impl ReportStamps {
    fn stamp(&self, sequence: u64, at: Instant) {
        if let Ok(mut ring) = self.ring.lock() {
            ring[(sequence % STAMPS as u64) as usize] = (sequence, Some(at));
        }
        self.last_sequence.store(sequence, Ordering::Release);
        self.sent.fetch_add(1, Ordering::AcqRel);
    }

    /// When report `sequence` left the gNB, if still remembered.
    pub fn sent_at(&self, sequence: u64) -> Option<Instant> {
        let ring = self.ring.lock().ok()?;
        match ring[(sequence % STAMPS as u64) as usize] {
            (s, at) if s == sequence => at,
            _ => None,
        }
    }
}

/// An E2 control and when it reached the emulated gNB.
pub type StampedControl = (Instant, SlicePrbQuotaControl);

/// An E2 control, when it reached the emulated gNB, and the cell it was for.
pub type CellControl = (Instant, String, SlicePrbQuotaControl);

/// Name prefix of the threads of the emulated gNB's own runtime (with [`Harness::gnb_runtime`]).
pub const GNB_THREAD: &str = "maestro-gnb";

/// Reports per watched cell whose send time is remembered.
const CELL_STAMPS: usize = 1024;

/// One cell's send times: (sequence, when) by sequence modulo the ring's length.
type StampRing = Mutex<Vec<(u64, Option<Instant>)>>;

/// When each report of the watched cells left the emulated gNB, by cell and sequence number.
#[derive(Debug, Default)]
pub struct CellStamps {
    cells: HashMap<String, StampRing>,
}

impl CellStamps {
    /// Stamps for the reports of `cells`.
    pub fn watching(cells: &[String]) -> Self {
        Self {
            cells: cells
                .iter()
                .map(|c| (c.clone(), Mutex::new(vec![(0, None); CELL_STAMPS])))
                .collect(),
        }
    }

    fn stamp(&self, cell_id: &str, sequence: u64, at: Instant) {
        if let Some(Ok(mut ring)) = self.cells.get(cell_id).map(Mutex::lock) {
            ring[(sequence % CELL_STAMPS as u64) as usize] = (sequence, Some(at));
        }
    }

    /// When report `sequence` of `cell_id` left the gNB, if watched and still remembered.
    pub fn sent_at(&self, cell_id: &str, sequence: u64) -> Option<Instant> {
        let ring = self.cells.get(cell_id)?.lock().ok()?;
        match ring[(sequence % CELL_STAMPS as u64) as usize] {
            (s, at) if s == sequence => at,
            _ => None,
        }
    }
}

/// How the benchmark xApp is set up beyond its emulated gNB.
#[derive(Debug, Clone, Default)]
pub struct Harness {
    /// The cells whose reports are stamped by cell ([`XappUnderLoad::cell_stamps`]).
    pub watched: Vec<String>,
    /// Run the emulated gNB on a runtime of its own (threads [`GNB_THREAD`]).
    pub gnb_runtime: bool,
    /// Name of the xApp runtime's threads [default: [`XAPP_THREAD`]]; at most 15 bytes.
    pub thread_name: Option<String>,
}

/// Controls a subscriber of [`XappUnderLoad::controls`] may fall behind by.
const CONTROLS: usize = 1024;

/// The emulated gNB with a relay that stamps each report as it is sent, and each control as
/// it arrives (sent on only while someone listens).
struct StampedGnb {
    inner: Arc<EmulatedGnb>,
    out: broadcast::Sender<Arc<CellMeasurement>>,
    controls: broadcast::Sender<StampedControl>,
    cell_controls: broadcast::Sender<CellControl>,
}

impl StampedGnb {
    fn stamp_control(&self, cell_id: Option<&str>, control: &SlicePrbQuotaControl) {
        let at = Instant::now();
        if self.controls.receiver_count() > 0 {
            let _ = self.controls.send((at, control.clone()));
        }
        if self.cell_controls.receiver_count() > 0 {
            let cell = cell_id.map_or_else(|| self.inner.cell_ids().swap_remove(0), str::to_owned);
            let _ = self.cell_controls.send((at, cell, control.clone()));
        }
    }
}

impl E2Backend for StampedGnb {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn cell(&self) -> &CellConfig {
        self.inner.cell()
    }
    fn slices(&self) -> &[RrmPolicyMember] {
        self.inner.slices()
    }
    fn served_cell(&self, cell_id: &str) -> Option<ServedCell> {
        self.inner.served_cell(cell_id)
    }
    fn cell_ids(&self) -> Vec<String> {
        self.inner.cell_ids()
    }
    fn nodes(&self) -> Vec<E2NodeInfo> {
        self.inner.nodes()
    }
    fn subscribe(&self) -> broadcast::Receiver<Arc<CellMeasurement>> {
        self.out.subscribe()
    }
    fn control(
        &self,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        self.stamp_control(None, &control);
        self.inner.control(control)
    }
    fn control_cell(
        &self,
        cell_id: &str,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        self.stamp_control(Some(cell_id), &control);
        self.inner.control_cell(cell_id, control)
    }
}

/// What the load benchmarks' xApp runs with.
#[derive(Debug, Clone)]
pub struct CellLoad {
    /// UEs in the cell, spread evenly over its slices.
    pub ues: u32,
    /// Slices of the cell (S-NSSAI SST 1, SD 1..=slices, PLMN 001-01): one A1 policy each.
    pub slices: u32,
    /// E2 report period, ms.
    pub period_ms: u64,
}

impl CellLoad {
    /// The emulated cell of this load: real-time clock, the UEs spread evenly over
    /// [`bench_slices`].
    pub fn emulator(&self) -> EmulatorConfig {
        let n = self.slices.max(1);
        EmulatorConfig {
            period_ms: self.period_ms,
            clock: Clock::Realtime,
            slices: bench_slices(n)
                .into_iter()
                .zip(0..)
                .map(|(member, i)| EmulatedSlice {
                    member,
                    ues: self.ues / n + u32::from(i < self.ues % n),
                })
                .collect(),
            ..EmulatorConfig::default()
        }
    }
}

/// Slices SST 1, SD 1..=n of PLMN 001-01 (TS 23.003 clause 28.4.2: SD is 24 bits); the
/// built-in emulated gNB serves SD 1 and 2.
pub fn bench_slices(n: u32) -> Vec<RrmPolicyMember> {
    (1..=n)
        .map(|sd| RrmPolicyMember {
            mcc: "001".into(),
            mnc: "01".into(),
            sst: 1,
            sd: Some(sd),
        })
        .collect()
}

/// An `ORAN_SliceSLATarget_1.0.0` policy for `slice`: `kbps` guaranteed and at most.
pub fn policy_body(slice: &RrmPolicyMember, kbps: f64) -> serde_json::Value {
    json!({
        "scope": {"sliceId": {
            "sst": slice.sst,
            "sd": format!("{:06x}", slice.sd.unwrap_or(0)),
            "plmnId": {"mcc": slice.mcc, "mnc": slice.mnc}
        }},
        "sliceSlaObjectives": {"guaDlThptPerSlice": kbps, "maxDlThptPerSlice": kbps}
    })
}

/// An xApp running in this process for a benchmark; stopped by [`XappUnderLoad::stop`].
pub struct XappUnderLoad {
    runtime: Option<tokio::runtime::Runtime>,
    /// The emulated gNB's own runtime, when it has one.
    gnb_runtime: Option<tokio::runtime::Runtime>,
    xapp: Option<maestro_xapp::RunningXapp>,
    /// `http://127.0.0.1:PORT` of A1-P.
    pub http: String,
    /// `http://127.0.0.1:PORT` of the KPI stream.
    pub grpc: String,
    /// Send times of the gNB's reports.
    pub stamps: Arc<ReportStamps>,
    /// Send times of the watched cells' reports.
    pub cell_stamps: Arc<CellStamps>,
    /// The emulated cells, in the order they started.
    pub cell_ids: Vec<String>,
    /// The slices of the emulated cell (the A1 load's policies scope one each).
    pub slices: Vec<RrmPolicyMember>,
    controls: broadcast::Sender<StampedControl>,
    cell_controls: broadcast::Sender<CellControl>,
    temporary: Option<PathBuf>,
}

impl XappUnderLoad {
    /// Starts the xApp on an emulated gNB of `emulator` with A1 write limits far above any
    /// rate a benchmark sends (the default 200 writes/s per client would answer 429 to the
    /// load itself), its store in `data_dir` or a fresh temporary directory.
    pub async fn start(
        emulator: EmulatorConfig,
        data_dir: Option<PathBuf>,
    ) -> anyhow::Result<Self> {
        Self::start_with(emulator, data_dir, Harness::default()).await
    }

    /// [`XappUnderLoad::start`] set up as `harness` says.
    pub async fn start_with(
        emulator: EmulatorConfig,
        data_dir: Option<PathBuf>,
        harness: Harness,
    ) -> anyhow::Result<Self> {
        let (state_dir, temporary) = match data_dir {
            Some(d) => (d, None),
            None => {
                // Unique per xApp: a benchmark may run several in one process.
                static STARTED: AtomicU64 = AtomicU64::new(0);
                let d = std::env::temp_dir().join(format!(
                    "maestro-bench-{}-{}",
                    std::process::id(),
                    STARTED.fetch_add(1, Ordering::Relaxed)
                ));
                (d.clone(), Some(d))
            }
        };
        let cell_count = emulator.cell_configs().map_or(1, |c| c.len());
        let slices: Vec<RrmPolicyMember> =
            emulator.slices.iter().map(|s| s.member.clone()).collect();
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        // `e2` is left as it is: the xApp is handed its backend below.
        let config = XappConfig {
            http_addr: loopback,
            grpc_addr: loopback,
            a1: A1Limits {
                writes_per_second: 1e9,
                write_burst: u32::MAX,
                ..A1Limits::default()
            },
            ..XappConfig::loopback_defaults(state_dir)
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name(harness.thread_name.as_deref().unwrap_or(XAPP_THREAD))
            // Threads that end take their CPU time with them: keep them for the whole run.
            .thread_keep_alive(Duration::from_secs(24 * 3600))
            .build()
            .context("cannot start the xApp's runtime")?;
        let gnb_runtime = if harness.gnb_runtime {
            Some(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .thread_name(GNB_THREAD)
                    .build()
                    .context("cannot start the emulated gNB's runtime")?,
            )
        } else {
            None
        };
        let stamps = Arc::new(ReportStamps::default());
        let cell_stamps = Arc::new(CellStamps::watching(&harness.watched));
        let relay_stamps = (Arc::clone(&stamps), Arc::clone(&cell_stamps));
        let (controls, _) = broadcast::channel(CONTROLS);
        // Every cell's control after one A1 change may arrive at once.
        let (cell_controls, _) = broadcast::channel(CONTROLS.max(cell_count * 4));
        let (gnb_controls, gnb_cell_controls) = (controls.clone(), cell_controls.clone());
        // Every cell may report in the same instant.
        let relay_capacity = 256.max(cell_count * 4);
        let start_gnb = async move {
            let inner = EmulatedGnb::start(emulator)?;
            let (out, _) = broadcast::channel(relay_capacity);
            let mut from_node = inner.subscribe();
            let relay = out.clone();
            tokio::spawn(async move {
                loop {
                    match from_node.recv().await {
                        Ok(m) => {
                            let at = Instant::now();
                            relay_stamps.0.stamp(m.sequence, at);
                            relay_stamps.1.stamp(&m.cell_id, m.sequence, at);
                            let _ = relay.send(m);
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
            anyhow::Ok(Arc::new(StampedGnb {
                inner,
                out,
                controls: gnb_controls,
                cell_controls: gnb_cell_controls,
            }))
        };
        let backend = match &gnb_runtime {
            Some(rt) => rt.spawn(start_gnb).await,
            None => runtime.spawn(start_gnb).await,
        }
        .context("the emulated gNB's start task failed")
        .and_then(|r| r.context("the emulated gNB did not start"));
        let cell_ids = match &backend {
            Ok(b) => b.inner.cell_ids(),
            Err(_) => Vec::new(),
        };
        let started = match backend {
            Ok(backend) => runtime
                .spawn(async move {
                    anyhow::Ok(maestro_xapp::start_with_backend(config, backend).await?)
                })
                .await
                .context("the xApp's start task failed")
                .and_then(|r| r),
            Err(e) => Err(e),
        };
        let xapp = match started {
            Ok(x) => x,
            Err(e) => {
                runtime.shutdown_background();
                if let Some(rt) = gnb_runtime {
                    rt.shutdown_background();
                }
                return Err(e.context("the benchmark xApp did not start"));
            }
        };
        let http = format!("http://{}", xapp.http_addr);
        let grpc = format!("http://{}", xapp.grpc_addr);
        let this = Self {
            runtime: Some(runtime),
            gnb_runtime,
            xapp: Some(xapp),
            http,
            grpc,
            stamps,
            cell_stamps,
            cell_ids,
            slices,
            controls,
            cell_controls,
            temporary,
        };
        this.wait_ready().await?;
        Ok(this)
    }

    /// Every E2 control from now on, stamped with its arrival at the gNB.
    pub fn controls(&self) -> broadcast::Receiver<StampedControl> {
        self.controls.subscribe()
    }

    /// Every E2 control from now on, stamped with its arrival at the gNB, with its cell.
    pub fn cell_controls(&self) -> broadcast::Receiver<CellControl> {
        self.cell_controls.subscribe()
    }

    /// Waits for the first E2 report (the health endpoint's readiness), so the controller has
    /// CQIs to plan with.
    async fn wait_ready(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = client
                .get(format!("{}/ric/v1/health/ready", self.http))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the benchmark xApp did not become ready in 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Shuts the xApp down and removes its temporary store.
    pub async fn stop(mut self) {
        if let (Some(rt), Some(xapp)) = (&self.runtime, self.xapp.take()) {
            let _ = rt.spawn(xapp.shutdown()).await;
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
        if let Some(rt) = self.gnb_runtime.take() {
            rt.shutdown_background();
        }
        if let Some(d) = self.temporary.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

impl Drop for XappUnderLoad {
    fn drop(&mut self) {
        // A runtime may not be dropped from async code; this one is let go in the background.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
        if let Some(rt) = self.gnb_runtime.take() {
            rt.shutdown_background();
        }
        if let Some(d) = self.temporary.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
