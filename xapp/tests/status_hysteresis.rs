//! Issue acceptance (policy status that does not flap): a cell whose CQI flips around a
//! policy's threshold in runs of 1-4 s, as FlexRIC's emulated agent's random MAC statistics
//! do, drives the real xApp (A1-P PUT with a `notificationDestination`, the control loop, the
//! status notifications POSTed to a real HTTP receiver). With the default hysteresis
//! (`status_hold_ms`) the owner hears of the first status and of the one lasting change only;
//! with the hold at 0, of every flip.
//!
//! The E2 side is a test backend whose reports the test pushes (report time 100 ms apart), and
//! the hysteresis runs on the reports' time: nothing here depends on the wall clock.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use maestro_api::a1::{policy_path, policy_status_path, SLICE_SLA_TARGET_TYPE};
use maestro_e2sm::rc::{ControlOutcome, RrmPolicyMember, SlicePrbQuotaControl};
use maestro_e2sm::report::{CellMeasurement, SliceMeasurement, UeMeasurement};
use maestro_xapp::config::XappConfig;
use maestro_xapp::controller::LoopTuning;
use maestro_xapp::e2::{BoxFuture, E2Backend, E2Error};
use maestro_xapp::nr::{self, CellConfig};
use serde_json::{json, Value};
use tokio::sync::broadcast;

use common::client::{get_json, get_text, statement};

/// CQI of every UE in a good report and in a bad one; the policy's target lies between what
/// the whole cell carries at each.
const GOOD_CQI: u8 = 12;
const BAD_CQI: u8 = 6;
const PERIOD_MS: u64 = 100;

/// An E2 node whose reports the test pushes; every control is acknowledged.
struct NoisyGnb {
    cell: CellConfig,
    slices: Vec<RrmPolicyMember>,
    reports: broadcast::Sender<Arc<CellMeasurement>>,
    controls: AtomicU64,
}

impl E2Backend for NoisyGnb {
    fn name(&self) -> &'static str {
        "noisy-test-gnb"
    }

    fn cell(&self) -> &CellConfig {
        &self.cell
    }

    fn slices(&self) -> &[RrmPolicyMember] {
        &self.slices
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<CellMeasurement>> {
        self.reports.subscribe()
    }

    fn control(
        &self,
        _control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        self.controls.fetch_add(1, Ordering::Relaxed);
        Box::pin(async { Ok(ControlOutcome::Acknowledged) })
    }
}

fn member() -> RrmPolicyMember {
    RrmPolicyMember {
        mcc: "001".into(),
        mnc: "01".into(),
        sst: 1,
        sd: Some(1),
    }
}

/// Report `sequence` (at `sequence * 100` ms): three UEs at `cqi`.
fn report(sequence: u64, cqi: u8) -> Arc<CellMeasurement> {
    Arc::new(CellMeasurement {
        sequence,
        time_ms: sequence * PERIOD_MS,
        period_ms: PERIOD_MS,
        cell_id: "001-01-0000000001".into(),
        n_prb: 106,
        slices: vec![SliceMeasurement {
            member: member(),
            prb_quota: 0,
            prb_used: 0.0,
            dl_throughput_bps: 0.0,
            ues: (1..=3)
                .map(|ue_id| UeMeasurement {
                    ue_id,
                    wb_cqi: cqi,
                    mcs: 0,
                    prbs: 0.0,
                    dl_throughput_bps: 0.0,
                })
                .collect(),
        }],
    })
}

/// The noise: runs alternating good, bad, good, ... (`2 * excursions + 1` runs, good first
/// and last), each 10-40 reports (1-4 s) long, from a fixed LCG.
fn noise(excursions: usize) -> Vec<u8> {
    let mut x: u64 = 0x5eed;
    let mut cqis = Vec::new();
    for run in 0..2 * excursions + 1 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let len = 10 + (x >> 33) % 31;
        let cqi = if run % 2 == 0 { GOOD_CQI } else { BAD_CQI };
        cqis.extend(std::iter::repeat_n(cqi, len as usize));
    }
    cqis
}

/// What the owner and the metrics saw.
#[derive(Debug)]
struct Seen {
    /// Every notification body received, in arrival order.
    notifications: Vec<Value>,
    /// `maestro_xapp_policy_status_changes_total`, summed over `status`.
    changes: f64,
    /// `maestro_xapp_policy_status_flaps_suppressed_total`.
    suppressed: f64,
    /// The policy's status after the lasting bad run has held 4.9 s.
    at_4_9_s: Value,
    /// The policy's status at the end (the bad run has held 5.9 s).
    last: Value,
    /// E2 controls sent.
    controls: u64,
}

/// A metric's value (summed over its label sets) in a text exposition.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Polls until `check` says yes (30 s at most: only a broken xApp takes that long).
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs the scenario with `tuning` and returns what was seen: one good report, the policy
/// PUT (20 Mbps-ish between the two capacities), `excursions` short bad runs in the noise,
/// then a lasting bad run of 60 reports (6 s).
async fn scenario(tuning: LoopTuning, excursions: usize) -> Seen {
    let cell = CellConfig::oai_40mhz();
    let good = nr::slice_throughput_bps(106, &[GOOD_CQI; 3], &cell);
    let bad = nr::slice_throughput_bps(106, &[BAD_CQI; 3], &cell);
    assert!(bad * 1.2 < good, "the CQIs must straddle a target");
    let target_kbps = ((good + bad) / 2.0 / 1000.0).round();

    // The policy owner: records every notification.
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let log = Arc::clone(&received);
    let owner = axum::Router::new().route(
        "/status",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let log = Arc::clone(&log);
            async move {
                log.lock().expect("notification log").push(body);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the owner's receiver");
    let owner_url = format!(
        "http://{}/status",
        listener.local_addr().expect("the receiver's address")
    );
    tokio::spawn(async move { axum::serve(listener, owner).await });
    let count = || received.lock().expect("notification log").len();

    let (reports, _) = broadcast::channel(4096);
    let gnb = Arc::new(NoisyGnb {
        cell,
        slices: vec![member()],
        reports,
        controls: AtomicU64::new(0),
    });
    let dir = tempfile::tempdir().expect("temporary directory");
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let config = XappConfig {
        http_addr: loopback,
        grpc_addr: loopback,
        control: tuning,
        ..XappConfig::loopback_defaults(dir.path().join("state"))
    };
    let xapp = maestro_xapp::start_with_backend(config, gnb.clone())
        .await
        .expect("the xApp starts");
    let base = format!("http://{}", xapp.http_addr);
    let http = reqwest::Client::new();
    until("the control loop to subscribe", || async {
        gnb.reports.receiver_count() > 0
    })
    .await;

    // Pushes reports from `next` on and waits until the loop has processed the last.
    let mut next = 1u64;
    let mut push = |cqis: &[u8]| {
        for &cqi in cqis {
            gnb.reports
                .send(report(next, cqi))
                .expect("the control loop listens for reports");
            next += 1;
        }
        next - 1
    };
    let processed = |seq: u64| {
        let (http, base) = (&http, &base);
        async move {
            let r = http
                .get(format!("{base}/readyz"))
                .send()
                .await
                .expect("GET /readyz");
            r.status() == 200
                && r.text().await.expect("readiness body") == format!("ready: E2 report {seq}\n")
        }
    };
    let status =
        |http: reqwest::Client, url: String| async move { get_json::<Value>(&http, &url).await };

    let last = push(&[GOOD_CQI]);
    until("report 1", || processed(last)).await;
    let r = http
        .put(format!(
            "{base}{}",
            policy_path(SLICE_SLA_TARGET_TYPE, "noisy")
        ))
        .query(&[("notificationDestination", owner_url.as_str())])
        .json(&statement("000001", target_kbps))
        .send()
        .await
        .expect("PUT the policy");
    assert_eq!(r.status(), 201);
    let status_url = format!(
        "{base}{}",
        policy_status_path(SLICE_SLA_TARGET_TYPE, "noisy")
    );
    // The first status is answered at once, whatever the hold.
    until("the first notification", || async { count() == 1 }).await;

    let last = push(&noise(excursions));
    until("the noise", || processed(last)).await;
    // The lasting change: 50 bad reports (4.9 s after the first), then 10 more.
    let last = push(&[BAD_CQI; 50]);
    until("4.9 s of bad reports", || processed(last)).await;
    let at_4_9_s = status(http.clone(), status_url.clone()).await;
    let last = push(&[BAD_CQI; 10]);
    until("6 s of bad reports", || processed(last)).await;
    let last_status = status(http.clone(), status_url).await;

    // Every status written was notified: wait for the POSTs to land.
    let text = get_text(&http, &format!("{base}/metrics")).await;
    let changes = metric(&text, "maestro_xapp_policy_status_changes_total");
    let suppressed = metric(&text, "maestro_xapp_policy_status_flaps_suppressed_total");
    until("the notifications", || async { count() as f64 >= changes }).await;
    let notifications = received.lock().expect("notification log").clone();
    xapp.shutdown().await;
    Seen {
        notifications,
        changes,
        suppressed,
        at_4_9_s,
        last: last_status,
        controls: gnb.controls.load(Ordering::Relaxed),
    }
}

const EXCURSIONS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_default_hold_the_owner_hears_of_no_flap() {
    let tuning = LoopTuning::default();
    assert_eq!(
        tuning.status_hold_ms, 5_000,
        "the default this test is about"
    );
    let hold = tuning.status_hold_ms;
    let seen = scenario(tuning, EXCURSIONS).await;
    eprintln!(
        "status_hold_ms {hold}: {} notifications {:?}, {} changes counted, {} flaps suppressed, \
         {} controls",
        seen.notifications.len(),
        seen.notifications,
        seen.changes,
        seen.suppressed,
        seen.controls
    );
    // The first answer, and the bad run once it had held 5 s; none of the 1-4 s flaps.
    assert!(seen.notifications.len() <= 2, "{seen:?}");
    assert_eq!(
        seen.notifications,
        vec![
            json!({"enforceStatus": "ENFORCED"}),
            json!({"enforceStatus": "NOT_ENFORCED", "enforceReason": "STATEMENT_NOT_APPLICABLE"})
        ],
        "{seen:?}"
    );
    assert_eq!(seen.changes, 2.0);
    assert_eq!(seen.suppressed, EXCURSIONS as f64, "one per short bad run");
    assert_eq!(seen.at_4_9_s["enforceStatus"], "ENFORCED", "{seen:?}");
    assert_eq!(seen.last["enforceStatus"], "NOT_ENFORCED", "{seen:?}");
    // The quotas still follow every report: only the statuses are held.
    assert!(seen.controls > 2 * EXCURSIONS as u64, "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_hold_every_flap_reaches_the_owner() {
    let tuning = LoopTuning {
        status_hold_ms: 0,
        ..LoopTuning::default()
    };
    let seen = scenario(tuning, EXCURSIONS).await;
    eprintln!(
        "status_hold_ms 0: {} notifications, {} changes counted, {} flaps suppressed, {} controls",
        seen.notifications.len(),
        seen.changes,
        seen.suppressed,
        seen.controls
    );
    // The first answer, down and up again per excursion, and the lasting bad run.
    assert_eq!(seen.notifications.len(), 2 * EXCURSIONS + 2, "{seen:?}");
    assert_eq!(seen.changes, (2 * EXCURSIONS + 2) as f64);
    assert_eq!(seen.suppressed, 0.0);
    assert_eq!(seen.at_4_9_s["enforceStatus"], "NOT_ENFORCED", "{seen:?}");
    assert_eq!(seen.last["enforceStatus"], "NOT_ENFORCED", "{seen:?}");
}
