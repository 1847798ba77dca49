//! The supervised E2 bridge end to end: the xApp runs the emulated gNB inside the real
//! `maestro e2-bridge --node emulator` child, enforces a policy through it, survives the
//! child being SIGKILLed (not ready and NOT_ENFORCED while it is gone, the last quota
//! re-sent to the new child, ready and ENFORCED again), and keeps backing off without a panic
//! when the child prints garbage or exits at once (its last stderr line in the reason); an
//! idle cell (a connected node with no UE, sending nothing) is reported empty, not lost.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use maestro_api::a1::{policy_path, SLICE_SLA_TARGET_TYPE};
use maestro_xapp::config::{E2Config, XappConfig};
use maestro_xapp::e2::bridge::{BridgeOptions, BridgeStatus, LinkState};
use maestro_xapp::e2::emulator::{Clock, CqiSource, EmulatorConfig};
use serde_json::Value;

use common::{metric, statement};

const SLICE: &str = "001-01/sst1-sd000001";

fn config(state: &Path, emulator: EmulatorConfig, options: BridgeOptions) -> XappConfig {
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    XappConfig {
        http_addr: loopback,
        grpc_addr: loopback,
        e2: E2Config::Bridge { emulator, options },
        ..XappConfig::loopback_defaults(state.to_path_buf())
    }
}

fn emulator() -> EmulatorConfig {
    EmulatorConfig {
        clock: Clock::Simulated { speedup: 10.0 },
        ..EmulatorConfig::default()
    }
}

/// An emulated gNB whose UEs all sit at CQI 12 without fading: the closed loop settles, so
/// the last control before a crash is known.
fn steady_emulator(dir: &Path) -> EmulatorConfig {
    let mut csv = String::from("Timestamp,Speed,CQI\n");
    for s in 0..3600 {
        csv.push_str(&format!(
            "2026.11.25_{:02}.{:02}.{:02},0,12\n",
            12 + s / 3600,
            (s / 60) % 60,
            s % 60
        ));
    }
    let path = dir.join("steady.csv");
    std::fs::write(&path, csv).expect("write the CQI trace");
    EmulatorConfig {
        cqi: CqiSource::Trace { path },
        fast_fading: false,
        ..emulator()
    }
}

/// Polls `check` every 50 ms until it yields a value (generous deadline: loaded machines).
async fn until<T, F, Fut>(what: &str, secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn ready(http: &reqwest::Client, base: &str) -> (u16, String) {
    let r = http
        .get(format!("{base}/ric/v1/health/ready"))
        .send()
        .await
        .expect("GET /ric/v1/health/ready");
    (r.status().as_u16(), r.text().await.expect("readiness body"))
}

/// Starts the xApp on the bridged `emulator` and waits until it is ready; returns it, its
/// link status, its base URL and a client.
async fn start_ready(
    state: &Path,
    emulator: EmulatorConfig,
    options: BridgeOptions,
) -> (
    maestro_xapp::RunningXapp,
    tokio::sync::watch::Receiver<BridgeStatus>,
    String,
    reqwest::Client,
) {
    let xapp = maestro_xapp::start(config(state, emulator, options))
        .await
        .expect("the xApp starts");
    let link = xapp.e2_bridge().expect("a bridge backend");
    let base = format!("http://{}", xapp.http_addr);
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, body) = ready(&http, &base).await;
        if code == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "never ready: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (xapp, link, base, http)
}

async fn enforce_status(http: &reqwest::Client, base: &str, id: &str) -> Value {
    let url = format!("{base}{}/status", policy_path(SLICE_SLA_TARGET_TYPE, id));
    common::get_json(http, &url).await
}

/// PUTs a new policy `id` of slice SD 000001 at `kbps` (201) and waits until it is ENFORCED.
async fn put_until_enforced(http: &reqwest::Client, base: &str, id: &str, kbps: f64) {
    let url = format!("{base}{}", policy_path(SLICE_SLA_TARGET_TYPE, id));
    let r = http
        .put(&url)
        .json(&statement("000001", kbps))
        .send()
        .await
        .expect("PUT the policy");
    assert_eq!(r.status(), 201);
    until("ENFORCED", 60, || async {
        (enforce_status(http, base, id).await["enforceStatus"] == "ENFORCED").then_some(())
    })
    .await;
}

/// The controls a child wrote to its journal, as (pid, control) in arrival order.
fn journal(path: &Path) -> Vec<(u64, Value)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| (v["pid"].as_u64().unwrap_or(0), v["control"].clone()))
        .collect()
}

fn max_ratio_of_slice1(control: &Value) -> Option<u64> {
    control["groups"]
        .as_array()?
        .iter()
        .find(|g| g["member"]["sd"] == 1)
        .and_then(|g| g["max_prb_ratio"].as_u64())
}

fn is_running(pid: u32) -> bool {
    // A reaped child has no /proc entry; a zombie would show state Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_enforces_survives_sigkill_and_resends_the_last_quota() {
    let dir = tempfile::tempdir().unwrap();
    let journal_path: PathBuf = dir.path().join("controls.jsonl");
    let options = BridgeOptions {
        program: Some(PathBuf::from(env!("CARGO_BIN_EXE_maestro"))),
        extra_args: vec!["--journal".into(), journal_path.display().to_string()],
        // Long enough to observe the outage from outside, short enough for a test.
        backoff_initial_ms: 3_000,
        ..BridgeOptions::default()
    };
    let emulator = steady_emulator(dir.path());
    let (xapp, link, base, http) = start_ready(&dir.path().join("state"), emulator, options).await;
    // No policy, no control: a node that cannot take one (OAI's RC handler aborts on style 2,
    // docs/TESTBED.md F4) is not sent one it never needed.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        journal(&journal_path),
        Vec::new(),
        "a control before any policy"
    );

    // A1 PUT -> PRB quota control through the child -> throughput follows the target.
    put_until_enforced(&http, &base, "p1", 20_000.0).await;
    let measured = until("throughput at target", 60, || async {
        let text = common::get_text(&http, &format!("{base}/metrics")).await;
        common::slice_metric(&text, "maestro_slice_dl_throughput_bps", SLICE)
            .filter(|bps| (bps - 20e6).abs() <= 0.10 * 20e6)
    })
    .await;
    let text = common::get_text(&http, &format!("{base}/metrics")).await;
    assert_eq!(metric(&text, "maestro_xapp_e2_connected"), Some(1.0));
    assert_eq!(
        metric(&text, "maestro_xapp_e2_bridge_restarts_total"),
        Some(0.0)
    );
    let first_pid = link.borrow().child_pid.expect("child pid");
    let sent = journal(&journal_path);
    let quota = sent.last().and_then(|(_, c)| max_ratio_of_slice1(c));
    assert!(
        sent.iter().all(|(pid, _)| *pid == u64::from(first_pid)) && quota.is_some_and(|q| q < 100),
        "the child must have received a limiting quota for slice 1: {sent:?}"
    );

    // Wait for the closed loop to settle (no new control for 2 s), so the last control the
    // child received is the one the xApp will re-send.
    let settled_count = until("the loop to settle", 120, || async {
        let before = journal(&journal_path).len();
        tokio::time::sleep(Duration::from_secs(2)).await;
        (journal(&journal_path).len() == before).then_some(before)
    })
    .await;
    let last_before_kill = journal(&journal_path)[settled_count - 1].1.clone();

    let killed = std::process::Command::new("kill")
        .args(["-KILL", &first_pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    // Outage: not ready with the reason, policy NOT_ENFORCED, metrics say so.
    let (code, body) = until("ready 503", 30, || async {
        let (code, body) = ready(&http, &base).await;
        (code == 503).then_some((code, body))
    })
    .await;
    assert_eq!(code, 503);
    assert!(body.contains("E2 bridge restarting"), "{body}");
    assert!(body.contains("exited"), "{body}");
    let down = until("NOT_ENFORCED", 30, || async {
        let s = enforce_status(&http, &base, "p1").await;
        (s["enforceStatus"] == "NOT_ENFORCED").then_some(s)
    })
    .await;
    assert_eq!(down["enforceReason"], "OTHER_REASON");
    let text = common::get_text(&http, &format!("{base}/metrics")).await;
    assert_eq!(metric(&text, "maestro_xapp_e2_connected"), Some(0.0));
    assert_eq!(
        metric(&text, "maestro_xapp_e2_bridge_restarts_total"),
        Some(1.0)
    );

    // Recovery: a new child, the last quota re-sent first, ready and ENFORCED again.
    until("ready again", 60, || async {
        (ready(&http, &base).await.0 == 200).then_some(())
    })
    .await;
    until("ENFORCED again", 60, || async {
        (enforce_status(&http, &base, "p1").await["enforceStatus"] == "ENFORCED").then_some(())
    })
    .await;
    let status: BridgeStatus = link.borrow().clone();
    assert_eq!(status.state, LinkState::Connected);
    assert_eq!(status.restarts, 1);
    let second_pid = status.child_pid.expect("new child pid");
    assert_ne!(second_pid, first_pid);
    assert!(!is_running(first_pid), "the killed child was not reaped");
    let after = journal(&journal_path);
    let first_after_restart = after
        .iter()
        .find(|(pid, _)| *pid == u64::from(second_pid))
        .map(|(_, c)| c.clone())
        .expect("the new child received no control");
    assert_eq!(
        first_after_restart, last_before_kill,
        "the new child's first control must be the last quota the old one had"
    );
    let text = common::get_text(&http, &format!("{base}/metrics")).await;
    assert_eq!(metric(&text, "maestro_xapp_e2_connected"), Some(1.0));
    println!(
        "BRIDGE: slice 1 at {:.1} Mbps (target 20); child {first_pid} SIGKILLed, child \
         {second_pid} started after {} ms backoff and got the last quota (max PRB ratio {:?} %) \
         first",
        measured / 1e6,
        3_000,
        max_ratio_of_slice1(&last_before_kill)
    );

    // Shutdown stops and reaps the child.
    xapp.shutdown().await;
    until("the child to be reaped", 30, || async {
        (!is_running(second_pid)).then_some(())
    })
    .await;
}

/// The controls a child wrote to its journal, as (pid, cell id) in arrival order.
fn journal_cells(path: &Path) -> Vec<(u64, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| {
            let cell = v["cell_id"].as_str().unwrap_or("-").to_owned();
            (v["pid"].as_u64().unwrap_or(0), cell)
        })
        .collect()
}

/// `family`'s value for `slice` in `cell` (Prometheus text).
fn cell_metric(text: &str, family: &str, cell: &str, slice: &str) -> Option<f64> {
    let labels = format!("{family}{{cell=\"{cell}\",slice=\"{slice}\"}}");
    text.lines()
        .find_map(|l| l.strip_prefix(&labels))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_carries_many_cells_and_resends_every_cells_quota() {
    let dir = tempfile::tempdir().unwrap();
    let journal_path: PathBuf = dir.path().join("controls.jsonl");
    let options = BridgeOptions {
        program: Some(PathBuf::from(env!("CARGO_BIN_EXE_maestro"))),
        extra_args: vec!["--journal".into(), journal_path.display().to_string()],
        backoff_initial_ms: 1_000,
        ..BridgeOptions::default()
    };
    let emulator = EmulatorConfig {
        cell_count: Some(3),
        ..steady_emulator(dir.path())
    };
    let (xapp, link, base, http) = start_ready(&dir.path().join("state"), emulator, options).await;
    let cells = [
        "001-01-0000000001",
        "001-01-0000000002",
        "001-01-0000000003",
    ];

    // One policy without cells: every cell gets its part, each through its own control
    // (ENFORCED only when every cell enforces it).
    put_until_enforced(&http, &base, "p1", 30_000.0).await;
    let text = until("every cell's target", 60, || async {
        let text = common::get_text(&http, &format!("{base}/metrics")).await;
        cells
            .iter()
            .all(|c| cell_metric(&text, "maestro_slice_target_dl_bps", c, SLICE).is_some())
            .then_some(text)
    })
    .await;
    let parts: Vec<f64> = cells
        .iter()
        .filter_map(|c| cell_metric(&text, "maestro_slice_target_dl_bps", c, SLICE))
        .collect();
    assert!(
        (parts.iter().sum::<f64>() - 30e6).abs() < 1e3,
        "the cells' parts add up to the target: {parts:?}"
    );
    let first_pid = link.borrow().child_pid.expect("child pid");
    let sent = journal_cells(&journal_path);
    for c in cells {
        assert!(
            sent.iter().any(|(_, cell)| cell == c),
            "no control named cell {c}: {sent:?}"
        );
    }

    // SIGKILL: the new child gets every cell's last quota, each to its own cell.
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &first_pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let second_pid = until("a new child", 60, || async {
        link.borrow()
            .child_pid
            .filter(|&pid| pid != first_pid && link.borrow().state == LinkState::Connected)
    })
    .await;
    let resent: Vec<String> = until("the quotas re-sent", 30, || async {
        let cells: Vec<String> = journal_cells(&journal_path)
            .into_iter()
            .filter(|(pid, _)| *pid == u64::from(second_pid))
            .map(|(_, cell)| cell)
            .collect();
        (cells.len() >= 3).then_some(cells)
    })
    .await;
    let mut first_three = resent[..3].to_vec();
    first_three.sort();
    assert_eq!(
        first_three, cells,
        "each cell's last quota, once each, first"
    );
    until("ENFORCED again", 60, || async {
        (enforce_status(&http, &base, "p1").await["enforceStatus"] == "ENFORCED").then_some(())
    })
    .await;
    xapp.shutdown().await;
}

/// Runs the xApp on a child that keeps failing; returns the backoffs seen, the ready body
/// and the status after at least `restarts` restarts.
async fn failing_child(
    program: &str,
    args: &[&str],
    restarts: u64,
) -> (Vec<(u64, u64)>, String, BridgeStatus) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let options = BridgeOptions {
        program: Some(PathBuf::from(program)),
        args: Some(args.iter().map(|a| a.to_string()).collect()),
        backoff_initial_ms: 100,
        backoff_max_ms: 800,
        hello_timeout_ms: 2_000,
        ..BridgeOptions::default()
    };
    let xapp = maestro_xapp::start(config(&dir.path().join("state"), emulator(), options))
        .await
        .expect("the xApp starts");
    let mut link = xapp.e2_bridge().expect("a bridge backend");
    let base = format!("http://{}", xapp.http_addr);
    let http = reqwest::Client::new();
    let mut backoffs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s = link.borrow_and_update().clone();
        if s.state == LinkState::Restarting && backoffs.last() != Some(&(s.restarts, s.backoff_ms))
        {
            backoffs.push((s.restarts, s.backoff_ms));
        }
        if s.restarts >= restarts {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {} restarts: {s:?}",
            s.restarts
        );
        let _ = tokio::time::timeout(Duration::from_secs(5), link.changed()).await;
    }
    let (code, body) = ready(&http, &base).await;
    assert_eq!(code, 503, "{body}");
    common::assert_alive(&http, &base).await;
    let text = common::get_text(&http, &format!("{base}/metrics")).await;
    assert_eq!(metric(&text, "maestro_xapp_e2_connected"), Some(0.0));
    let counted = metric(&text, "maestro_xapp_e2_bridge_restarts_total").unwrap_or(0.0);
    assert!(
        counted >= (restarts - 1) as f64,
        "restarts counted: {counted}"
    );
    let status = link.borrow().clone();
    xapp.shutdown().await;
    (backoffs, body, status)
}

/// Every restart observed waited 100 ms doubled per failed start, capped at 800 ms
/// (a loaded machine may miss a quick restart between two looks, never a wrong delay).
fn assert_backoff_grows(backoffs: &[(u64, u64)]) {
    for &(restart, backoff) in backoffs {
        let expected = (100u64 << (restart - 1).min(10)).min(800);
        assert_eq!(backoff, expected, "restart {restart}: {backoffs:?}");
    }
    let mut distinct: Vec<u64> = backoffs.iter().map(|(_, b)| *b).collect();
    distinct.dedup();
    assert!(distinct.len() >= 2, "no growth seen: {backoffs:?}");
    assert_eq!(distinct.last(), Some(&800), "{backoffs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_that_prints_garbage_is_restarted_with_growing_backoff() {
    let (backoffs, body, status) = failing_child(
        "/bin/sh",
        &[
            "-c",
            "echo 'this is not json'; echo '{\"kind\":\"hello\"}'; exit 3",
        ],
        5,
    )
    .await;
    assert_backoff_grows(&backoffs);
    assert!(body.contains("E2 bridge restarting"), "{body}");
    assert!(body.contains("exit status: 3"), "{body}");
    assert!(status.restarts >= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_child_that_exits_at_once_is_restarted_with_growing_backoff() {
    // The real child with a config file that does not exist: exits 1 at once.
    let (backoffs, body, _) = failing_child(
        env!("CARGO_BIN_EXE_maestro"),
        &[
            "e2-bridge",
            "--node",
            "emulator",
            "--config",
            "/nonexistent/e2.json",
        ],
        5,
    )
    .await;
    assert_backoff_grows(&backoffs);
    assert!(body.contains("exit status: 1"), "{body}");
    // Why, in the child's own words (its one-line error).
    assert!(body.contains("its last stderr line: "), "{body}");
    assert!(body.contains("/nonexistent/e2.json"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_child_is_restarted_after_the_hello_timeout() {
    // Says nothing at all: the hello timeout (2 s here) restarts it.
    let (_, body, status) = failing_child("/bin/sh", &["-c", "sleep 600"], 2).await;
    assert!(body.contains("no hello within 2000 ms"), "{body}");
    assert!(status.restarts >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_that_aborts_leaves_its_last_stderr_line_in_the_ready_reason() {
    // What FlexRIC's xApp library printed before it aborted the child on a real OAI gNB's
    // MAC stats (docs/TESTBED.md, finding F1): the reason must say it, not only SIGABRT.
    let assert_line = "maestro: sqlite3_wrapper.c:322: insert_db: Assertion \
                       \"rc == SQLITE_OK\" failed.";
    let script = format!("echo 'INFO starting' >&2; echo '{assert_line}' >&2; kill -ABRT $$");
    let (_, body, status) = failing_child("/bin/sh", &["-c", &script], 2).await;
    let problem: Value = serde_json::from_str(&body).expect("problem+json");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("SIGABRT"), "{body}");
    assert!(
        detail.contains(&format!("its last stderr line: {assert_line}")),
        "{body}"
    );
    assert!(status.restarts >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_node_with_no_ue_is_idle_not_lost() {
    // OAI's MAC SM sends nothing while no UE is attached (docs/TESTBED.md, finding F5): the
    // emulated node does the same with `silent_without_ues` and no UE. The child, whose node
    // is still connected, reports the cell empty: the link stays up through several watchdog
    // periods (3 s here) with no restart, and the cell's slices read zero.
    let dir = tempfile::tempdir().unwrap();
    let mut silent = emulator();
    for s in &mut silent.slices {
        s.ues = 0;
    }
    silent.silent_without_ues = true;
    let options = BridgeOptions {
        program: Some(PathBuf::from(env!("CARGO_BIN_EXE_maestro"))),
        ..BridgeOptions::default()
    };
    let (xapp, mut link, base, http) =
        start_ready(&dir.path().join("state"), silent, options).await;
    let held = Instant::now();
    while held.elapsed() < Duration::from_secs(8) {
        let s = link.borrow_and_update().clone();
        assert_eq!(s.state, LinkState::Connected, "{s:?}");
        assert_eq!(s.restarts, 0, "{s:?}");
        let _ = tokio::time::timeout(Duration::from_millis(500), link.changed()).await;
    }
    let (code, body) = ready(&http, &base).await;
    assert_eq!(code, 200, "{body}");
    let text = common::get_text(&http, &format!("{base}/metrics")).await;
    assert_eq!(metric(&text, "maestro_xapp_e2_connected"), Some(1.0));
    assert_eq!(
        metric(&text, "maestro_xapp_e2_bridge_restarts_total").unwrap_or(0.0),
        0.0
    );
    let used = text
        .lines()
        .find(|l| l.starts_with("maestro_slice_prb_used{") && l.contains(SLICE))
        .unwrap_or_else(|| panic!("no PRB use of {SLICE} on /metrics:\n{text}"));
    assert!(used.ends_with(" 0"), "{used}");
    xapp.shutdown().await;
}
