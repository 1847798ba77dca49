//! The two apps as separate processes, as deployed: `maestro xapp` serving, `maestro rapp`
//! negotiating against it over real HTTP (A1-P v2) and gRPC (KPI stream); and the rApp's KPI
//! client with a cell and slice filter against the `maestro xapp` process.

mod common;

use std::time::Duration;

use common::XappProcess;
use maestro_rapp::auth::ClientAuth;
use maestro_rapp::kpi_client::{self, KpiClientError, StreamFilter};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rapp_policies_arrive_over_a1_and_kpis_over_grpc() {
    let dir = tempfile::tempdir().unwrap();
    let xapp = XappProcess::start(&dir.path().join("state"));
    let report_path = dir.path().join("rapp.json");
    common::run_ok(
        common::maestro()
            .args(["rapp", "--a1-url", &xapp.http, "--kpi-url", &xapp.grpc])
            .args(["--observe", "10", "--report"])
            .arg(&report_path)
            .env("RUST_LOG", "warn"),
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let kpi_reports = report["kpi_reports"].as_u64().unwrap();
    // 10 s of gNB time at 100 ms periods, plus the reports before enforcement.
    assert!(
        kpi_reports >= 100,
        "only {kpi_reports} KPI reports over gRPC"
    );
    let consensus = report["consensus_mbps"].as_f64().unwrap();

    // The policies really are in the xApp: ask its A1 endpoint ourselves.
    let http = reqwest::Client::new();
    let ids = common::policy_ids(&http, &xapp.http).await;
    assert_eq!(ids, vec!["maestro-bo-cost", "maestro-bo-qos"]);
    for id in &ids {
        let p: serde_json::Value =
            common::get_json(&http, &common::policy_url(&xapp.http, id)).await;
        let kbps = p["sliceSlaObjectives"]["guaDlThptPerSlice"]
            .as_f64()
            .unwrap();
        assert!((kbps - (consensus * 1000.0).round()).abs() < 1e-9, "{p}");
    }

    // And the xApp's Prometheus endpoint shows the targets it is enforcing.
    let metrics = common::get_text(&http, &format!("{}/metrics", xapp.http)).await;
    let target_line = common::slice_line(
        &metrics,
        "maestro_slice_target_dl_bps",
        "001-01/sst1-sd000001",
    )
    .unwrap_or_else(|| panic!("no target series in:\n{metrics}"));
    let value: f64 = target_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(
        (value - (consensus * 1000.0).round() * 1000.0).abs() < 1.0,
        "{target_line}"
    );
    assert!(metrics.contains("maestro_ue_wb_cqi{"));
    assert!(
        metrics.contains("maestro_xapp_kpi_subscribers 0"),
        "rApp unsubscribed on exit"
    );

    // A second pass updates the same policies rather than adding new ones.
    common::run_ok(
        common::maestro()
            .args(["rapp", "--a1-url", &xapp.http, "--kpi-url", &xapp.grpc])
            .args(["--observe", "2"])
            .env("RUST_LOG", "warn"),
    );
    let ids = common::policy_ids(&http, &xapp.http).await;
    assert_eq!(ids.len(), 2);
}

/// The next report of `stream`, within 30 s.
async fn next(
    endpoint: &str,
    stream: &mut tonic::Streaming<maestro_api::kpi::CellReport>,
) -> maestro_api::kpi::CellReport {
    tokio::time::timeout(
        Duration::from_secs(30),
        kpi_client::next_report(endpoint, stream),
    )
    .await
    .expect("a report in time")
    .expect("stream ok")
    .expect("stream open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rapp_kpi_client_filters_cells_and_slices_and_reports_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let xapp = XappProcess::start(&dir.path().join("state"));
    let auth = ClientAuth::default();
    let wait = Duration::from_secs(30);
    // No filter: what `maestro rapp` asks for, every slice.
    let all = kpi_client::subscribe_with(&xapp.grpc, "test-all", wait, &auth)
        .await
        .unwrap();
    let mut all = all;
    let first = next(&xapp.grpc, &mut all).await;
    assert!(first.slices.len() >= 2, "{first:?}");
    // This cell and its second slice only.
    let filter = StreamFilter {
        cells: vec![first.cell_id.clone()],
        slices: vec![first.slices[1].slice.clone().unwrap()],
    };
    let mut some = kpi_client::subscribe_filtered(&xapp.grpc, "test-some", wait, &auth, &filter)
        .await
        .unwrap();
    for _ in 0..3 {
        let r = next(&xapp.grpc, &mut some).await;
        assert_eq!(r.cell_id, first.cell_id);
        let labels: Vec<&str> = r.slices.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, [first.slices[1].label.as_str()]);
    }
    // A cell the xApp has no report of: asked again until the deadline, then refused with the
    // xApp's reason.
    let unknown = StreamFilter {
        cells: vec!["cell-that-never-reported".into()],
        ..StreamFilter::default()
    };
    let err = kpi_client::subscribe_filtered(
        &xapp.grpc,
        "test-unknown",
        Duration::from_millis(500),
        &auth,
        &unknown,
    )
    .await
    .expect_err("refused");
    assert!(
        matches!(&err, KpiClientError::Refused { status, .. }
            if status.code() == tonic::Code::InvalidArgument),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("unknown cells: cell-that-never-reported"),
        "{err}"
    );
}
