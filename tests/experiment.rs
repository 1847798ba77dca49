//! `maestro experiment` prints the table and writes JSON, CSV and SVG results (and a PNG for
//! the personalities experiment), with progress on stderr.

mod common;

use serde_json::Value;

/// Runs `maestro experiment ARGS --out DIR` and asserts it succeeded.
fn run_ok(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    common::run_ok(
        common::maestro()
            .arg("experiment")
            .args(args)
            .arg("--out")
            .arg(dir),
    )
}

#[test]
fn optimizer_experiment_writes_table_json_csv_svg() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(&["optimizer", "--negotiations", "5", "--quiet"], dir.path());
    let table = String::from_utf8(out.stdout).unwrap();
    for design in ["none", "soft", "hard"] {
        assert_eq!(table.matches(&format!(" {design} ")).count(), 3, "{table}");
    }
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("optimizer.json")).unwrap())
            .unwrap();
    assert_eq!(json["cells"].as_array().unwrap().len(), 9);
    assert_eq!(json["games"].as_array().unwrap().len(), 45);
    let csv = std::fs::read_to_string(dir.path().join("optimizer.csv")).unwrap();
    assert_eq!(csv.lines().count(), 46);
    // Every cell's summary agrees with a recomputation from the per-negotiation CSV rows
    // (|outcome - theory| from the two columns, then their mean per (n, design)): the table and
    // JSON say what the negotiations did. (Hard MAE itself is not asserted here: agents that
    // state their targets already sit on the optimum under the stake-weighted mean, so it says
    // nothing about the validation unit; rapp/tests/hard_pressure.rs measures that.)
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (n_at, design_at) = (col("n"), col("design"));
    let (outcome_at, theory_at) = (col("outcome_mbps"), col("theory_mbps"));
    for cell in json["cells"].as_array().unwrap() {
        let n = cell["n"].as_u64().unwrap().to_string();
        let errors: Vec<f64> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f[n_at] == n && f[design_at] == cell["design"].as_str().unwrap())
            .map(|f| {
                (f[outcome_at].parse::<f64>().unwrap() - f[theory_at].parse::<f64>().unwrap()).abs()
            })
            .collect();
        assert_eq!(errors.len(), 5, "{cell}");
        let mean = errors.iter().sum::<f64>() / 5.0;
        let reported = cell["abs_error_mbps"]["mean"].as_f64().unwrap();
        assert!(
            (mean - reported).abs() < 1e-3,
            "{cell}: CSV mean {mean}, JSON {reported}"
        );
    }
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

#[test]
fn personalities_writes_every_file_checks_the_claims_and_says_the_persona_is_scripted() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(&["personalities", "--games", "2"], dir.path());
    let table = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "backend: persona (scripted)",
        "units on: none: standalone agents",
        "fair middle 50 Mbps = (10 + 90) / 2",
        "paper: qualitative reading of Fig. 3a",
    ] {
        assert!(table.contains(needle), "{needle:?} in\n{table}");
    }
    let header = table.lines().find(|l| l.starts_with("pair")).unwrap();
    for column in ["(a)", "(b)", "(c)", "(d)", "paper", "decision", "agree"] {
        assert!(header.contains(column), "{column} in {header}");
    }
    for pair in ["N-N", "A-D", "V-D", "V-T", "N-T", "D-T", "D-D", "T-T"] {
        let row = table.lines().find(|l| l.starts_with(pair)).unwrap();
        // Every row says, per claim column, held, not held or - (not about this pair).
        let verdicts = row.matches("held").count() + row.matches(" - ").count();
        assert!(verdicts >= 3, "{row}");
    }
    for tag in ["(a) ", "(b) ", "(c) ", "(d) "] {
        let line = table.lines().find(|l| l.starts_with(tag)).unwrap();
        assert!(
            line.contains(": held.") || line.contains(": not held."),
            "{line}"
        );
        assert!(line.contains("Rule: held if"), "{line}");
    }

    for ext in ["json", "csv", "svg", "png"] {
        let path = dir.path().join(format!("personalities.{ext}"));
        assert!(path.is_file(), "{}", path.display());
        assert!(
            table.contains(&format!("wrote {}", path.display())),
            "{table}"
        );
    }
    let png = std::fs::read(dir.path().join("personalities.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("personalities.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["llm"], "persona (scripted)");
    assert_eq!(json["units_on"], serde_json::json!([]));
    assert_eq!(json["pressure"], "none");
    assert_eq!(json["fair_middle_mbps"], 50.0);
    assert_eq!(json["pairs"].as_array().unwrap().len(), 8);
    assert_eq!(json["games"].as_array().unwrap().len(), 16);
    let claims = json["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 4);
    assert!(claims.iter().all(|c| c["held"].is_boolean()));
    for game in json["games"].as_array().unwrap() {
        let (cost, qos) = (
            game["cost_mbps"].as_f64().unwrap(),
            game["qos_mbps"].as_f64().unwrap(),
        );
        assert_eq!(game["decision_mbps"].as_f64().unwrap(), (cost + qos) / 2.0);
        assert_eq!(game["incentives"], 0, "standalone: no arbitral unit");
    }
    let csv = std::fs::read_to_string(dir.path().join("personalities.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 16);
    assert!(csv.starts_with("pair,game,cost_mbps,qos_mbps,"), "{csv}");
    let svg = std::fs::read_to_string(dir.path().join("personalities.svg")).unwrap();
    assert!(svg.contains("persona (scripted)"));
    // Two boxes (cost, QoS) per pair and two legend swatches.
    assert_eq!(svg.matches("<rect x=").count(), 8 * 2 + 2);

    // stderr is a pipe here, not a terminal: plain lines, one per tenth, ending at 100%.
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().filter(|l| l.contains(" games (")).collect();
    assert!(!lines.is_empty() && lines.len() <= 10, "{err}");
    assert!(
        lines.iter().all(|l| l.starts_with("personalities: ")),
        "{err}"
    );
    assert_eq!(lines.last(), Some(&"personalities: 16/16 games (100%)"));
    assert!(
        !err.contains('\r'),
        "no bar drawing off a terminal: {err:?}"
    );
}

#[test]
fn personalities_records_the_units_an_ablation_switched_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(
        &[
            "personalities",
            "--games",
            "1",
            "--with",
            "arbitral,regulatory",
            "--pressure",
            "hard",
            "--quiet",
        ],
        dir.path(),
    );
    assert!(out.stderr.is_empty(), "--quiet: {:?}", out.stderr);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains(
            "units on: arbitral (lexicon, paper ladder), optimizer (hard pressure), regulatory"
        ),
        "{table}"
    );
    assert!(
        table.contains("not the paper's standalone setting"),
        "{table}"
    );
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("personalities.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        json["units_on"],
        serde_json::json!(["arbitral", "optimizer", "regulatory"])
    );
    assert_eq!(json["pressure"], "hard");

    let out = common::maestro()
        .args([
            "experiment",
            "personalities",
            "--with",
            "optimizer",
            "--pressure",
            "none",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--pressure none"), "{err}");
}
