//! The emulated gNB's E2 link faulted under a running xApp, in process (issue 9, item 3).
//! Each test prints its figures as one `FAULTS ...` line (rows of docs/RELIABILITY.md;
//! `cargo test -p maestro-xapp --test e2_link_faults -- --nocapture`):
//! - the link dropped and restored: the policy goes NOT_ENFORCED, then controls resume and it
//!   is ENFORCED again (A1AP v2 policy status);
//! - the reports stop with no A1 change (so no control fails): the silence alone makes the
//!   policy NOT_ENFORCED, and it is ENFORCED again once reports resume.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::client::statement;
use maestro_api::a1::{policy_path, policy_status_path, SLICE_SLA_TARGET_TYPE};
use maestro_xapp::config::{E2Config, XappConfig};
use maestro_xapp::controller::LoopTuning;
use maestro_xapp::e2::emulator::{Clock, EmulatedGnb, EmulatorConfig, LinkFault};
use maestro_xapp::RunningXapp;
use serde_json::Value;

/// Polls the policy's `enforceStatus` until it is `want`.
async fn wait_status(http: &reqwest::Client, url: &str, want: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status: Value = common::client::get_json(http, url).await;
        if status["enforceStatus"] == want {
            return status;
        }
        assert!(Instant::now() < deadline, "never {want}: {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value of a metric series in Prometheus text, 0 when absent.
fn metric(text: &str, series: &str) -> f64 {
    common::client::metric(text, series).unwrap_or(0.0)
}

/// An xApp on an emulated gNB at x10 whose E2 link the test can drop, with one policy `id`
/// PUT (20 Mbps on SD 000001) and ENFORCED. Returns the xApp, the link, the HTTP client, its
/// base URL, the policy's URL and its status URL.
async fn xapp_with_an_enforced_policy(
    dir: &std::path::Path,
    tuning: LoopTuning,
    id: &str,
) -> (
    RunningXapp,
    LinkFault,
    reqwest::Client,
    String,
    String,
    String,
) {
    let emulator = EmulatorConfig {
        clock: Clock::Simulated { speedup: 10.0 },
        ..EmulatorConfig::default()
    };
    let gnb = EmulatedGnb::start(emulator.clone()).expect("the emulated gNB starts");
    let link = gnb.link_fault();
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let config = XappConfig {
        http_addr: loopback,
        grpc_addr: loopback,
        e2: E2Config::Emulated(emulator),
        control: tuning,
        ..XappConfig::loopback_defaults(dir.join("state"))
    };
    let xapp = maestro_xapp::start_with_backend(config, gnb.clone())
        .await
        .expect("the xApp starts");
    let base = format!("http://{}", xapp.http_addr);
    let http = reqwest::Client::new();
    common::client::wait_ready(&http, &base).await;
    let url = format!("{base}{}", policy_path(SLICE_SLA_TARGET_TYPE, id));
    let status_url = format!("{base}{}", policy_status_path(SLICE_SLA_TARGET_TYPE, id));
    let r = http
        .put(&url)
        .json(&statement("000001", 20000.0))
        .send()
        .await
        .expect("PUT the policy");
    assert_eq!(r.status(), 201);
    wait_status(&http, &status_url, "ENFORCED").await;
    (xapp, link, http, base, url, status_url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2_link_dropped_and_restored_goes_not_enforced_then_enforced() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (xapp, link, http, base, url, status_url) =
        xapp_with_an_enforced_policy(dir.path(), Default::default(), "link").await;
    let acks = |text: &str| metric(text, "maestro_xapp_e2_controls_total{outcome=\"ack\"}");
    let errors = |text: &str| metric(text, "maestro_xapp_e2_controls_total{outcome=\"error\"}");

    // Drop the link; the next change needs a control, which cannot reach the node.
    link.drop_link();
    let r = http
        .put(&url)
        .json(&statement("000001", 30000.0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let down = wait_status(&http, &status_url, "NOT_ENFORCED").await;
    assert_eq!(down["enforceReason"], "OTHER_REASON");
    let during = common::client::get_text(&http, &format!("{base}/metrics")).await;
    assert!(errors(&during) >= 1.0, "no failed control counted");
    assert!(link.refused_controls() >= 1);
    // Let the cell tick with the link down, then bring it back.
    while link.dropped_reports() < 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let acks_before = acks(&during);
    link.restore();
    wait_status(&http, &status_url, "ENFORCED").await;
    // Reports flow again and carry the update sent while the link was down.
    let deadline = Instant::now() + Duration::from_secs(30);
    let after = loop {
        let text = common::client::get_text(&http, &format!("{base}/metrics")).await;
        let target = common::client::slice_metric(
            &text,
            "maestro_slice_target_dl_bps",
            "001-01/sst1-sd000001",
        );
        if target == Some(30e6) {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "the new target never showed in the KPIs"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        acks(&after) > acks_before,
        "no control acknowledged after the link came back"
    );
    println!(
        "FAULTS e2-link: link dropped for {} reports, {} controls refused: policy NOT_ENFORCED \
         (OTHER_REASON); restored: controls acknowledged again ({} -> {}), policy ENFORCED at \
         the new target",
        link.dropped_reports(),
        link.refused_controls(),
        acks_before,
        acks(&after)
    );
    xapp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2_reports_silent_without_any_a1_change_go_not_enforced_then_back() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let tuning = LoopTuning {
        report_silence_ms: 400,
        ..Default::default()
    };
    let (xapp, link, http, _base, _url, status_url) =
        xapp_with_an_enforced_policy(dir.path(), tuning, "quiet").await;

    // No PUT, so no control is attempted: only the missing reports can tell.
    let dropped_at = Instant::now();
    link.drop_link();
    let down = wait_status(&http, &status_url, "NOT_ENFORCED").await;
    let noticed = dropped_at.elapsed();
    assert_eq!(down["enforceReason"], "OTHER_REASON");
    // The watchdog counts from the last report received, which came up to one report period
    // (100 ms of gNB time at speedup 10: 10 ms) before the drop.
    let one_period = Duration::from_millis(10);
    assert!(
        noticed + one_period >= Duration::from_millis(400),
        "{noticed:?}"
    );
    assert_eq!(link.refused_controls(), 0);
    link.restore();
    wait_status(&http, &status_url, "ENFORCED").await;
    println!(
        "FAULTS e2-silence: {} reports lost, no control attempted; NOT_ENFORCED after {} ms \
         (limit 400 ms), ENFORCED again once reports resumed",
        link.dropped_reports(),
        noticed.as_millis()
    );
    xapp.shutdown().await;
}
