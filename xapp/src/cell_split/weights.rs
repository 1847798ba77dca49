//! Each slice's cell weights ([`super::cell_weight`]) and their total, kept as reports
//! arrive, so a cell's part of a slice's target by the split rule ([`super::split_target`])
//! is read without weighing every cell serving the slice at every report.
//!
//! Weights are kept in fixed point (1/65536 bit/s per PRB) so that their total, updated one
//! cell at a time, is exact whatever the order of the updates (a floating-point total would
//! drift with them).

use std::collections::HashMap;

use maestro_e2sm::rc::RrmPolicyMember;

/// Fixed-point units per unit of weight.
const SCALE: f64 = 65_536.0;

/// The latest weight of each cell serving each slice.
#[derive(Debug, Default)]
pub struct SliceWeights {
    slices: HashMap<RrmPolicyMember, SliceCells>,
}

/// One slice's cells.
#[derive(Debug, Default)]
struct SliceCells {
    /// Each reporting cell's weight, fixed point (a weight that is not usable: 0).
    by_cell: HashMap<String, u128>,
    /// Their sum.
    total: u128,
}

impl SliceWeights {
    /// Cell `cell_id`'s weight for `slice` is now `weight` (from its latest report).
    pub fn set(&mut self, slice: &RrmPolicyMember, cell_id: &str, weight: f64) {
        // As in `split_target`: a weight that is not finite and positive counts as nothing.
        let fixed = if weight.is_finite() && weight > 0.0 {
            (weight * SCALE).round() as u128
        } else {
            0
        };
        let cells = match self.slices.get_mut(slice) {
            Some(c) => c,
            None => self.slices.entry(slice.clone()).or_default(),
        };
        let old = match cells.by_cell.get_mut(cell_id) {
            Some(w) => std::mem::replace(w, fixed),
            None => {
                cells.by_cell.insert(cell_id.to_owned(), fixed);
                0
            }
        };
        cells.total = cells.total - old + fixed;
    }

    /// The part of `slice`'s target cell `cell_id` carries among every cell with a weight
    /// for the slice, by the split rule: its weight over the total, evenly when nothing
    /// weighs; the whole target when the cell has no weight for the slice.
    pub fn share(&self, slice: &RrmPolicyMember, cell_id: &str) -> f64 {
        let Some(cells) = self.slices.get(slice) else {
            return 1.0;
        };
        let Some(&mine) = cells.by_cell.get(cell_id) else {
            return 1.0;
        };
        if cells.total > 0 {
            mine as f64 / cells.total as f64
        } else {
            1.0 / cells.by_cell.len() as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::split_target;
    use super::*;

    fn slice(sd: u32) -> RrmPolicyMember {
        RrmPolicyMember {
            mcc: "001".into(),
            mnc: "01".into(),
            sst: 1,
            sd: Some(sd),
        }
    }

    #[test]
    fn kept_shares_are_the_split_rule() {
        let s = slice(1);
        let mut kept = SliceWeights::default();
        let mut weights = [0.0; 4];
        let updates = [
            (0, 1.2e6),
            (1, 3.6e6),
            (2, 0.0),
            (3, f64::NAN),
            (1, 2.0e5),
            (0, 0.0),
            (2, 7.7e7),
        ];
        for (seen, (cell, w)) in updates.into_iter().enumerate() {
            weights[cell] = w;
            kept.set(&s, &format!("c{cell}"), w);
            let reported = (seen + 1).min(4);
            let parts = split_target(1.0, &weights[..reported]);
            for (i, part) in parts.iter().enumerate() {
                let share = kept.share(&s, &format!("c{i}"));
                assert!((share - part).abs() < 1e-9, "cell {i}: {share} vs {part}");
            }
        }
        // Nothing weighs: evenly.
        let mut even = SliceWeights::default();
        even.set(&s, "a", 0.0);
        even.set(&s, "b", -1.0);
        assert_eq!(even.share(&s, "a"), 0.5);
        // A cell without a weight for the slice, or an unknown slice: the whole target.
        assert_eq!(kept.share(&s, "elsewhere"), 1.0);
        assert_eq!(kept.share(&slice(9), "c0"), 1.0);
    }
}
