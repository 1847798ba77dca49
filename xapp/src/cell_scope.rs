//! Which cells a slice SLA policy applies to, and the cells the xApp knows.
//!
//! The A1TD keeps cells out of a SliceSLATarget's scope (O-RAN.WG2.TS.A1TD clause 7.2.7,
//! table 7.2.7.2.2-1: `cellId` may not be in the ScopeIdentifier), but lets the objectives
//! come with an optional `sliceSlaResources` statement (clause 6.3.4.3) listing the cells
//! (`cellIdList`) or tracking areas (`taIList`) they target. So:
//! - no `sliceSlaResources`: the policy applies to every cell serving its slice, cells that
//!   appear later included ([`CellScope::Every`]);
//! - `cellIdList`: those cells only ([`CellScope::Cells`]); a cell the xApp does not know is
//!   refused at the PUT ([`CellScope::unknown`]);
//! - `taIList`, or an E-UTRA cell (`ecI`): refused, not supported ([`CellScopeError`]).
//!
//! A cell id in the xApp (the reports' `cell_id`, e.g. `001-01-0000000001`) is read as
//! `MCC-MNC-NCI` with the NR cell identity in hex ([`NrCgi::parse`]).

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use maestro_api::a1::SliceSlaPolicy;
pub use maestro_api::cell::NrCgi;
use serde::Deserialize;

/// The cells a policy applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellScope {
    /// Every cell serving the policy's slice (no `sliceSlaResources`).
    Every,
    /// The cells of its `cellIdList`.
    Cells(BTreeSet<NrCgi>),
}

/// A `sliceSlaResources` statement this xApp cannot serve (400 at the PUT).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellScopeError {
    /// Tracking areas.
    #[error("sliceSlaResources.taIList is not supported by this xApp: give the cells (cellIdList), or no sliceSlaResources for every cell serving the slice")]
    TrackingAreas,
    /// An E-UTRA cell.
    #[error("sliceSlaResources.cellIdList: E-UTRA cell (plmnId {mcc}-{mnc}, ecI {eci}) is not supported: this xApp serves NR cells (ncI)")]
    EutraCell {
        /// Its MCC.
        mcc: String,
        /// Its MNC.
        mnc: String,
        /// Its E-UTRA cell identity.
        eci: u64,
    },
}

impl CellScope {
    /// The cells `policy` applies to.
    pub fn of(policy: &SliceSlaPolicy) -> Result<Self, CellScopeError> {
        let Some(resources) = &policy.slice_sla_resources else {
            return Ok(Self::Every);
        };
        if resources.ta_i_list.is_some() {
            return Err(CellScopeError::TrackingAreas);
        }
        let mut cells = BTreeSet::new();
        for cell in resources.cell_id_list.iter().flatten() {
            let (mcc, mnc) = (cell.plmn_id.mcc.clone(), cell.plmn_id.mnc.clone());
            match (cell.c_id.nc_i, cell.c_id.ec_i) {
                (Some(nci), _) => {
                    cells.insert(NrCgi { mcc, mnc, nci });
                }
                (None, eci) => {
                    return Err(CellScopeError::EutraCell {
                        mcc,
                        mnc,
                        eci: eci.unwrap_or_default(),
                    })
                }
            }
        }
        Ok(Self::Cells(cells))
    }

    /// The cells of a stored statement; an unreadable one is everywhere, where the controller
    /// reports it NOT_ENFORCED as before cells had scopes.
    pub fn of_statement(statement: &serde_json::Value) -> Self {
        SliceSlaPolicy::deserialize(statement)
            .ok()
            .and_then(|p| Self::of(&p).ok())
            .unwrap_or(Self::Every)
    }

    /// Whether the policy applies to the cell whose reports carry `cell_id`.
    pub fn includes(&self, cell_id: &str) -> bool {
        match self {
            Self::Every => true,
            Self::Cells(cells) => NrCgi::parse(cell_id).is_some_and(|c| cells.contains(&c)),
        }
    }

    /// Whether two policies' cells meet (two policies for one slice must not).
    pub fn overlaps(&self, other: &CellScope) -> bool {
        match (self, other) {
            (Self::Cells(a), Self::Cells(b)) => a.intersection(b).next().is_some(),
            _ => true,
        }
    }

    /// The listed cells that are none of `known` (cell ids as the reports carry them).
    pub fn unknown<'a>(&self, known: impl IntoIterator<Item = &'a String>) -> Vec<NrCgi> {
        let Self::Cells(cells) = self else {
            return Vec::new();
        };
        let known: BTreeSet<NrCgi> = known.into_iter().filter_map(|c| NrCgi::parse(c)).collect();
        cells.difference(&known).cloned().collect()
    }
}

/// The cells the xApp knows: the backend's configured ones and every cell that has reported
/// (shared by the control loop, which adds, and the A1 server, which checks cell lists).
#[derive(Debug, Clone, Default)]
pub struct KnownCells(Arc<RwLock<BTreeSet<String>>>);

impl KnownCells {
    /// Adds a cell.
    pub fn insert(&self, cell_id: &str) {
        let mut cells = self.0.write().unwrap_or_else(|p| p.into_inner());
        if !cells.contains(cell_id) {
            cells.insert(cell_id.to_owned());
        }
    }

    /// The cells known now.
    pub fn snapshot(&self) -> BTreeSet<String> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(resources: Option<serde_json::Value>) -> SliceSlaPolicy {
        let mut v = json!({
            "scope": {"sliceId": {"sst": 1, "sd": "000001", "plmnId": {"mcc": "001", "mnc": "01"}}},
            "sliceSlaObjectives": {"guaDlThptPerSlice": 1000}
        });
        if let Some(r) = resources {
            v["sliceSlaResources"] = r;
        }
        serde_json::from_value(v).unwrap()
    }

    fn cell(nci: u64) -> serde_json::Value {
        json!({"plmnId": {"mcc": "001", "mnc": "01"}, "cId": {"ncI": nci}})
    }

    #[test]
    fn no_resources_is_every_cell_and_a_list_is_those_cells() {
        let every = CellScope::of(&policy(None)).unwrap();
        assert!(every.includes("001-01-0000000007") && every.includes("anything"));
        let listed =
            CellScope::of(&policy(Some(json!({"cellIdList": [cell(1), cell(18)]})))).unwrap();
        assert!(listed.includes("001-01-0000000001"));
        assert!(listed.includes("001-01-000000012"), "NCI 18 is hex 12");
        assert!(!listed.includes("001-01-0000000002"));
        assert!(!listed.includes("002-01-0000000001"));
        assert!(every.overlaps(&listed) && listed.overlaps(&every));
        let other = CellScope::of(&policy(Some(json!({"cellIdList": [cell(2)]})))).unwrap();
        assert!(!listed.overlaps(&other));
        let known = [
            "001-01-0000000001".to_owned(),
            "001-01-0000000002".to_owned(),
        ];
        let unknown = listed.unknown(&known);
        assert_eq!(unknown.len(), 1);
        assert_eq!(unknown[0].to_string(), "plmnId 001-01, ncI 18");
        assert!(every.unknown(&known).is_empty());
    }

    #[test]
    fn tracking_areas_and_lte_cells_are_refused() {
        let ta = json!({"taIList": [{"plmnId": {"mcc": "001", "mnc": "01"}, "tac": "000001"}]});
        assert_eq!(
            CellScope::of(&policy(Some(ta))),
            Err(CellScopeError::TrackingAreas)
        );
        let lte =
            json!({"cellIdList": [{"plmnId": {"mcc": "001", "mnc": "01"}, "cId": {"ecI": 5}}]});
        let err = CellScope::of(&policy(Some(lte))).unwrap_err();
        assert!(err.to_string().contains("ecI 5"), "{err}");
    }

    #[test]
    fn cell_ids_read_as_plmn_and_hex_nci() {
        let c = NrCgi::parse("001-01-00000000f").unwrap();
        assert_eq!((c.mcc.as_str(), c.mnc.as_str(), c.nci), ("001", "01", 15));
        assert_eq!(NrCgi::parse("gnb-1"), None);
        assert_eq!(NrCgi::parse("001-01-xyz"), None);
        assert_eq!(NrCgi::parse("001-01-1-2"), None);
    }
}
