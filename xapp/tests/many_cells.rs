//! Issue 20 acceptance (many cells), in process: an xApp on an emulated gNB of three cells
//! (each its own E2 node, simulated clock x10) and one A1 policy without a cell scope.
//! - it is ENFORCED in all three (each cell got a control carrying the slice's quota);
//! - one cell's reports stop: the policy turns NOT_ENFORCED naming that cell (within the
//!   silence and hold settings), stays so through an A1 change, and is ENFORCED again when
//!   they resume;
//! - a cell added at run time gets the policy (its controls carry the quota) without a new PUT;
//! - cell lists (`sliceSlaResources.cellIdList`, A1TD clause 6.3.4.3): a policy governs only
//!   its cells, overlapping ones for one slice get 409, an unknown cell and tracking areas 400.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::client::{assert_problem, get_json, get_text, metric, statement, wait_ready};
use maestro_api::a1::{policy_path, policy_status_path, SLICE_SLA_TARGET_TYPE};
use maestro_e2sm::rc::{ControlOutcome, RrmPolicyMember, SlicePrbQuotaControl};
use maestro_e2sm::report::CellMeasurement;
use maestro_xapp::config::{E2Config, XappConfig};
use maestro_xapp::controller::LoopTuning;
use maestro_xapp::e2::emulator::{Clock, EmulatedGnb, EmulatorConfig};
use maestro_xapp::e2::{BoxFuture, E2Backend, E2Error, E2NodeInfo, ServedCell};
use maestro_xapp::nr::CellConfig;
use serde_json::Value;
use tokio::sync::broadcast;

/// Wall-clock silence before a cell's policies go NOT_ENFORCED (40 periods at x10).
const SILENCE_MS: u64 = 400;
/// Status hysteresis, report time (100 ms of wall time at x10).
const HOLD_MS: u64 = 1_000;
const CLOCK: Clock = Clock::Simulated { speedup: 10.0 };

/// The emulated gNB, recording every control sent to each cell, and whose cells' reports the
/// test can stop (muted) while their nodes still take controls: a lost KPM subscription.
struct Recording {
    gnb: Arc<EmulatedGnb>,
    controls: Mutex<Vec<(String, SlicePrbQuotaControl)>>,
    muted: Arc<Mutex<Vec<String>>>,
    reports: broadcast::Sender<Arc<CellMeasurement>>,
    _forward: tokio::task::JoinHandle<()>,
}

impl Recording {
    /// Forwards the gNB's reports, but a muted cell's.
    fn new(gnb: Arc<EmulatedGnb>) -> Self {
        let (reports, _) = broadcast::channel(256);
        let muted: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut from_gnb = gnb.subscribe();
        let (out, mute) = (reports.clone(), Arc::clone(&muted));
        let forward = tokio::spawn(async move {
            while let Ok(m) = from_gnb.recv().await {
                let silent = mute
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .contains(&m.cell_id);
                if !silent {
                    let _ = out.send(m);
                }
            }
        });
        Self {
            gnb,
            controls: Mutex::default(),
            muted,
            reports,
            _forward: forward,
        }
    }

    /// Stops (`true`) or resumes `cell`'s reports.
    fn mute(&self, cell: &str, stop: bool) {
        let mut muted = self
            .muted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        muted.retain(|c| c != cell);
        if stop {
            muted.push(cell.to_owned());
        }
    }

    /// The controls sent to `cell` so far.
    fn controls_to(&self, cell: &str) -> Vec<SlicePrbQuotaControl> {
        self.controls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .filter(|(c, _)| c == cell)
            .map(|(_, control)| control.clone())
            .collect()
    }
}

impl E2Backend for Recording {
    fn name(&self) -> &'static str {
        "recording-emulated-gnb"
    }

    fn cell(&self) -> &CellConfig {
        self.gnb.cell()
    }

    fn slices(&self) -> &[RrmPolicyMember] {
        self.gnb.slices()
    }

    fn served_cell(&self, cell_id: &str) -> Option<ServedCell> {
        self.gnb.served_cell(cell_id)
    }

    fn nodes(&self) -> Vec<E2NodeInfo> {
        self.gnb.nodes()
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<CellMeasurement>> {
        self.reports.subscribe()
    }

    fn control(
        &self,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        self.gnb.control(control)
    }

    fn control_cell(
        &self,
        cell_id: &str,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        self.controls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((cell_id.to_owned(), control.clone()));
        self.gnb.control_cell(cell_id, control)
    }
}

fn sd1() -> RrmPolicyMember {
    RrmPolicyMember {
        mcc: "001".into(),
        mnc: "01".into(),
        sst: 1,
        sd: Some(1),
    }
}

/// Whether `control` carries a policy's quota for SD 000001: a group with min = max > 0
/// (slices without a policy get min 0).
fn carries_the_quota(control: &SlicePrbQuotaControl) -> bool {
    control
        .groups
        .iter()
        .any(|g| g.member == sd1() && g.min_prb_ratio == g.max_prb_ratio && g.max_prb_ratio > 0)
}

/// Polls the policy's status until `ok` holds; returns it and how long it took.
async fn wait_for(
    http: &reqwest::Client,
    url: &str,
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> (Value, Duration) {
    let start = Instant::now();
    loop {
        let status: Value = get_json(http, url).await;
        if ok(&status) {
            return (status, start.elapsed());
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never {what}: {status}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn enforced(s: &Value) -> bool {
    s["enforceStatus"] == "ENFORCED" && s.get("notEnforcedCells").is_none()
}

/// A running xApp on a recording emulated gNB of three cells.
struct Setup {
    xapp: maestro_xapp::RunningXapp,
    gnb: Arc<EmulatedGnb>,
    backend: Arc<Recording>,
    http: reqwest::Client,
    base: String,
}

impl Setup {
    async fn start(dir: &std::path::Path) -> Self {
        let emulator = EmulatorConfig {
            clock: CLOCK,
            cell_count: Some(3),
            ..EmulatorConfig::default()
        };
        let gnb = EmulatedGnb::start(emulator.clone()).expect("the emulated gNB starts");
        let backend = Arc::new(Recording::new(Arc::clone(&gnb)));
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let config = XappConfig {
            http_addr: loopback,
            grpc_addr: loopback,
            e2: E2Config::Emulated(emulator),
            control: LoopTuning {
                report_silence_ms: SILENCE_MS,
                status_hold_ms: HOLD_MS,
                ..LoopTuning::default()
            },
            ..XappConfig::loopback_defaults(dir.join("state"))
        };
        let xapp = maestro_xapp::start_with_backend(config, backend.clone())
            .await
            .expect("the xApp starts");
        let base = format!("http://{}", xapp.http_addr);
        let http = reqwest::Client::new();
        wait_ready(&http, &base).await;
        Self {
            xapp,
            gnb,
            backend,
            http,
            base,
        }
    }

    /// PUTs `body` as policy `id`.
    async fn put(&self, id: &str, body: &Value) -> reqwest::Response {
        self.http
            .put(format!(
                "{}{}",
                self.base,
                policy_path(SLICE_SLA_TARGET_TYPE, id)
            ))
            .json(body)
            .send()
            .await
            .expect("PUT a policy")
    }

    fn status_url(&self, id: &str) -> String {
        format!(
            "{}{}",
            self.base,
            policy_status_path(SLICE_SLA_TARGET_TYPE, id)
        )
    }
}

/// A statement for SD 000001 at `kbps` targeting the cells of NR cell identities `ncis`.
fn in_cells(kbps: f64, ncis: &[u64]) -> Value {
    let mut body = statement("000001", kbps);
    let cells: Vec<Value> = ncis
        .iter()
        .map(|n| serde_json::json!({"plmnId": {"mcc": "001", "mnc": "01"}, "cId": {"ncI": n}}))
        .collect();
    body["sliceSlaResources"] = serde_json::json!({ "cellIdList": cells });
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_policy_over_three_cells_follows_each_cell_and_reaches_a_new_one() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let Setup {
        xapp,
        gnb,
        backend,
        http,
        base,
    } = Setup::start(dir.path()).await;
    let cells = gnb.cell_ids();
    assert_eq!(
        cells,
        [
            "001-01-0000000001",
            "001-01-0000000002",
            "001-01-0000000003"
        ]
    );

    // One policy, no cell in its scope (the A1TD allows none): 20 Mbps for SD 000001.
    let url = format!("{base}{}", policy_path(SLICE_SLA_TARGET_TYPE, "slice-1"));
    let status_url = format!(
        "{base}{}",
        policy_status_path(SLICE_SLA_TARGET_TYPE, "slice-1")
    );
    let r = http
        .put(&url)
        .json(&statement("000001", 20000.0))
        .send()
        .await
        .expect("PUT the policy");
    assert_eq!(r.status(), 201);

    // 1. ENFORCED in all three: the status across cells, and each cell took the quota.
    wait_for(&http, &status_url, "ENFORCED in all three", enforced).await;
    for cell in &cells {
        assert!(
            backend.controls_to(cell).iter().any(carries_the_quota),
            "cell {cell} never got the policy's quota"
        );
    }

    // 2. Cell 2's reports stop (its node still takes controls): NOT_ENFORCED naming it,
    //    within silence + hold (+ slack).
    let stopped = &cells[1];
    backend.mute(stopped, true);
    let (down, took) = wait_for(&http, &status_url, "NOT_ENFORCED naming cell 2", |s| {
        s["enforceStatus"] == "NOT_ENFORCED"
    })
    .await;
    assert_eq!(
        down["notEnforcedCells"],
        serde_json::json!([stopped]),
        "the status names the silent cell, and only it: {down}"
    );
    assert_eq!(down["enforceReason"], "OTHER_REASON");
    println!("MANY_CELLS cell 2 silent -> NOT_ENFORCED after {took:?}");
    let bound = Duration::from_millis(SILENCE_MS + HOLD_MS / 10 + 2_000);
    assert!(
        took <= bound,
        "NOT_ENFORCED after {took:?}, more than {bound:?}"
    );

    // An A1 change meanwhile (a policy for the other slice) decides nothing in the silent
    // cell: both policies read NOT_ENFORCED naming it.
    let r = http
        .put(format!(
            "{base}{}",
            policy_path(SLICE_SLA_TARGET_TYPE, "slice-2")
        ))
        .json(&statement("000002", 5000.0))
        .send()
        .await
        .expect("PUT the second policy");
    assert_eq!(r.status(), 201);
    let second_url = format!(
        "{base}{}",
        policy_status_path(SLICE_SLA_TARGET_TYPE, "slice-2")
    );
    let names_cell_2 = |s: &Value| s["notEnforcedCells"] == serde_json::json!([stopped]);
    wait_for(
        &http,
        &second_url,
        "the new policy NOT_ENFORCED in cell 2",
        names_cell_2,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let still: Value = get_json(&http, &status_url).await;
    assert!(
        names_cell_2(&still),
        "an A1 change hid the silent cell: {still}"
    );

    // 3. Its reports resume: ENFORCED again (both policies).
    backend.mute(stopped, false);
    wait_for(&http, &status_url, "ENFORCED again", enforced).await;
    wait_for(&http, &second_url, "the new policy ENFORCED", enforced).await;

    // 4. A cell appears at run time: it gets the policy without a new PUT.
    let added = "001-01-0000000004";
    gnb.add_cell(EmulatorConfig {
        cell_id: added.into(),
        clock: CLOCK,
        seed: 4,
        ..EmulatorConfig::default()
    })
    .expect("the fourth cell starts");
    let start = Instant::now();
    while !backend.controls_to(added).iter().any(carries_the_quota) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the new cell never got the policy's quota: {:?}",
            backend.controls_to(added)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    wait_for(&http, &status_url, "ENFORCED with the new cell", enforced).await;
    // The shard's cell count follows: three at start, four now.
    let text = get_text(&http, &format!("{base}/metrics")).await;
    assert_eq!(
        metric(&text, "maestro_xapp_shard_cells"),
        Some(4.0),
        "{text}"
    );

    xapp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cell_lists_scope_a_policy_and_unknown_cells_or_tracking_areas_are_refused() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let setup = Setup::start(dir.path()).await;
    let cells = setup.gnb.cell_ids();

    // Unknown cell, tracking areas, an E-UTRA cell: 400 problem+json saying which and why.
    let r = setup.put("ghost", &in_cells(5000.0, &[1, 9])).await;
    let problem = assert_problem(r, 400, "ncI 9").await;
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        !detail.contains("ncI 1,") && !detail.contains("ncI 1;"),
        "{detail}"
    );
    let mut ta = statement("000001", 5000.0);
    ta["sliceSlaResources"] =
        serde_json::json!({"taIList": [{"plmnId": {"mcc": "001", "mnc": "01"}, "tac": "000001"}]});
    assert_problem(setup.put("ta", &ta).await, 400, "taIList is not supported").await;
    let mut lte = statement("000001", 5000.0);
    lte["sliceSlaResources"] = serde_json::json!({"cellIdList": [{"plmnId": {"mcc": "001", "mnc": "01"}, "cId": {"ecI": 1}}]});
    assert_problem(setup.put("lte", &lte).await, 400, "E-UTRA").await;

    // A policy for cells 1 and 2: ENFORCED, and cell 3 never gets its quota.
    assert_eq!(
        setup.put("two", &in_cells(10000.0, &[1, 2])).await.status(),
        201
    );
    wait_for(
        &setup.http,
        &setup.status_url("two"),
        "ENFORCED in cells 1, 2",
        enforced,
    )
    .await;
    for cell in &cells[..2] {
        assert!(
            setup
                .backend
                .controls_to(cell)
                .iter()
                .any(carries_the_quota),
            "{cell}"
        );
    }
    assert!(!setup
        .backend
        .controls_to(&cells[2])
        .iter()
        .any(carries_the_quota));

    // Same slice: overlapping cells (or every cell) 409, the other cell 201.
    let conflict = "already governed by policy 'two'";
    assert_problem(
        setup.put("again", &in_cells(10000.0, &[2, 3])).await,
        409,
        conflict,
    )
    .await;
    assert_problem(
        setup.put("all", &statement("000001", 10000.0)).await,
        409,
        conflict,
    )
    .await;
    assert_eq!(
        setup.put("three", &in_cells(4000.0, &[3])).await.status(),
        201
    );
    wait_for(
        &setup.http,
        &setup.status_url("three"),
        "ENFORCED in cell 3",
        enforced,
    )
    .await;
    let start = Instant::now();
    while !setup
        .backend
        .controls_to(&cells[2])
        .iter()
        .any(carries_the_quota)
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "cell 3 never got its policy's quota"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    setup.xapp.shutdown().await;
}
