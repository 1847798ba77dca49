//! How a slice-level A1 target is split across the cells that serve the slice, and how the
//! cells' statuses of one policy make the policy's status.
//!
//! An `ORAN_SliceSLATarget` policy names a slice, not a cell: the A1TD (O-RAN.WG2.TS.A1TD,
//! clause 7.2.7, table 7.2.7.2.2-1) does not allow `cellId` in its scope, so a policy holds
//! for the slice wherever it is served, including in cells that appear later. Its throughput
//! target is the slice's, so each cell carries a part of it ([`split_target`], weights from
//! [`cell_weight`]); its status is ENFORCED only when every cell in scope enforces its part
//! ([`across_cells`]).
//!
//! The control loop keeps both as cells report, so one cell's report costs its own policies:
//! [`weights::SliceWeights`] (each slice's cell weights and their total) and
//! [`statuses::CellStatuses`] (each policy's status in each cell).

use maestro_api::a1::{EnforceStatus, PolicyStatus};

use crate::nr::{self, CellConfig};

pub mod statuses;
pub mod weights;

/// A cell's weight in the split of a slice's target: the sum, over the slice's UEs in that
/// cell, of the throughput one PRB gives at the UE's CQI as the controller plans it
/// ([`crate::controller::effective_cqi`]: its wide-band CQI, or for a served UE without a CQI
/// report the CQI its MCS implies) (bit/s per PRB: the
/// carrier's full-width throughput at that CQI over its PRB count, TS 38.214 tables 5.2.2.1-2
/// CQI -> MCS and 5.1.3.1-1, TBS clause 5.1.3.2, through [`nr::throughput_bps`]). UEs at
/// CQI 0 (out of range) weigh nothing.
///
/// So a cell weighs more with more of the slice's UEs (where the slice's traffic is) and with
/// better radio (where a PRB carries more of it).
pub fn cell_weight(ue_cqis: &[u8], carrier: &CellConfig) -> f64 {
    if carrier.n_prb == 0 {
        return 0.0;
    }
    let per_prb =
        |cqi: u8| nr::throughput_bps(carrier.n_prb, cqi, carrier) / f64::from(carrier.n_prb);
    ue_cqis.iter().map(|&c| per_prb(c)).sum()
}

/// **The split rule**: a slice-level target `target_bps` over the cells serving the slice is
/// split in proportion to the cells' weights ([`cell_weight`]); when no cell weighs anything
/// (no UE of the slice reports a usable CQI), evenly. One cell gets the whole target, so a
/// single-cell xApp behaves as before the split existed. Returns one part per weight, in
/// order; the parts add up to the target.
pub fn split_target(target_bps: f64, weights: &[f64]) -> Vec<f64> {
    let usable = |w: f64| if w.is_finite() && w > 0.0 { w } else { 0.0 };
    let total: f64 = weights.iter().map(|&w| usable(w)).sum();
    if total > 0.0 {
        weights
            .iter()
            .map(|&w| target_bps * usable(w) / total)
            .collect()
    } else {
        let n = weights.len().max(1) as f64;
        weights.iter().map(|_| target_bps / n).collect()
    }
}

/// One policy's status from its status in each cell in scope (cell id, status; the cell's
/// status after its own hysteresis, or a fact such as its reports gone silent): ENFORCED when
/// every cell enforces it, else NOT_ENFORCED with the reason of the first cell that does not,
/// and the ids of the cells that do not (in the order given). `None` when no cell is in scope.
///
/// A1AP's status object has only `enforceStatus` and `enforceReason` (an enum), so the cells'
/// names travel beside it: in the control loop's log line and in the optional
/// `notEnforcedCells` of the status object (ours; [`PolicyStatus::not_enforced_cells`]).
pub fn across_cells<'a>(
    cells: impl IntoIterator<Item = (&'a str, &'a PolicyStatus)>,
) -> Option<(PolicyStatus, Vec<String>)> {
    let mut any = false;
    let mut first_reason: Option<PolicyStatus> = None;
    let mut not_enforced = Vec::new();
    for (cell, status) in cells {
        any = true;
        if status.enforce_status != EnforceStatus::Enforced {
            first_reason.get_or_insert_with(|| status.clone());
            not_enforced.push(cell.to_owned());
        }
    }
    if !any {
        return None;
    }
    Some((
        first_reason.unwrap_or_else(PolicyStatus::enforced),
        not_enforced,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use maestro_api::a1::EnforceReason;

    #[test]
    fn a_prb_at_cqi_15_on_the_40_mhz_carrier_carries_a_106th_of_the_cell() {
        // Full cell at CQI 15: 134.3616 Mbit/s over 106 PRBs (nr::throughput tests).
        let cell = CellConfig::oai_40mhz();
        let one = 134_361_600.0 / 106.0;
        assert!((cell_weight(&[15], &cell) - one).abs() < 1e-6);
        assert!((cell_weight(&[15, 15, 0], &cell) - 2.0 * one).abs() < 1e-6);
        assert_eq!(cell_weight(&[], &cell), 0.0);
    }

    #[test]
    fn the_target_is_split_by_weight_and_adds_up() {
        // Weights 1 : 3 : 0 -> 25 %, 75 %, nothing.
        assert_eq!(split_target(40e6, &[1.0, 3.0, 0.0]), vec![10e6, 30e6, 0.0]);
        // Two UEs at CQI 15 against one: two thirds and one third.
        let cell = CellConfig::oai_40mhz();
        let w = [cell_weight(&[15, 15], &cell), cell_weight(&[15], &cell)];
        let parts = split_target(30e6, &w);
        assert!((parts[0] - 20e6).abs() < 1e-3 && (parts[1] - 10e6).abs() < 1e-3);
        // One cell takes it all, whatever its weight.
        assert_eq!(split_target(7e6, &[0.5]), vec![7e6]);
        assert_eq!(split_target(7e6, &[0.0]), vec![7e6]);
        // Nobody weighs anything: evenly.
        assert_eq!(
            split_target(9e6, &[0.0, f64::NAN, 0.0]),
            vec![3e6, 3e6, 3e6]
        );
        assert!(split_target(1.0, &[]).is_empty());
    }

    #[test]
    fn a_policy_is_enforced_only_where_every_cell_enforces_it() {
        let up = PolicyStatus::enforced();
        let silent = PolicyStatus::not_enforced(EnforceReason::OtherReason);
        let short = PolicyStatus::not_enforced(EnforceReason::StatementNotApplicable);
        assert_eq!(across_cells([]), None);
        assert_eq!(
            across_cells([("a", &up), ("b", &up)]),
            Some((up.clone(), vec![]))
        );
        assert_eq!(
            across_cells([("a", &up), ("b", &silent), ("c", &short)]),
            Some((silent.clone(), vec!["b".to_owned(), "c".to_owned()]))
        );
    }
}
