//! 3GPP NR arithmetic: PRBs <-> throughput.
//!
//! - [`tables`]: TS 38.214 CQI table 1, MCS table 1, TBS table; TS 38.101-1 N_RB table.
//! - [`tbs`]: the transport block size procedure of TS 38.214 clause 5.1.3.2.
//! - [`cell`]: the carrier a cell transmits on (bandwidth, SCS, PRBs, symbols, TDD).
//! - [`throughput`]: throughput of a PRB allocation at a CQI, and its inverse.
//! - [`air_time`]: DL slots in a stretch of air time, counted from MAC frame numbers.

pub mod air_time;
pub mod cell;
pub mod tables;
pub mod tbs;
pub mod throughput;

pub use cell::{CellConfig, TddPattern};
pub use tables::{cqi_entry, cqi_for_mcs, max_transmission_bandwidth_prbs, mcs_entry, mcs_for_cqi};
pub use tbs::tbs_bits;
pub use throughput::{
    capacity_bps, prbs_for, prbs_for_slice, slice_throughput_bps, throughput_bps,
};

/// Errors of the NR arithmetic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NrError {
    /// Bandwidth/SCS pair not in TS 38.101-1 Table 5.3.2-1.
    #[error("unsupported bandwidth {bandwidth_mhz} MHz at {scs_khz} kHz SCS (TS 38.101-1 Table 5.3.2-1)")]
    Bandwidth {
        /// Channel bandwidth, MHz.
        bandwidth_mhz: u16,
        /// Subcarrier spacing, kHz.
        scs_khz: u16,
    },
    /// MCS index outside 0..=28 of TS 38.214 Table 5.1.3.1-1.
    #[error("MCS {0} is not a valid index of TS 38.214 Table 5.1.3.1-1 (0..=28)")]
    Mcs(u8),
    /// A cell parameter is out of range.
    #[error("invalid cell: {0}")]
    Cell(String),
}
