//! `maestro-bench a1-load | kpi-fanout | soak` run end to end, briefly, and report figures
//! that add up (counts, not timings: the timed figures come from `.ci/load-test` on a release
//! build and are quoted in docs/RELIABILITY.md).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use maestro_xapp::config::XappConfig;
use serde_json::Value;

fn maestro_bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maestro-bench"))
}

fn run_json(args: &[&str], json: &Path) -> (bool, Value, String) {
    let out = maestro_bench()
        .args(args)
        .arg("--json")
        .arg(json)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run maestro bench");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let text = std::fs::read_to_string(json)
        .unwrap_or_else(|e| panic!("no JSON ({e}); stdout {stdout}; stderr {stderr}"));
    (
        out.status.success(),
        serde_json::from_str(&text).expect("the bench JSON parses"),
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
    let figure = |part: &str, key: &str| f[part][key].as_f64().unwrap();
    // Every request sent has a send-lag sample; every answered one is in exactly one of the
    // PUT and GET histograms, and "all" is their union (its worst is the worse of the two).
    assert_eq!(f["send_lag"]["samples"].as_u64(), Some(100), "{f}");
    assert_eq!(f["all"]["samples"].as_u64(), Some(put_n + get_n), "{f}");
    assert_eq!(
        figure("all", "max_ms"),
        figure("put", "max_ms").max(figure("get", "max_ms")),
        "{f}"
    );
    // 100 answers over at least the asked second.
    let achieved = f["achieved_rate"].as_f64().unwrap();
    assert!(achieved > 0.0 && achieved <= 100.0 + 1e-9, "{f}");
    assert!(out.contains("a1-load"), "{out}");
}

/// A1 requests the xApp counted (`maestro_xapp_a1_requests_total`), by method: (all, 2xx).
async fn served(http: &reqwest::Client, base: &str) -> BTreeMap<String, (u64, u64)> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("GET /metrics")
        .text()
        .await
        .expect("the metrics text");
    let mut by_method: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("maestro_xapp_a1_requests_total{") else {
            continue;
        };
        let label = |name: &str| {
            let at = rest.find(&format!("{name}=\"")).expect("label") + name.len() + 2;
            rest[at..at + rest[at..].find('"').expect("closing quote")].to_owned()
        };
        let count: u64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse::<f64>().ok())
            .expect("a count") as u64;
        let entry = by_method.entry(label("method")).or_default();
        entry.0 += count;
        if label("code").starts_with('2') {
            entry.1 += count;
        }
    }
    by_method
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a1_load_against_an_external_xapp_by_url() {
    let dir = tempfile::tempdir().unwrap();
    // An xApp of its own, with the default A1 limits and emulated gNB, in this process.
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let xapp = maestro_xapp::start(XappConfig {
        http_addr: loopback,
        grpc_addr: loopback,
        ..XappConfig::loopback_defaults(dir.path().join("state"))
    })
    .await
    .unwrap();
    let base = format!("http://{}", xapp.http_addr);
    let http = reqwest::Client::new();
    let before = served(&http, &base).await;
    let json = dir.path().join("a1.json");
    let url = base.clone();
    // 40 req/s, 75 % PUT: 30 writes/s, under the xApp's default limit of 200 per client.
    let (ok, f, out) = tokio::task::spawn_blocking(move || {
        run_json(
            &[
                "a1-load",
                "--url",
                &url,
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
        )
    })
    .await
    .unwrap();
    assert!(ok, "{out}");
    let f = &f["a1_load"];
    assert_eq!(f["ok"], 40, "{f}");
    assert_eq!(f["put"]["samples"], 30, "{f}");
    assert_eq!(f["get"]["samples"], 10, "{f}");
    // What the xApp itself counted: the 2 policies created before the load, the load's 30
    // PUTs and 10 GETs (and the one GET /metrics before the load), all answered 2xx.
    let after = served(&http, &base).await;
    let delta = |method: &str| {
        let (a, b) = (
            after.get(method).copied().unwrap_or_default(),
            before.get(method).copied().unwrap_or_default(),
        );
        (a.0 - b.0, a.1 - b.1)
    };
    assert_eq!(delta("PUT"), (2 + 30, 2 + 30), "{before:?} -> {after:?}");
    assert_eq!(delta("GET"), (10 + 1, 10 + 1), "{before:?} -> {after:?}");
    xapp.shutdown().await;
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
    // Every subscriber got reports, and none more than the gNB sent in the window.
    assert!(min > 0 && max <= sent, "{f}");
    // Two tallies of the reports received: the per-subscriber counters (delivered_pct =
    // total / (sent x subscribers)) and the latency histogram, which holds one sample per
    // report received (every report of the window is still in the send-time ring).
    let total = f["latency"]["samples"].as_u64().unwrap();
    assert!(4 * min <= total && total <= 4 * max, "{f}");
    let pct = f["delivered_pct"].as_f64().unwrap();
    let recomputed = 100.0 * total as f64 / (sent as f64 * 4.0);
    assert!(
        (pct - recomputed).abs() < 1e-9,
        "delivered {pct}% written, {recomputed}% from {total} latency samples: {f}"
    );
    assert!(f["rss_end_mib"].as_f64().unwrap() > 0.0, "{f}");
}

#[test]
fn soak_judges_the_heap_at_quiet_points_and_catches_a_leak() {
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
        "--max-drift-pct",
        "25",
    ];
    let json = dir.path().join("soak.json");
    let (ok, f, out) = run_json(&common_args, &json);
    assert!(ok, "{out}");
    let s = &f["soak"];
    assert_eq!(s["flat"], true, "{s}");
    assert_eq!(s["judged_by"], "heap", "{s}");
    // 9 s sampled every second, plus the two quiet readings.
    let samples = s["samples"].as_array().unwrap();
    assert!(samples.len() >= 5, "{s}");
    // The judged growth recomputed from the two quiet readings.
    let (start, end) = (
        s["heap_start_mib"].as_f64().unwrap(),
        s["heap_end_mib"].as_f64().unwrap(),
    );
    assert!(start > 0.0, "{s}");
    let growth = 100.0 * (end - start) / start;
    assert!(
        (s["heap_growth_pct"].as_f64().unwrap() - growth).abs() < 1e-9,
        "growth {growth}% from the readings: {s}"
    );
    // The RSS readings are among the samples.
    let rss: Vec<f64> = samples
        .iter()
        .map(|x| x["rss_mib"].as_f64().unwrap())
        .collect();
    assert!(rss.contains(&s["rss_start_mib"].as_f64().unwrap()), "{s}");
    assert!(rss.contains(&s["rss_end_mib"].as_f64().unwrap()), "{s}");
    // The figures are the soak leg's: 40 req/s for the 6 s after the warm-up.
    assert_eq!(s["a1"]["ok"], 240, "{s}");
    assert!(s["kpi"]["received_min"].as_u64().unwrap() > 0, "{s}");

    // The same soak leaking 4 MiB a second (24 MiB over the soak leg, far more than 25% of
    // the heap the in-process xApp holds): NOT flat, exit 1, and the figures are written.
    let json = dir.path().join("soak-leak.json");
    let mut args = common_args.to_vec();
    args.extend(["--inject-leak-kib-per-s", "4096"]);
    let (ok, f, out) = run_json(&args, &json);
    assert!(!ok, "{out}");
    assert_eq!(f["soak"]["flat"], false, "{}", f["soak"]);
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
        let out = maestro_bench().args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        let lines: Vec<&str> = err.lines().filter(|l| !l.contains("debug build")).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {err}");
    }
}
