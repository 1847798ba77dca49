//! Air time versus wall time. A node's MAC counters (PRBs, TB bytes) advance per slot of its
//! air interface; the time between two indications on the xApp's clock is wall time. On a
//! real gNB under load, or a simulated radio (OAI's rfsim ran from 0.3x to 3.8x real time
//! here), the two differ, and PRBs per slot computed over wall time came out wrong by that
//! factor (docs/TESTBED.md, F6). Where the node stamps its indications with the MAC frame
//! number (SFN, 10 ms frames counted mod 1024, TS 38.211 clause 4.3.1; OAI's MAC SM fills
//! `frame`), the slots are counted from the frames that passed; elsewhere from wall time.

use super::CellConfig;

/// SFNs wrap at this count (TS 38.211 clause 4.3.1: 0..=1023).
const SFN_COUNT: i32 = 1024;
/// One radio frame, ms.
const FRAME_MS: u64 = 10;

/// Air time from frame `prev` to frame `now`, ms; `None` when no frame passed (the node
/// leaves the frame number 0, or two indications in one frame): use the wall time then.
/// An interval longer than 10.24 s of air wraps and reads short.
pub fn frames_elapsed_ms(prev: u16, now: u16) -> Option<u64> {
    let frames = (i32::from(now) - i32::from(prev)).rem_euclid(SFN_COUNT);
    (frames > 0).then(|| frames as u64 * FRAME_MS)
}

/// DL slots of `cell` in `ms` of air time (TS 38.211 clause 4.3.2: 2^mu slots per ms; the TDD
/// pattern's DL share); at least one.
pub fn dl_slots(cell: &CellConfig, ms: u64) -> f64 {
    let slots_per_ms = f64::from(cell.scs_khz.max(15)) / 15.0;
    let dl_share = if cell.tdd.period_slots == 0 {
        1.0
    } else {
        f64::from(cell.tdd.dl_slots) / f64::from(cell.tdd.period_slots)
    };
    (ms as f64 * slots_per_ms * dl_share).max(1.0)
}

/// A stretch of time on both clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed {
    /// On the xApp's clock, ms.
    pub wall_ms: u64,
    /// On the node's, from its frame numbers, where it gave them.
    pub air_ms: Option<u64>,
}

/// Mean PRBs per DL slot of a counter that grew by `prbs` over `elapsed`: its air time when
/// the node gave it, else its wall time; capped at the carrier.
pub fn prbs_per_dl_slot(cell: &CellConfig, prbs: u64, elapsed: Elapsed) -> f64 {
    let ms = elapsed.air_ms.unwrap_or(elapsed.wall_ms);
    (prbs as f64 / dl_slots(cell, ms)).min(f64::from(cell.n_prb))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nr::TddPattern;

    /// The OAI cell of docs/TESTBED.md: 106 PRBs, 30 kHz, TDD 7 DL slots in 10.
    fn oai_cell() -> CellConfig {
        CellConfig {
            n_prb: 106,
            scs_khz: 30,
            tdd: TddPattern {
                dl_slots: 7,
                period_slots: 10,
            },
            ..CellConfig::oai_40mhz()
        }
    }

    #[test]
    fn frames_count_across_the_wrap_and_none_passed_means_unknown() {
        assert_eq!(frames_elapsed_ms(100, 110), Some(100));
        assert_eq!(frames_elapsed_ms(1020, 4), Some(80));
        assert_eq!(frames_elapsed_ms(0, 0), None);
        assert_eq!(frames_elapsed_ms(7, 7), None);
    }

    #[test]
    fn a_node_running_at_twice_real_time_is_counted_in_its_own_slots() {
        // 100 ms of wall time, 200 ms of air (20 frames, the simulated radio at 2x). The UE
        // got 30 PRBs in every DL slot: 200 ms x 2 slots/ms x 0.7 = 280 slots, 8,400 PRBs.
        let cell = oai_cell();
        let prbs = 30 * 280;
        let air = frames_elapsed_ms(500, 520);
        assert_eq!(air, Some(200));
        let per_slot = prbs_per_dl_slot(
            &cell,
            prbs,
            Elapsed {
                wall_ms: 100,
                air_ms: air,
            },
        );
        assert!((per_slot - 30.0).abs() < 1e-9, "{per_slot}");
        // Over wall time the same counter reads 60 PRBs per slot: twice what was scheduled.
        let wall_only = prbs_per_dl_slot(
            &cell,
            prbs,
            Elapsed {
                wall_ms: 100,
                air_ms: None,
            },
        );
        assert!((wall_only - 60.0).abs() < 1e-9, "{wall_only}");
        // Never above the carrier, whatever the clocks.
        assert_eq!(
            prbs_per_dl_slot(
                &cell,
                106 * 1000,
                Elapsed {
                    wall_ms: 100,
                    air_ms: None
                }
            ),
            106.0
        );
    }
}
