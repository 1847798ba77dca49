//! What the xApp's A1-P v2 endpoint refuses, run as `maestro xapp`: schema violations, bodies
//! that are not JSON, unknown types and policies, a second policy for a governed slice, a bad
//! notification URL, a wrong method, oversized and deeply nested bodies. Each gets its
//! problem+json status and detail; the stored policy is left as it was, still enforced, and
//! kept across a crash.

mod common;

use common::{statement, XappProcess};
use maestro_api::a1::{policy_path, SLICE_SLA_TARGET_TYPE};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_violations_get_400_problem_json_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let xapp = XappProcess::start(&state);
    let http = reqwest::Client::new();
    let url = |id: &str| format!("{}{}", xapp.http, policy_path(SLICE_SLA_TARGET_TYPE, id));

    let created = http
        .put(url("p1"))
        .json(&statement("000001", 30000.0))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(
        created.headers()["location"],
        policy_path(SLICE_SLA_TARGET_TYPE, "p1").as_str()
    );
    let updated = http
        .put(url("p1"))
        .json(&statement("000001", 35000.0))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);

    let mut negative = statement("000001", 1.0);
    negative["sliceSlaObjectives"]["guaDlThptPerSlice"] = json!(-10);
    let mut no_scope = statement("000001", 1.0);
    no_scope.as_object_mut().unwrap().remove("scope");
    let mut bad_sd = statement("000001", 1.0);
    bad_sd["scope"]["sliceId"]["sd"] = json!("not-hex");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "negative throughput",
            serde_json::to_vec(&negative).unwrap(),
            "/sliceSlaObjectives/guaDlThptPerSlice",
        ),
        (
            "missing scope",
            serde_json::to_vec(&no_scope).unwrap(),
            "scope",
        ),
        (
            "bad SD",
            serde_json::to_vec(&bad_sd).unwrap(),
            "/scope/sliceId/sd",
        ),
        ("not JSON", b"{\"scope\": ".to_vec(), "not valid JSON"),
        (
            "empty objectives",
            serde_json::to_vec(
                &json!({"scope": statement("000001", 1.0)["scope"], "sliceSlaObjectives": {}}),
            )
            .unwrap(),
            "sliceSlaObjectives",
        ),
    ];
    for (what, body, detail) in cases {
        for id in ["p1", "p2"] {
            let resp = http
                .put(url(id))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            eprintln!("case {what} on {id}");
            common::assert_problem(resp, 400, detail).await;
        }
    }
    // Unknown type, unknown policy, conflicting slice, bad id, bad notification URL.
    let resp = http
        .put(format!(
            "{}/A1-P/v2/policytypes/ORAN_Nope_1.0.0/policies/x",
            xapp.http
        ))
        .json(&statement("000002", 1.0))
        .send()
        .await
        .unwrap();
    common::assert_problem(resp, 404, "ORAN_Nope_1.0.0").await;
    common::assert_problem(http.get(url("ghost")).send().await.unwrap(), 404, "ghost").await;
    common::assert_problem(
        http.delete(url("ghost")).send().await.unwrap(),
        404,
        "ghost",
    )
    .await;
    let resp = http
        .put(url("p3"))
        .json(&statement("000001", 1000.0))
        .send()
        .await
        .unwrap();
    common::assert_problem(resp, 409, "already governed by policy 'p1'").await;
    let resp = http
        .put(format!("{}?notificationDestination=nope", url("p4")))
        .json(&statement("000002", 1000.0))
        .send()
        .await
        .unwrap();
    common::assert_problem(resp, 400, "notificationDestination").await;
    let resp = http
        .post(url("p1"))
        .json(&statement("000001", 1.0))
        .send()
        .await
        .unwrap();
    common::assert_problem(resp, 405, "method not allowed").await;

    // Nothing above changed the store.
    assert_eq!(common::policy_ids(&http, &xapp.http).await, vec!["p1"]);
    let p1: Value = common::get_json(&http, &url("p1")).await;
    assert_eq!(p1, statement("000001", 35000.0));

    // The controller evaluates it: 35 Mbps on one slice fits the cell.
    common::wait_ready(&http, &xapp.http).await;
    let mut status = Value::Null;
    for _ in 0..100 {
        status = common::get_json(&http, &format!("{}/status", url("p1"))).await;
        if status["enforceStatus"] == "ENFORCED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status["enforceStatus"], "ENFORCED", "{status}");

    // A crash loses nothing that was acknowledged.
    xapp.kill();
    let xapp = XappProcess::start(&state);
    assert_eq!(xapp.restored, 1);
    assert_eq!(common::policy_ids(&http, &xapp.http).await, vec!["p1"]);
    let p1: Value = common::get_json(&http, &common::policy_url(&xapp.http, "p1")).await;
    assert_eq!(p1, statement("000001", 35000.0));
    let deleted = http
        .delete(common::policy_url(&xapp.http, "p1"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(common::policy_ids(&http, &xapp.http).await.is_empty());
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
    common::assert_alive(&http, &xapp.http).await;
}
