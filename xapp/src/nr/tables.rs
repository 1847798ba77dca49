//! The 3GPP tables the xApp computes with: TS 38.214 Table 5.2.2.1-2 (CQI table 1),
//! Table 5.1.3.1-1 (MCS table 1 for PDSCH), Table 5.1.3.2-1 (TBS for N_info <= 3824), and
//! TS 38.101-1 Table 5.3.2-1 (maximum transmission bandwidth configuration N_RB, FR1).

/// A row of a modulation/coding table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodingEntry {
    /// Modulation order Q_m (2 QPSK, 4 16QAM, 6 64QAM).
    pub modulation_order: u8,
    /// Target code rate x 1024.
    pub code_rate_x1024: u16,
    /// Spectral efficiency, bits per RE.
    pub efficiency: f64,
}

const fn e(modulation_order: u8, code_rate_x1024: u16, efficiency: f64) -> CodingEntry {
    CodingEntry {
        modulation_order,
        code_rate_x1024,
        efficiency,
    }
}

/// TS 38.214 Table 5.2.2.1-2, CQI 1..=15 (CQI 0 is "out of range").
const CQI_TABLE_1: [CodingEntry; 15] = [
    e(2, 78, 0.1523),
    e(2, 120, 0.2344),
    e(2, 193, 0.3770),
    e(2, 308, 0.6016),
    e(2, 449, 0.8770),
    e(2, 602, 1.1758),
    e(4, 378, 1.4766),
    e(4, 490, 1.9141),
    e(4, 616, 2.4063),
    e(6, 466, 2.7305),
    e(6, 567, 3.3223),
    e(6, 666, 3.9023),
    e(6, 772, 4.5234),
    e(6, 873, 5.1152),
    e(6, 948, 5.5547),
];

/// TS 38.214 Table 5.1.3.1-1, MCS 0..=28 (29..=31 reserved for retransmissions).
const MCS_TABLE_1: [CodingEntry; 29] = [
    e(2, 120, 0.2344),
    e(2, 157, 0.3066),
    e(2, 193, 0.3770),
    e(2, 251, 0.4902),
    e(2, 308, 0.6016),
    e(2, 379, 0.7402),
    e(2, 449, 0.8770),
    e(2, 526, 1.0273),
    e(2, 602, 1.1758),
    e(2, 679, 1.3262),
    e(4, 340, 1.3281),
    e(4, 378, 1.4766),
    e(4, 434, 1.6953),
    e(4, 490, 1.9141),
    e(4, 553, 2.1602),
    e(4, 616, 2.4063),
    e(4, 658, 2.5703),
    e(6, 438, 2.5664),
    e(6, 466, 2.7305),
    e(6, 517, 3.0293),
    e(6, 567, 3.3223),
    e(6, 616, 3.6094),
    e(6, 666, 3.9023),
    e(6, 719, 4.2129),
    e(6, 772, 4.5234),
    e(6, 822, 4.8164),
    e(6, 873, 5.1152),
    e(6, 910, 5.3320),
    e(6, 948, 5.5547),
];

/// TS 38.214 Table 5.1.3.2-1: TBS values for N_info <= 3824.
pub const TBS_TABLE: [u32; 93] = [
    24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 136, 144, 152, 160, 168, 176, 184,
    192, 208, 224, 240, 256, 272, 288, 304, 320, 336, 352, 368, 384, 408, 432, 456, 480, 504, 528,
    552, 576, 608, 640, 672, 704, 736, 768, 808, 848, 888, 928, 984, 1032, 1064, 1128, 1160, 1192,
    1224, 1256, 1288, 1320, 1352, 1416, 1480, 1544, 1608, 1672, 1736, 1800, 1864, 1928, 2024, 2088,
    2152, 2216, 2280, 2408, 2472, 2536, 2600, 2664, 2728, 2792, 2856, 2976, 3104, 3240, 3368, 3496,
    3624, 3752, 3824,
];

/// CQI table 1 row of `cqi` (1..=15); `None` for 0 (out of range) or > 15.
pub fn cqi_entry(cqi: u8) -> Option<CodingEntry> {
    CQI_TABLE_1.get(usize::from(cqi).checked_sub(1)?).copied()
}

/// MCS table 1 row of `mcs` (0..=28).
pub fn mcs_entry(mcs: u8) -> Option<CodingEntry> {
    MCS_TABLE_1.get(usize::from(mcs)).copied()
}

/// The highest MCS of table 1 whose spectral efficiency does not exceed the CQI's (the usual
/// link adaptation of a scheduler without outer-loop offset); MCS 0 for CQI 1, whose
/// efficiency is below every MCS. CQI 0 or > 15: `None`.
pub fn mcs_for_cqi(cqi: u8) -> Option<u8> {
    let target = cqi_entry(cqi)?.efficiency;
    let mcs = MCS_TABLE_1
        .iter()
        .rposition(|m| m.efficiency <= target + 1e-9)
        .unwrap_or(0);
    Some(mcs as u8)
}

/// The highest CQI of table 1 whose spectral efficiency does not exceed that of `mcs` (MCS
/// table 1): the channel quality a scheduler's link adaptation implies when the UE sent no
/// usable CQI (no CSI report configured, or CQI 0). MCS > 28: `None`.
pub fn cqi_for_mcs(mcs: u8) -> Option<u8> {
    let efficiency = mcs_entry(mcs)?.efficiency;
    let cqi = CQI_TABLE_1
        .iter()
        .rposition(|c| c.efficiency <= efficiency + 1e-9)
        .unwrap_or(0);
    Some(cqi as u8 + 1)
}

/// TS 38.101-1 Table 5.3.2-1: N_RB for a channel bandwidth (MHz) at an SCS (kHz), FR1.
pub fn max_transmission_bandwidth_prbs(bandwidth_mhz: u16, scs_khz: u16) -> Option<u16> {
    const SCS15: &[(u16, u16)] = &[
        (5, 25),
        (10, 52),
        (15, 79),
        (20, 106),
        (25, 133),
        (30, 160),
        (35, 188),
        (40, 216),
        (45, 242),
        (50, 270),
    ];
    const SCS30: &[(u16, u16)] = &[
        (5, 11),
        (10, 24),
        (15, 38),
        (20, 51),
        (25, 65),
        (30, 78),
        (35, 92),
        (40, 106),
        (45, 119),
        (50, 133),
        (60, 162),
        (70, 189),
        (80, 217),
        (90, 245),
        (100, 273),
    ];
    const SCS60: &[(u16, u16)] = &[
        (10, 11),
        (15, 18),
        (20, 24),
        (25, 31),
        (30, 38),
        (35, 44),
        (40, 51),
        (45, 58),
        (50, 65),
        (60, 79),
        (70, 93),
        (80, 107),
        (90, 121),
        (100, 135),
    ];
    let table = match scs_khz {
        15 => SCS15,
        30 => SCS30,
        60 => SCS60,
        _ => return None,
    };
    table
        .iter()
        .find(|(bw, _)| *bw == bandwidth_mhz)
        .map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_match_the_spec() {
        assert_eq!(cqi_entry(0), None);
        assert_eq!(cqi_entry(16), None);
        assert_eq!(cqi_entry(1), Some(e(2, 78, 0.1523)));
        assert_eq!(cqi_entry(15), Some(e(6, 948, 5.5547)));
        assert_eq!(mcs_entry(0), Some(e(2, 120, 0.2344)));
        assert_eq!(mcs_entry(28), Some(e(6, 948, 5.5547)));
        assert_eq!(mcs_entry(29), None);
        assert_eq!(TBS_TABLE.len(), 93);
        assert!(TBS_TABLE.windows(2).all(|w| w[0] < w[1]));
        // Efficiency = Qm * R within the tables' 4-decimal rounding.
        for row in CQI_TABLE_1.iter().chain(MCS_TABLE_1.iter()) {
            let se = f64::from(row.modulation_order) * f64::from(row.code_rate_x1024) / 1024.0;
            assert!((se - row.efficiency).abs() < 1e-4, "{row:?}");
        }
    }

    #[test]
    fn mcs_maps_back_to_the_highest_cqi_not_above_its_efficiency() {
        assert_eq!(cqi_for_mcs(0), Some(2));
        assert_eq!(cqi_for_mcs(9), Some(6), "OAI rfsim: MCS 9 (QPSK 679/1024)");
        assert_eq!(cqi_for_mcs(28), Some(15));
        assert_eq!(cqi_for_mcs(29), None);
        for mcs in 0..=28u8 {
            let cqi = cqi_for_mcs(mcs).unwrap();
            let m = mcs_entry(mcs).unwrap().efficiency;
            assert!(cqi_entry(cqi).unwrap().efficiency <= m + 1e-9, "MCS {mcs}");
            if let Some(next) = cqi_entry(cqi + 1) {
                assert!(next.efficiency > m, "MCS {mcs}");
            }
            // Round trip: the MCS a scheduler picks for that CQI is never above this MCS.
            assert!(mcs_for_cqi(cqi).unwrap() <= mcs, "MCS {mcs}");
        }
    }

    #[test]
    fn cqi_maps_to_the_highest_mcs_not_above_its_efficiency() {
        let expected = [0, 0, 2, 4, 6, 8, 11, 13, 15, 18, 20, 22, 24, 26, 28];
        for cqi in 1..=15u8 {
            let mcs = mcs_for_cqi(cqi).unwrap();
            assert_eq!(mcs, expected[usize::from(cqi - 1)], "CQI {cqi}");
            let c = cqi_entry(cqi).unwrap().efficiency;
            assert!(cqi == 1 || mcs_entry(mcs).unwrap().efficiency <= c + 1e-9);
            if let Some(next) = mcs_entry(mcs + 1) {
                assert!(next.efficiency > c);
            }
        }
        assert_eq!(mcs_for_cqi(0), None);
    }

    #[test]
    fn n_rb_table_spot_checks() {
        assert_eq!(max_transmission_bandwidth_prbs(40, 30), Some(106));
        assert_eq!(max_transmission_bandwidth_prbs(100, 30), Some(273));
        assert_eq!(max_transmission_bandwidth_prbs(20, 15), Some(106));
        assert_eq!(max_transmission_bandwidth_prbs(100, 60), Some(135));
        assert_eq!(max_transmission_bandwidth_prbs(60, 15), None);
        assert_eq!(max_transmission_bandwidth_prbs(40, 120), None);
    }
}
