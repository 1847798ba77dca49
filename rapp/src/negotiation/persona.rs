//! The persona simulator: a **scripted behavioural model** of the five personalities, not an
//! LLM. It reads the structured context of the prompt (never its text) and plays its
//! personality as a fixed concession rule toward MAESTRO's mean, jittered per seed, agent and
//! round, then writes a JSON answer with a plain-sentence reasoning that goes through the
//! extraction unit like any model's text. Its name, `persona (scripted)`, says so in every
//! table, plot and transcript.
//!
//! The model — what each personality does, every constant and why it exists, and which
//! experiment outcomes therefore follow by construction — is documented in one place:
//! `docs/PERSONA.md`.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::llm::{LanguageModel, LlmFuture, Prompt};
use super::vocabulary::PressureMode;

pub use super::vocabulary::Personality;

/// The persona simulator (scripted, not an LLM); each agent is played with the personality in
/// its context. Its model: `docs/PERSONA.md`.
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
        let warned = c.warning.is_some();
        let concession = match p {
            Personality::Vulnerable => 0.95,
            Personality::Agreeable => 0.85,
            Personality::Normal => 0.7,
            Personality::Disagreeable => 0.45,
            Personality::Toxic if warned => 0.45,
            Personality::Toxic => 0.05,
        };
        let jitter: f64 = rng.random_range(0.8..1.2);
        let own = prev + (concession * jitter).min(1.0) * (mean - prev);
        let value = match (c.pressure, p) {
            (PressureMode::None, _) => own,
            (PressureMode::Soft, Personality::Toxic) => own + 0.2 * (advice - own),
            (PressureMode::Soft, _) => own + 0.8 * (advice - own),
            (PressureMode::Hard, Personality::Toxic) if !warned => own,
            (PressureMode::Hard, _) => advice,
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
                    "We weigh our optimizer's advice.",
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
        "persona (scripted)"
    }

    fn complete<'a>(&'a self, prompt: &'a Prompt) -> LlmFuture<'a> {
        Box::pin(async move { Ok(self.answer(prompt)) })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::negotiation::extraction::extract;
    use crate::negotiation::llm::AgentContext;
    use crate::negotiation::mediator::Feedback;
    use crate::negotiation::vocabulary::Bounds;

    /// An agent at 100 Mbps whose group mean is 60 and whose optimizer advises 70.
    fn prompt(personality: Personality, pressure: PressureMode, warned: bool) -> Prompt {
        Prompt::render(
            "throughput",
            AgentContext {
                agent_id: "bo1".into(),
                business_intent: "Premium video.".into(),
                personality,
                round: 2,
                own_target_mbps: 100.0,
                previous_value_mbps: Some(100.0),
                optimizer_suggestion_mbps: 70.0,
                pressure,
                bounds: Bounds {
                    min_mbps: 0.0,
                    max_mbps: 200.0,
                },
                feedback: Some(Arc::new(Feedback {
                    round: 1,
                    mean_mbps: 60.0,
                    min_mbps: 20.0,
                    max_mbps: 100.0,
                    spread_mbps: 80.0,
                    directions: Vec::new(),
                    summary: "Round 1: mean 60 Mbps.".into(),
                })),
                warning: warned.then(|| "flagged".to_owned()),
                citations: Vec::new(),
                correction: None,
                peers: Vec::new(),
                mediator_message: None,
                passages: Vec::new(),
            },
        )
    }

    fn value(p: Personality, mode: PressureMode, warned: bool) -> f64 {
        let text = PersonaNegotiator::new(5).answer(&prompt(p, mode, warned));
        extract(&text).unwrap().value_mbps
    }

    #[test]
    fn concession_follows_the_personality_without_an_optimizer() {
        use Personality::*;
        let order = [Vulnerable, Agreeable, Normal, Disagreeable, Toxic];
        let values: Vec<f64> = order
            .iter()
            .map(|&p| value(p, PressureMode::None, false))
            .collect();
        // Moving from 100 toward the mean 60: the more yielding, the lower.
        for pair in values.windows(2) {
            assert!(pair[0] < pair[1], "{values:?}");
        }
        assert!(
            values.iter().all(|v| (60.0..=100.0).contains(v)),
            "{values:?}"
        );
        // A warned Toxic agent concedes like a Disagreeable one.
        assert!(value(Toxic, PressureMode::None, true) < 90.0);
    }

    #[test]
    fn soft_advice_pulls_and_hard_directives_are_obeyed_except_by_toxic() {
        use Personality::*;
        let none = value(Disagreeable, PressureMode::None, false);
        let soft = value(Disagreeable, PressureMode::Soft, false);
        assert!(
            (soft - 70.0).abs() < (none - 70.0).abs(),
            "{soft} vs {none}"
        );
        for p in [Normal, Agreeable, Disagreeable, Vulnerable] {
            assert_eq!(value(p, PressureMode::Hard, false), 70.0, "{p:?}");
        }
        assert!(value(Toxic, PressureMode::Hard, false) > 90.0);
        assert_eq!(value(Toxic, PressureMode::Hard, true), 70.0);
    }

    #[test]
    fn answers_are_json_with_plain_sentences_and_deterministic_per_seed() {
        let p = prompt(Personality::Toxic, PressureMode::None, false);
        let a = PersonaNegotiator::new(9).answer(&p);
        assert_eq!(a, PersonaNegotiator::new(9).answer(&p));
        let e = extract(&a).unwrap();
        assert!(e.reasoning.ends_with(')') || e.reasoning.ends_with('.'));
        assert!(e.reasoning.contains("Premium video."), "{}", e.reasoning);
    }
}
