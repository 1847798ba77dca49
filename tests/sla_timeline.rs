//! `maestro experiment sla-timeline` on the UCC Netflix drive (CQI from 15 down to about 4,
//! `../shared/data/cqi/` or `$MAESTRO_CQI_DIR`): the acceptance, checked on the
//! command's own outputs — the JSON event log, the per-period CSV and the stored transcripts.
//! The trace lives outside the repository (GPL-3.0 data); without it the test fails, naming
//! the path it looked for.

mod common;

use std::path::PathBuf;

use serde_json::Value;

/// The Netflix drive trace; panics naming the path when it is not there.
fn netflix_trace() -> PathBuf {
    let dir = std::env::var_os("MAESTRO_CQI_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cqi"));
    let path = dir.join("ucc5g_netflix_driving_B_2019.11.26_13.20.42.csv");
    assert!(
        path.is_file(),
        "the UCC Netflix drive trace is missing: {} (the UCC 5G traces live in ../shared/data/cqi/ \
         next to the repository; set MAESTRO_CQI_DIR to their directory elsewhere)",
        path.display()
    );
    path
}

#[test]
fn netflix_drive_renegotiates_on_observability_warns_the_toxic_operator_and_switches_off() {
    let trace = netflix_trace();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = common::run_ok(
        common::maestro()
            .args(["experiment", "sla-timeline", "--quiet", "--cqi-trace"])
            .arg(&trace)
            .arg("--out")
            .arg(&out),
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    println!("{stdout}");
    let log: Value =
        serde_json::from_slice(&std::fs::read(out.join("sla-timeline.json")).unwrap()).unwrap();
    println!(
        "wall time: {:.1} s for {:.0} s of gNB time",
        log["wall_s"].as_f64().unwrap(),
        log["duration_s"].as_f64().unwrap()
    );
    assert!(log["duration_s"].as_f64().unwrap() >= 499.0);
    let negotiations = log["negotiations"].as_array().unwrap();

    // At least 3 negotiations triggered by the observability unit, none by a timer: the
    // session's opening is the only one without a trigger.
    let by_observability: Vec<&Value> = negotiations
        .iter()
        .filter(|n| n["cause"]["kind"] != "start")
        .collect();
    assert!(by_observability.len() >= 3, "{}", by_observability.len());
    assert_eq!(
        log["observability_triggers"].as_u64().unwrap() as usize,
        by_observability.len()
    );
    assert_eq!(negotiations[0]["cause"]["kind"], "start");
    for n in &by_observability {
        let kind = n["cause"]["kind"].as_str().unwrap();
        assert!(kind == "observability" || kind == "topic_invalid", "{kind}");
    }
    let triggers = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "trigger")
        .count();
    assert!(triggers >= 3);

    // High CQI at the start: consensus about 50 Mbps.
    let first = negotiations[0]["enforced_mbps"].as_f64().unwrap();
    assert!((first - 50.0).abs() < 2.0, "{first}");

    // The toxic operator is warned, with evidence, in the transcript.
    let warned: Vec<&Value> = negotiations
        .iter()
        .filter(|n| {
            n["outcome"]["arbitral_log"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["agent_id"] == "bo-video" && d["incentive"] == "warning")
        })
        .collect();
    assert!(!warned.is_empty(), "no warning for the toxic operator");
    let id = warned[0]["transcript_id"].as_str().unwrap();
    let shown = common::maestro()
        .args(["transcripts", "show", id, "--json", "--data-dir"])
        .arg(out.join("transcripts"))
        .output()
        .unwrap();
    assert!(shown.status.success());
    let transcript: Value = serde_json::from_slice(&shown.stdout).unwrap();
    let decision = transcript["outcome"]["arbitral_log"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["agent_id"] == "bo-video" && d["incentive"] == "warning")
        .expect("the warning is in the stored transcript")
        .clone();
    assert!(!decision["evidence"].as_array().unwrap().is_empty());
    assert!(transcript["agents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == "bo-video" && a["personality"] == "Toxic"));

    // A unanimous switch-off, enforced as a zero-throughput policy: the xApp then reports a
    // 0 Mbps target, 0 PRBs and nothing delivered.
    assert!(negotiations
        .iter()
        .any(|n| n["switch_off"] == true && n["enforced_mbps"].as_f64() == Some(0.0)));
    assert_eq!(log["switch_off_enforced"], true);
    let csv = std::fs::read_to_string(out.join("sla-timeline-samples.csv")).unwrap();
    assert!(csv.lines().skip(1).any(|l| {
        let f: Vec<&str> = l.split(',').collect();
        f[3] == "0.000" && f[4] == "0.000" && f[6] == "0"
    }));
    // Recovery: a new, non-zero consensus after the switch-off.
    let off_at = negotiations
        .iter()
        .position(|n| n["switch_off"] == true)
        .unwrap();
    assert!(negotiations[off_at + 1..]
        .iter()
        .any(|n| n["enforced_mbps"].as_f64().is_some_and(|v| v > 20.0)));

    // Whenever a consensus is achievable, once the control settles, the measured throughput
    // is within 5% of it.
    let segments = log["segments"].as_array().unwrap();
    let mut counted = 0;
    for s in segments {
        counted += s["settled_achievable_periods"].as_u64().unwrap();
        assert_eq!(s["holds"], true, "{s}");
    }
    assert!(counted > 1000, "{counted} settled periods");
    println!(
        "settled achievable periods within 5%: {:.1}%",
        100.0 * log["share_within_tolerance"].as_f64().unwrap()
    );

    // The plot.
    let svg = std::fs::read_to_string(out.join("sla-timeline.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("max achievable"));
    let png = std::fs::read(out.join("sla-timeline.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}
