//! `maestro bench` runs every benchmark end to end and writes figures that make sense
//! (the figures themselves are quoted from release builds, not asserted against time here).

mod common;

use serde_json::Value;

#[test]
fn bench_writes_every_figure_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench.json");
    let status = common::maestro()
        .args(["bench", "all", "--puts", "20", "--clients", "4"])
        .args(["--seconds", "0.3", "--ues", "200", "--slices", "2"])
        .arg("--data-dir")
        .arg(dir.path().join("state"))
        .arg("--json")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let f: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let lat = &f["a1_latency"];
    assert_eq!(lat["samples"], 20);
    let (p50, p99, max) = (
        lat["p50_ms"].as_f64().unwrap(),
        lat["p99_ms"].as_f64().unwrap(),
        lat["max_ms"].as_f64().unwrap(),
    );
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{lat}");
    let thr = &f["a1_throughput"];
    assert_eq!(thr["clients"], 4);
    assert_eq!(thr["failed"], 0, "{thr}");
    assert!(thr["ok"].as_u64().unwrap() > 0);
    let ing = &f["ingest"];
    assert_eq!(ing["ues_per_report"], 200);
    let per_report = ing["ue_samples_per_second"].as_f64().unwrap()
        / ing["reports_per_second"].as_f64().unwrap();
    assert!((per_report - 200.0).abs() < 1e-6, "{ing}");
}

#[test]
fn bench_rejects_nonsense_with_one_line() {
    let out = common::maestro()
        .args(["bench", "ingest", "--seconds", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--seconds"), "{err}");
}
