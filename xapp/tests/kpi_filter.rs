//! The KPI stream's subscription filter against a running xApp (emulated gNB) over gRPC:
//! an empty filter gets every slice as before, a cell or slice filter gets only those, and a
//! filter naming a cell or slice the xApp has never had a report of is INVALID_ARGUMENT
//! naming it, not an empty stream. (Several cells at once: the hub's unit tests in
//! `xapp/src/kpi/stream.rs`.)

use std::net::SocketAddr;
use std::time::Duration;

use maestro_api::kpi::kpi_stream_client::KpiStreamClient;
use maestro_api::kpi::{CellReport, SliceId, SubscribeRequest};
use maestro_xapp::config::{E2Config, XappConfig};
use maestro_xapp::e2::emulator::{Clock, EmulatorConfig};
use tonic::transport::Channel;
use tonic::{Code, Streaming};

async fn start(dir: &std::path::Path) -> maestro_xapp::RunningXapp {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let config = XappConfig {
        http_addr: addr,
        grpc_addr: addr,
        e2: E2Config::Emulated(EmulatorConfig {
            clock: Clock::Simulated { speedup: 20.0 },
            ..EmulatorConfig::default()
        }),
        ..XappConfig::loopback_defaults(dir.join("state"))
    };
    maestro_xapp::start(config).await.expect("xApp starts")
}

fn request(cells: &[&str], slices: &[SliceId]) -> SubscribeRequest {
    SubscribeRequest {
        subscriber: "kpi-filter-test".into(),
        cells: cells.iter().map(|c| (*c).to_owned()).collect(),
        slices: slices.to_vec(),
    }
}

async fn next(stream: &mut Streaming<CellReport>) -> CellReport {
    tokio::time::timeout(Duration::from_secs(20), stream.message())
        .await
        .expect("a report within 20 s")
        .expect("stream ok")
        .expect("stream open")
}

async fn subscribe(
    client: &mut KpiStreamClient<Channel>,
    req: SubscribeRequest,
) -> Result<Streaming<CellReport>, tonic::Status> {
    client.subscribe(req).await.map(|r| r.into_inner())
}

fn labels(r: &CellReport) -> Vec<String> {
    r.slices.iter().map(|s| s.label.clone()).collect()
}

#[tokio::test]
async fn filters_select_known_cells_and_slices_and_refuse_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let xapp = start(dir.path()).await;
    let mut client = KpiStreamClient::connect(format!("http://{}", xapp.grpc_addr))
        .await
        .unwrap();

    // Empty filter: every slice, as before the filter existed.
    let mut all = subscribe(&mut client, request(&[], &[])).await.unwrap();
    let first = next(&mut all).await;
    let cell = first.cell_id.clone();
    assert!(!cell.is_empty());
    assert!(first.slices.len() >= 2, "{first:?}");
    let every = labels(&first);

    // The cell by name: every slice of it.
    let mut by_cell = subscribe(&mut client, request(&[&cell], &[]))
        .await
        .unwrap();
    for _ in 0..3 {
        let r = next(&mut by_cell).await;
        assert_eq!(
            (r.cell_id.as_str(), labels(&r)),
            (cell.as_str(), every.clone())
        );
    }

    // One slice: only that slice in each report.
    let second = first.slices[1].slice.clone().expect("slice id");
    let mut by_slice = subscribe(&mut client, request(&[&cell], &[second]))
        .await
        .unwrap();
    for _ in 0..3 {
        let r = next(&mut by_slice).await;
        assert_eq!(labels(&r), [every[1].clone()], "{r:?}");
        assert_eq!(r.cell_id, cell);
    }

    // A cell the xApp never heard of: refused, naming it.
    let refused = subscribe(&mut client, request(&[&cell, "no-such-cell"], &[]))
        .await
        .expect_err("unknown cell refused");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(
        refused.message().contains("unknown cells: no-such-cell")
            && refused.message().contains(&cell),
        "{}",
        refused.message()
    );
    // And a slice it never reported.
    let unknown_slice = SliceId {
        sst: 9,
        sd: "abcdef".into(),
        mcc: "999".into(),
        mnc: "99".into(),
    };
    let refused = subscribe(&mut client, request(&[], &[unknown_slice]))
        .await
        .expect_err("unknown slice refused");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused
            .message()
            .contains("unknown slices: 999-99/sst9-sdabcdef"),
        "{}",
        refused.message()
    );

    // The unfiltered subscriber is still served every slice.
    let r = next(&mut all).await;
    assert_eq!(labels(&r), every);
    xapp.shutdown().await;
}
