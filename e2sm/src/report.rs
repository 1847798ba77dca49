//! Measurements an E2 node reports: per-UE wide-band CQI (as FlexRIC's MAC stats SM, RAN
//! function 142, carries it) and per-slice DL throughput and PRB usage (E2SM-KPM v3.00
//! measurements DRB.UEThpDl and RRU.PrbUsedDl, TS 28.552 clauses 5.1.1.3.1 and 5.1.1.2.5).

use serde::{Deserialize, Serialize};

use crate::rc::RrmPolicyMember;

/// One UE's report for a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UeMeasurement {
    /// RAN UE id (RNTI-like).
    pub ue_id: u32,
    /// Wide-band CQI, 0..=15 (TS 38.214 Table 5.2.2.1-2).
    pub wb_cqi: u8,
    /// MCS index (TS 38.214 Table 5.1.3.1-1) the scheduler used.
    pub mcs: u8,
    /// Mean PRBs per DL slot scheduled to the UE over the period.
    pub prbs: f64,
    /// Delivered DL throughput over the period, bits/s.
    pub dl_throughput_bps: f64,
}

/// One slice's report for a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceMeasurement {
    /// The slice.
    pub member: RrmPolicyMember,
    /// PRBs per DL slot the slice may use (its max PRB ratio applied to the cell).
    pub prb_quota: u16,
    /// Mean PRBs per DL slot the slice used.
    pub prb_used: f64,
    /// Delivered DL throughput of the slice, bits/s.
    pub dl_throughput_bps: f64,
    /// Its UEs.
    pub ues: Vec<UeMeasurement>,
}

/// A cell's report for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellMeasurement {
    /// Monotonic report number.
    pub sequence: u64,
    /// Node clock at the end of the period, ms.
    pub time_ms: u64,
    /// Length of the period, ms.
    pub period_ms: u64,
    /// Cell id (NR CGI as text).
    pub cell_id: String,
    /// PRBs of the carrier.
    pub n_prb: u16,
    /// Per slice.
    pub slices: Vec<SliceMeasurement>,
}

impl CellMeasurement {
    /// Wide-band CQIs of the UEs of one slice, in report order.
    pub fn ue_cqis(&self, member: &RrmPolicyMember) -> Vec<u8> {
        self.slices
            .iter()
            .filter(|s| &s.member == member)
            .flat_map(|s| s.ues.iter().map(|u| u.wb_cqi))
            .collect()
    }
}
