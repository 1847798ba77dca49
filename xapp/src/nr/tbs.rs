//! Transport block size, TS 38.214 clause 5.1.3.2, in exact integer arithmetic.
//!
//! The code rate is R = r/1024, so N_info = N_RE * r * Q_m * v / 1024 is carried as the integer
//! `N_info * 1024`; every floor, round and comparison of the procedure is done on integers.

use super::tables::{mcs_entry, TBS_TABLE};
use super::{CellConfig, NrError};

/// REs per PRB per DM-RS symbol: type 1 with 2 CDM groups without data (TS 38.211 7.4.1.1).
const DMRS_RE_PER_SYMBOL: u32 = 12;

/// TBS of one PDSCH over `n_prb` PRBs at `mcs` (MCS table 1) on `cell`'s symbols and layers.
pub fn tbs_bits(n_prb: u16, mcs: u8, cell: &CellConfig) -> Result<u32, NrError> {
    let m = mcs_entry(mcs).ok_or(NrError::Mcs(mcs))?;
    Ok(tbs_raw(
        u32::from(n_prb),
        u32::from(m.modulation_order),
        u32::from(m.code_rate_x1024),
        u32::from(cell.layers),
        u32::from(cell.pdsch_symbols),
        u32::from(cell.dmrs_symbols) * DMRS_RE_PER_SYMBOL,
        u32::from(cell.overhead_re_per_prb),
    ))
}

fn div_ceil(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

/// The procedure of clause 5.1.3.2 steps 1-4 for one codeword.
pub fn tbs_raw(
    n_prb: u32,
    qm: u32,
    r_x1024: u32,
    layers: u32,
    symbols: u32,
    dmrs_re_per_prb: u32,
    overhead_re_per_prb: u32,
) -> u32 {
    // Step 1: N'_RE = 12 * N_symb - N_DMRS - N_oh; N_RE = min(156, N'_RE) * n_PRB.
    let n_re_prime = (12 * symbols).saturating_sub(dmrs_re_per_prb + overhead_re_per_prb);
    let n_re = u64::from(n_re_prime.min(156)) * u64::from(n_prb);
    // Step 2: N_info = N_RE * R * Q_m * v, kept as N_info * 1024.
    let info_x1024 = n_re * u64::from(r_x1024) * u64::from(qm) * u64::from(layers);
    if info_x1024 == 0 {
        return 0;
    }
    if info_x1024 <= 3824 * 1024 {
        // Step 3: n = max(3, floor(log2 N_info) - 6); N'_info = max(24, 2^n floor(N_info/2^n)).
        let log2 = i64::from(info_x1024.ilog2()) - 10;
        let n = (log2 - 6).max(3) as u32;
        let n_info_prime = ((info_x1024 >> (10 + n)) << n).max(24);
        return TBS_TABLE
            .iter()
            .copied()
            .find(|&t| u64::from(t) >= n_info_prime)
            .unwrap_or(3824);
    }
    // Step 4: n = floor(log2(N_info - 24)) - 5; N'_info = max(3840, 2^n round((N_info-24)/2^n)).
    let rest_x1024 = info_x1024 - 24 * 1024;
    let n = rest_x1024.ilog2() - 10 - 5;
    let d = 1u64 << (10 + n);
    let rounded = (2 * rest_x1024 + d) / (2 * d); // round half up
    let n_info_prime = (rounded << n).max(3840);
    let tbs = if r_x1024 <= 256 {
        // R <= 1/4
        let c = div_ceil(n_info_prime + 24, 3816);
        8 * c * div_ceil(n_info_prime + 24, 8 * c) - 24
    } else if n_info_prime > 8424 {
        let c = div_ceil(n_info_prime + 24, 8424);
        8 * c * div_ceil(n_info_prime + 24, 8 * c) - 24
    } else {
        8 * div_ceil(n_info_prime + 24, 8) - 24
    };
    tbs as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_fact_mcs28_106prb_13sym_1dmrs_is_83976_bits() {
        let cell = CellConfig::oai_40mhz();
        assert_eq!(tbs_bits(106, 28, &cell).unwrap(), 83_976);
    }

    /// Worked by hand from clause 5.1.3.2 (N'_RE = 12*12 - 12 = 132 for 12 symbols, 1 DMRS):
    #[test]
    fn small_tbs_branch_worked_cases() {
        let cases = [
            // MCS 0 (Qm 2, R 120/1024), 1 PRB: N_info = 132*120*2/1024 = 30.94; n = 3;
            // N'_info = 8*floor(3.87) = 24 -> 24.
            (1, 2, 120, 12, 24),
            // MCS 0, 10 PRB: N_info = 309.4; log2 = 8 -> n = 3; N' = 8*38 = 304 -> 304.
            (10, 2, 120, 12, 304),
            // MCS 9 (Qm 2, 679), 5 PRB: N_info = 660*679*2/1024 = 875.3; log2 9 -> n 3;
            // N' = 8*109 = 872 -> 888.
            (5, 2, 679, 12, 888),
            // MCS 16 (Qm 4, 658), 4 PRB: N_info = 528*658*4/1024 = 1357.1; log2 10 -> n 4;
            // N' = 16*84 = 1344 -> 1352.
            (4, 4, 658, 12, 1352),
            // MCS 28 (Qm 6, 948), 4 PRB: N_info = 528*948*6/1024 = 2932.9; log2 11 -> n 5;
            // N' = 32*91 = 2912 -> 2976.
            (4, 6, 948, 12, 2976),
            // MCS 20 (Qm 6, 567), 9 PRB: N_info = 1188*567*6/1024 = 3946.9 > 3824 -> step 4:
            // n = floor(log2 3922.9) - 5 = 6; N' = max(3840, 64*round(61.29)) = 3904;
            // R > 1/4, N' <= 8424: TBS = 8*ceil(3928/8) - 24 = 3904.
            (9, 6, 567, 12, 3904),
        ];
        for (prb, qm, r, sym, want) in cases {
            assert_eq!(
                tbs_raw(prb, qm, r, 1, sym, 12, 0),
                want,
                "{prb} PRB Qm{qm} R{r}"
            );
        }
    }

    #[test]
    fn large_tbs_branches() {
        // R <= 1/4 branch: MCS 2 (Qm 2, 193/1024 <= 1/4), 273 PRB,
        // 13 symbols: N_RE = 144*273 = 39312; N_info = 39312*193*2/1024 = 14818.9;
        // n = floor(log2 14794.9) - 5 = 8; N' = 256*round(57.79) = 14848;
        // N' = 256*58 = 14848; C = ceil(14872/3816) = 4; TBS = 32*ceil(14872/32) - 24 = 14856.
        assert_eq!(tbs_raw(273, 2, 193, 1, 13, 12, 0), 14_856);
        // N' just above 8424 (R > 1/4): MCS 10 (Qm 4, 340), 46 PRB, 13 sym:
        // N_info = 6624*340*4/1024 = 8797.5; n = floor(log2 8773.5) - 5 = 8;
        // N' = 256*round(34.27) = 8704 > 8424 -> C = ceil(8728/8424) = 2;
        // TBS = 16*ceil(8728/16) - 24 = 8712.
        assert_eq!(tbs_raw(46, 4, 340, 1, 13, 12, 0), 8_712);
        // Two layers double N_info.
        assert!(tbs_raw(106, 6, 948, 2, 13, 12, 0) > 2 * 83_976 - 2_000);
    }

    #[test]
    fn tbs_is_monotone_in_prbs_for_every_mcs() {
        let cell = CellConfig::oai_40mhz();
        for mcs in 0..=28 {
            let mut last = 0;
            for prb in 1..=273u16 {
                let t = tbs_bits(prb, mcs, &cell).unwrap();
                assert!(t >= last, "MCS {mcs} PRB {prb}");
                last = t;
            }
        }
        assert_eq!(tbs_bits(10, 29, &cell), Err(NrError::Mcs(29)));
    }
}
