//! The service intent an agent sends MAESTRO each round (paper, Fig. 2): a value on the
//! negotiation topic and the reasoning behind it, plus who/when/what metadata.

use serde::{Deserialize, Serialize};

/// One agent's message of one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceIntent {
    /// Sending agent.
    pub agent_id: String,
    /// Round number (0 = opening statement).
    pub round: u32,
    /// Negotiation topic.
    pub topic: String,
    /// Demanded throughput, Mbps.
    pub value_mbps: f64,
    /// The agent's reasoning, in natural language.
    pub reasoning: String,
}
