//! Cell ids as the two apps write them: a KPI report's `cell_id` (`MCC-MNC-NCI`, the NR cell
//! identity in hex, e.g. `001-01-0000000001`) and the A1 `CellId` a policy's
//! `sliceSlaResources.cellIdList` names it by (A1TD common `CellId`, clause 6.3.2).

use crate::a1::{CId, CellId, PlmnId, SliceSlaResources};

/// An NR cell global identity: PLMN and 36-bit NR cell identity (TS 38.300 clause 8.2).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NrCgi {
    /// Mobile country code.
    pub mcc: String,
    /// Mobile network code.
    pub mnc: String,
    /// NR cell identity.
    pub nci: u64,
}

impl NrCgi {
    /// Reads a cell id as the xApp writes it: `MCC-MNC-NCI`, the NCI in hex digits.
    pub fn parse(cell_id: &str) -> Option<Self> {
        let mut parts = cell_id.split('-');
        let (mcc, mnc, nci) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || nci.is_empty() {
            return None;
        }
        Some(Self {
            mcc: mcc.to_owned(),
            mnc: mnc.to_owned(),
            nci: u64::from_str_radix(nci, 16).ok()?,
        })
    }

    /// The cell id as KPI reports write it (the inverse of [`Self::parse`]): `MCC-MNC-NCI`,
    /// the NCI in ten hex digits, e.g. `001-01-0000000010`.
    pub fn report_id(&self) -> String {
        format!("{}-{}-{:010x}", self.mcc, self.mnc, self.nci)
    }

    /// The cell as an A1 `CellId` (NR: `cId.ncI`).
    pub fn to_a1(&self) -> CellId {
        CellId {
            plmn_id: PlmnId {
                mcc: self.mcc.clone(),
                mnc: self.mnc.clone(),
            },
            c_id: CId {
                nc_i: Some(self.nci),
                ec_i: None,
            },
        }
    }

    /// A `sliceSlaResources` statement naming this cell alone (A1TD clause 6.3.4.3).
    pub fn only_this_cell(&self) -> SliceSlaResources {
        SliceSlaResources {
            cell_id_list: Some(vec![self.to_a1()]),
            ta_i_list: None,
        }
    }
}

impl std::fmt::Display for NrCgi {
    /// As in the A1 statement: `plmnId 001-01, ncI 2`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "plmnId {}-{}, ncI {}", self.mcc, self.mnc, self.nci)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_ids_read_as_plmn_and_hex_nci_and_become_a1_cells() {
        let cell = NrCgi::parse("001-01-00000001a").expect("a cell id");
        assert_eq!(
            (cell.mcc.as_str(), cell.mnc.as_str(), cell.nci),
            ("001", "01", 26)
        );
        let json = serde_json::to_value(cell.only_this_cell()).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"cellIdList": [{"plmnId": {"mcc": "001", "mnc": "01"}, "cId": {"ncI": 26}}]})
        );
        assert_eq!(cell.report_id(), "001-01-000000001a");
        assert_eq!(NrCgi::parse(&cell.report_id()), Some(cell.clone()));
        for bad in ["", "001-01", "001-01-", "001-01-xyz", "001-01-1-2"] {
            assert_eq!(NrCgi::parse(bad), None, "{bad:?}");
        }
    }
}
