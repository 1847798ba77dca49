//! Everything a client reads from `maestro xapp`: the policy types and their schema, the 404s
//! of unknown types and policies, the OpenAPI document, the O-RAN SC health paths and the
//! metric families on /metrics.

mod common;

use common::XappProcess;
use maestro_api::a1::{policy_path, policy_status_path, SLICE_SLA_TARGET_TYPE};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_paths_openapi_and_health() {
    let dir = tempfile::tempdir().unwrap();
    let xapp = XappProcess::start(&dir.path().join("state"));
    let http = reqwest::Client::new();
    let base = &xapp.http;

    common::assert_alive(&http, base).await;
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
