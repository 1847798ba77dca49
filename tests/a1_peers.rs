//! Our A1 client against real A1-P v2 peers: the same checks run against our own xApp
//! (always, so CI covers them) and against any external A1-P v2 termination named by
//! `MAESTRO_A1_PEER_URL` (e.g. the O-RAN SC A1 simulator, `STD_2.0.0` flavour, with the
//! `ORAN_SliceSLATarget_1.0.0` type loaded), skipped with a message when it is unset.
//!
//! Each peer gets: the library client through the `A1Adapter` trait (types, put 201/200,
//! read-back, list, status shape, delete 204, refusals with their status), the `maestro a1`
//! CLI (output, exit codes, one readable error line), and one rApp pass whose consensus goes
//! to the peer (`maestro rapp --a1-url PEER`, KPIs from our xApp).

mod common;

use std::process::Output;

use common::XappProcess;
use maestro_api::a1::SLICE_SLA_TARGET_TYPE;
use maestro_rapp::a1::{A1Adapter, A1PeerConfig, PutResult};
use maestro_rapp::auth::ClientAuth;
use serde_json::{json, Value};

/// Environment variable naming an external A1-P v2 peer, e.g. `http://127.0.0.1:8085`.
const PEER_ENV: &str = "MAESTRO_A1_PEER_URL";

/// The common statement with a maximum equal to the guarantee (peers see both objectives).
fn statement(sd: &str, kbps: f64) -> Value {
    let mut s = common::statement(sd, kbps);
    s["sliceSlaObjectives"]["maxDlThptPerSlice"] = json!(kbps);
    s
}

fn peer(url: &str) -> std::sync::Arc<dyn A1Adapter> {
    A1PeerConfig {
        url: Some(url.to_owned()),
        ..A1PeerConfig::default()
    }
    .connect(&ClientAuth::default())
    .expect("A1-P v2 client")
}

/// A policy id no earlier run left behind.
fn fresh_id(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("maestro-peer-{tag}-{}-{nanos}", std::process::id())
}

/// The A1-P v2 verbs through the trait, as the rApp uses them.
async fn check_client(url: &str) {
    let a1 = peer(url);
    let t = SLICE_SLA_TARGET_TYPE;
    let types = a1.policy_types().await.expect("GET policytypes");
    assert!(
        types.iter().any(|x| x == t),
        "{url} does not offer {t} (offers {types:?}): load the type into the peer first"
    );

    let id = fresh_id("lib");
    let first = statement("0000a1", 30000.0);
    assert_eq!(
        a1.put_policy(t, &id, &first, None).await.expect("PUT new"),
        PutResult::Created
    );
    let second = statement("0000a1", 35000.0);
    assert_eq!(
        a1.put_policy(t, &id, &second, None)
            .await
            .expect("PUT again"),
        PutResult::Updated
    );
    assert_eq!(a1.get_policy(t, &id).await.expect("GET"), second);
    assert!(a1.policy_ids(t).await.expect("list").contains(&id));
    // The status decodes as A1AP v2 PolicyStatusObject (enforceStatus [+ enforceReason]).
    a1.policy_status(t, &id).await.expect("GET status");

    // A statement that breaks the type's schema is refused with 400 and stores nothing.
    let broken = fresh_id("broken");
    let err = a1
        .put_policy(t, &broken, &json!({"scope": {}}), None)
        .await
        .expect_err("schema violation accepted");
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(!a1.policy_ids(t).await.expect("list").contains(&broken));

    a1.delete_policy(t, &id).await.expect("DELETE");
    let err = a1
        .get_policy(t, &id)
        .await
        .expect_err("deleted policy still there");
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(!a1.policy_ids(t).await.expect("list").contains(&id));
    let err = a1
        .policy_ids("NO_SUCH_TYPE_0.0.1")
        .await
        .expect_err("unknown type listed");
    assert_eq!(err.status(), Some(404), "{err}");
    let text = err.to_string();
    assert!(text.contains("policy type"), "no hint in: {text}");
}

fn a1_cli(url: &str, args: &[&str]) -> Output {
    common::maestro()
        .args(["a1", "--url", url])
        .args(args)
        .env_remove("MAESTRO_A1_ADAPTER")
        .env_remove("MAESTRO_A1_CONFIG")
        .output()
        .expect("run maestro a1")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `maestro a1` as a user runs it against the peer.
fn check_cli(url: &str) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("statement.json");
    std::fs::write(&file, statement("0000b2", 12000.0).to_string())
        .expect("write the statement file");
    let file = file.to_str().expect("UTF-8 path");
    let id = fresh_id("cli");

    let types = a1_cli(url, &["types"]);
    assert!(types.status.success(), "{types:?}");
    assert!(stdout(&types).contains(SLICE_SLA_TARGET_TYPE));

    let put = a1_cli(url, &["put", &id, "-f", file]);
    assert!(put.status.success(), "{put:?}");
    assert_eq!(stdout(&put).trim(), format!("created {id}"));
    let again = a1_cli(url, &["put", &id, "-f", file]);
    assert_eq!(stdout(&again).trim(), format!("updated {id}"));

    let get = a1_cli(url, &["get", &id]);
    assert!(get.status.success(), "{get:?}");
    let got: Value = serde_json::from_slice(&get.stdout).expect("`maestro a1 get` prints JSON");
    assert_eq!(got, statement("0000b2", 12000.0));

    let list = a1_cli(url, &["list"]);
    let ids: Vec<String> =
        serde_json::from_slice(&list.stdout).expect("`maestro a1 list` prints a JSON list");
    assert!(ids.contains(&id));

    let status = a1_cli(url, &["status", &id]);
    assert!(status.status.success(), "{status:?}");
    let status: Value =
        serde_json::from_slice(&status.stdout).expect("`maestro a1 status` prints JSON");
    let enforce = status["enforceStatus"].as_str().unwrap_or_default();
    assert!(
        matches!(enforce, "ENFORCED" | "NOT_ENFORCED"),
        "status {status}"
    );

    let delete = a1_cli(url, &["delete", &id]);
    assert!(delete.status.success(), "{delete:?}");
    assert_eq!(stdout(&delete).trim(), format!("deleted {id}"));

    // A refusal: non-zero exit, one readable line naming the status, no panic.
    let gone = a1_cli(url, &["get", &id]);
    assert!(!gone.status.success());
    let err = String::from_utf8_lossy(&gone.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("maestro: ") && err.contains("404"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Runs `maestro rapp` with its policies going to `a1_url` and KPIs from `kpi_grpc`, state and
/// report under `dir`; returns its output and the report's path.
fn run_rapp(
    a1_url: &str,
    kpi_grpc: &str,
    observe_s: &str,
    dir: &std::path::Path,
) -> (Output, std::path::PathBuf) {
    let report = dir.join("report.json");
    let out = common::maestro()
        .args(["rapp", "--a1-url", a1_url, "--kpi-url", kpi_grpc])
        .args(["--observe", observe_s, "--connect-timeout", "60"])
        .args(["--metrics-addr", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.join("state"))
        .arg("--report")
        .arg(&report)
        .env("RUST_LOG", "warn")
        .env_remove("MAESTRO_A1_ADAPTER")
        .output()
        .expect("run maestro rapp");
    (out, report)
}

/// One rApp pass whose consensus goes to `url`, with KPIs from `kpi_xapp`'s stream: each
/// operator's policy is PUT and read back identical, then removed from the peer.
fn check_rapp_pass(url: &str, kpi_xapp: &XappProcess) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (out, report) = run_rapp(url, &kpi_xapp.grpc, "2", dir.path());
    // The exit code says whether the *cell* held the targets; with an external peer the xApp
    // never sees the policies, so only the A1 side is asserted here.
    let text = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no report ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    let report: Value = serde_json::from_str(&text).expect("the rApp report is JSON");
    let slices = report["slices"].as_array().expect("slices");
    assert_eq!(slices.len(), 2, "{report}");
    let kbps = (report["consensus_mbps"]
        .as_f64()
        .expect("the report has a consensus")
        * 1000.0)
        .round();
    let a1 = peer(url);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    for s in slices {
        assert_eq!(s["a1_read_back"], true, "{s}");
        let id = s["policy_id"]
            .as_str()
            .expect("the report names each policy");
        let stored = rt
            .block_on(a1.get_policy(SLICE_SLA_TARGET_TYPE, id))
            .expect("policy the rApp PUT");
        assert_eq!(
            stored["sliceSlaObjectives"]["guaDlThptPerSlice"],
            json!(kbps)
        );
        rt.block_on(a1.delete_policy(SLICE_SLA_TARGET_TYPE, id))
            .expect("clean up");
    }
}

#[test]
fn our_xapp_passes_the_a1_peer_checks() {
    let dir = tempfile::tempdir().unwrap();
    let xapp = XappProcess::start(&dir.path().join("state"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(check_client(&xapp.http));
    check_cli(&xapp.http);
    check_rapp_pass(&xapp.http, &xapp);
}

#[test]
fn external_a1_peer_passes_the_a1_peer_checks() {
    let Some(url) = std::env::var(PEER_ENV).ok().filter(|u| !u.is_empty()) else {
        eprintln!(
            "skipped: set {PEER_ENV} to an A1-P v2 peer (e.g. the O-RAN SC A1 simulator, \
             STD_2.0.0, with {SLICE_SLA_TARGET_TYPE} loaded) to run these checks against it"
        );
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(check_client(&url));
    check_cli(&url);
    // KPIs come from our xApp; the policies go to the peer.
    let dir = tempfile::tempdir().unwrap();
    let xapp = XappProcess::start(&dir.path().join("state"));
    check_rapp_pass(&url, &xapp);
}

#[test]
fn policies_sent_where_the_kpi_stream_cannot_see_them_do_not_pass() {
    // The policies go to xApp A; the KPIs come from xApp B, whose cell never carries them.
    let dir = tempfile::tempdir().unwrap();
    let peer_xapp = XappProcess::start(&dir.path().join("a"));
    let kpi_xapp = XappProcess::start(&dir.path().join("b"));
    let (out, report) = run_rapp(&peer_xapp.http, &kpi_xapp.grpc, "1", dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.matches("never appeared in the KPI reports").count(),
        2,
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["pass"], false);
    for s in report["slices"].as_array().unwrap() {
        assert_eq!(s["holds_target"], false, "{s}");
        assert_eq!(s["periods"], 0, "{s}");
        assert_eq!(s["a1_read_back"], true, "{s}");
    }
}
