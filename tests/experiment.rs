//! `maestro experiment` prints the table and writes JSON, CSV and SVG results.

mod common;

use serde_json::Value;

#[test]
fn optimizer_experiment_writes_table_json_csv_svg() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::maestro()
        .args(["experiment", "optimizer", "--negotiations", "5", "--quiet"])
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    for design in ["none", "soft", "hard"] {
        assert_eq!(table.matches(&format!(" {design} ")).count(), 3, "{table}");
    }
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("optimizer.json")).unwrap())
            .unwrap();
    assert_eq!(json["cells"].as_array().unwrap().len(), 9);
    assert_eq!(json["games"].as_array().unwrap().len(), 45);
    let hard_mae = json["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["design"] == "hard")
        .map(|c| c["abs_error_mbps"]["mean"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(hard_mae < 0.5, "{hard_mae}");
    let csv = std::fs::read_to_string(dir.path().join("optimizer.csv")).unwrap();
    assert_eq!(csv.lines().count(), 46);
    let svg = std::fs::read_to_string(dir.path().join("optimizer.svg")).unwrap();
    assert_eq!(svg.matches("<rect x=").count(), 9);
}

#[test]
fn experiment_rejects_zero_games_with_one_line() {
    let out = common::maestro()
        .args(["experiment", "personalities", "--games", "0", "--quiet"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--games"), "{err}");
}
