//! A negotiation scenario: the business operators sharing the cell (each with its slice,
//! business intent, target and personality) and the negotiation's knobs.

use maestro_api::a1::{PlmnId, SliceId};
use maestro_api::cell::NrCgi;
use serde::{Deserialize, Serialize};

use crate::a1::A1PeerConfig;
use crate::negotiation::regulatory::Rule;
use crate::negotiation::utility::Utility;
use crate::negotiation::{AgentSpec, Personality, PressureMode};

/// One business operator and its slice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operator {
    /// Agent id, also the A1 policy id suffix (`maestro-{id}`).
    pub id: String,
    /// The operator's business intent, in its own words.
    pub business_intent: String,
    /// Throughput the operator would like per slice, Mbps.
    pub target_mbps: f64,
    /// Weight of its own utility (U_i) in the optimizer: the curvature of the quadratic
    /// `weight/2 (x - target_mbps)^2` (unused when `utility` is given).
    pub weight: f64,
    /// Negotiation behaviour of its agent.
    pub personality: Personality,
    /// The slice it operates.
    pub slice: SliceId,
    /// Its own utility when not the quadratic one, e.g.
    /// `{"kind": "logarithmic", "a": 1.0, "target": 80.0}` (see [`Utility`]); its target (a
    /// linear cost's floor) must equal `target_mbps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utility: Option<Utility>,
}

impl Operator {
    /// The negotiating agent that plays this operator.
    pub fn agent(&self) -> AgentSpec {
        AgentSpec {
            id: self.id.clone(),
            business_intent: self.business_intent.clone(),
            target_mbps: self.target_mbps,
            weight: self.weight,
            personality: self.personality,
            weight_above: None,
            utility: self.utility,
        }
    }
}

/// Which cells to negotiate for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CellSelection {
    /// Every cell the xApps' KPI streams report (`"every"`).
    Every(EveryCell),
    /// These cells (KPI report ids, e.g. `001-01-0000000001`).
    Listed(Vec<String>),
}

/// The word `"every"` in a scenario's `cells`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EveryCell {
    /// Every reported cell.
    Every,
}

impl CellSelection {
    /// Every reported cell.
    pub const EVERY: CellSelection = CellSelection::Every(EveryCell::Every);

    /// Checks a list: at least one cell, each an id as KPI reports write them.
    pub fn check(&self) -> Result<(), String> {
        let Self::Listed(cells) = self else {
            return Ok(());
        };
        if cells.is_empty() {
            return Err("cells: list at least one cell, or say \"every\"".into());
        }
        match cells.iter().find(|c| NrCgi::parse(c).is_none()) {
            Some(c) => Err(format!(
                "cells: {c:?} is not a cell id MCC-MNC-NCI (NCI in hex), e.g. 001-01-0000000001"
            )),
            None => Ok(()),
        }
    }
}

impl std::str::FromStr for CellSelection {
    type Err = std::convert::Infallible;

    /// `every`, or cell ids separated by commas.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(if s.trim() == "every" {
            Self::EVERY
        } else {
            Self::Listed(
                s.split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        })
    }
}

/// The whole scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Negotiation topic.
    pub topic: String,
    /// The operators.
    pub operators: Vec<Operator>,
    /// Consensus when the spread of demands falls below this, Mbps.
    pub epsilon_mbps: f64,
    /// Round cap.
    pub max_rounds: u32,
    /// Share of the cell's current capacity the slices may claim together (0..1]: the
    /// observability unit's bound keeps headroom for CQI dips.
    pub capacity_headroom: f64,
    /// Lowest throughput anyone may ask for, Mbps.
    pub min_mbps: f64,
    /// Seed of the built-in persona negotiator.
    pub seed: u64,
    /// How the optimizer's value is put to the agents (none / soft / hard).
    #[serde(default)]
    pub pressure: PressureMode,
    /// Regulatory rules for the topic, each citing its source.
    #[serde(default)]
    pub regulations: Vec<Rule>,
    /// Where the consensus goes as A1 policies (adapter, url, ric_id, service_id); flags
    /// and `MAESTRO_A1_*` variables override it, see [`crate::a1::A1PeerConfig`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a1: Option<A1PeerConfig>,
    /// Many cells: one negotiation per cell (`"every"` cell the KPI streams report, or a list
    /// of cell ids), each cell's policies scoped to it; see [`crate::cells`]. Absent: the RAN
    /// as one cell, one negotiation whose policies every cell serving a slice holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells: Option<CellSelection>,
}

fn slice(sd: &str) -> SliceId {
    SliceId {
        sst: 1,
        sd: Some(sd.to_owned()),
        plmn_id: PlmnId {
            mcc: "001".into(),
            mnc: "01".into(),
        },
    }
}

impl Default for Scenario {
    /// The paper's two operators on the embedded cell: a cost-driven one (20 Mbps is enough)
    /// and a QoS-driven one (premium video, up to 100 Mbps).
    fn default() -> Self {
        Self {
            topic: "throughput intent (Mbps per slice)".into(),
            operators: vec![
                Operator {
                    id: "bo-cost".into(),
                    business_intent: "Keep costs low: 20 Mbps per slice is enough for our users."
                        .into(),
                    target_mbps: 20.0,
                    weight: 1.0,
                    personality: Personality::Normal,
                    slice: slice("000001"),
                    utility: None,
                },
                Operator {
                    id: "bo-qos".into(),
                    business_intent: "Premium video for our users: up to 100 Mbps per slice."
                        .into(),
                    target_mbps: 100.0,
                    weight: 1.0,
                    personality: Personality::Normal,
                    slice: slice("000002"),
                    utility: None,
                },
            ],
            epsilon_mbps: 1.0,
            max_rounds: 20,
            capacity_headroom: 0.85,
            min_mbps: 1.0,
            seed: 42,
            pressure: PressureMode::Hard,
            regulations: vec![Rule {
                topic: "throughput".into(),
                min_mbps: Some(1.0),
                max_mbps: Some(120.0),
                source: "Shared-cell fair-use note (example), clause 2: 1..120 Mbps per slice"
                    .into(),
            }],
            a1: None,
            cells: None,
        }
    }
}

/// Why a scenario is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read or parsed.
    #[error("scenario {path}: {reason}")]
    Load {
        /// File path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A value is out of range.
    #[error("scenario: {0}")]
    Invalid(String),
}

impl Scenario {
    /// Reads a JSON scenario file and validates it.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ScenarioError> {
        let load = |reason: String| ScenarioError::Load {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| load(e.to_string()))?;
        let s: Scenario = serde_json::from_str(&text).map_err(|e| load(e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    /// Checks ranges and uniqueness.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let bad = |m: String| Err(ScenarioError::Invalid(m));
        if self.operators.is_empty() {
            return bad("at least one operator is needed".into());
        }
        if !(self.capacity_headroom > 0.0 && self.capacity_headroom <= 1.0) {
            return bad(format!(
                "capacity_headroom must be in (0, 1], got {}",
                self.capacity_headroom
            ));
        }
        if self.epsilon_mbps.is_nan()
            || self.epsilon_mbps <= 0.0
            || self.min_mbps.is_nan()
            || self.min_mbps < 0.0
        {
            return bad("epsilon_mbps must be > 0 and min_mbps >= 0".into());
        }
        for (i, a) in self.operators.iter().enumerate() {
            if self.operators[..i].iter().any(|b| b.id == a.id) {
                return bad(format!("operator id '{}' appears twice", a.id));
            }
            if self.operators[..i].iter().any(|b| b.slice == a.slice) {
                return bad(format!("slice {} is given to two operators", a.slice));
            }
            if !(a.target_mbps.is_finite() && a.target_mbps >= 0.0) {
                return bad(format!("operator '{}': target_mbps must be >= 0", a.id));
            }
            let utility = match a.utility {
                Some(u) => u.check_stated(a.target_mbps),
                None if a.weight.is_finite() && a.weight > 0.0 => Ok(()),
                None => Err(format!("weight must be a number > 0, got {}", a.weight)),
            };
            if let Err(e) = utility {
                return bad(format!("operator '{}': {e}", a.id));
            }
            if !a
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            {
                return bad(format!(
                    "operator id '{}' must be letters, digits, '-' or '_' (it names an A1 policy)",
                    a.id
                ));
            }
        }
        if let Some(Err(e)) = self.cells.as_ref().map(CellSelection::check) {
            return bad(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_matches_the_shipped_example() {
        let s = Scenario::default();
        s.validate().unwrap();
        let path = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../config/scenario.json"
        ));
        assert_eq!(Scenario::from_file(path).unwrap(), s);
    }

    #[test]
    fn an_a1_block_selects_the_peer() {
        let mut v = serde_json::to_value(Scenario::default()).unwrap();
        assert!(v.get("a1").is_none(), "no a1 block unless set");
        v["a1"] = serde_json::json!({"adapter": "nonrtric_pms", "ric_id": "ric1"});
        let s: Scenario = serde_json::from_value(v).unwrap();
        let a1 = s.a1.unwrap();
        assert_eq!(a1.adapter, crate::a1::A1AdapterKind::NonrtricPms);
        assert_eq!(a1.ric_id.as_deref(), Some("ric1"));
        assert_eq!(a1.url, None);
    }

    #[test]
    fn rejects_duplicates_and_bad_ranges() {
        let mut s = Scenario::default();
        s.operators[1].slice = s.operators[0].slice.clone();
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("two operators"));
        let s = Scenario {
            capacity_headroom: 1.5,
            ..Default::default()
        };
        assert!(s.validate().is_err());
        let mut s = Scenario::default();
        s.operators[0].id = "bad id/1".into();
        assert!(s.validate().is_err());
    }

    fn mixed_path() -> std::path::PathBuf {
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../config/scenarios/mixed-utilities.json"
        ))
        .to_path_buf()
    }

    /// The shipped mix (quadratic, asymmetric, logarithmic, linear cost) loads, and agents
    /// that obey the optimizer's directives agree on the theory's optimum of the mix.
    #[tokio::test]
    async fn the_mixed_utilities_scenario_loads_and_reaches_the_optimum_of_the_mix() {
        use crate::negotiation::theory::optimal_consensus;
        use crate::negotiation::{negotiate, Bounds, NegotiationConfig, PersonaNegotiator};
        let s = Scenario::from_file(&mixed_path()).unwrap();
        let kinds: Vec<&str> = s
            .operators
            .iter()
            .map(|o| o.utility.map_or("quadratic", |u| u.kind()))
            .collect();
        assert_eq!(
            kinds,
            ["quadratic", "asymmetric", "logarithmic", "linear_cost"]
        );
        let agents: Vec<AgentSpec> = s.operators.iter().map(Operator::agent).collect();
        let cfg = NegotiationConfig {
            epsilon_mbps: s.epsilon_mbps,
            max_rounds: s.max_rounds,
            pressure: s.pressure,
            bounds: Bounds {
                min_mbps: s.min_mbps,
                max_mbps: 120.0,
            },
            ..NegotiationConfig::default()
        };
        let utilities: Vec<_> = agents.iter().map(AgentSpec::utility).collect();
        let theory = optimal_consensus(&utilities, &cfg.bounds).unwrap();
        // Not the plain mean of the targets (51.25): the QoS operator's steep side and the
        // asymmetric one's pull it up, the linear cost's constant price down.
        assert!((theory - 63.6).abs() < 0.1, "{theory}");
        let out = negotiate(&cfg, &agents, &PersonaNegotiator::new(s.seed))
            .await
            .unwrap();
        assert!(out.converged, "{:?}", out.stop);
        assert_eq!(out.theoretical_mbps, Some(theory));
        assert!(
            (out.consensus_mbps - theory).abs() < s.epsilon_mbps,
            "{} vs {theory}",
            out.consensus_mbps
        );
    }

    #[test]
    fn a_bad_utility_says_which_operator_and_which_field() {
        let text = std::fs::read_to_string(mixed_path()).unwrap();
        let error = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
            edit(&mut v);
            let s: Scenario = serde_json::from_value(v).unwrap();
            s.validate().unwrap_err().to_string()
        };
        assert_eq!(
            error(&|v| v["operators"][2]["utility"]["a"] = 0.into()),
            "scenario: operator 'bo-qos': utility.a of a logarithmic utility must be a number \
             > 0, got 0"
        );
        assert_eq!(
            error(&|v| v["operators"][3]["target_mbps"] = 20.into()),
            "scenario: operator 'bo-cost': utility.floor (15) must equal target_mbps (20), the \
             value the agent opens with"
        );
        assert_eq!(
            error(&|v| v["operators"][0]["weight"] = (-1).into()),
            "scenario: operator 'bo-iot': weight must be a number > 0, got -1"
        );
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["operators"][1]["utility"]["kind"] = "cubic".into();
        let e = serde_json::from_value::<Scenario>(v)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown variant `cubic`"), "{e}");
    }
}
