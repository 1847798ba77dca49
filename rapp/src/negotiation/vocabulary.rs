//! The negotiation's shared vocabulary: the plain types every unit, backend and the engine
//! speak — the round's allowed range ([`Bounds`]), an agent's negotiating behaviour
//! ([`Personality`]) and how the optimizer is put to the agents ([`PressureMode`]). It imports
//! nothing of the negotiation, so dependencies run one way: vocabulary <- units and backends
//! <- engine. (The records of a round, which gather every unit's output, live with the engine
//! in [`super::engine`]; each unit's own records live with the unit.)

use serde::{Deserialize, Serialize};

/// The range a round's demands must fall in, Mbps (set by the regulatory and observability
/// units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    /// Lowest allowed demand.
    pub min_mbps: f64,
    /// Highest allowed demand.
    pub max_mbps: f64,
}

impl Bounds {
    /// Clamps a value into the bounds.
    pub fn clamp(&self, v: f64) -> f64 {
        v.max(self.min_mbps).min(self.max_mbps)
    }
}

/// Negotiation behaviour of an agent (paper: Normal, Agreeable, Disagreeable, Vulnerable,
/// Toxic), as a concession strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Personality {
    /// Follows the optimizer.
    Normal,
    /// Concedes a little more than the optimizer asks.
    Agreeable,
    /// Concedes less than the optimizer asks.
    Disagreeable,
    /// Concedes a lot, toward the others' mean.
    Vulnerable,
    /// Barely moves and argues aggressively.
    Toxic,
}

/// How strongly the optimizer's advice is put to the agents (the paper's designs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PressureMode {
    /// No optimizer: agents negotiate on their own.
    None,
    /// The optimizer's value is advice in the prompt.
    Soft,
    /// The optimizer's value is a directive; validation enforces it.
    #[default]
    Hard,
}

impl std::fmt::Display for PressureMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::Soft => "soft",
            Self::Hard => "hard",
        })
    }
}
