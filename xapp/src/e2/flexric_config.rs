//! Configuration of the FlexRIC E2 backend (`"backend": "flexric"` in the xApp config).
//!
//! Not feature-gated: the config parses (and validates) in every build, so a binary built
//! without `--features flexric` can say clearly that it lacks the backend instead of failing
//! on an unknown config variant.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use maestro_api::cell::NrCgi;
use maestro_api::shard::Shard;
use maestro_e2sm::rc::{LeafEncoding, RanParamDialect, RrmPolicyMember};
use serde::{Deserialize, Serialize};

use crate::nr::CellConfig;

/// FlexRIC's E42 port (the near-RT RIC's xApp-facing SCTP endpoint; E2 nodes use 36421).
pub const E42_PORT: u16 = 36422;

/// Report periods the backend offers (the periods of FlexRIC's `inter_xapp_e`). FlexRIC's MAC
/// SM itself only triggers every 1, 2, 5 or 10 ms: 100 and 1000 ms reports aggregate 10 ms
/// indications.
pub const MAC_PERIODS_MS: [u64; 6] = [1, 2, 5, 10, 100, 1000];

/// How the slice PRB quota reaches the E2 node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlexricControl {
    /// FlexRIC's SLICE SM (145) when the node offers it, else E2SM-RC (RAN function 3):
    /// upstream OAI offers both and aborts on an RC style 2 control.
    #[default]
    Auto,
    /// Always E2SM-RC control style 2, action 6 (O-RAN E2SM-RC clause 7.6.3.1).
    Rc,
    /// Always FlexRIC's SLICE SM (RAN function 145) slice configuration.
    Slice,
}

/// Whether the backend subscribes to E2SM-KPM (RAN function 2) beside the MAC stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlexricKpm {
    /// Subscribe when the node offers KPM and a REPORT style 4 subscription is safe for it:
    /// FlexRIC built with E2SM-KPM v2.03 or v3.00, style 4 advertised (when FlexRIC decodes
    /// the RAN function definition), S-NSSAI EQUAL as FlexRIC's example of that generation
    /// sends it (`maestro_ffi::kpm_plan`); otherwise log why and go on with MAC stats only.
    #[default]
    Auto,
    /// Never subscribe to KPM (MAC stats only).
    Off,
}

/// A slice as the FlexRIC backend reports it: PLMN + S-NSSAI and the UEs (RNTIs) in it.
///
/// FlexRIC's MAC stats carry no slice: UEs are assigned by RNTI from this list. A UE whose
/// RNTI no slice lists goes to the `default` slice when one is marked, else to slice
/// `rnti % slices.len()` (so an emulated agent's random RNTIs still spread over the slices).
/// A real gNB gives a UE a new RNTI at every attach, unknown beforehand: with the modulo the
/// same UE landed in one slice, then the other, against an OAI gNB (docs/TESTBED.md, F7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlexricSlice {
    /// PLMN + S-NSSAI.
    pub member: RrmPolicyMember,
    /// RNTIs of its UEs (may be empty).
    #[serde(default)]
    pub rntis: Vec<u16>,
    /// The slice of every UE whose RNTI no slice lists (at most one slice).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
}

/// Configuration of the FlexRIC backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlexricConfig {
    /// The near-RT RIC's E42 address (IPv4; FlexRIC's xApp library takes a dotted quad and
    /// the port), e.g. `127.0.0.1:36422`.
    #[serde(default = "default_ric_addr")]
    pub ric_addr: SocketAddr,
    /// Directory of FlexRIC's service-model plugins (`libmac_sm.so`, `libkpm_sm.so`, ...),
    /// e.g. `/usr/local/lib/flexric/`.
    #[serde(default = "default_sm_dir")]
    pub sm_dir: PathBuf,
    /// Directory where FlexRIC's xApp library writes its SQLite database.
    #[serde(default = "default_db_dir")]
    pub db_dir: PathBuf,
    /// Report period, ms (MAC stats and KPM); one of [`MAC_PERIODS_MS`].
    #[serde(default = "default_period_ms")]
    pub report_period_ms: u64,
    /// RAN parameter IDs of the E2SM-RC control (`oran`: the O-RAN table, default; `oai`:
    /// OAI/FlexRIC's 1..12 numbering).
    #[serde(default)]
    pub rc_dialect: RanParamDialect,
    /// Form of the PLMN/SST/SD leaves in the E2SM-RC control: `binary` (TS 38.413 octets,
    /// what srsRAN and the O-RAN table expect) or `ascii` (decimal text, what OAI's
    /// `add_mod_rc_slice` parses). Absent: the dialect's default (binary for `oran`, ASCII
    /// for `oai`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rc_leaf_encoding: Option<LeafEncoding>,
    /// How the PRB quota is sent.
    #[serde(default)]
    pub control: FlexricControl,
    /// KPM subscription: `auto` (default) or `off`.
    #[serde(default)]
    pub kpm: FlexricKpm,
    /// Only serve the E2 node whose id (as [`super::E2NodeInfo::node_id`]) is this, its cell
    /// named `cell_id`. Absent: every node offering MAC stats, those that connect later
    /// included, each cell named by `node_cells` or after its node ([`Self::cell_id_of`]).
    #[serde(default)]
    pub node_id: Option<String>,
    /// NR cell id of the reports of the node `node_id` (unused without `node_id`).
    #[serde(default = "default_cell_id")]
    pub cell_id: String,
    /// The cell id of each node's reports, by node id (e.g. `{"gnb-001-01-3584":
    /// "001-01-0000e0001"}`); a node not listed gets [`Self::cell_id_of`]'s derived id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_cells: BTreeMap<String, String>,
    /// The shard of the RAN served: a node whose cell ([`Self::cell_id_of`]) the shard does
    /// not own is left to another replica. Set from the xApp's shard (`--shard`); whole RAN
    /// by default.
    #[serde(default, skip_serializing_if = "Shard::is_whole")]
    pub shard: Shard,
    /// The carrier (FlexRIC reports no bandwidth; it sizes quotas and throughput).
    #[serde(default = "CellConfig::oai_40mhz")]
    pub cell: CellConfig,
    /// Slices and their UEs.
    #[serde(default = "default_slices")]
    pub slices: Vec<FlexricSlice>,
}

fn default_ric_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], E42_PORT))
}

fn default_sm_dir() -> PathBuf {
    PathBuf::from("/usr/local/lib/flexric/")
}

fn default_db_dir() -> PathBuf {
    PathBuf::from("/tmp/")
}

fn default_period_ms() -> u64 {
    100
}

fn default_cell_id() -> String {
    "001-01-0000000001".into()
}

fn default_slices() -> Vec<FlexricSlice> {
    [1, 2]
        .into_iter()
        .map(|sd| FlexricSlice {
            member: RrmPolicyMember {
                mcc: "001".into(),
                mnc: "01".into(),
                sst: 1,
                sd: Some(sd),
            },
            rntis: Vec::new(),
            default: false,
        })
        .collect()
}

impl Default for FlexricConfig {
    /// Loopback near-RT RIC on 127.0.0.1:36422, plugins in `/usr/local/lib/flexric/`, 100 ms
    /// reports, O-RAN RC dialect, 40 MHz / 106 PRB cell, slices sst 1 sd 000001 and 000002.
    fn default() -> Self {
        Self {
            ric_addr: default_ric_addr(),
            sm_dir: default_sm_dir(),
            db_dir: default_db_dir(),
            report_period_ms: default_period_ms(),
            rc_dialect: RanParamDialect::default(),
            rc_leaf_encoding: None,
            control: FlexricControl::default(),
            kpm: FlexricKpm::default(),
            node_id: None,
            cell_id: default_cell_id(),
            node_cells: BTreeMap::new(),
            shard: Shard::WHOLE,
            cell: CellConfig::oai_40mhz(),
            slices: default_slices(),
        }
    }
}

/// What names an E2 node's cell: its id and the parts of its global E2 node id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeIdentity<'a> {
    /// The node id as text (`gnb-001-01-1`).
    pub id: &'a str,
    /// MCC.
    pub mcc: &'a str,
    /// MNC.
    pub mnc: &'a str,
    /// gNB (eNB) id.
    pub nb_id: u64,
    /// gNB-CU/DU id of a split node.
    pub cu_du_id: Option<u64>,
}

/// Why a [`FlexricConfig`] is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlexricConfigError {
    /// FlexRIC's xApp library speaks IPv4 only.
    #[error("flexric: ric_addr {0} is not IPv4 (FlexRIC's xApp library takes a dotted quad)")]
    NotIpv4(SocketAddr),
    /// FlexRIC's xApp library always connects to port 36422.
    #[error(
        "flexric: ric_addr port {0} unsupported: FlexRIC's xApp library always uses E42 port 36422"
    )]
    Port(u16),
    /// The MAC SM has a fixed set of periods.
    #[error("flexric: report_period_ms {0} is not one of 1, 2, 5, 10, 100, 1000")]
    Period(u64),
    /// No slice configured.
    #[error("flexric: at least one slice is needed")]
    NoSlices,
    /// A path FlexRIC gets as a C string must be valid UTF-8 without NUL and end in `/`.
    #[error("flexric: {field} {path:?} must be UTF-8 without NUL bytes and end with '/'")]
    Dir {
        /// Which field.
        field: &'static str,
        /// Its value.
        path: PathBuf,
    },
    /// The carrier is invalid.
    #[error("flexric: cell: {0}")]
    Cell(String),
    /// More than one slice marked `default`.
    #[error(
        "flexric: {0} slices are marked \"default\"; at most one takes the UEs no slice lists"
    )]
    Defaults(usize),
    /// A cell id that is not `MCC-MNC-NCI` (NCI in hex).
    #[error("flexric: {0:?} is not a cell id MCC-MNC-NCI (NCI in hex), e.g. 001-01-0000000001")]
    CellId(String),
}

impl FlexricConfig {
    /// Whether the backend serves the node `node_id` (every node, or the one configured).
    pub fn serves(&self, node_id: &str) -> bool {
        self.node_id.as_deref().is_none_or(|want| want == node_id)
    }

    /// The cell id of a node's reports: `node_cells[id]`, else `cell_id` for the configured
    /// `node_id`, else derived from the node: its PLMN and an NR cell identity (TS 38.300
    /// clause 8.2, 36 bits) of the gNB id in the high bits and the CU/DU id's low 4 bits as
    /// the cell (0 for a monolithic gNB): `001-01-0000000010` for `gnb-001-01-1`. FlexRIC
    /// reports no cell identity, so this is a name, stable across restarts; map the node to
    /// its real NCI with `node_cells` when the gNB's cells are known.
    pub fn cell_id_of(&self, node: &NodeIdentity<'_>) -> String {
        if let Some(cell) = self.node_cells.get(node.id) {
            return cell.clone();
        }
        if self.node_id.as_deref() == Some(node.id) {
            return self.cell_id.clone();
        }
        NrCgi {
            mcc: node.mcc.to_owned(),
            mnc: node.mnc.to_owned(),
            nci: ((node.nb_id << 4) | (node.cu_du_id.unwrap_or(0) & 0xf)) & ((1 << 36) - 1),
        }
        .report_id()
    }

    /// Checks the address, period, directories, slices and carrier.
    pub fn validate(&self) -> Result<(), FlexricConfigError> {
        if !self.ric_addr.is_ipv4() {
            return Err(FlexricConfigError::NotIpv4(self.ric_addr));
        }
        if self.ric_addr.port() != E42_PORT {
            return Err(FlexricConfigError::Port(self.ric_addr.port()));
        }
        if !MAC_PERIODS_MS.contains(&self.report_period_ms) {
            return Err(FlexricConfigError::Period(self.report_period_ms));
        }
        for (field, path) in [("sm_dir", &self.sm_dir), ("db_dir", &self.db_dir)] {
            let ok = path
                .to_str()
                .is_some_and(|s| s.ends_with('/') && !s.contains('\0'));
            if !ok {
                return Err(FlexricConfigError::Dir {
                    field,
                    path: path.clone(),
                });
            }
        }
        if self.slices.is_empty() {
            return Err(FlexricConfigError::NoSlices);
        }
        let defaults = self.slices.iter().filter(|s| s.default).count();
        if defaults > 1 {
            return Err(FlexricConfigError::Defaults(defaults));
        }
        let cells = std::iter::once(&self.cell_id).chain(self.node_cells.values());
        if let Some(bad) = cells.into_iter().find(|c| NrCgi::parse(c).is_none()) {
            return Err(FlexricConfigError::CellId(bad.clone()));
        }
        self.cell
            .validate()
            .map_err(|e| FlexricConfigError::Cell(e.to_string()))
    }

    /// The slice index a UE belongs to: the slice listing its RNTI, else the `default`
    /// slice, else `rnti % slices`.
    pub fn slice_of(&self, rnti: u16) -> usize {
        self.slices
            .iter()
            .position(|s| s.rntis.contains(&rnti))
            .or_else(|| self.slices.iter().position(|s| s.default))
            .unwrap_or(usize::from(rnti) % self.slices.len().max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_is_served_and_named_unless_one_is_configured() {
        let gnb = |id, nb_id, cu_du_id| NodeIdentity {
            id,
            mcc: "001",
            mnc: "01",
            nb_id,
            cu_du_id,
        };
        let mut c = FlexricConfig::default();
        assert!(c.serves("gnb-001-01-1") && c.serves("gnb-001-01-2"));
        assert_eq!(
            c.cell_id_of(&gnb("gnb-001-01-1", 1, None)),
            "001-01-0000000010"
        );
        assert_eq!(
            c.cell_id_of(&gnb("gnb-du-001-01-3584-2", 3584, Some(2))),
            "001-01-000000e002"
        );
        // Derived ids of different nodes differ, and read back as the same NCI.
        assert_ne!(
            c.cell_id_of(&gnb("gnb-001-01-1", 1, None)),
            c.cell_id_of(&gnb("gnb-001-01-2", 2, None))
        );
        assert_eq!(
            NrCgi::parse(&c.cell_id_of(&gnb("gnb-001-01-1", 1, None))).map(|n| n.nci),
            Some(0x10)
        );
        c.node_cells
            .insert("gnb-001-01-2".into(), "001-01-0000000abc".into());
        assert_eq!(
            c.cell_id_of(&gnb("gnb-001-01-2", 2, None)),
            "001-01-0000000abc"
        );
        c.validate().unwrap();
        c.node_cells
            .insert("gnb-001-01-3".into(), "cell three".into());
        assert!(matches!(c.validate(), Err(FlexricConfigError::CellId(_))));
        // A shard travels to the bridge child in the config, absent when whole.
        assert!(serde_json::to_value(&c).unwrap().get("shard").is_none());
        let sharded = FlexricConfig {
            shard: Shard::new(1, 3).unwrap(),
            ..c.clone()
        };
        let back: FlexricConfig =
            serde_json::from_value(serde_json::to_value(&sharded).unwrap()).unwrap();
        assert_eq!(back.shard, Shard::new(1, 3).unwrap());
        // One configured node: only it, named by `cell_id` (the single-node set-up).
        let one = FlexricConfig {
            node_id: Some("gnb-001-01-1".into()),
            ..FlexricConfig::default()
        };
        assert!(one.serves("gnb-001-01-1") && !one.serves("gnb-001-01-2"));
        assert_eq!(
            one.cell_id_of(&gnb("gnb-001-01-1", 1, None)),
            "001-01-0000000001"
        );
    }

    #[test]
    fn empty_object_takes_loopback_defaults() {
        let c: FlexricConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, FlexricConfig::default());
        assert_eq!(c.ric_addr.port(), 36422);
        assert_eq!(c.control, FlexricControl::Auto);
        assert_eq!(c.kpm, FlexricKpm::Auto);
        assert_eq!(c.rc_dialect, RanParamDialect::Oran);
        c.validate().unwrap();
    }

    #[test]
    fn parses_dialect_control_and_rntis() {
        let c: FlexricConfig = serde_json::from_str(
            r#"{"ric_addr":"10.0.0.5:36422","rc_dialect":"oai","control":"slice",
                "report_period_ms":1000,
                "slices":[{"member":{"mcc":"001","mnc":"01","sst":1,"sd":null},"rntis":[7,9]},
                          {"member":{"mcc":"001","mnc":"01","sst":2,"sd":5}}]}"#,
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.rc_dialect, RanParamDialect::Oai);
        assert_eq!(c.control, FlexricControl::Slice);
        assert_eq!(c.slice_of(9), 0);
        assert_eq!(c.slice_of(7), 0);
        // unlisted: rnti % 2
        assert_eq!(c.slice_of(11), 1);
        assert_eq!(c.slice_of(12), 0);
    }

    #[test]
    fn leaf_encoding_is_optional_and_checked() {
        let c: FlexricConfig =
            serde_json::from_str(r#"{"rc_dialect":"oai","rc_leaf_encoding":"binary"}"#).unwrap();
        assert_eq!(c.rc_leaf_encoding, Some(LeafEncoding::Binary));
        let c: FlexricConfig = serde_json::from_str(r#"{"rc_dialect":"oai"}"#).unwrap();
        assert_eq!(c.rc_leaf_encoding, None);
        let err = serde_json::from_str::<FlexricConfig>(r#"{"rc_leaf_encoding":"hex"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("hex"), "{err}");
    }

    #[test]
    fn kpm_switch_parses_and_rejects_unknown_values() {
        let c: FlexricConfig = serde_json::from_str(r#"{"kpm":"off"}"#).unwrap();
        assert_eq!(c.kpm, FlexricKpm::Off);
        let c: FlexricConfig = serde_json::from_str(r#"{"kpm":"auto"}"#).unwrap();
        assert_eq!(c.kpm, FlexricKpm::Auto);
        assert!(serde_json::from_str::<FlexricConfig>(r#"{"kpm":"on"}"#).is_err());
        assert!(serde_json::from_str::<FlexricConfig>(r#"{"kpm":false}"#).is_err());
    }

    #[test]
    fn rejects_bad_period_ipv6_and_dirs() {
        let mut c = FlexricConfig {
            report_period_ms: 50,
            ..FlexricConfig::default()
        };
        assert_eq!(c.validate(), Err(FlexricConfigError::Period(50)));
        c.report_period_ms = 10;
        c.ric_addr = "[::1]:36422".parse().unwrap();
        assert!(matches!(c.validate(), Err(FlexricConfigError::NotIpv4(_))));
        c.ric_addr = "127.0.0.1:36421".parse().unwrap();
        assert_eq!(c.validate(), Err(FlexricConfigError::Port(36421)));
        c.ric_addr = default_ric_addr();
        c.sm_dir = PathBuf::from("/usr/local/lib/flexric");
        assert!(matches!(
            c.validate(),
            Err(FlexricConfigError::Dir {
                field: "sm_dir",
                ..
            })
        ));
        c.sm_dir = default_sm_dir();
        c.slices.clear();
        assert_eq!(c.validate(), Err(FlexricConfigError::NoSlices));
    }

    #[test]
    fn unlisted_ues_go_to_the_default_slice_whatever_their_rnti() {
        let mut c: FlexricConfig = serde_json::from_str(
            r#"{"ric_addr":"127.0.0.1:36422","report_period_ms":100,
                "slices":[{"member":{"mcc":"208","mnc":"99","sst":1,"sd":1},"rntis":[7]},
                          {"member":{"mcc":"208","mnc":"99","sst":1,"sd":2},"default":true}]}"#,
        )
        .unwrap();
        c.validate().unwrap();
        // The two RNTIs one OAI UE had in two attaches (0x7e2a even, 0x469f odd): by the
        // modulo they fell in different slices; with a default, both in slice SD 2.
        assert_eq!(c.slice_of(0x7e2a), 1);
        assert_eq!(c.slice_of(0x469f), 1);
        assert_eq!(c.slice_of(7), 0, "a listed RNTI keeps its slice");
        c.slices[1].default = false;
        assert_eq!(c.slice_of(0x7e2a), 0, "no default: the modulo, as before");
        assert_eq!(c.slice_of(0x469f), 1);
        c.slices[0].default = true;
        c.slices[1].default = true;
        let e = c.validate().unwrap_err();
        assert!(e.to_string().contains("at most one"), "{e}");
    }
}
