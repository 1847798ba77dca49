//! The emulated gNB's downlink MAC scheduler: every DL slot each slice gets its PRB quota, and
//! inside the slice a proportional-fair (PF) scheduler picks one UE (full-buffer traffic) by
//! the classic metric `instantaneous rate / average rate` (Jalali et al., 2000; the default
//! of OAI's and srsRAN's MAC). The instantaneous rate is the TBS of TS 38.214 clause 5.1.3.2
//! at the MCS of the UE's per-slot CQI: its wide-band CQI plus a fast-fading offset of -1, 0
//! or +1 (probabilities 1/4, 1/2, 1/4) drawn per UE and slot from a deterministic hash.
//! PF rides those peaks, so a slice delivers somewhat more than the wide-band model predicts:
//! the xApp's closed loop has to learn that gain, as it would on a real cell.

use maestro_e2sm::rc::RrmPolicyMember;
use maestro_e2sm::report::{SliceMeasurement, UeMeasurement};

use crate::nr::{self, CellConfig};

/// PF averaging window, slots: 50 slots = 25 ms at 30 kHz SCS (short enough that the
/// average follows a wide-band CQI change within one 100 ms report period).
const PF_WINDOW_SLOTS: f64 = 50.0;

/// One UE as the scheduler sees it.
#[derive(Debug, Clone)]
pub struct ScheduledUe {
    /// RAN UE id.
    pub ue_id: u32,
    /// Current wide-band CQI (0 = out of range: not schedulable).
    pub wb_cqi: u8,
    /// PF average rate, bits per DL slot, carried across periods (0: not yet known).
    pub avg_bits: f64,
}

/// One slice as the scheduler sees it.
#[derive(Debug, Clone)]
pub struct ScheduledSlice {
    /// The slice.
    pub member: RrmPolicyMember,
    /// PRBs per DL slot the slice may use.
    pub quota_prbs: u16,
    /// Its UEs.
    pub ues: Vec<ScheduledUe>,
}

/// Fast fading model of the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fading {
    /// Per-slot CQI = wide-band CQI (then PF equals round-robin in time).
    Off,
    /// Per-slot CQI = wide-band CQI + {-1, 0, +1}, from this seed.
    On {
        /// Seed of the per-slot draws.
        seed: u64,
    },
}

/// SplitMix64 finaliser: a stable per-(seed, UE, slot) hash.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The UE's CQI in `slot`.
fn slot_cqi(fading: Fading, ue_id: u32, wb_cqi: u8, slot: u64) -> u8 {
    match fading {
        Fading::Off => wb_cqi,
        Fading::On { seed } => {
            if wb_cqi == 0 {
                return 0;
            }
            let h = mix(seed ^ mix(u64::from(ue_id) << 40 ^ slot)) & 3;
            match h {
                0 => wb_cqi.saturating_sub(1),
                1 => (wb_cqi + 1).min(15),
                _ => wb_cqi,
            }
        }
    }
}

/// Whether slot `slot` (counted from the frame start) is a DL slot of the TDD pattern
/// (TS 38.213 clause 11.1: the pattern repeats every `period_slots` slots).
fn is_dl_slot(cell: &CellConfig, slot: u64) -> bool {
    let period = u64::from(cell.tdd.period_slots.max(1));
    slot % period < u64::from(cell.tdd.dl_slots)
}

/// TBS of `prbs` PRBs at `cqi` (0 when the CQI is out of range).
fn tbs_at(prbs: u16, cqi: u8, cell: &CellConfig) -> u32 {
    nr::mcs_for_cqi(cqi)
        .and_then(|mcs| nr::tbs_bits(prbs, mcs, cell).ok())
        .unwrap_or(0)
}

/// Runs slots `first_slot .. first_slot + n_slots` and returns per-slice measurements, with
/// throughput averaged over the wall time of those slots.
pub fn run_slots(
    cell: &CellConfig,
    slices: &mut [ScheduledSlice],
    first_slot: u64,
    n_slots: u64,
    fading: Fading,
) -> Vec<SliceMeasurement> {
    let seconds = n_slots as f64 / f64::from(cell.slots_per_second());
    let mut bits: Vec<Vec<f64>> = slices.iter().map(|s| vec![0.0; s.ues.len()]).collect();
    let mut served: Vec<Vec<u64>> = slices.iter().map(|s| vec![0; s.ues.len()]).collect();
    let mut rates: Vec<u32> = Vec::new();
    let mut dl_slots = 0u64;
    let alpha = 1.0 / PF_WINDOW_SLOTS;
    for slice in slices.iter_mut() {
        for ue in &mut slice.ues {
            if ue.avg_bits <= 0.0 {
                // A new UE starts from its wide-band rate, neither starved nor favoured.
                ue.avg_bits = f64::from(tbs_at(slice.quota_prbs, ue.wb_cqi, cell)).max(1.0);
            }
        }
    }
    for slot in first_slot..first_slot + n_slots {
        if !is_dl_slot(cell, slot) {
            continue;
        }
        dl_slots += 1;
        for (si, slice) in slices.iter_mut().enumerate() {
            if slice.quota_prbs == 0 || slice.ues.is_empty() {
                continue;
            }
            rates.clear();
            rates.extend(slice.ues.iter().map(|ue| {
                tbs_at(
                    slice.quota_prbs,
                    slot_cqi(fading, ue.ue_id, ue.wb_cqi, slot),
                    cell,
                )
            }));
            // PF choice: the highest rate / average; ties go to the lowest index.
            let mut best: Option<(usize, f64)> = None;
            for (ui, ue) in slice.ues.iter().enumerate() {
                if rates[ui] == 0 {
                    continue;
                }
                let metric = f64::from(rates[ui]) / ue.avg_bits.max(1.0);
                if best.is_none_or(|(_, m)| metric > m) {
                    best = Some((ui, metric));
                }
            }
            for (ui, ue) in slice.ues.iter_mut().enumerate() {
                let got = if best.is_some_and(|(b, _)| b == ui) {
                    f64::from(rates[ui])
                } else {
                    0.0
                };
                ue.avg_bits = (1.0 - alpha) * ue.avg_bits + alpha * got;
            }
            if let Some((ui, _)) = best {
                bits[si][ui] += f64::from(rates[ui]);
                served[si][ui] += 1;
            }
        }
    }
    slices
        .iter()
        .enumerate()
        .map(|(si, slice)| {
            let ues: Vec<UeMeasurement> = slice
                .ues
                .iter()
                .enumerate()
                .map(|(ui, ue)| UeMeasurement {
                    ue_id: ue.ue_id,
                    wb_cqi: ue.wb_cqi,
                    mcs: nr::mcs_for_cqi(ue.wb_cqi).unwrap_or(0),
                    prbs: if dl_slots == 0 {
                        0.0
                    } else {
                        served[si][ui] as f64 * f64::from(slice.quota_prbs) / dl_slots as f64
                    },
                    dl_throughput_bps: bits[si][ui] / seconds,
                })
                .collect();
            SliceMeasurement {
                member: slice.member.clone(),
                prb_quota: slice.quota_prbs,
                prb_used: ues.iter().map(|u| u.prbs).sum(),
                dl_throughput_bps: ues.iter().map(|u| u.dl_throughput_bps).sum(),
                ues,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(quota: u16, cqis: &[u8]) -> ScheduledSlice {
        ScheduledSlice {
            member: RrmPolicyMember {
                mcc: "001".into(),
                mnc: "01".into(),
                sst: 1,
                sd: Some(1),
            },
            quota_prbs: quota,
            ues: cqis
                .iter()
                .enumerate()
                .map(|(i, &c)| ScheduledUe {
                    ue_id: i as u32,
                    wb_cqi: c,
                    avg_bits: 0.0,
                })
                .collect(),
        }
    }

    #[test]
    fn full_cell_at_cqi15_delivers_the_theoretical_134_mbps() {
        let cell = CellConfig::oai_40mhz();
        let mut slices = vec![slice(106, &[15])];
        // One second = 2000 slots at 30 kHz, 1600 of them DL.
        let m = run_slots(&cell, &mut slices, 0, 2000, Fading::Off);
        assert_eq!(m[0].dl_throughput_bps, 83_976.0 * 1600.0);
        assert_eq!(m[0].prb_used, 106.0);
    }

    #[test]
    fn pf_without_fading_shares_time_equally_as_nr_models() {
        let cell = CellConfig::oai_40mhz();
        let cqis = [9, 12, 15, 6];
        let mut slices = vec![slice(40, &cqis)];
        // 1600 DL slots; with constant rates PF converges to equal time shares.
        let m = run_slots(&cell, &mut slices, 0, 2000, Fading::Off);
        let expected = nr::slice_throughput_bps(40, &cqis, &cell);
        let err = (m[0].dl_throughput_bps - expected).abs() / expected;
        assert!(err < 0.01, "PF vs equal time share: {err}");
        for ue in &m[0].ues {
            assert!((ue.prbs - 10.0).abs() < 0.3, "{}", ue.prbs);
        }
    }

    #[test]
    fn pf_rides_fast_fading_peaks_above_the_wideband_model() {
        let cell = CellConfig::oai_40mhz();
        let cqis = [9, 10, 11];
        let model = nr::slice_throughput_bps(40, &cqis, &cell);
        let run = |seed| {
            let mut slices = vec![slice(40, &cqis)];
            run_slots(&cell, &mut slices, 0, 2000, Fading::On { seed })[0].dl_throughput_bps
        };
        let gain = run(1) / model;
        // Multi-user diversity with 3 UEs and +-1 CQI: a gain of a few percent, not more.
        assert!((1.02..1.25).contains(&gain), "PF gain {gain}");
        assert_eq!(run(1), run(1), "deterministic");
        assert_ne!(run(1), run(2));
        // One UE has no one to share with: fading averages out to about the model.
        let mut single = vec![slice(40, &[10])];
        let alone =
            run_slots(&cell, &mut single, 0, 2000, Fading::On { seed: 1 })[0].dl_throughput_bps;
        let err = (alone / nr::throughput_bps(40, 10, &cell) - 1.0).abs();
        assert!(err < 0.1, "single-UE fading bias {err}");
    }

    #[test]
    fn out_of_range_ues_are_skipped_and_zero_quota_sends_nothing() {
        let cell = CellConfig::oai_40mhz();
        let mut slices = vec![slice(20, &[0, 10]), slice(0, &[15])];
        let m = run_slots(&cell, &mut slices, 0, 2000, Fading::Off);
        assert_eq!(m[0].ues[0].dl_throughput_bps, 0.0);
        assert!((m[0].ues[1].dl_throughput_bps - nr::throughput_bps(20, 10, &cell)).abs() < 1e-6);
        assert_eq!(m[1].dl_throughput_bps, 0.0);
        assert_eq!(m[1].prb_used, 0.0);
    }
}
