//! `maestro-bench` runs every benchmark end to end and writes figures that add up: counts, and
//! quantiles recomputed here from the raw samples it writes (the timings themselves are quoted
//! from release builds, not asserted here).

use std::process::Command;

use serde_json::Value;

fn maestro_bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maestro-bench"))
}

#[test]
fn bench_writes_every_figure_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench.json");
    let run = maestro_bench()
        .args(["all", "--puts", "20", "--clients", "4"])
        .args(["--seconds", "0.3", "--ues", "200", "--slices", "2"])
        .arg("--data-dir")
        .arg(dir.path().join("state"))
        .arg("--json")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let f: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();

    // The latency figures, recomputed here from the raw samples the command wrote: one sample
    // per timed PUT, the quantiles by nearest rank to the histograms' precision (rounded up
    // to the microsecond, then at most 0.1 % above), and the same figures on the terminal.
    let lat = &f["a1_latency"];
    assert_eq!(lat["samples"], 20);
    let samples = |key: &str| -> Vec<f64> {
        lat[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key} in {lat}"))
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let control = samples("control_samples_ms");
    let response = samples("response_samples_ms");
    assert_eq!((control.len(), response.len()), (20, 20), "{lat}");
    assert!(control.iter().chain(&response).all(|&ms| ms > 0.0), "{lat}");
    let written = |key: &str| lat[key].as_f64().unwrap();
    let close = |key: &str, samples: &[f64], q: f64| {
        let (got, want) = (written(key), nearest_rank(samples, q));
        assert!(
            got >= want && got <= (want + 1e-3) * 1.001,
            "{key}: {got} written, {want} from the samples"
        );
    };
    close("p50_ms", &control, 0.5);
    close("p99_ms", &control, 0.99);
    close("max_ms", &control, 1.0);
    close("response_p50_ms", &response, 0.5);
    close("response_p99_ms", &response, 0.99);
    let printed = format!(
        "p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
        written("p50_ms"),
        written("p99_ms"),
        written("max_ms")
    );
    assert!(stdout.contains(&printed), "{printed:?} not in\n{stdout}");

    // Throughput: committed PUTs over at least the run's 0.3 s.
    let thr = &f["a1_throughput"];
    assert_eq!(thr["clients"], 4);
    assert_eq!(thr["failed"], 0, "{thr}");
    let ok = thr["ok"].as_u64().unwrap();
    assert!(ok > 0, "{thr}");
    let rate = thr["puts_per_second"].as_f64().unwrap();
    assert!(
        rate > 0.0 && rate <= ok as f64 / 0.3 * 1.001,
        "{rate} PUT/s from {ok} PUTs in >= 0.3 s: {thr}"
    );
    let ing = &f["ingest"];
    assert_eq!(ing["ues_per_report"], 200);
    let per_report = ing["ue_samples_per_second"].as_f64().unwrap()
        / ing["reports_per_second"].as_f64().unwrap();
    assert!((per_report - 200.0).abs() < 1e-6, "{ing}");
}

/// The `q` quantile of `samples` by nearest rank (the smallest sample with at least `q` of
/// them at or below it), computed apart from the command's own.
fn nearest_rank(samples: &[f64], q: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

#[test]
fn bench_rejects_nonsense_with_one_line() {
    let out = maestro_bench()
        .args(["ingest", "--seconds", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--seconds"), "{err}");
}
