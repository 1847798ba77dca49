//! `maestro-bench cells` runs end to end on a few cells, briefly, and writes figures that add
//! up (counts and shapes, not timings: the timed figures are quoted from release builds in
//! docs/BENCHMARKS.md).

use std::process::Command;

use serde_json::Value;

#[test]
fn cells_runs_on_a_few_cells_over_two_shards_with_a_plot() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("cells.json");
    let svg = dir.path().join("cells.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_maestro-bench"))
        .args(["cells", "--sweep", "2,4", "--shards", "2", "--seconds", "2"])
        .args(["--subscribers", "1"])
        .arg("--json")
        .arg(&json)
        .arg("--svg")
        .arg(&svg)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let runs = f["cells"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{f}");
    for (run, cells) in runs.iter().zip([2, 4]) {
        assert_eq!(run["cells"], cells);
        assert_eq!(run["shards"], 2);
        // The cells' own defaults: 2 slices of 10 UEs, every 100 ms.
        assert_eq!(
            (run["slices"].as_u64(), run["ues_per_slice"].as_u64()),
            (Some(2), Some(10))
        );
        assert_eq!(run["period_ms"], 100);
        let shards = run["per_shard"].as_array().unwrap();
        assert_eq!(shards.len(), 2);
        assert!(shards.iter().all(|s| s["cells"] == cells / 2), "{run}");
        // Every PUT timed or counted as a timeout.
        let samples = run["a1_all_cells"]["samples"].as_u64().unwrap();
        assert!(samples + run["a1_timeouts"].as_u64().unwrap() > 0, "{run}");
        assert_eq!(run["a1_first_cell"]["samples"].as_u64(), Some(samples));
        assert!(run["peak_rss_mib"].as_f64().unwrap() > 0.0, "{run}");
    }
    assert!(stdout.contains("| cells | xApps |"), "{stdout}");
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(
        plot.starts_with("<svg") && plot.matches("<circle").count() == 4,
        "{plot}"
    );
}
