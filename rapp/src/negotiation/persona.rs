//! The built-in persona negotiator: an offline, deterministic stand-in for an LLM. It reads the
//! structured context of the prompt, picks a value by its personality's concession strategy
//! relative to the optimizer's advice, and writes a JSON answer with natural-language
//! reasoning — which then goes through the extraction unit like any model's text.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::llm::{LanguageModel, LlmFuture, Prompt};

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

/// The built-in negotiator; each agent is played with the personality in its context.
#[derive(Debug, Clone)]
pub struct PersonaNegotiator {
    seed: u64,
}

/// FNV-1a, a stable hash (std's hasher may change between releases).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl PersonaNegotiator {
    /// A negotiator with this seed.
    pub fn new(seed: u64) -> Self {
        Self { seed }
    }

    /// The answer text for a prompt (synchronous core of [`LanguageModel::complete`]).
    pub fn answer(&self, prompt: &Prompt) -> String {
        let c = &prompt.context;
        let p = c.personality;
        let mut rng = StdRng::seed_from_u64(
            self.seed ^ fnv1a(&c.agent_id) ^ u64::from(c.round).wrapping_mul(0x9e37_79b9),
        );
        let advice = c.optimizer_suggestion_mbps;
        let prev = c.previous_value_mbps.unwrap_or(c.own_target_mbps);
        let mean = c.feedback.as_ref().map_or(advice, |f| f.mean_mbps);
        let value = match p {
            Personality::Normal => advice,
            Personality::Agreeable => advice + 0.3 * (mean - advice),
            Personality::Disagreeable => prev + 0.6 * (advice - prev),
            Personality::Vulnerable => advice + 0.6 * (mean - advice),
            Personality::Toxic => prev + 0.15 * (advice - prev),
        };
        let value = c.bounds.clamp(value);
        let moved = if value > prev + 1e-9 {
            "raise"
        } else if value < prev - 1e-9 {
            "lower"
        } else {
            "keep"
        };
        let opener = match p {
            Personality::Toxic => pick(
                &mut rng,
                &[
                    "This is unacceptable.",
                    "Our demand is non-negotiable, and the others should give way.",
                    "Frankly, the other operators are wasting everyone's time.",
                ],
            ),
            Personality::Agreeable | Personality::Vulnerable => pick(
                &mut rng,
                &[
                    "We want this to work for everyone.",
                    "We are happy to meet the others halfway.",
                    "A shared cell needs give and take.",
                ],
            ),
            Personality::Disagreeable => pick(
                &mut rng,
                &[
                    "We are reluctant to move much.",
                    "Our customers expect more than this.",
                ],
            ),
            Personality::Normal => pick(
                &mut rng,
                &[
                    "We balance our business goal against the group's.",
                    "We take MAESTRO's summary into account.",
                    "We follow our optimizer's advice.",
                ],
            ),
        };
        let reasoning = format!(
            "{opener} Our intent: {} We {moved} our demand to {value:.2} Mbps (our target is \
             {:.2} Mbps, the group's mean {mean:.2} Mbps, the allowed maximum {:.2} Mbps).",
            c.business_intent, c.own_target_mbps, c.bounds.max_mbps
        );
        serde_json::json!({ "value": (value * 1000.0).round() / 1000.0, "reasoning": reasoning })
            .to_string()
    }
}

fn pick<'a>(rng: &mut StdRng, options: &[&'a str]) -> &'a str {
    options[rng.random_range(0..options.len())]
}

impl LanguageModel for PersonaNegotiator {
    fn name(&self) -> &str {
        "persona"
    }

    fn complete<'a>(&'a self, prompt: &'a Prompt) -> LlmFuture<'a> {
        Box::pin(async move { Ok(self.answer(prompt)) })
    }
}
