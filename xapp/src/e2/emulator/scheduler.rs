//! The emulated gNB's downlink MAC scheduler: honours each slice's PRB quota every DL slot and
//! serves the slice's UEs round-robin in time (full-buffer traffic), with the TBS of
//! TS 38.214 clause 5.1.3.2 at the MCS the UE's wide-band CQI maps to.

use maestro_e2sm::rc::RrmPolicyMember;
use maestro_e2sm::report::{SliceMeasurement, UeMeasurement};

use crate::nr::{self, CellConfig};

/// One UE as the scheduler sees it.
#[derive(Debug, Clone)]
pub struct ScheduledUe {
    /// RAN UE id.
    pub ue_id: u32,
    /// Current wide-band CQI (0 = out of range: not schedulable).
    pub wb_cqi: u8,
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
    /// Round-robin pointer, carried across periods.
    pub next_ue: usize,
}

/// Whether slot `slot` (counted from the frame start) is a DL slot of the TDD pattern
/// (TS 38.213 clause 11.1: the pattern repeats every `period_slots` slots).
fn is_dl_slot(cell: &CellConfig, slot: u64) -> bool {
    let period = u64::from(cell.tdd.period_slots.max(1));
    slot % period < u64::from(cell.tdd.dl_slots)
}

/// Runs slots `first_slot .. first_slot + n_slots` and returns per-slice measurements, with
/// throughput averaged over the wall time of those slots.
pub fn run_slots(
    cell: &CellConfig,
    slices: &mut [ScheduledSlice],
    first_slot: u64,
    n_slots: u64,
) -> Vec<SliceMeasurement> {
    let seconds = n_slots as f64 / f64::from(cell.slots_per_second());
    let mut bits: Vec<Vec<f64>> = slices.iter().map(|s| vec![0.0; s.ues.len()]).collect();
    let mut served: Vec<Vec<u64>> = slices.iter().map(|s| vec![0; s.ues.len()]).collect();
    let mut dl_slots = 0u64;
    for slot in first_slot..first_slot + n_slots {
        if !is_dl_slot(cell, slot) {
            continue;
        }
        dl_slots += 1;
        for (si, slice) in slices.iter_mut().enumerate() {
            let n = slice.ues.len();
            if slice.quota_prbs == 0 || n == 0 {
                continue;
            }
            // Next UE with a usable CQI, round-robin.
            let Some(offset) = (0..n).find(|k| slice.ues[(slice.next_ue + k) % n].wb_cqi > 0)
            else {
                continue;
            };
            let ui = (slice.next_ue + offset) % n;
            slice.next_ue = (ui + 1) % n;
            let ue = &slice.ues[ui];
            let tbs = nr::mcs_for_cqi(ue.wb_cqi)
                .and_then(|mcs| nr::tbs_bits(slice.quota_prbs, mcs, cell).ok())
                .unwrap_or(0);
            bits[si][ui] += f64::from(tbs);
            served[si][ui] += 1;
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
                })
                .collect(),
            next_ue: 0,
        }
    }

    #[test]
    fn full_cell_at_cqi15_delivers_the_theoretical_134_mbps() {
        let cell = CellConfig::oai_40mhz();
        let mut slices = vec![slice(106, &[15])];
        // One second = 2000 slots at 30 kHz, 1600 of them DL.
        let m = run_slots(&cell, &mut slices, 0, 2000);
        assert_eq!(m[0].dl_throughput_bps, 83_976.0 * 1600.0);
        assert_eq!(m[0].prb_used, 106.0);
    }

    #[test]
    fn round_robin_matches_nr_slice_throughput() {
        let cell = CellConfig::oai_40mhz();
        let cqis = [9, 12, 15, 6];
        let mut slices = vec![slice(40, &cqis)];
        // 1600 DL slots split evenly over 4 UEs.
        let m = run_slots(&cell, &mut slices, 0, 2000);
        let expected = nr::slice_throughput_bps(40, &cqis, &cell);
        assert!((m[0].dl_throughput_bps - expected).abs() < 1e-6 * expected);
        for ue in &m[0].ues {
            assert_eq!(ue.prbs, 10.0);
        }
    }

    #[test]
    fn out_of_range_ues_are_skipped_and_zero_quota_sends_nothing() {
        let cell = CellConfig::oai_40mhz();
        let mut slices = vec![slice(20, &[0, 10]), slice(0, &[15])];
        let m = run_slots(&cell, &mut slices, 0, 2000);
        assert_eq!(m[0].ues[0].dl_throughput_bps, 0.0);
        assert!((m[0].ues[1].dl_throughput_bps - nr::throughput_bps(20, 10, &cell)).abs() < 1e-6);
        assert_eq!(m[1].dl_throughput_bps, 0.0);
        assert_eq!(m[1].prb_used, 0.0);
    }
}
