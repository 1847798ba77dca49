//! `maestro bench a1-load | kpi-fanout | soak` run end to end, briefly, and report figures that
//! add up (counts, not timings: the timed figures come from `.ci/load-test` on a release build
//! and are quoted in docs/RELIABILITY.md).

mod common;

use std::path::Path;

use serde_json::Value;

fn run_json(args: &[&str], json: &Path) -> (bool, Value, String) {
    let out = common::maestro()
        .arg("bench")
        .args(args)
        .arg("--json")
        .arg(json)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let text = std::fs::read_to_string(json)
        .unwrap_or_else(|e| panic!("no JSON ({e}); stdout {stdout}; stderr {stderr}"));
    (
        out.status.success(),
        serde_json::from_str(&text).unwrap(),
        format!("{stdout}{stderr}"),
    )
}

#[test]
fn a1_load_sends_every_scheduled_request_and_counts_each_answer() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("a1.json");
    let (ok, f, out) = run_json(
        &[
            "a1-load",
            "--rate",
            "100",
            "--seconds",
            "1",
            "--put-share",
            "0.5",
        ],
        &json,
    );
    assert!(ok, "{out}");
    let f = &f["a1_load"];
    let (ok_n, put_n, get_n) = (
        f["ok"].as_u64().unwrap(),
        f["put"]["samples"].as_u64().unwrap(),
        f["get"]["samples"].as_u64().unwrap(),
    );
    // 100 req/s for 1 s: 100 requests, half of them PUTs, every one answered 2xx.
    assert_eq!(ok_n, 100, "{f}");
    assert_eq!((put_n, get_n), (50, 50), "{f}");
    assert!(f["errors"].as_object().unwrap().is_empty(), "{f}");
    let all = &f["all"];
    assert!(all["p50_ms"].as_f64().unwrap() <= all["p99_ms"].as_f64().unwrap());
    assert!(all["p99_ms"].as_f64().unwrap() <= all["max_ms"].as_f64().unwrap());
    assert!(out.contains("a1-load"), "{out}");
}

#[test]
fn a1_load_against_an_external_xapp_by_url() {
    let dir = tempfile::tempdir().unwrap();
    let xapp = common::XappProcess::start(&dir.path().join("state"));
    let json = dir.path().join("a1.json");
    // 40 req/s, 75 % PUT: 30 writes/s, under the xApp's default limit of 200 per client.
    let (ok, f, out) = run_json(
        &[
            "a1-load",
            "--url",
            &xapp.http,
            "--rate",
            "40",
            "--seconds",
            "1",
            "--put-share",
            "0.75",
            // The xApp's built-in emulated gNB serves two slices: one policy each.
            "--policies",
            "2",
        ],
        &json,
    );
    assert!(ok, "{out}");
    let f = &f["a1_load"];
    assert_eq!(f["ok"], 40, "{f}");
    assert_eq!(f["put"]["samples"], 30, "{f}");
}

#[test]
fn kpi_fanout_counts_reports_per_subscriber() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("kpi.json");
    let (ok, f, out) = run_json(
        &[
            "kpi-fanout",
            "--subscribers",
            "4",
            "--ues",
            "60",
            "--period-ms",
            "20",
            "--seconds",
            "2",
        ],
        &json,
    );
    assert!(ok, "{out}");
    let f = &f["kpi_fanout"];
    assert_eq!(f["subscribers"], 4);
    assert_eq!(f["ues"], 60);
    let sent = f["sent"].as_u64().unwrap();
    // 2 s of 20 ms periods is 100 reports; a loaded machine may tick fewer.
    assert!((10..=110).contains(&sent), "{f}");
    let (min, max) = (
        f["received_min"].as_u64().unwrap(),
        f["received_max"].as_u64().unwrap(),
    );
    assert!(0 < min && min <= max && max <= sent, "{f}");
    let pct = f["delivered_pct"].as_f64().unwrap();
    assert!(pct > 0.0 && pct <= 100.0, "{f}");
    assert!(f["latency"]["samples"].as_u64().unwrap() > 0, "{f}");
    assert!(f["rss_end_mib"].as_f64().unwrap() > 0.0, "{f}");
}

#[test]
fn soak_samples_rss_and_fails_when_memory_is_not_flat() {
    let dir = tempfile::tempdir().unwrap();
    let common_args = [
        "soak",
        "--minutes",
        "0.15",
        "--warmup-seconds",
        "3",
        "--sample-seconds",
        "1",
        "--subscribers",
        "3",
        "--ues",
        "40",
        "--period-ms",
        "20",
        "--rate",
        "40",
    ];
    let json = dir.path().join("soak.json");
    let mut args = common_args.to_vec();
    args.extend(["--max-drift-pct", "1000"]);
    let (ok, f, out) = run_json(&args, &json);
    assert!(ok, "{out}");
    let s = &f["soak"];
    assert_eq!(s["flat"], true, "{s}");
    // 9 s sampled every second, plus one at the end.
    assert!(s["samples"].as_array().unwrap().len() >= 5, "{s}");
    assert!(s["rss_start_mib"].as_f64().unwrap() > 0.0, "{s}");
    assert_eq!(s["a1"]["ok"], 360, "{s}");
    assert!(s["kpi"]["received_min"].as_u64().unwrap() > 0, "{s}");

    // A limit no process can meet (RSS must shrink by more than it holds): exit 1, and the
    // figures are still written.
    let json = dir.path().join("soak-strict.json");
    let mut args = common_args.to_vec();
    args.push("--max-drift-pct=-100");
    let (ok, f, out) = run_json(&args, &json);
    assert!(!ok, "{out}");
    assert_eq!(f["soak"]["flat"], false);
    assert!(out.contains("NOT flat"), "{out}");
}

#[test]
fn load_modes_reject_nonsense_with_one_line() {
    for args in [
        &["a1-load", "--rate", "0"][..],
        &["a1-load", "--put-share", "2"][..],
        &["soak", "--url", "http://127.0.0.1:9"][..],
        &["kpi-fanout", "--subscribers", "0"][..],
    ] {
        let out = common::maestro().arg("bench").args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        let lines: Vec<&str> = err.lines().filter(|l| !l.contains("debug build")).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {err}");
    }
}
