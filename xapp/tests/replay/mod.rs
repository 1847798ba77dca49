//! Closed-loop replay, a test harness: the emulated cell and the PRB controller stepped
//! together, period by period, with no clock and no I/O — how well does each slice hold its
//! target as the CQI moves? Deterministic for a config, so its figures can be quoted and
//! tested (`cargo test --release -p maestro-xapp --test enforcement -- --nocapture` prints
//! them).
//!
//! Each period k: the cell runs under the ratios decided from report k-1, then the controller
//! learns from report k and decides the ratios for period k+1 — the one-period lag of a real
//! E2 loop (report, decide, control).

use hdrhistogram::Histogram;
use maestro_e2sm::rc::{prbs_for_ratio, RrmPolicyMember};
use maestro_e2sm::report::SliceMeasurement;
use serde::Serialize;

use maestro_xapp::controller::{Controller, LoopTuning, Priority, SliceTarget};
use maestro_xapp::e2::emulator::cell::EmulatedCell;
use maestro_xapp::e2::emulator::{EmulatorConfig, EmulatorError};
use maestro_xapp::nr::{self, CellConfig};
use maestro_xapp::store::PolicyKey;

/// What to replay.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    /// The cell (its CQI source, slices, UEs, period).
    pub emulator: EmulatorConfig,
    /// Target of every slice, bits/s.
    pub target_bps: f64,
    /// Emulated time, s.
    pub seconds: u64,
    /// Closed-loop knobs.
    pub tuning: LoopTuning,
    /// Periods at the start left out of the figures (the loop's first decisions).
    pub warmup_periods: u64,
}

/// How well the slices held their targets.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayFigures {
    /// Slice-periods counted (after warm-up).
    pub slice_periods: usize,
    /// Slice-periods whose target was not reachable even with the whole cell.
    pub infeasible_periods: usize,
    /// Median of |measured - target| / target over feasible slice-periods.
    pub median_rel_error: f64,
    /// 95th percentile of the same.
    pub p95_rel_error: f64,
    /// Mean measured / target over feasible slice-periods.
    pub mean_ratio: f64,
    /// CQI steps seen (a period in which some UE of the slice changed CQI).
    pub cqi_steps: usize,
    /// Periods after a step until the slice was back (within 5 %, or within 2 points of the
    /// best the ratio grid allows): worst case.
    pub max_recovery_periods: u64,
    /// Steps after which recovery took more than 2 periods.
    pub slow_recoveries: usize,
    /// Controls sent (ratio changes).
    pub controls: usize,
}

/// A slice is "back" after a CQI step when within 5 % of its target...
const RECOVERY_TOLERANCE: f64 = 0.05;

/// Margin over the grid's best, for the measurement noise of one period.
const GRID_MARGIN: f64 = 0.02;

/// ...or, when the whole-percent ratio grid has no quota within 5 % (a slice needing ~17 PRBs
/// at CQI 15 moves ~6 % per ratio step), within 2 points of the best any ratio could do this
/// period (plus [`GRID_MARGIN`]): the relative error of the best ratio at the period's CQIs and observed gain.
fn grid_floor(s: &SliceMeasurement, cqis: &[u8], target_bps: f64, cell: &CellConfig) -> f64 {
    let model = nr::slice_throughput_bps(s.prb_quota, cqis, cell);
    if s.prb_quota == 0 || model <= 0.0 {
        return 0.0;
    }
    let gain = s.dl_throughput_bps / model;
    (0..=100u8)
        .map(|r| {
            let at = gain * nr::slice_throughput_bps(prbs_for_ratio(r, cell.n_prb), cqis, cell);
            (at - target_bps).abs() / target_bps
        })
        .fold(f64::INFINITY, f64::min)
}

/// Relative errors are recorded in parts per trillion, 3 significant digits: every error
/// above 2e-9 is kept within 0.1 % of its value (a held slice's errors are of order 1e-2).
const PPT: f64 = 1e12;

/// The nearest-rank `p`-th percentile of the relative errors in `errors`; 0 when empty.
fn percentile(errors: &Histogram<u64>, p: f64) -> f64 {
    if errors.is_empty() {
        return 0.0;
    }
    errors.value_at_quantile(p / 100.0) as f64 / PPT
}

/// Replays the loop and measures it.
pub fn replay(config: &ReplayConfig) -> Result<ReplayFigures, EmulatorError> {
    let mut cell = EmulatedCell::new(config.emulator.clone())?;
    let members: Vec<RrmPolicyMember> = cell.members().to_vec();
    let targets: Vec<SliceTarget> = members
        .iter()
        .enumerate()
        .map(|(i, m)| SliceTarget {
            policy: PolicyKey::new("replay", &format!("slice{i}")),
            member: m.clone(),
            target_bps: config.target_bps,
            priority: Priority::Guaranteed,
        })
        .collect();
    let mut controller = Controller::new(config.tuning.clone());
    let cell_config = config.emulator.cell.clone();
    let periods = config.seconds * 1000 / config.emulator.period_ms;
    let mut ratios: Vec<Option<u8>> = vec![None; members.len()];
    let mut feasible_now: Vec<bool> = vec![true; members.len()];
    let mut last_cqis: Vec<Vec<u8>> = vec![Vec::new(); members.len()];
    // Per slice: the period of the last CQI step still waiting for recovery.
    let mut pending_step: Vec<Option<u64>> = vec![None; members.len()];
    let mut errors = Histogram::<u64>::new(3).expect("3 significant digits are valid");
    let mut ratio_sum = 0.0;
    let (mut counted, mut infeasible, mut steps, mut slow, mut controls) = (0, 0, 0, 0, 0);
    let mut max_recovery = 0;
    for k in 0..periods {
        let m = cell.step(&ratios);
        for (i, s) in m.slices.iter().enumerate() {
            let cqis_now: Vec<u8> = s.ues.iter().map(|u| u.wb_cqi).collect();
            let stepped = k > 0 && cqis_now != last_cqis[i];
            last_cqis[i].clone_from(&cqis_now);
            if k < config.warmup_periods {
                continue;
            }
            counted += 1;
            let err = (s.dl_throughput_bps - config.target_bps).abs() / config.target_bps;
            if stepped {
                steps += 1;
                pending_step[i] = Some(k);
            }
            if let Some(at) = pending_step[i] {
                let floor = grid_floor(s, &cqis_now, config.target_bps, &cell_config);
                if err <= RECOVERY_TOLERANCE.max(floor + GRID_MARGIN) {
                    let took = k - at;
                    max_recovery = max_recovery.max(took);
                    if took > 2 {
                        slow += 1;
                        tracing::debug!(slice = i, at, took, "slow recovery");
                    }
                    pending_step[i] = None;
                }
            }
            if !feasible_now[i] {
                // No recovery is owed while the target is out of reach.
                pending_step[i] = None;
                infeasible += 1;
                continue;
            }
            errors
                .record((err * PPT).round() as u64)
                .expect("the histogram grows to any error");
            ratio_sum += s.dl_throughput_bps / config.target_bps;
        }
        let d = controller.decide(&cell_config, &m, &members, &targets);
        for (i, sd) in d.slices.iter().enumerate() {
            if ratios[i] != Some(sd.ratio) {
                controls += 1;
            }
            ratios[i] = Some(sd.ratio);
            feasible_now[i] = sd.achievable;
        }
    }
    let n = errors.len();
    Ok(ReplayFigures {
        slice_periods: counted,
        infeasible_periods: infeasible,
        median_rel_error: percentile(&errors, 50.0),
        p95_rel_error: percentile(&errors, 95.0),
        mean_ratio: if n == 0 { 0.0 } else { ratio_sum / n as f64 },
        cqi_steps: steps,
        max_recovery_periods: max_recovery,
        slow_recoveries: slow,
        controls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use maestro_xapp::e2::emulator::{Clock, CqiSource};

    fn config(cqi: CqiSource, seconds: u64) -> ReplayConfig {
        ReplayConfig {
            emulator: EmulatorConfig {
                cqi,
                clock: Clock::Simulated { speedup: 1.0 },
                ..EmulatorConfig::default()
            },
            target_bps: 20e6,
            seconds,
            tuning: LoopTuning::default(),
            warmup_periods: 5,
        }
    }

    #[test]
    fn vehicular_cqi_is_held_at_target() {
        let f = replay(&config(CqiSource::Vehicular, 120)).unwrap();
        assert_eq!(f.slice_periods, 2 * (1200 - 5));
        assert!(f.median_rel_error <= 0.03, "{f:?}");
        assert!(f.p95_rel_error <= 0.10, "{f:?}");
        assert!(f.cqi_steps > 10, "the model must move: {f:?}");
    }

    #[test]
    fn open_loop_is_worse_than_closed_loop() {
        let closed = replay(&config(CqiSource::Vehicular, 60)).unwrap();
        let mut open = config(CqiSource::Vehicular, 60);
        open.tuning.gain_smoothing = 0.0;
        let open = replay(&open).unwrap();
        assert!(
            open.median_rel_error > closed.median_rel_error,
            "open {open:?} closed {closed:?}"
        );
    }

    #[test]
    fn percentile_is_nearest_rank() {
        // By hand: of 1, 2, 3, 4 %, the median is the 2nd value, the 95th percentile the 4th.
        let mut h = Histogram::<u64>::new(3).unwrap();
        for pct in [1.0, 2.0, 3.0, 4.0] {
            h.record((pct / 100.0 * PPT) as u64).unwrap();
        }
        let close = |got: f64, want: f64| (got - want).abs() <= want * 1e-3;
        assert!(
            close(percentile(&h, 50.0), 0.02),
            "{}",
            percentile(&h, 50.0)
        );
        assert!(
            close(percentile(&h, 95.0), 0.04),
            "{}",
            percentile(&h, 95.0)
        );
        assert_eq!(percentile(&Histogram::new(3).unwrap(), 50.0), 0.0);
    }
}
