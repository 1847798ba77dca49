//! The xApp's A1-P v2 endpoint against bad input: problem+json errors, stored policies left
//! untouched, and policies surviving a crash of the process.

mod common;

use common::XappProcess;
use maestro_api::a1::{policies_path, policy_path, SLICE_SLA_TARGET_TYPE};
use serde_json::{json, Value};

fn statement(sd: &str, kbps: f64) -> Value {
    json!({
        "scope": {"sliceId": {"sst": 1, "sd": sd, "plmnId": {"mcc": "001", "mnc": "01"}}},
        "sliceSlaObjectives": {"guaDlThptPerSlice": kbps}
    })
}

async fn ids(http: &reqwest::Client, base: &str) -> Vec<String> {
    common::get_json(
        http,
        &format!("{base}{}", policies_path(SLICE_SLA_TARGET_TYPE)),
    )
    .await
}

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
    assert_eq!(ids(&http, &xapp.http).await, vec!["p1"]);
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
    assert_eq!(ids(&http, &xapp.http).await, vec!["p1"]);
    let p1: Value = common::get_json(&http, &url_of(&xapp.http, "p1")).await;
    assert_eq!(p1, statement("000001", 35000.0));
    let deleted = http.delete(url_of(&xapp.http, "p1")).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(ids(&http, &xapp.http).await.is_empty());
}

fn url_of(base: &str, id: &str) -> String {
    format!("{base}{}", policy_path(SLICE_SLA_TARGET_TYPE, id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_puts_cannot_both_claim_one_slice() {
    let dir = tempfile::tempdir().unwrap();
    let xapp = XappProcess::start(&dir.path().join("state"));
    let http = reqwest::Client::new();
    let puts = (0..20).map(|i| {
        let http = http.clone();
        let url = url_of(&xapp.http, &format!("racer{i}"));
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
    assert_eq!(ids(&http, &xapp.http).await.len(), 1);
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
        out.push(h.await.unwrap());
    }
    out
}
