//! Issue acceptance: with each UCC drive trace replayed on the simulated clock, two slices at
//! 20 Mbps each are held at target (median |error| <= 3 %, p95 <= 10 %) and every CQI step
//! recovers within 2 control periods. With the emulator's per-slot fast fading added on top
//! of the trace (the default, harsher), >= 99 % of steps recover within 2 periods and the
//! worst within 3. The traces live outside the repository (GPL-3.0 data,
//! `../shared/data/cqi/` or `$MAESTRO_CQI_DIR`); without them the test fails, naming the path
//! it looked for. A synthetic trace in the repo runs too.

mod replay;

use std::path::PathBuf;

use maestro_xapp::controller::LoopTuning;
use maestro_xapp::e2::emulator::{Clock, CqiSource, EmulatorConfig};
use replay::{replay, ReplayConfig, ReplayFigures};

/// Replays `trace`; `fast_fading` adds the emulator's per-slot +-1 CQI fading on top of the
/// trace (harsher than the trace itself).
fn run(trace: PathBuf, seconds: u64, fast_fading: bool) -> ReplayFigures {
    let cfg = ReplayConfig {
        emulator: EmulatorConfig {
            cqi: CqiSource::Trace { path: trace },
            clock: Clock::Simulated { speedup: 1.0 },
            fast_fading,
            ..EmulatorConfig::default()
        },
        target_bps: 20e6,
        seconds,
        tuning: LoopTuning::default(),
        warmup_periods: 5,
    };
    replay(&cfg).expect("replay")
}

/// The trace as given (the setting): every step recovers within 2 periods.
fn check_strict(name: &str, f: &ReplayFigures) {
    eprintln!("{name} (trace CQI): {f:?}");
    assert!(f.median_rel_error <= 0.03, "{name}: median {f:?}");
    assert!(f.p95_rel_error <= 0.10, "{name}: p95 {f:?}");
    assert!(f.max_recovery_periods <= 2, "{name}: recovery {f:?}");
    assert_eq!(f.slow_recoveries, 0, "{name}: recovery {f:?}");
    assert!(f.cqi_steps > 0, "{name}: the trace must move");
}

/// The trace plus per-slot fast fading: a few steps land in a fading dip.
fn check(name: &str, f: &ReplayFigures) {
    eprintln!("{name} (trace CQI + fast fading): {f:?}");
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

/// The UCC trace `name`; panics naming the path when it is not there.
fn ucc_trace(name: &str) -> PathBuf {
    let dir = std::env::var_os("MAESTRO_CQI_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/data/cqi"
            ))
        });
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "UCC drive trace missing: {} (the UCC 5G traces live in ../shared/data/cqi/ next to the \
         repository; set MAESTRO_CQI_DIR to their directory elsewhere)",
        path.display()
    );
    path
}

#[test]
fn ucc_traces_are_held_at_target() {
    // All three found before any is replayed.
    let traces: Vec<(&str, PathBuf)> = [
        "ucc5g_netflix_driving_B_2019.11.26_13.20.42.csv",
        "ucc5g_download_driving_B_2020.01.16_12.10.03.csv",
        "ucc5g_amazon_driving_B_2019.12.01_12.11.21.csv",
    ]
    .into_iter()
    .map(|name| (name, ucc_trace(name)))
    .collect();
    for (name, trace) in traces {
        check_strict(name, &run(trace.clone(), 600, false));
        check(name, &run(trace, 600, true));
    }
}

#[test]
fn synthetic_drive_in_the_repo_is_held_at_target() {
    let trace = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/synthetic_drive.csv"
    ));
    check_strict("synthetic_drive.csv", &run(trace.clone(), 300, false));
    let f = run(trace, 300, true);
    check("synthetic_drive.csv", &f);
    assert_eq!(f.slice_periods, 2 * (3000 - 5));
}
