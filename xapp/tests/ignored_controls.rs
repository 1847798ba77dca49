//! A node that acknowledges PRB quota controls but does not apply them (issue 21: upstream
//! OAI's FlexRIC SLICE SM only prints the control and answers RIC CONTROL ACKNOWLEDGE; against
//! OAI nr-softmodem the xApp read ENFORCED while the slice kept 33 PRBs per slot over a 6-PRB
//! quota). The emulated gNB's `ignore_controls` reproduces it: the policy must read
//! NOT_ENFORCED (OTHER_REASON) from the measured PRB use, and a node that applies the quota
//! must keep it ENFORCED.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::client::statement;
use maestro_api::a1::{policy_path, policy_status_path, SLICE_SLA_TARGET_TYPE};
use maestro_xapp::config::{E2Config, XappConfig};
use maestro_xapp::e2::emulator::{Clock, EmulatedGnb, EmulatorConfig};
use maestro_xapp::RunningXapp;
use serde_json::Value;

/// An xApp on an emulated gNB at x10 (`ignore_controls` as given) with a 5 Mbit/s policy on
/// SD 000001 PUT. Returns the xApp (kept alive), the HTTP client and the status URL.
async fn xapp_with_a_small_policy(
    dir: &std::path::Path,
    ignore_controls: bool,
) -> (RunningXapp, reqwest::Client, String) {
    let emulator = EmulatorConfig {
        clock: Clock::Simulated { speedup: 10.0 },
        ignore_controls,
        ..EmulatorConfig::default()
    };
    let gnb = EmulatedGnb::start(emulator.clone()).expect("the emulated gNB starts");
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let config = XappConfig {
        http_addr: loopback,
        grpc_addr: loopback,
        e2: E2Config::Emulated(emulator),
        ..XappConfig::loopback_defaults(dir.join("state"))
    };
    let xapp = maestro_xapp::start_with_backend(config, gnb)
        .await
        .expect("the xApp starts");
    let base = format!("http://{}", xapp.http_addr);
    let http = reqwest::Client::new();
    common::client::wait_ready(&http, &base).await;
    let url = format!("{base}{}", policy_path(SLICE_SLA_TARGET_TYPE, "small"));
    let r = http
        .put(&url)
        .json(&statement("000001", 5000.0))
        .send()
        .await
        .expect("PUT the policy");
    assert_eq!(r.status(), 201);
    let status_url = format!(
        "{base}{}",
        policy_status_path(SLICE_SLA_TARGET_TYPE, "small")
    );
    (xapp, http, status_url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_but_ignored_quota_reads_not_enforced() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (_xapp, http, status_url) = xapp_with_a_small_policy(dir.path(), true).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let s: Value = common::client::get_json(&http, &status_url).await;
        if s["enforceStatus"] == "NOT_ENFORCED" {
            break s;
        }
        assert!(Instant::now() < deadline, "never NOT_ENFORCED: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status["enforceReason"], "OTHER_REASON", "{status}");
    // It stays so while the node keeps ignoring the quota.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let s: Value = common::client::get_json(&http, &status_url).await;
    assert_eq!(s["enforceStatus"], "NOT_ENFORCED", "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applied_quota_stays_enforced() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (_xapp, http, status_url) = xapp_with_a_small_policy(dir.path(), false).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s: Value = common::client::get_json(&http, &status_url).await;
        if s["enforceStatus"] == "ENFORCED" {
            break;
        }
        assert!(Instant::now() < deadline, "never ENFORCED: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // 3 s at x10 = 300 reports: never NOT_ENFORCED from the overrun check.
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        let s: Value = common::client::get_json(&http, &status_url).await;
        assert_eq!(s["enforceStatus"], "ENFORCED", "{s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
