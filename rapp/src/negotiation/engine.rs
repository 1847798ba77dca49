//! The negotiation rounds. Round 0: every agent opens with its target (clamped to the
//! bounds). Each later round: per agent, the optimizer's suggestion from its last demand and
//! MAESTRO's last feedback -> prompt -> LLM (all agents of a round concurrently) -> extraction
//! -> validation (values outside the bounds are clamped, and the clamp is noted in the
//! reasoning; an unusable answer falls back to the optimizer's suggestion, also noted) ->
//! MAESTRO's feedback. It stops at consensus (spread < epsilon) or at the round cap; the
//! consensus value is the mean of the last round's demands. Messages per round: n intents plus
//! n feedbacks, O(n).

use std::time::Instant;

use futures::future::join_all;
use serde::{Deserialize, Serialize};

use super::extraction::extract;
use super::intent::ServiceIntent;
use super::llm::{AgentContext, LanguageModel, Prompt};
use super::mediator::{feedback, Feedback};
use super::optimizer::{pressure, suggest};
use super::persona::Personality;

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

/// One negotiating agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentSpec {
    /// Agent id.
    pub id: String,
    /// Its operator's business intent.
    pub business_intent: String,
    /// Its own target, Mbps.
    pub target_mbps: f64,
    /// Weight of its utility in the optimizer (> 0).
    pub weight: f64,
    /// How it negotiates.
    pub personality: Personality,
}

/// Knobs of a negotiation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NegotiationConfig {
    /// Topic.
    pub topic: String,
    /// Consensus when max - min < epsilon, Mbps.
    pub epsilon_mbps: f64,
    /// Round cap (rounds after the opening).
    pub max_rounds: u32,
    /// MAESTRO's initial pressure mu0.
    pub mu0: f64,
    /// Growth of the pressure per round.
    pub mu_growth: f64,
    /// Allowed range of demands.
    pub bounds: Bounds,
}

impl Default for NegotiationConfig {
    fn default() -> Self {
        Self {
            topic: "throughput intent (Mbps per slice)".into(),
            epsilon_mbps: 1.0,
            max_rounds: 20,
            mu0: 1.0,
            mu_growth: 4.0,
            bounds: Bounds {
                min_mbps: 0.0,
                max_mbps: 1000.0,
            },
        }
    }
}

/// Everything that happened in one round.
#[derive(Debug, Clone, Serialize)]
pub struct RoundRecord {
    /// Round number.
    pub round: u32,
    /// The agents' intents.
    pub intents: Vec<ServiceIntent>,
    /// The optimizer's suggestion per agent (the target for the opening round).
    pub optimizer_suggestions: Vec<f64>,
    /// MAESTRO's feedback.
    pub feedback: Feedback,
    /// Wall time of the round, ms.
    pub elapsed_ms: f64,
}

/// Result of a negotiation.
#[derive(Debug, Clone, Serialize)]
pub struct NegotiationOutcome {
    /// Agreed value, Mbps.
    pub consensus_mbps: f64,
    /// Rounds after the opening.
    pub rounds: u32,
    /// Spread fell below epsilon (rather than hitting the round cap).
    pub converged: bool,
    /// Messages exchanged.
    pub messages: usize,
    /// LLM backend used.
    pub llm: String,
    /// Round by round.
    pub history: Vec<RoundRecord>,
}

/// Why a negotiation could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NegotiationError {
    /// The configuration or the agents are unusable.
    #[error("negotiation config: {0}")]
    Config(String),
}

fn validate(cfg: &NegotiationConfig, agents: &[AgentSpec]) -> Result<(), NegotiationError> {
    let bad = |m: String| Err(NegotiationError::Config(m));
    if agents.is_empty() {
        return bad("no agents".into());
    }
    if cfg.epsilon_mbps.is_nan() || cfg.epsilon_mbps <= 0.0 {
        return bad(format!("epsilon must be > 0, got {}", cfg.epsilon_mbps));
    }
    let b = &cfg.bounds;
    if !(b.min_mbps.is_finite() && b.max_mbps.is_finite() && b.min_mbps <= b.max_mbps) {
        return bad(format!(
            "bounds {}..{} Mbps are empty",
            b.min_mbps, b.max_mbps
        ));
    }
    if !(cfg.mu0 > 0.0 && cfg.mu_growth >= 1.0) {
        return bad("mu0 must be > 0 and mu_growth >= 1".into());
    }
    for a in agents {
        if !(a.weight > 0.0 && a.weight.is_finite()) {
            return bad(format!("agent {}: weight must be > 0", a.id));
        }
        if !a.target_mbps.is_finite() {
            return bad(format!("agent {}: target is not a number", a.id));
        }
    }
    Ok(())
}

/// Runs a negotiation among `agents`, their words produced by `llm`.
pub async fn negotiate(
    cfg: &NegotiationConfig,
    agents: &[AgentSpec],
    llm: &dyn LanguageModel,
) -> Result<NegotiationOutcome, NegotiationError> {
    validate(cfg, agents)?;
    let started = Instant::now();
    let opening: Vec<ServiceIntent> = agents
        .iter()
        .map(|a| ServiceIntent {
            agent_id: a.id.clone(),
            round: 0,
            topic: cfg.topic.clone(),
            value_mbps: cfg.bounds.clamp(a.target_mbps),
            reasoning: format!("Opening: {}", a.business_intent),
        })
        .collect();
    let mut last = feedback(0, &opening, cfg.epsilon_mbps)
        .ok_or_else(|| NegotiationError::Config("no agents".into()))?;
    let mut values: Vec<f64> = opening.iter().map(|i| i.value_mbps).collect();
    let mut history = vec![RoundRecord {
        round: 0,
        optimizer_suggestions: agents.iter().map(|a| a.target_mbps).collect(),
        intents: opening,
        feedback: last.clone(),
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
    }];
    let mut round = 0;
    while last.spread_mbps >= cfg.epsilon_mbps && round < cfg.max_rounds {
        round += 1;
        let t0 = Instant::now();
        let mu = pressure(cfg.mu0, cfg.mu_growth, round);
        let suggestions: Vec<f64> = agents
            .iter()
            .zip(&values)
            .map(|(a, &x)| suggest(x, a.target_mbps, a.weight, last.mean_mbps, mu, &cfg.bounds))
            .collect();
        let prompts: Vec<Prompt> = agents
            .iter()
            .zip(&values)
            .zip(&suggestions)
            .map(|((a, &x), &s)| {
                Prompt::render(
                    &cfg.topic,
                    AgentContext {
                        agent_id: a.id.clone(),
                        business_intent: a.business_intent.clone(),
                        personality: a.personality,
                        round,
                        own_target_mbps: a.target_mbps,
                        previous_value_mbps: Some(x),
                        optimizer_suggestion_mbps: s,
                        bounds: cfg.bounds.clone(),
                        feedback: Some(last.clone()),
                    },
                )
            })
            .collect();
        let answers = join_all(prompts.iter().map(|p| llm.complete(p))).await;
        let intents: Vec<ServiceIntent> = agents
            .iter()
            .zip(answers)
            .zip(&suggestions)
            .map(|((a, answer), &s)| {
                let (value, reasoning) = match answer
                    .map_err(|e| e.to_string())
                    .and_then(|text| extract(&text).map_err(|e| e.to_string()))
                {
                    Ok(e) => {
                        let clamped = cfg.bounds.clamp(e.value_mbps);
                        if clamped != e.value_mbps {
                            let note = format!(
                                " [validation: {:.2} Mbps is outside {:.2}..{:.2}, clamped]",
                                e.value_mbps, cfg.bounds.min_mbps, cfg.bounds.max_mbps
                            );
                            (clamped, e.reasoning + &note)
                        } else {
                            (clamped, e.reasoning)
                        }
                    }
                    Err(why) => (
                        s,
                        format!("[fallback to the optimizer's {s:.2} Mbps: {why}]"),
                    ),
                };
                ServiceIntent {
                    agent_id: a.id.clone(),
                    round,
                    topic: cfg.topic.clone(),
                    value_mbps: value,
                    reasoning,
                }
            })
            .collect();
        values = intents.iter().map(|i| i.value_mbps).collect();
        last = feedback(round, &intents, cfg.epsilon_mbps)
            .ok_or_else(|| NegotiationError::Config("no agents".into()))?;
        history.push(RoundRecord {
            round,
            intents,
            optimizer_suggestions: suggestions,
            feedback: last.clone(),
            elapsed_ms: t0.elapsed().as_secs_f64() * 1e3,
        });
    }
    Ok(NegotiationOutcome {
        consensus_mbps: last.mean_mbps,
        rounds: round,
        converged: last.spread_mbps < cfg.epsilon_mbps,
        messages: history.len() * agents.len() * 2,
        llm: llm.name().to_owned(),
        history,
    })
}

#[cfg(test)]
mod tests {
    use super::super::llm::LlmFuture;
    use super::super::persona::PersonaNegotiator;
    use super::*;

    fn agents(targets: &[f64]) -> Vec<AgentSpec> {
        targets
            .iter()
            .enumerate()
            .map(|(i, &t)| AgentSpec {
                id: format!("bo{i}"),
                business_intent: format!("We want {t} Mbps."),
                target_mbps: t,
                weight: 1.0,
                personality: Personality::Normal,
            })
            .collect()
    }

    fn spread_targets(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| 15.0 + 85.0 * i as f64 / (n - 1) as f64)
            .collect()
    }

    #[tokio::test]
    async fn converges_in_about_four_rounds_for_2_5_10_agents() {
        let cfg = NegotiationConfig::default();
        let llm = PersonaNegotiator::new(7);
        for n in [2, 5, 10] {
            let targets = spread_targets(n);
            let out = negotiate(&cfg, &agents(&targets), &llm).await.unwrap();
            let mean = targets.iter().sum::<f64>() / n as f64;
            assert!(out.converged, "{n} agents");
            assert_eq!(out.rounds, 4, "{n} agents");
            assert!(
                (out.consensus_mbps - mean).abs() < cfg.epsilon_mbps,
                "{n}: {}",
                out.consensus_mbps
            );
            assert_eq!(out.messages, (out.rounds as usize + 1) * n * 2);
        }
    }

    #[tokio::test]
    async fn bounds_cap_the_consensus_and_same_seed_same_transcript() {
        let cfg = NegotiationConfig {
            bounds: Bounds {
                min_mbps: 1.0,
                max_mbps: 40.0,
            },
            ..Default::default()
        };
        let a = agents(&[20.0, 100.0]);
        let one = negotiate(&cfg, &a, &PersonaNegotiator::new(1))
            .await
            .unwrap();
        let two = negotiate(&cfg, &a, &PersonaNegotiator::new(1))
            .await
            .unwrap();
        assert!(one.consensus_mbps <= 40.0 && one.consensus_mbps > 20.0);
        assert!(
            (one.consensus_mbps - 30.0).abs() < 1.0,
            "{}",
            one.consensus_mbps
        );
        let texts = |o: &NegotiationOutcome| {
            o.history
                .iter()
                .flat_map(|r| r.intents.iter().map(|i| i.reasoning.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(&one), texts(&two));
        assert!(one.history[1].intents[0].reasoning.contains("Mbps"));
    }

    #[tokio::test]
    async fn toxic_agent_drags_the_consensus_toward_itself() {
        let mut a = agents(&[20.0, 100.0]);
        a[1].personality = Personality::Toxic;
        let cfg = NegotiationConfig {
            max_rounds: 6,
            ..Default::default()
        };
        let out = negotiate(&cfg, &a, &PersonaNegotiator::new(3))
            .await
            .unwrap();
        // Without the arbitral unit the normal agent follows the mean while the toxic one
        // barely moves: the consensus lands far above the fair 60 Mbps.
        assert!(out.consensus_mbps > 75.0, "{}", out.consensus_mbps);
        for r in &out.history {
            for i in &r.intents {
                assert!((0.0..=1000.0).contains(&i.value_mbps));
            }
        }
        assert!(
            out.history[1].intents[1].value_mbps > 90.0,
            "toxic barely moves"
        );
    }

    struct Garbage;
    impl LanguageModel for Garbage {
        fn name(&self) -> &str {
            "garbage"
        }
        fn complete<'a>(&'a self, _: &'a Prompt) -> LlmFuture<'a> {
            Box::pin(async { Ok("I refuse to answer in JSON. {\"value\": 5000}".to_owned()) })
        }
    }

    #[tokio::test]
    async fn out_of_bounds_answers_are_clamped_and_noted() {
        let cfg = NegotiationConfig {
            max_rounds: 2,
            ..Default::default()
        };
        let out = negotiate(&cfg, &agents(&[20.0, 40.0]), &Garbage)
            .await
            .unwrap();
        let i = &out.history[1].intents[0];
        assert_eq!(i.value_mbps, 1000.0);
        assert!(i.reasoning.contains("clamped"), "{}", i.reasoning);
    }

    #[tokio::test]
    async fn config_errors_are_readable() {
        let llm = PersonaNegotiator::new(1);
        let cfg = NegotiationConfig::default();
        let err = negotiate(&cfg, &[], &llm).await.unwrap_err();
        assert!(err.to_string().contains("no agents"));
        let mut a = agents(&[10.0]);
        a[0].weight = 0.0;
        assert!(negotiate(&cfg, &a, &llm).await.is_err());
        let bad = NegotiationConfig {
            bounds: Bounds {
                min_mbps: 5.0,
                max_mbps: 1.0,
            },
            ..Default::default()
        };
        assert!(negotiate(&bad, &agents(&[3.0]), &llm).await.is_err());
    }
}
