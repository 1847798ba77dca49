//! The demo's negotiation is stored and can be read back with `maestro transcripts`.

mod common;

use serde_json::Value;

#[test]
fn demo_negotiation_is_stored_and_readable_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let report_path = dir.path().join("report.json");
    common::run_ok(
        common::maestro()
            .args(["demo", "--duration", "30", "--speedup", "100"])
            .arg("--state-dir")
            .arg(&state)
            .arg("--report")
            .arg(&report_path),
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let id = report["negotiation_id"].as_str().unwrap().to_owned();
    let store = state.join("rapp");

    let list = common::maestro()
        .args(["transcripts", "list", "--data-dir"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(list.status.success());
    let list = String::from_utf8(list.stdout).unwrap();
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(list.contains(&id));

    let show = common::maestro()
        .args(["transcripts", "show", &id, "--json", "--data-dir"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(show.status.success());
    let t: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(t["id"], id.as_str());
    assert_eq!(t["outcome"]["rounds"], report["rounds"]);
    assert_eq!(
        t["outcome"]["consensus_mbps"].as_f64().unwrap(),
        report["consensus_mbps"].as_f64().unwrap()
    );
    // The regulatory unit's rule is cited.
    assert!(
        t["outcome"]["citations"][0]
            .as_str()
            .unwrap()
            .contains("fair-use"),
        "{}",
        t["outcome"]["citations"]
    );
    // Every round after the opening records each agent's units.
    let history = t["outcome"]["history"].as_array().unwrap();
    assert!(history.len() >= 2);
    for round in &history[1..] {
        let turns = round["turns"].as_array().unwrap();
        assert_eq!(turns.len(), t["agents"].as_array().unwrap().len());
        assert!(turns.iter().all(|turn| turn["advice_mbps"].is_number()));
    }

    let missing = common::maestro()
        .args(["transcripts", "show", "neg-nope", "--data-dir"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let err = String::from_utf8(missing.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1);
    assert!(err.contains("neg-nope"), "{err}");
}
