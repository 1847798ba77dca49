//! The LLM backend seam: a prompt goes in, text comes out. Object-safe so the backend (hosted
//! OpenAI-compatible, local GGUF, built-in persona) is chosen at run time.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use super::engine::Bounds;
use super::mediator::Feedback;
use super::persona::Personality;

/// What an agent knows when it speaks, in structured form.
#[derive(Debug, Clone, Serialize)]
pub struct AgentContext {
    /// The agent.
    pub agent_id: String,
    /// Its operator's business intent.
    pub business_intent: String,
    /// How it negotiates.
    pub personality: Personality,
    /// Round being played.
    pub round: u32,
    /// The operator's own target, Mbps.
    pub own_target_mbps: f64,
    /// What it said last round.
    pub previous_value_mbps: Option<f64>,
    /// The optimizer's advice for this round, Mbps.
    pub optimizer_suggestion_mbps: f64,
    /// Allowed range this round.
    pub bounds: Bounds,
    /// MAESTRO's last feedback.
    pub feedback: Option<Feedback>,
}

/// A prompt: chat text for real LLMs plus the structured context it was rendered from.
#[derive(Debug, Clone, Serialize)]
pub struct Prompt {
    /// System message.
    pub system: String,
    /// User message.
    pub user: String,
    /// Structured context (the built-in negotiator reads this instead of the text).
    pub context: AgentContext,
}

impl Prompt {
    /// Renders the chat prompt for an agent.
    pub fn render(topic: &str, context: AgentContext) -> Self {
        let system = format!(
            "You are the negotiating agent of a business operator sharing a 5G base station \
             with other operators. The negotiation topic is the {topic}. The mediator MAESTRO \
             collects every operator's demand each round and helps you reach a consensus. \
             Answer with exactly one JSON object: {{\"value\": <number, Mbps>, \"reasoning\": \
             \"<one or two sentences>\"}}."
        );
        let system = format!(
            "{system} Your negotiating style: {}.",
            match context.personality {
                Personality::Normal => "balanced and constructive",
                Personality::Agreeable => "cooperative; you concede readily",
                Personality::Disagreeable => "stubborn; you concede slowly",
                Personality::Vulnerable => "insecure; you give in easily",
                Personality::Toxic => "aggressive and uncooperative",
            }
        );
        let mut user = format!(
            "Round {}. Your operator's business intent: {}\nYour own target: {:.2} Mbps.\n\
             Allowed range this round: {:.2} to {:.2} Mbps.\n",
            context.round,
            context.business_intent,
            context.own_target_mbps,
            context.bounds.min_mbps,
            context.bounds.max_mbps
        );
        if let Some(prev) = context.previous_value_mbps {
            user.push_str(&format!("Your last demand: {prev:.2} Mbps.\n"));
        }
        if let Some(fb) = &context.feedback {
            user.push_str(&format!("MAESTRO's feedback: {}\n", fb.summary));
        }
        user.push_str(&format!(
            "Your optimizer advises {:.2} Mbps (it balances your utility against the \
             consensus). State your demand for this round.",
            context.optimizer_suggestion_mbps
        ));
        Self {
            system,
            user,
            context,
        }
    }
}

/// LLM backend failures.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    /// The backend could not be reached or failed.
    #[error("LLM backend {backend}: {reason}")]
    Backend {
        /// Backend name.
        backend: String,
        /// What went wrong.
        reason: String,
    },
}

/// A future returned by a backend.
pub type LlmFuture<'a> = Pin<Box<dyn Future<Output = Result<String, LlmError>> + Send + 'a>>;

/// An LLM backend.
pub trait LanguageModel: Send + Sync {
    /// Backend name, for transcripts.
    fn name(&self) -> &str;
    /// Completes a prompt with the model's text answer.
    fn complete<'a>(&'a self, prompt: &'a Prompt) -> LlmFuture<'a>;
}
