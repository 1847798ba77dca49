//! One emulated NR cell, stepped one report period at a time: per-UE CQI from its model, the
//! slice PRB quotas from the max PRB ratios in force, the PF scheduler over the period's slots,
//! and the period's measurement. No clock and no I/O: the tick task drives it in real or
//! simulated time, and benchmarks drive it directly (bit-for-bit reproducible).

use std::sync::Arc;

use maestro_e2sm::rc::{prbs_for_ratio, RrmPolicyMember};
use maestro_e2sm::report::CellMeasurement;

use super::cqi::{CqiModel, CqiTrace, TraceCqi, VehicularCqi};
use super::scheduler::{self, Fading, ScheduledSlice, ScheduledUe};
use super::{CqiSource, EmulatorConfig, EmulatorError};

struct Ue {
    id: u32,
    model: Box<dyn CqiModel>,
    avg_bits: f64,
}

/// The cell's state between periods.
pub struct EmulatedCell {
    config: EmulatorConfig,
    members: Vec<RrmPolicyMember>,
    ues: Vec<Vec<Ue>>,
    sequence: u64,
}

impl std::fmt::Debug for EmulatedCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedCell")
            .field("cell_id", &self.config.cell_id)
            .field("sequence", &self.sequence)
            .finish_non_exhaustive()
    }
}

impl EmulatedCell {
    /// Builds the cell's UEs and CQI models (the config must be valid, see
    /// [`EmulatorConfig::validate`]).
    pub fn new(config: EmulatorConfig) -> Result<Self, EmulatorError> {
        config.validate()?;
        let trace = match &config.cqi {
            CqiSource::Vehicular => None,
            CqiSource::Trace { path } => Some(Arc::new(CqiTrace::from_csv(path)?)),
        };
        let total_ues: u32 = config.slices.iter().map(|s| s.ues).sum();
        let mut next_id = 1u32;
        let mut ues = Vec::new();
        for slice in &config.slices {
            let mut slice_ues = Vec::new();
            for _ in 0..slice.ues {
                let model: Box<dyn CqiModel> = match &trace {
                    None => Box::new(VehicularCqi::new(
                        config
                            .seed
                            .wrapping_mul(1_000_003)
                            .wrapping_add(u64::from(next_id)),
                    )),
                    Some(t) => {
                        // UEs spread over the trace, each starting on a whole second of it.
                        let offset = (t.duration_s() * f64::from(next_id - 1)
                            / f64::from(total_ues.max(1)))
                        .floor();
                        Box::new(TraceCqi::new(Arc::clone(t), offset))
                    }
                };
                slice_ues.push(Ue {
                    id: next_id,
                    model,
                    avg_bits: 0.0,
                });
                next_id += 1;
            }
            ues.push(slice_ues);
        }
        Ok(Self {
            members: config.slices.iter().map(|s| s.member.clone()).collect(),
            config,
            ues,
            sequence: 0,
        })
    }

    /// The slices, in report order.
    pub fn members(&self) -> &[RrmPolicyMember] {
        &self.members
    }

    /// The configuration.
    pub fn config(&self) -> &EmulatorConfig {
        &self.config
    }

    /// Runs one report period under the max PRB ratios in force (one per slice, `None`
    /// before any control) and returns its measurement.
    pub fn step(&mut self, max_ratio: &[Option<u8>]) -> CellMeasurement {
        let cell = &self.config.cell;
        let period_ms = self.config.period_ms;
        let slots_per_period = u64::from(cell.slots_per_second()) * period_ms / 1000;
        let t_ms = self.sequence * period_ms;
        let quota = quotas(cell.n_prb, max_ratio);
        let mut sched: Vec<ScheduledSlice> = self
            .members
            .iter()
            .zip(self.ues.iter_mut())
            .enumerate()
            .map(|(i, (member, slice_ues))| ScheduledSlice {
                member: member.clone(),
                quota_prbs: quota.get(i).copied().unwrap_or(0),
                ues: slice_ues
                    .iter_mut()
                    .map(|ue| ScheduledUe {
                        ue_id: ue.id,
                        wb_cqi: ue.model.cqi_at(t_ms),
                        avg_bits: ue.avg_bits,
                    })
                    .collect(),
            })
            .collect();
        let fading = if self.config.fast_fading {
            Fading::On {
                seed: self.config.seed,
            }
        } else {
            Fading::Off
        };
        let slices = scheduler::run_slots(
            cell,
            &mut sched,
            self.sequence * slots_per_period,
            slots_per_period,
            fading,
        );
        for (slice_ues, s) in self.ues.iter_mut().zip(&sched) {
            for (ue, su) in slice_ues.iter_mut().zip(&s.ues) {
                ue.avg_bits = su.avg_bits;
            }
        }
        self.sequence += 1;
        CellMeasurement {
            sequence: self.sequence,
            time_ms: self.sequence * period_ms,
            period_ms,
            cell_id: self.config.cell_id.clone(),
            n_prb: cell.n_prb,
            slices,
        }
    }
}

/// PRBs per DL slot each slice gets from the max ratios in force: slices with a ratio get it
/// (scaled down proportionally if they claim more than the cell); slices without one share
/// what is left equally.
pub fn quotas(n_prb: u16, max_ratio: &[Option<u8>]) -> Vec<u16> {
    let mut q: Vec<u16> = max_ratio
        .iter()
        .map(|r| r.map_or(0, |r| prbs_for_ratio(r, n_prb)))
        .collect();
    let claimed: u32 = q.iter().map(|&p| u32::from(p)).sum();
    if claimed > u32::from(n_prb) {
        for p in &mut q {
            *p = (u32::from(*p) * u32::from(n_prb) / claimed) as u16;
        }
    }
    let used: u32 = q.iter().map(|&p| u32::from(p)).sum();
    let free = u32::from(n_prb).saturating_sub(used);
    let unquoted = max_ratio.iter().filter(|r| r.is_none()).count() as u32;
    if let Some(share) = free.checked_div(unquoted) {
        for (p, r) in q.iter_mut().zip(max_ratio) {
            if r.is_none() {
                *p = share as u16;
            }
        }
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_share_free_prbs_and_scale_down_overclaims() {
        assert_eq!(quotas(106, &[None, None]), vec![53, 53]);
        assert_eq!(quotas(106, &[Some(50), None]), vec![53, 53]);
        assert_eq!(quotas(106, &[Some(30), Some(20)]), vec![31, 21]);
        assert_eq!(quotas(106, &[Some(80), Some(80)]), vec![53, 53]);
    }

    #[test]
    fn stepping_is_reproducible_and_honours_ratios() {
        let run = || {
            let mut cell = EmulatedCell::new(EmulatorConfig::default()).unwrap();
            let mut out = Vec::new();
            for k in 0..20 {
                let ratio = if k < 10 {
                    [None, None]
                } else {
                    [Some(20), Some(30)]
                };
                out.push(cell.step(&ratio));
            }
            out
        };
        let a = run();
        assert_eq!(a, run());
        assert_eq!(a[0].sequence, 1);
        assert_eq!(a[19].time_ms, 2000);
        assert_eq!(a[5].slices[0].prb_quota, 53);
        assert_eq!(a[15].slices[0].prb_quota, 21);
        assert_eq!(a[15].slices[1].prb_quota, 31);
        assert!(a[15].slices[0].dl_throughput_bps > 0.0);
    }
}
