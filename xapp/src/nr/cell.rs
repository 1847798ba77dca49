//! The NR carrier a cell transmits on: bandwidth, numerology, PRBs, PDSCH symbols, DM-RS and the
//! TDD pattern that decides how many slots carry downlink.

use serde::{Deserialize, Serialize};

use super::tables::max_transmission_bandwidth_prbs;
use super::NrError;

/// Slots counted as downlink in each TDD period (TS 38.213 clause 11.1; OAI's default 8 of 10,
/// counting the mixed slot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TddPattern {
    /// DL slots per period.
    pub dl_slots: u8,
    /// Period length, slots.
    pub period_slots: u8,
}

/// A cell's carrier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellConfig {
    /// Channel bandwidth, MHz.
    pub bandwidth_mhz: u16,
    /// Subcarrier spacing, kHz.
    pub scs_khz: u16,
    /// PRBs of the carrier (TS 38.101-1 Table 5.3.2-1).
    pub n_prb: u16,
    /// MIMO layers v.
    pub layers: u8,
    /// PDSCH symbols per slot.
    pub pdsch_symbols: u8,
    /// DM-RS symbols per slot.
    pub dmrs_symbols: u8,
    /// xOverhead N_oh per PRB (0, 6, 12 or 18; TS 38.214 clause 5.1.3.2).
    pub overhead_re_per_prb: u16,
    /// TDD pattern.
    pub tdd: TddPattern,
}

impl CellConfig {
    /// A validated cell; PRBs looked up from TS 38.101-1 Table 5.3.2-1.
    pub fn new(
        bandwidth_mhz: u16,
        scs_khz: u16,
        layers: u8,
        pdsch_symbols: u8,
        dmrs_symbols: u8,
        tdd: TddPattern,
    ) -> Result<Self, NrError> {
        let n_prb =
            max_transmission_bandwidth_prbs(bandwidth_mhz, scs_khz).ok_or(NrError::Bandwidth {
                bandwidth_mhz,
                scs_khz,
            })?;
        let cell = Self {
            bandwidth_mhz,
            scs_khz,
            n_prb,
            layers,
            pdsch_symbols,
            dmrs_symbols,
            overhead_re_per_prb: 0,
            tdd,
        };
        cell.validate()?;
        Ok(cell)
    }

    /// The embedded default: 40 MHz, 30 kHz, 106 PRBs, 1 layer, 13 PDSCH symbols, 1 DM-RS
    /// symbol, 8 of 10 slots DL — 134.36 Mbps at CQI 15.
    pub fn oai_40mhz() -> Self {
        Self {
            bandwidth_mhz: 40,
            scs_khz: 30,
            n_prb: 106,
            layers: 1,
            pdsch_symbols: 13,
            dmrs_symbols: 1,
            overhead_re_per_prb: 0,
            tdd: TddPattern {
                dl_slots: 8,
                period_slots: 10,
            },
        }
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<(), NrError> {
        let bad = |m: String| Err(NrError::Cell(m));
        let table = max_transmission_bandwidth_prbs(self.bandwidth_mhz, self.scs_khz).ok_or(
            NrError::Bandwidth {
                bandwidth_mhz: self.bandwidth_mhz,
                scs_khz: self.scs_khz,
            },
        )?;
        if self.n_prb == 0 || self.n_prb > table {
            return bad(format!(
                "{} PRBs; {} MHz at {} kHz allows 1..={table}",
                self.n_prb, self.bandwidth_mhz, self.scs_khz
            ));
        }
        if !(1..=4).contains(&self.layers) {
            return bad(format!("{} layers; 1..=4 supported", self.layers));
        }
        if !(1..=14).contains(&self.pdsch_symbols) || self.dmrs_symbols >= self.pdsch_symbols {
            return bad(format!(
                "{} PDSCH symbols with {} DM-RS symbols; need 1..=14 and DM-RS < PDSCH",
                self.pdsch_symbols, self.dmrs_symbols
            ));
        }
        if ![0, 6, 12, 18].contains(&self.overhead_re_per_prb) {
            return bad(format!(
                "xOverhead {}; one of 0, 6, 12, 18",
                self.overhead_re_per_prb
            ));
        }
        if self.tdd.period_slots == 0 || self.tdd.dl_slots > self.tdd.period_slots {
            return bad(format!(
                "TDD {} DL of {} slots",
                self.tdd.dl_slots, self.tdd.period_slots
            ));
        }
        Ok(())
    }

    /// Slots per second: 1000 * 2^mu (TS 38.211 clause 4.3.2).
    pub fn slots_per_second(&self) -> u32 {
        1000 * u32::from(self.scs_khz / 15)
    }

    /// DL slots per second under the TDD pattern.
    pub fn dl_slots_per_second(&self) -> f64 {
        f64::from(self.slots_per_second()) * f64::from(self.tdd.dl_slots)
            / f64::from(self.tdd.period_slots.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_cell_and_validation() {
        let tdd = TddPattern {
            dl_slots: 8,
            period_slots: 10,
        };
        let c = CellConfig::new(40, 30, 1, 13, 1, tdd.clone()).unwrap();
        assert_eq!(c, CellConfig::oai_40mhz());
        assert_eq!(c.slots_per_second(), 2000);
        assert_eq!(c.dl_slots_per_second(), 1600.0);
        assert!(matches!(
            CellConfig::new(45, 30, 1, 13, 1, tdd.clone()),
            Ok(CellConfig { n_prb: 119, .. })
        ));
        let err = CellConfig::new(42, 30, 1, 13, 1, tdd.clone()).unwrap_err();
        assert!(err.to_string().contains("Table 5.3.2-1"));
        assert!(CellConfig::new(40, 30, 0, 13, 1, tdd.clone()).is_err());
        assert!(CellConfig::new(40, 30, 1, 13, 13, tdd).is_err());
        let bad_tdd = TddPattern {
            dl_slots: 11,
            period_slots: 10,
        };
        assert!(CellConfig::new(40, 30, 1, 13, 1, bad_tdd).is_err());
    }
}
