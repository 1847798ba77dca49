//! A KPI subscriber's filter (`SubscribeRequest.cells` / `.slices`): which cells' reports it
//! gets and, within each, which slices. Empty lists mean everything, as before the filter
//! existed. Slices are compared by their label (`SliceId`'s `Display` in `maestro_api::a1`,
//! the one `SliceReport.label` carries).

use std::collections::BTreeSet;
use std::fmt;

use maestro_api::kpi::{CellReport, SubscribeRequest};

/// What one subscriber asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KpiFilter {
    /// Cell ids; empty: every cell.
    pub cells: BTreeSet<String>,
    /// Slice labels; empty: every slice.
    pub slices: BTreeSet<String>,
}

/// A filter the hub refuses: it names cells or slices the xApp does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// A slice id that cannot be a slice (SST over 8 bits).
    #[error("slice filter: SST {sst} is not an 8-bit Slice/Service Type (TS 23.003 28.4.2)")]
    BadSst {
        /// The SST given.
        sst: u32,
    },
    /// Cells or slices never reported nor announced.
    #[error("{}", unknown_message(.cells, .slices, .known_cells, .known_slices))]
    Unknown {
        /// The unknown cells asked for.
        cells: Vec<String>,
        /// The unknown slices asked for (labels).
        slices: Vec<String>,
        /// Known cells (the first few).
        known_cells: Vec<String>,
        /// Known slices (the first few).
        known_slices: Vec<String>,
    },
}

/// How many known names an error lists.
pub const LISTED_KNOWN: usize = 20;

fn unknown_message(
    cells: &[String],
    slices: &[String],
    known_cells: &[String],
    known_slices: &[String],
) -> String {
    struct List<'a>(&'a [String]);
    impl fmt::Display for List<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            if self.0.is_empty() {
                return f.write_str("none yet");
            }
            f.write_str(&self.0.join(", "))
        }
    }
    let mut parts = Vec::new();
    if !cells.is_empty() {
        parts.push(format!(
            "unknown cells: {} (known cells: {})",
            cells.join(", "),
            List(known_cells)
        ));
    }
    if !slices.is_empty() {
        parts.push(format!(
            "unknown slices: {} (known slices: {})",
            slices.join(", "),
            List(known_slices)
        ));
    }
    format!(
        "KPI filter refused, {}; a cell is known once the xApp has had a report from it",
        parts.join("; ")
    )
}

impl KpiFilter {
    /// The filter of a subscription request.
    pub fn from_request(req: &SubscribeRequest) -> Result<Self, FilterError> {
        let slices = req
            .slices
            .iter()
            .map(|s| {
                s.to_a1()
                    .map(|id| id.to_string())
                    .ok_or(FilterError::BadSst { sst: s.sst })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            cells: req.cells.iter().cloned().collect(),
            slices,
        })
    }

    /// No filter: every cell, every slice.
    pub fn is_everything(&self) -> bool {
        self.cells.is_empty() && self.slices.is_empty()
    }

    /// Whether reports of `cell` are wanted.
    pub fn wants_cell(&self, cell: &str) -> bool {
        self.cells.is_empty() || self.cells.contains(cell)
    }

    /// Whether the slice labelled `label` is wanted.
    pub fn wants_slice(&self, label: &str) -> bool {
        self.slices.is_empty() || self.slices.contains(label)
    }

    /// Checks every name against the known ones.
    pub fn check(
        &self,
        is_known_cell: impl Fn(&str) -> bool,
        known_cells: impl Iterator<Item = String>,
        known_slices: &BTreeSet<String>,
    ) -> Result<(), FilterError> {
        let cells: Vec<String> = self
            .cells
            .iter()
            .filter(|c| !is_known_cell(c))
            .cloned()
            .collect();
        let slices: Vec<String> = self.slices.difference(known_slices).cloned().collect();
        if cells.is_empty() && slices.is_empty() {
            return Ok(());
        }
        Err(FilterError::Unknown {
            cells,
            slices,
            known_cells: known_cells.take(LISTED_KNOWN).collect(),
            known_slices: known_slices.iter().take(LISTED_KNOWN).cloned().collect(),
        })
    }

    /// What of `report` this subscriber gets: `None` when nothing (another cell, or none of
    /// its slices); `Some(None)` when all of it (the shared encoding serves); `Some(Some(r))`
    /// when only some slices, as `r`.
    pub fn select(&self, report: &CellReport) -> Option<Option<CellReport>> {
        if !self.wants_cell(&report.cell_id) {
            return None;
        }
        if self.slices.is_empty() || report.slices.iter().all(|s| self.wants_slice(&s.label)) {
            return Some(None);
        }
        let slices: Vec<_> = report
            .slices
            .iter()
            .filter(|s| self.wants_slice(&s.label))
            .cloned()
            .collect();
        if slices.is_empty() {
            return None;
        }
        Some(Some(CellReport {
            slices,
            ..report.clone()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maestro_api::kpi::{SliceId, SliceReport};

    fn report(cell: &str, labels: &[&str]) -> CellReport {
        CellReport {
            cell_id: cell.into(),
            slices: labels
                .iter()
                .map(|l| SliceReport {
                    label: (*l).into(),
                    ..SliceReport::default()
                })
                .collect(),
            ..CellReport::default()
        }
    }

    #[test]
    fn request_slices_become_labels_and_a_wide_sst_is_refused() {
        let req = SubscribeRequest {
            subscriber: "t".into(),
            cells: vec!["c1".into()],
            slices: vec![SliceId {
                sst: 1,
                sd: "00000A".into(),
                mcc: "001".into(),
                mnc: "01".into(),
            }],
        };
        let f = KpiFilter::from_request(&req).unwrap();
        assert_eq!(
            f.slices.iter().collect::<Vec<_>>(),
            ["001-01/sst1-sd00000a"]
        );
        assert!(f.wants_cell("c1") && !f.wants_cell("c2"));
        let wide = SubscribeRequest {
            slices: vec![SliceId {
                sst: 256,
                ..SliceId::default()
            }],
            ..req
        };
        assert_eq!(
            KpiFilter::from_request(&wide),
            Err(FilterError::BadSst { sst: 256 })
        );
    }

    #[test]
    fn select_keeps_matching_cells_and_slices_only() {
        let all = KpiFilter::default();
        assert!(all.is_everything());
        assert_eq!(all.select(&report("c1", &["a", "b"])), Some(None));
        let f = KpiFilter {
            cells: ["c1".to_owned()].into(),
            slices: ["b".to_owned()].into(),
        };
        assert_eq!(f.select(&report("c2", &["a", "b"])), None);
        assert_eq!(
            f.select(&report("c1", &["a", "b"])),
            Some(Some(report("c1", &["b"])))
        );
        assert_eq!(f.select(&report("c1", &["b"])), Some(None));
        assert_eq!(f.select(&report("c1", &["a"])), None);
    }

    #[test]
    fn unknown_names_are_listed_with_the_known_ones() {
        let f = KpiFilter {
            cells: ["c1".to_owned(), "c9".to_owned()].into(),
            slices: ["x".to_owned()].into(),
        };
        let known: BTreeSet<String> = ["a".to_owned()].into();
        let err = f
            .check(|c| c == "c1", ["c1".to_owned()].into_iter(), &known)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "KPI filter refused, unknown cells: c9 (known cells: c1); unknown slices: x \
             (known slices: a); a cell is known once the xApp has had a report from it"
        );
        let ok = KpiFilter {
            cells: ["c1".to_owned()].into(),
            slices: ["a".to_owned()].into(),
        };
        assert_eq!(ok.check(|c| c == "c1", std::iter::empty(), &known), Ok(()));
    }
}
