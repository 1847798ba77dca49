//! A negotiation scenario: the business operators sharing the cell (each with its slice,
//! business intent, target and personality) and the negotiation's knobs.

use maestro_api::a1::{PlmnId, SliceId};
use serde::{Deserialize, Serialize};

use crate::a1::A1PeerConfig;
use crate::negotiation::regulatory::Rule;
use crate::negotiation::{Personality, PressureMode};

/// One business operator and its slice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operator {
    /// Agent id, also the A1 policy id suffix (`maestro-{id}`).
    pub id: String,
    /// The operator's business intent, in its own words.
    pub business_intent: String,
    /// Throughput the operator would like per slice, Mbps.
    pub target_mbps: f64,
    /// Weight of its own utility (U_i) in the optimizer.
    pub weight: f64,
    /// Negotiation behaviour of its agent.
    pub personality: Personality,
    /// The slice it operates.
    pub slice: SliceId,
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
                },
                Operator {
                    id: "bo-qos".into(),
                    business_intent: "Premium video for our users: up to 100 Mbps per slice."
                        .into(),
                    target_mbps: 100.0,
                    weight: 1.0,
                    personality: Personality::Normal,
                    slice: slice("000002"),
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
}
