//! A1-P v2 policy documents (O-RAN A1AP v2 clause 6.2 "A1-P"; A1TD for the policy types).
//!
//! Only plain types live here; the xApp serves them and the rApp sends them. Throughputs in
//! policy statements are in kbps, as A1TD defines them.

use serde::{Deserialize, Serialize};

/// Root of the A1-P v2 resource tree (A1AP v2 clause 6.2.2).
pub const A1P_BASE: &str = "/A1-P/v2";

/// Policy type id of the standard slice SLA target policy (A1TD "SliceSLATarget").
pub const SLICE_SLA_TARGET_TYPE: &str = "ORAN_SliceSLATarget_1.0.0";

/// Path of the policy collection of a type: `/A1-P/v2/policytypes/{type}/policies`.
pub fn policies_path(policy_type: &str) -> String {
    format!("{A1P_BASE}/policytypes/{policy_type}/policies")
}

/// Path of one policy: `/A1-P/v2/policytypes/{type}/policies/{id}`.
pub fn policy_path(policy_type: &str, policy_id: &str) -> String {
    format!("{}/{policy_id}", policies_path(policy_type))
}

/// Path of a policy's status: `/A1-P/v2/policytypes/{type}/policies/{id}/status`.
pub fn policy_status_path(policy_type: &str, policy_id: &str) -> String {
    format!("{}/status", policy_path(policy_type, policy_id))
}

/// PLMN identity (TS 23.003 clause 2.2): mobile country and network codes as digit strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlmnId {
    /// Mobile country code, 3 digits.
    pub mcc: String,
    /// Mobile network code, 2 or 3 digits.
    pub mnc: String,
}

/// S-NSSAI with its PLMN (TS 23.003 clause 28.4.2): the slice a policy is scoped to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SliceId {
    /// Slice/Service Type (1 = eMBB, 2 = URLLC, 3 = MIoT, ...).
    pub sst: u8,
    /// Slice Differentiator, 6 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<String>,
    /// The PLMN the slice belongs to.
    pub plmn_id: PlmnId,
}

/// The slice label: `mcc-mnc/sstN` with `-sdXXXXXX` when there is an SD, the SD in lower
/// case (e.g. `001-01/sst1-sd000001`). The one place this label is written: the xApp's
/// Prometheus `slice` label and the KPI stream's `SliceReport.label` use it, and the rApp
/// finds its slices on `/metrics` by it.
impl std::fmt::Display for SliceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        write!(
            f,
            "{}-{}/sst{}",
            self.plmn_id.mcc, self.plmn_id.mnc, self.sst
        )?;
        if let Some(sd) = &self.sd {
            f.write_str("-sd")?;
            for c in sd.chars() {
                f.write_char(c.to_ascii_lowercase())?;
            }
        }
        Ok(())
    }
}

/// Scope of a slice SLA target policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SliceScope {
    /// The slice the statement applies to.
    pub slice_id: SliceId,
}

/// Throughput objectives of a slice, kbps (A1TD "SliceSlaObjectives").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SliceSlaObjectives {
    /// Guaranteed downlink throughput of the slice, kbps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gua_dl_thpt_per_slice: Option<f64>,
    /// Maximum downlink throughput of the slice, kbps (0 switches the slice off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_dl_thpt_per_slice: Option<f64>,
    /// Guaranteed uplink throughput of the slice, kbps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gua_ul_thpt_per_slice: Option<f64>,
    /// Maximum uplink throughput of the slice, kbps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ul_thpt_per_slice: Option<f64>,
    /// Maximum downlink throughput per UE, kbps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_dl_thpt_per_ue: Option<f64>,
    /// Maximum number of UEs admitted to the slice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_number_of_ues: Option<u32>,
}

/// A policy of type [`SLICE_SLA_TARGET_TYPE`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SliceSlaPolicy {
    /// Which slice.
    pub scope: SliceScope,
    /// What to hold it at.
    pub slice_sla_objectives: SliceSlaObjectives,
    /// Where (optional; A1TD clause 7.2.7: "can optionally be applied together with" the
    /// objectives): the cells the objectives target. Absent: every cell serving the slice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice_sla_resources: Option<SliceSlaResources>,
}

/// The RAN resources a slice SLA objective targets (A1TD clause 6.3.4.3
/// "SliceSlaResources"): a list of cells or a list of tracking areas, exactly one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SliceSlaResources {
    /// The cells (A1TD common `CellIdList`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_id_list: Option<Vec<CellId>>,
    /// The tracking areas (A1TD common `TaIList`), kept as JSON: the schema accepts them,
    /// this xApp does not serve them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ta_i_list: Option<Vec<serde_json::Value>>,
}

/// A cell (A1TD common `CellId`, clause 6.3.2): its PLMN and its cell identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CellId {
    /// The PLMN.
    pub plmn_id: PlmnId,
    /// The cell identity within it.
    pub c_id: CId,
}

/// A cell identity (A1TD common `CId`): NR (`ncI`, 36 bits) or E-UTRA (`ecI`, 28 bits),
/// exactly one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CId {
    /// NR cell identity (TS 38.300), 0..2^36-1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nc_i: Option<u64>,
    /// E-UTRA cell identity (TS 36.300), 0..2^28-1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec_i: Option<u64>,
}

/// Whether the A1 termination enforces a policy (A1AP v2 "EnforcementStatusType").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EnforceStatus {
    /// The policy is in force.
    Enforced,
    /// The policy is not (fully) in force; see the reason.
    NotEnforced,
}

/// Why a policy is not enforced (A1AP v2 "EnforcementReasonType").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EnforceReason {
    /// The scope (e.g. the slice) does not exist here.
    ScopeNotApplicable,
    /// The statement cannot be met (e.g. the cell lacks capacity).
    StatementNotApplicable,
    /// Anything else.
    OtherReason,
}

/// Status of a policy, as returned by `GET .../status` and POSTed to the notification
/// destination (A1AP v2 "PolicyStatusObject" per the type's status schema).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyStatus {
    /// ENFORCED or NOT_ENFORCED.
    pub enforce_status: EnforceStatus,
    /// Present when NOT_ENFORCED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_reason: Option<EnforceReason>,
    /// Ours, not A1AP's (whose status object has only `enforceStatus` and the
    /// `enforceReason` enum; our status schema allows more properties): when the xApp serves
    /// several cells and the policy is NOT_ENFORCED because some of the cells serving its
    /// slice do not enforce it, their cell ids (as in the KPI stream's `cell_id`). Absent
    /// otherwise, and always with one cell.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_enforced_cells: Vec<String>,
}

impl PolicyStatus {
    /// ENFORCED, no reason.
    pub fn enforced() -> Self {
        Self {
            enforce_status: EnforceStatus::Enforced,
            enforce_reason: None,
            not_enforced_cells: Vec::new(),
        }
    }

    /// NOT_ENFORCED with a reason.
    pub fn not_enforced(reason: EnforceReason) -> Self {
        Self {
            enforce_status: EnforceStatus::NotEnforced,
            enforce_reason: Some(reason),
            not_enforced_cells: Vec::new(),
        }
    }

    /// This status naming the cells that do not enforce the policy
    /// ([`PolicyStatus::not_enforced_cells`]).
    pub fn in_cells(self, not_enforced_cells: Vec<String>) -> Self {
        Self {
            not_enforced_cells,
            ..self
        }
    }
}

/// A policy type as served by `GET /A1-P/v2/policytypes/{id}` (A1AP v2 "PolicyTypeObject").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyTypeObject {
    /// JSON Schema (draft-07) of the policy statements of this type.
    pub policy_schema: serde_json::Value,
    /// JSON Schema of the status objects of this type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_schema: Option<serde_json::Value>,
}

/// The OpenAPI 3.0 document of the A1-P v2 service as this xApp implements it, served at
/// [`OPENAPI_PATH`].
pub const A1P_OPENAPI: &str = include_str!("../openapi/a1p-v2.json");

/// Where the xApp serves [`A1P_OPENAPI`].
pub const OPENAPI_PATH: &str = "/A1-P/v2/openapi.json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_document_parses_and_lists_every_a1_path() {
        let doc: serde_json::Value = serde_json::from_str(A1P_OPENAPI).unwrap();
        assert_eq!(doc["openapi"], "3.0.3");
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/policytypes",
            "/policytypes/{policyTypeId}",
            "/policytypes/{policyTypeId}/policies",
            "/policytypes/{policyTypeId}/policies/{policyId}",
            "/policytypes/{policyTypeId}/policies/{policyId}/status",
        ] {
            assert!(paths.contains_key(p), "{p}");
        }
        let put = &paths["/policytypes/{policyTypeId}/policies/{policyId}"]["put"];
        for code in [
            "200", "201", "400", "404", "409", "413", "415", "429", "503", "507",
        ] {
            assert!(put["responses"].get(code).is_some(), "PUT {code}");
        }
    }

    #[test]
    fn slice_policy_uses_a1td_member_names() {
        let policy = SliceSlaPolicy {
            scope: SliceScope {
                slice_id: SliceId {
                    sst: 1,
                    sd: Some("000001".into()),
                    plmn_id: PlmnId {
                        mcc: "001".into(),
                        mnc: "01".into(),
                    },
                },
            },
            slice_sla_objectives: SliceSlaObjectives {
                gua_dl_thpt_per_slice: Some(40_000.0),
                ..Default::default()
            },
            slice_sla_resources: None,
        };
        let v = serde_json::to_value(&policy).unwrap();
        assert_eq!(v["scope"]["sliceId"]["plmnId"]["mcc"], "001");
        assert_eq!(v["sliceSlaObjectives"]["guaDlThptPerSlice"], 40_000.0);
        assert!(v["sliceSlaObjectives"].get("maxDlThptPerSlice").is_none());
        assert_eq!(policy.scope.slice_id.to_string(), "001-01/sst1-sd000001");
    }

    fn slice(mcc: &str, mnc: &str, sst: u8, sd: Option<&str>) -> SliceId {
        SliceId {
            sst,
            sd: sd.map(str::to_owned),
            plmn_id: PlmnId {
                mcc: mcc.into(),
                mnc: mnc.into(),
            },
        }
    }

    /// The label as documented (`api/proto/kpi.proto`, `SliceReport.label`:
    /// "mcc-mnc/sstN-sdXXXXXX", as in the Prometheus labels), written out by hand.
    #[test]
    fn slice_label_follows_the_documented_format() {
        let label = |s: SliceId| s.to_string();
        assert_eq!(
            label(slice("001", "01", 1, Some("000001"))),
            "001-01/sst1-sd000001"
        );
        assert_eq!(
            label(slice("310", "410", 2, Some("0000ff"))),
            "310-410/sst2-sd0000ff"
        );
        // No SD: no `-sd` part.
        assert_eq!(label(slice("001", "01", 3, None)), "001-01/sst3");
        // The schema takes either case; the label is lower case, as the xApp writes it.
        assert_eq!(
            label(slice("001", "01", 1, Some("00AbCd"))),
            "001-01/sst1-sd00abcd"
        );
    }

    #[test]
    fn status_serializes_screaming_case() {
        let s = PolicyStatus::not_enforced(EnforceReason::StatementNotApplicable);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["enforceStatus"], "NOT_ENFORCED");
        assert_eq!(v["enforceReason"], "STATEMENT_NOT_APPLICABLE");
    }

    #[test]
    fn paths_follow_a1p_v2() {
        assert_eq!(
            policy_status_path(SLICE_SLA_TARGET_TYPE, "p1"),
            "/A1-P/v2/policytypes/ORAN_SliceSLATarget_1.0.0/policies/p1/status"
        );
    }
}
