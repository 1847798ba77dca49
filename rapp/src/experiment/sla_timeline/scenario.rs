//! The timeline scenario (`config/scenarios/sla-timeline.json`): the operators, their business
//! intents over time (phases), the trigger and settling settings; loading, validation, and what
//! the operators would agree on at a time and capacity (the agents of a negotiation, their
//! optimum).

use std::collections::BTreeMap;
use std::path::Path;

use maestro_api::a1::SliceId;
use serde::{Deserialize, Serialize};

use crate::negotiation::engine::Standing;
use crate::negotiation::regulatory::{Rule, RuleBook};
use crate::negotiation::theory::optimal_consensus;
use crate::negotiation::{AgentSpec, Bounds, Personality, PressureMode};
use crate::observability::TriggerConfig;

use super::TimelineError;

/// One operator of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineOperator {
    /// Agent id.
    pub id: String,
    /// Its stake (curvature of its quadratic utility).
    pub weight: f64,
    /// Below this throughput the service is worthless to it, Mbps: when the cell cannot carry
    /// it, the operator votes to switch the slice off.
    pub min_useful_mbps: f64,
}

/// An operator's intent during a phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseIntent {
    /// Business intent, in the operator's words.
    pub business_intent: String,
    /// Target, Mbps.
    pub target_mbps: f64,
    /// How its agent negotiates in this phase.
    pub personality: Personality,
}

/// Business intents from a time on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// Start, s of the gNB's clock.
    pub from_s: f64,
    /// Name, for the plot and the log.
    pub name: String,
    /// Per operator id.
    pub intents: BTreeMap<String, PhaseIntent>,
}

/// The timeline scenario (`config/scenarios/sla-timeline.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineScenario {
    /// Name.
    pub name: String,
    /// What happens, in words.
    #[serde(default)]
    pub description: String,
    /// Length of the run, s of the gNB's clock.
    pub duration_s: f64,
    /// Negotiation topic.
    pub topic: String,
    /// The shared slice whose throughput is negotiated.
    pub slice: SliceId,
    /// Consensus tolerance, Mbps.
    pub epsilon_mbps: f64,
    /// Round cap.
    pub max_rounds: u32,
    /// How the optimizer is put to the agents.
    #[serde(default)]
    pub pressure: PressureMode,
    /// Share of the maximum achievable throughput a negotiation may hand out (0..1].
    pub capacity_headroom: f64,
    /// When the observability unit triggers a renegotiation.
    pub trigger: TriggerConfig,
    /// A running negotiation halts when the cell keeps less than this share of the capacity it
    /// started with.
    pub topic_hold_share: f64,
    /// After a new target, and after the slice's CQI changed, the control counts as settled
    /// after this long, s.
    pub settle_s: f64,
    /// Seed of the persona negotiator.
    pub seed: u64,
    /// Regulatory rules, each citing its source.
    #[serde(default)]
    pub regulations: Vec<Rule>,
    /// The operators.
    pub operators: Vec<TimelineOperator>,
    /// Their intents over time (sorted by `from_s`, the first from 0).
    pub phases: Vec<Phase>,
}

/// The shipped scenario, compiled in.
pub const BUILTIN_SCENARIO: &str = include_str!("../../../../config/scenarios/sla-timeline.json");

impl TimelineScenario {
    /// The shipped scenario.
    pub fn builtin() -> Result<Self, TimelineError> {
        Self::parse(BUILTIN_SCENARIO, "built-in sla-timeline.json")
    }

    /// Reads and validates a scenario file.
    pub fn from_file(path: &Path) -> Result<Self, TimelineError> {
        let text = std::fs::read_to_string(path).map_err(|e| TimelineError::Scenario {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    fn parse(text: &str, name: &str) -> Result<Self, TimelineError> {
        let bad = |reason: String| TimelineError::Scenario {
            path: name.to_owned(),
            reason,
        };
        let s: Self = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        s.validate().map_err(bad)?;
        Ok(s)
    }

    /// Checks ranges, and that every phase gives every operator an intent.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.duration_s.is_finite() && self.duration_s > 0.0) {
            return Err("duration_s must be > 0".into());
        }
        if !(self.capacity_headroom > 0.0 && self.capacity_headroom <= 1.0) {
            return Err("capacity_headroom must be in (0, 1]".into());
        }
        if self.operators.is_empty() {
            return Err("at least one operator is needed".into());
        }
        if self.phases.first().is_none_or(|p| p.from_s > 0.0) {
            return Err("the first phase must start at 0 s".into());
        }
        if self.phases.windows(2).any(|w| w[1].from_s < w[0].from_s) {
            return Err("phases must be sorted by from_s".into());
        }
        for p in &self.phases {
            for o in &self.operators {
                let Some(i) = p.intents.get(&o.id) else {
                    return Err(format!("phase '{}' has no intent for '{}'", p.name, o.id));
                };
                if !(i.target_mbps.is_finite() && i.target_mbps >= 0.0) {
                    return Err(format!("phase '{}': bad target for '{}'", p.name, o.id));
                }
            }
        }
        if !(self.settle_s >= 0.0 && self.topic_hold_share >= 0.0) {
            return Err("settle_s and topic_hold_share must be >= 0".into());
        }
        Ok(())
    }

    /// The phase in force at `t_s`.
    pub fn phase_at(&self, t_s: f64) -> &Phase {
        self.phases
            .iter()
            .rev()
            .find(|p| p.from_s <= t_s)
            .unwrap_or(&self.phases[0])
    }

    /// The agents for a negotiation at `t_s` when the negotiation may hand out at most
    /// `cap_mbps`: an operator whose minimum useful throughput exceeds that votes to switch
    /// off (target 0 Mbps).
    pub fn agents_at(&self, t_s: f64, cap_mbps: f64) -> Vec<AgentSpec> {
        let phase = self.phase_at(t_s);
        self.operators
            .iter()
            .filter_map(|o| {
                let i = phase.intents.get(&o.id)?;
                let off = cap_mbps < o.min_useful_mbps;
                Some(AgentSpec {
                    id: o.id.clone(),
                    business_intent: if off {
                        format!(
                            "Switch the slice off: the cell carries at most {cap_mbps:.1} Mbps, \
                             below the {:.0} Mbps our service needs to be worth anything.",
                            o.min_useful_mbps
                        )
                    } else {
                        i.business_intent.clone()
                    },
                    target_mbps: if off { 0.0 } else { i.target_mbps },
                    weight: o.weight,
                    personality: i.personality,
                    weight_above: None,
                    utility: None,
                })
            })
            .collect()
    }

    /// What the operators would agree on at `t_s` if the cell carries `max_achievable_mbps`:
    /// the optimum of their utilities within the bounds (0 when all vote to switch off).
    pub fn wanted_mbps(&self, t_s: f64, max_achievable_mbps: f64) -> f64 {
        self.wanted_mbps_given(t_s, max_achievable_mbps, &BTreeMap::new())
    }

    /// [`Self::wanted_mbps`] as MAESTRO would weigh the operators given their `standing` with
    /// the arbitral unit: excluded operators do not count, penalised ones count less.
    pub fn wanted_mbps_given(
        &self,
        t_s: f64,
        max_achievable_mbps: f64,
        standing: &BTreeMap<String, Standing>,
    ) -> f64 {
        let cap = max_achievable_mbps * self.capacity_headroom;
        let bounds = self.bounds(cap);
        let utilities: Vec<_> = self
            .agents_at(t_s, cap)
            .into_iter()
            .filter_map(|mut a| {
                let st = standing.get(&a.id).cloned().unwrap_or_default();
                (!st.excluded && st.stake_factor > 0.0).then(|| {
                    a.weight *= st.stake_factor;
                    a.utility()
                })
            })
            .collect();
        optimal_consensus(&utilities, &bounds).unwrap_or(0.0)
    }

    /// Bounds of a negotiation that may hand out at most `cap_mbps`.
    fn bounds(&self, cap_mbps: f64) -> Bounds {
        let book = RuleBook {
            rules: self.regulations.clone(),
        };
        let base = Bounds {
            min_mbps: 0.0,
            max_mbps: cap_mbps.max(0.0),
        };
        let b = crate::negotiation::regulatory::Regulatory::constraints(&book, &self.topic, &base)
            .bounds;
        Bounds {
            min_mbps: b.min_mbps.min(cap_mbps.max(0.0)),
            max_mbps: b.max_mbps.min(cap_mbps.max(0.0)).max(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_scenario_is_valid_and_phases_switch_on_time() {
        let s = TimelineScenario::builtin().unwrap();
        assert_eq!(s.phase_at(0.0).name, "high CQI");
        assert_eq!(s.phase_at(200.0).name, "conditions worsen");
        assert!(s
            .agents_at(200.0, 100.0)
            .iter()
            .any(|a| a.personality == Personality::Toxic));
        // A cell that carries 10 Mbps is worthless to both: a unanimous switch-off vote.
        assert!(s
            .agents_at(360.0, 10.0)
            .iter()
            .all(|a| a.target_mbps == 0.0));
        assert_eq!(s.wanted_mbps(360.0, 10.0), 0.0);
        // At CQI 15 the two operators want 60 and 40: about 50 Mbps.
        assert!((s.wanted_mbps(10.0, 134.0) - 50.0).abs() < 1e-6);
        // A capped cell caps what they want.
        assert!((s.wanted_mbps(10.0, 40.0) - 34.0).abs() < 1e-6);
    }
}
