//! Throughput of a PRB allocation at a wide-band CQI (CQI -> MCS table 1 -> TBS per DL slot),
//! for one UE and for a slice whose UEs share its PRBs round-robin in time; and the inverse:
//! the fewest PRBs that carry a target.

use super::tables::mcs_for_cqi;
use super::tbs::tbs_bits;
use super::CellConfig;

/// DL throughput of `prbs` PRBs in every DL slot at wide-band `cqi`, bit/s (0 for CQI 0).
pub fn throughput_bps(prbs: u16, cqi: u8, cell: &CellConfig) -> f64 {
    let Some(mcs) = mcs_for_cqi(cqi) else {
        return 0.0;
    };
    let tbs = tbs_bits(prbs, mcs, cell).unwrap_or(0);
    f64::from(tbs) * cell.dl_slots_per_second()
}

/// Slice throughput when its UEs take turns on the slice's `prbs` PRBs: the mean over the UEs
/// of their single-UE throughput (0 when there are no UEs).
pub fn slice_throughput_bps(prbs: u16, ue_cqis: &[u8], cell: &CellConfig) -> f64 {
    if ue_cqis.is_empty() {
        return 0.0;
    }
    ue_cqis
        .iter()
        .map(|&c| throughput_bps(prbs, c, cell))
        .sum::<f64>()
        / ue_cqis.len() as f64
}

/// Throughput of the whole cell at these CQIs, all UEs taking turns on all PRBs.
pub fn capacity_bps(ue_cqis: &[u8], cell: &CellConfig) -> f64 {
    slice_throughput_bps(cell.n_prb, ue_cqis, cell)
}

/// Fewest PRBs whose slice throughput at `ue_cqis` reaches `target_bps`; `Some(0)` for a
/// target <= 0; `None` when even all PRBs fall short.
pub fn prbs_for_slice(target_bps: f64, ue_cqis: &[u8], cell: &CellConfig) -> Option<u16> {
    if target_bps <= 0.0 {
        return Some(0);
    }
    if !target_bps.is_finite() || slice_throughput_bps(cell.n_prb, ue_cqis, cell) < target_bps {
        return None;
    }
    // TBS is non-decreasing in PRBs: binary search for the first PRB count that suffices.
    let (mut lo, mut hi) = (1u16, cell.n_prb);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if slice_throughput_bps(mid, ue_cqis, cell) >= target_bps {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(lo)
}

/// Fewest PRBs whose throughput at `cqi` reaches `target_bps` (see [`prbs_for_slice`]).
pub fn prbs_for(target_bps: f64, cqi: u8, cell: &CellConfig) -> Option<u16> {
    prbs_for_slice(target_bps, &[cqi], cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_cell_at_cqi15_is_134_36_mbps() {
        let cell = CellConfig::oai_40mhz();
        assert_eq!(throughput_bps(106, 15, &cell), 134_361_600.0);
        assert_eq!(throughput_bps(106, 0, &cell), 0.0);
        assert_eq!(capacity_bps(&[15, 15], &cell), 134_361_600.0);
    }

    #[test]
    fn prbs_for_is_the_fewest_that_reach_the_target() {
        let cell = CellConfig::oai_40mhz();
        for cqi in 1..=15u8 {
            let max = throughput_bps(106, cqi, &cell);
            for frac in [0.01, 0.1, 0.33, 0.5, 0.77, 1.0] {
                let target = max * frac;
                let p = prbs_for(target, cqi, &cell).unwrap();
                assert!(throughput_bps(p, cqi, &cell) >= target, "CQI {cqi} {frac}");
                if p > 1 {
                    assert!(
                        throughput_bps(p - 1, cqi, &cell) < target,
                        "CQI {cqi} {frac}"
                    );
                }
            }
            assert_eq!(prbs_for(max * 1.001, cqi, &cell), None);
        }
        assert_eq!(prbs_for(0.0, 15, &cell), Some(0));
        assert_eq!(prbs_for(1.0, 0, &cell), None);
        // 40 Mbps at CQI 15: each PRB adds about 1.27 Mbps -> 32 PRBs.
        assert_eq!(prbs_for(40e6, 15, &cell), Some(32));
    }

    #[test]
    fn slice_of_one_ue_equals_single_ue_and_mixes_average() {
        let cell = CellConfig::oai_40mhz();
        for target in [5e6, 20e6, 60e6] {
            assert_eq!(
                prbs_for_slice(target, &[12], &cell),
                prbs_for(target, 12, &cell)
            );
        }
        let mix = slice_throughput_bps(50, &[15, 9], &cell);
        let mean = (throughput_bps(50, 15, &cell) + throughput_bps(50, 9, &cell)) / 2.0;
        assert_eq!(mix, mean);
        assert_eq!(prbs_for_slice(10e6, &[], &cell), None);
    }
}
