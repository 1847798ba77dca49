//! The rest of the A1-P v2 contract: every read path, the OpenAPI document, the O-RAN SC
//! health paths, 429 with Retry-After, 507 when the store is full, and a SIGKILL right after
//! a 201 that loses nothing and re-enforces the policy after restart.

mod common;

use common::XappProcess;
use maestro_api::a1::{policies_path, policy_path, policy_status_path, SLICE_SLA_TARGET_TYPE};
use serde_json::{json, Value};

fn statement(sd: &str, kbps: f64) -> Value {
    json!({
        "scope": {"sliceId": {"sst": 1, "sd": sd, "plmnId": {"mcc": "001", "mnc": "01"}}},
        "sliceSlaObjectives": {"guaDlThptPerSlice": kbps}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_paths_openapi_and_health() {
    let dir = tempfile::tempdir().unwrap();
    let xapp = XappProcess::start(&dir.path().join("state"));
    let http = reqwest::Client::new();
    let base = &xapp.http;

    let alive = http
        .get(format!("{base}/ric/v1/health/alive"))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), 200);
    common::wait_ready(&http, base).await;

    let types: Vec<String> = common::get_json(&http, &format!("{base}/A1-P/v2/policytypes")).await;
    assert_eq!(types, vec![SLICE_SLA_TARGET_TYPE.to_owned()]);
    let t: Value = common::get_json(
        &http,
        &format!("{base}/A1-P/v2/policytypes/{SLICE_SLA_TARGET_TYPE}"),
    )
    .await;
    assert_eq!(t["policySchema"]["title"], SLICE_SLA_TARGET_TYPE);
    let unknown = http
        .get(format!("{base}/A1-P/v2/policytypes/NOPE_1.0.0/policies"))
        .send()
        .await
        .unwrap();
    common::assert_problem(unknown, 404, "NOPE_1.0.0").await;
    let missing = http
        .get(format!(
            "{base}{}",
            policy_status_path(SLICE_SLA_TARGET_TYPE, "ghost")
        ))
        .send()
        .await
        .unwrap();
    common::assert_problem(missing, 404, "ghost").await;
    let gone = http
        .delete(format!(
            "{base}{}",
            policy_path(SLICE_SLA_TARGET_TYPE, "ghost")
        ))
        .send()
        .await
        .unwrap();
    common::assert_problem(gone, 404, "ghost").await;

    let doc: Value = common::get_json(&http, &format!("{base}/A1-P/v2/openapi.json")).await;
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc["paths"]["/policytypes/{policyTypeId}/policies/{policyId}"]["put"].is_object());

    let metrics = common::get_text(&http, &format!("{base}/metrics")).await;
    for family in [
        "maestro_slice_cqi_mean",
        "maestro_slice_cqi{",
        "maestro_xapp_control_latency_seconds_bucket",
        "maestro_slice_model_gain_ratio",
        "maestro_xapp_a1_requests_total{code=\"404\"",
    ] {
        assert!(metrics.contains(family), "no {family} in /metrics");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_429_and_full_store_507_leave_state_intact() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("xapp.json");
    let out = common::maestro()
        .args(["xapp", "--print-config"])
        .output()
        .unwrap();
    let mut cfg: Value = serde_json::from_slice(&out.stdout).unwrap();
    cfg["a1"] = json!({"writes_per_second": 1.0, "write_burst": 3, "max_policies": 2});
    std::fs::write(&config, cfg.to_string()).unwrap();
    let xapp = XappProcess::start_with(
        &dir.path().join("state"),
        &["--config", config.to_str().unwrap()],
    );
    let http = reqwest::Client::new();
    let url = |id: &str| format!("{}{}", xapp.http, policy_path(SLICE_SLA_TARGET_TYPE, id));

    for (id, sd) in [("a", "000001"), ("b", "000002")] {
        let r = http
            .put(url(id))
            .json(&statement(sd, 10000.0))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{id}");
    }
    // A third policy exceeds the store's capacity of 2.
    let full = http
        .put(url("c"))
        .json(&statement("000003", 1000.0))
        .send()
        .await
        .unwrap();
    let body = common::assert_problem(full, 507, "").await;
    assert!(body["detail"].as_str().unwrap().contains("maximum of 2"));
    // The burst of 3 writes is spent: the next one is refused with Retry-After.
    let limited = http
        .put(url("a"))
        .json(&statement("000001", 20000.0))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.headers()["retry-after"], "1");
    common::assert_problem(limited, 429, "").await;
    // Reads are not limited, and nothing changed.
    let ids: Vec<String> = common::get_json(
        &http,
        &format!("{}{}", xapp.http, policies_path(SLICE_SLA_TARGET_TYPE)),
    )
    .await;
    assert_eq!(ids, vec!["a", "b"]);
    let a: Value = common::get_json(&http, &url("a")).await;
    assert_eq!(a, statement("000001", 10000.0));
    // After a second the bucket has a token again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = http
        .put(url("a"))
        .json(&statement("000001", 20000.0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
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
    let series = "maestro_slice_target_dl_bps{slice=\"001-01/sst1-sd000002\"}";
    let mut target = None;
    for _ in 0..200 {
        let metrics = common::get_text(&http, &format!("{}/metrics", xapp.http)).await;
        target = metrics
            .lines()
            .find(|l| l.starts_with(series))
            .map(str::to_owned);
        if target.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let target = target.expect("target series");
    assert!(target.ends_with(" 25000000"), "{target}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_deeply_nested_bodies_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let xapp = XappProcess::start(&dir.path().join("state"));
    let http = reqwest::Client::new();
    let url = format!("{}{}", xapp.http, policy_path(SLICE_SLA_TARGET_TYPE, "big"));
    let ok = http
        .put(&url)
        .json(&statement("000001", 10000.0))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);

    // 100 KiB of padding in an otherwise valid statement: 413, problem+json. (Small enough
    // for loopback socket buffers to take it whole before the server answers and closes.)
    let mut huge = statement("000001", 20000.0);
    huge["padding"] = Value::String("x".repeat(100 * 1024));
    let r = http.put(&url).json(&huge).send().await.unwrap();
    common::assert_problem(r, 413, "at most 65536 bytes").await;

    // 10,000 nested arrays: JSON parsing stops at serde_json's depth limit: 400, no crash.
    // (A fresh connection: the server closes the one whose 1 MiB body it did not read.)
    let http = reqwest::Client::new();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let r = http
        .put(&url)
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    common::assert_problem(r, 400, "not valid JSON").await;

    // The stored policy is the first one, and the xApp still serves.
    let stored: Value = common::get_json(&http, &url).await;
    assert_eq!(stored, statement("000001", 10000.0));
    let alive = http
        .get(format!("{}/ric/v1/health/alive", xapp.http))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), 200);
}
