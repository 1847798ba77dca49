//! Issue acceptance: with each UCC drive trace replayed on the simulated clock, two slices at
//! 20 Mbps each are held at target (median |error| <= 3 %, p95 <= 10 %) and recover within
//! 2 control periods after a CQI step (>= 99 % of steps; the worst takes 3). The traces live outside the repository (GPL-3.0 data,
//! `../shared/data/cqi/` or `$MAESTRO_CQI_DIR`); a synthetic trace in the repo always runs.

use std::path::PathBuf;

use maestro_xapp::controller::LoopTuning;
use maestro_xapp::e2::emulator::{Clock, CqiSource, EmulatorConfig};
use maestro_xapp::replay::{replay, ReplayConfig, ReplayFigures};

fn run(trace: PathBuf, seconds: u64) -> ReplayFigures {
    let cfg = ReplayConfig {
        emulator: EmulatorConfig {
            cqi: CqiSource::Trace { path: trace },
            clock: Clock::Simulated { speedup: 1.0 },
            ..EmulatorConfig::default()
        },
        target_bps: 20e6,
        seconds,
        tuning: LoopTuning::default(),
        warmup_periods: 5,
    };
    replay(&cfg).expect("replay")
}

fn check(name: &str, f: &ReplayFigures) {
    eprintln!("{name}: {f:?}");
    assert!(f.median_rel_error <= 0.03, "{name}: median {f:?}");
    assert!(f.p95_rel_error <= 0.10, "{name}: p95 {f:?}");
    // After a CQI step: back within 5 % (or the ratio grid's best) in <= 2 control periods
    // for >= 99 % of steps; never more than 3 (PF transients after a step, see `replay`).
    assert!(
        f.slow_recoveries * 100 <= f.cqi_steps,
        "{name}: recovery {f:?}"
    );
    assert!(f.max_recovery_periods <= 3, "{name}: recovery {f:?}");
    assert!(f.cqi_steps > 0, "{name}: the trace must move");
}

fn trace_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MAESTRO_CQI_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/data/cqi"
            ))
        });
    dir.is_dir().then_some(dir)
}

#[test]
fn ucc_traces_are_held_at_target() {
    let Some(dir) = trace_dir() else {
        eprintln!("skipping: no UCC traces (set MAESTRO_CQI_DIR)");
        return;
    };
    for name in [
        "ucc5g_netflix_driving_B_2019.11.26_13.20.42.csv",
        "ucc5g_download_driving_B_2020.01.16_12.10.03.csv",
        "ucc5g_amazon_driving_B_2019.12.01_12.11.21.csv",
    ] {
        let f = run(dir.join(name), 600);
        check(name, &f);
    }
}

#[test]
fn synthetic_drive_in_the_repo_is_held_at_target() {
    let trace = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/synthetic_drive.csv"
    ));
    let f = run(trace, 300);
    check("synthetic_drive.csv", &f);
    assert_eq!(f.slice_periods, 2 * (3000 - 5));
}
