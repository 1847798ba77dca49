//! The write limits of the xApp's A1-P v2 endpoint, set in `maestro xapp --config`: 429 with
//! `Retry-After` once the write burst is spent, 507 when the store is full, and neither
//! changes what is stored; reads are not limited.

mod common;

use common::{statement, XappProcess};
use maestro_api::a1::{policies_path, policy_path, SLICE_SLA_TARGET_TYPE};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_429_and_full_store_507_leave_state_intact() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::xapp_config_file(dir.path(), |c| {
        c["a1"] = json!({"writes_per_second": 1.0, "write_burst": 3, "max_policies": 2});
    });
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
