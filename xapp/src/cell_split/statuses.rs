//! Each policy's status in each cell, kept as the cells' statuses change, so the policy's
//! status across its cells ([`super::across_cells`]) is read without visiting every cell: a
//! report from one cell costs the policies of that cell, not every policy times every cell.

use std::collections::{BTreeMap, HashMap};

use maestro_api::a1::{EnforceStatus, PolicyStatus};

use super::across_cells;
use crate::store::PolicyKey;

/// The cells' statuses of each policy: how many cells have one, and those not enforcing it.
#[derive(Debug, Default)]
pub struct CellStatuses {
    policies: HashMap<PolicyKey, PolicyCells>,
}

/// One policy's cells.
#[derive(Debug, Default)]
struct PolicyCells {
    /// Cells with a status of the policy.
    cells: usize,
    /// Those not enforcing it and their status, by cell id (the order cells are named in).
    not_enforced: BTreeMap<String, PolicyStatus>,
}

impl CellStatuses {
    /// Cell `cell_id`'s statuses go from `old` to `new` (its status of each policy it
    /// decides for; a policy absent has none in that cell).
    pub fn replace(
        &mut self,
        cell_id: &str,
        old: &HashMap<PolicyKey, PolicyStatus>,
        new: &HashMap<PolicyKey, PolicyStatus>,
    ) {
        for key in old.keys().filter(|k| !new.contains_key(*k)) {
            if let Some(p) = self.policies.get_mut(key) {
                p.cells = p.cells.saturating_sub(1);
                p.not_enforced.remove(cell_id);
                if p.cells == 0 {
                    self.policies.remove(key);
                }
            }
        }
        for (key, status) in new {
            let p = match self.policies.get_mut(key) {
                Some(p) => p,
                None => self.policies.entry(key.clone()).or_default(),
            };
            if !old.contains_key(key) {
                p.cells += 1;
            }
            if status.enforce_status == EnforceStatus::Enforced {
                p.not_enforced.remove(cell_id);
            } else {
                match p.not_enforced.get_mut(cell_id) {
                    Some(s) => s.clone_from(status),
                    None => {
                        p.not_enforced.insert(cell_id.to_owned(), status.clone());
                    }
                }
            }
        }
    }

    /// The policy's status across its cells and the cells not enforcing it, as
    /// [`across_cells`] gives them over every cell's status in cell-id order; `None` when no
    /// cell has a status of it.
    pub fn across(&self, key: &PolicyKey) -> Option<(PolicyStatus, Vec<String>)> {
        let p = self.policies.get(key).filter(|p| p.cells > 0)?;
        let not_enforced = p.not_enforced.iter().map(|(c, s)| (c.as_str(), s));
        Some(across_cells(not_enforced).unwrap_or_else(|| (PolicyStatus::enforced(), Vec::new())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maestro_api::a1::EnforceReason;

    fn key(id: &str) -> PolicyKey {
        PolicyKey {
            policy_type: "ORAN_SliceSLATarget_1.0.0".into(),
            policy_id: id.into(),
        }
    }

    /// A small deterministic generator (no dependency for one test).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn kept_statuses_read_as_every_cell_visited() {
        let statuses = [
            PolicyStatus::enforced(),
            PolicyStatus::not_enforced(EnforceReason::OtherReason),
            PolicyStatus::not_enforced(EnforceReason::StatementNotApplicable),
        ];
        let keys = [key("a"), key("b"), key("c")];
        let cell_ids = ["c0", "c1", "c2", "c3", "c4"];
        let mut views: BTreeMap<&str, HashMap<PolicyKey, PolicyStatus>> =
            cell_ids.iter().map(|c| (*c, HashMap::new())).collect();
        let mut kept = CellStatuses::default();
        let mut rng = Lcg(7);
        for _ in 0..2000 {
            let cell = cell_ids[rng.next(5) as usize];
            let mut new = HashMap::new();
            for k in &keys {
                // Some cells have no status of some policies (not in their scope).
                if rng.next(4) > 0 {
                    new.insert(k.clone(), statuses[rng.next(3) as usize].clone());
                }
            }
            let old = views.insert(cell, new.clone()).unwrap_or_default();
            kept.replace(cell, &old, &new);
            for k in &keys {
                let visited =
                    across_cells(views.iter().filter_map(|(c, v)| v.get(k).map(|s| (*c, s))));
                assert_eq!(kept.across(k), visited, "policy {}", k.policy_id);
            }
        }
    }
}
