//! A policy's life in a `maestro xapp` process: one slice, one policy (of 20 concurrent PUTs
//! for one slice exactly one is created), and a SIGKILL right after the 201 loses nothing: the
//! policy is restored and enforced again after the restart.

mod common;

use common::{statement, XappProcess};
use maestro_api::a1::{policy_path, policy_status_path, SLICE_SLA_TARGET_TYPE};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_puts_cannot_both_claim_one_slice() {
    let dir = tempfile::tempdir().unwrap();
    let xapp = XappProcess::start(&dir.path().join("state"));
    let http = reqwest::Client::new();
    let puts = (0..20).map(|i| {
        let http = http.clone();
        let url = common::policy_url(&xapp.http, &format!("racer{i}"));
        async move {
            http.put(url)
                .json(&statement("000002", 5000.0))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let mut codes = futures_join_all(puts).await;
    codes.sort_unstable();
    assert_eq!(codes[0], 201, "{codes:?}");
    assert!(codes[1..].iter().all(|&c| c == 409), "{codes:?}");
    assert_eq!(common::policy_ids(&http, &xapp.http).await.len(), 1);
}

/// Runs the futures concurrently on the runtime and collects their outputs in order.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("the PUT task finished"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_right_after_201_loses_nothing_and_re_enforces() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let xapp = XappProcess::start(&state);
    let http = reqwest::Client::new();
    let created = http
        .put(format!(
            "{}{}",
            xapp.http,
            policy_path(SLICE_SLA_TARGET_TYPE, "crash")
        ))
        .json(&statement("000002", 25000.0))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    xapp.kill();

    let xapp = XappProcess::start(&state);
    assert_eq!(xapp.restored, 1);
    let url = format!(
        "{}{}",
        xapp.http,
        policy_path(SLICE_SLA_TARGET_TYPE, "crash")
    );
    let p: Value = common::get_json(&http, &url).await;
    assert_eq!(p, statement("000002", 25000.0));
    // Re-enforced: ENFORCED, and the slice's target is the policy's in the metrics.
    let mut status = Value::Null;
    for _ in 0..200 {
        status = common::get_json(
            &http,
            &format!(
                "{}{}",
                xapp.http,
                policy_status_path(SLICE_SLA_TARGET_TYPE, "crash")
            ),
        )
        .await;
        if status["enforceStatus"] == "ENFORCED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status["enforceStatus"], "ENFORCED", "{status}");
    // The first KPI report after the restart publishes the target series.
    let mut target = None;
    for _ in 0..200 {
        let metrics = common::get_text(&http, &format!("{}/metrics", xapp.http)).await;
        target = common::slice_line(
            &metrics,
            "maestro_slice_target_dl_bps",
            "001-01/sst1-sd000002",
        )
        .map(str::to_owned);
        if target.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let target = target.expect("target series");
    assert!(target.ends_with(" 25000000"), "{target}");
}
