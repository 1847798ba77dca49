//! The LLM backend seam: a prompt goes in, text comes out. Object-safe so the backend (hosted
//! OpenAI-compatible, local GGUF, built-in persona) is chosen at run time. Every backend gets
//! the same prompt, rendered from the templates in `config/prompts/` (built in, or loaded from
//! a directory with [`PromptTemplates::load`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;

use super::mediator::Feedback;
use super::peers::{self, PeerQuote};
use super::regulatory::{self, QuotedPassage};
use super::vocabulary::{Bounds, Personality, PressureMode};

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
    /// The optimizer's value for this round, Mbps.
    pub optimizer_suggestion_mbps: f64,
    /// How the optimizer's value is put: not at all, as advice, or as a directive.
    pub pressure: PressureMode,
    /// Allowed range this round.
    pub bounds: Bounds,
    /// MAESTRO's last feedback (shared by every agent's prompt of the round: one copy, so a
    /// round stays O(n) in memory).
    pub feedback: Option<Arc<Feedback>>,
    /// The arbitral unit's warning or penalty notice from last round.
    pub warning: Option<String>,
    /// Sources of the regulatory constraints.
    pub citations: Vec<String>,
    /// Why the agent's previous answer this round could not be used.
    pub correction: Option<String>,
    /// What the agent hears of the other agents' last positions (quoted as data; see
    /// [`super::peers`]).
    pub peers: Vec<PeerQuote>,
    /// MAESTRO's message to this agent this round, when an LLM wrote it (its numbers filled in
    /// by code; see [`super::voice`]); `None`: the feedback's summary is used.
    pub mediator_message: Option<String>,
    /// Regulatory passages retrieved for the topic, quoted as data (see
    /// [`super::regulatory::QuotedPassage`]).
    pub passages: Vec<QuotedPassage>,
}

impl AgentContext {
    /// The context of a prompt that is not an agent's (the arbitral judge's, MAESTRO's voice):
    /// `unit` names it, `task` says what it does; no feedback, warning, peers or passages.
    /// Set the fields that matter with struct update syntax.
    pub fn unit(unit: &str, task: &str, bounds: Bounds) -> Self {
        Self {
            agent_id: unit.to_owned(),
            business_intent: task.to_owned(),
            personality: Personality::Normal,
            round: 0,
            own_target_mbps: 0.0,
            previous_value_mbps: None,
            optimizer_suggestion_mbps: 0.0,
            pressure: PressureMode::None,
            bounds,
            feedback: None,
            warning: None,
            citations: Vec::new(),
            correction: None,
            peers: Vec::new(),
            mediator_message: None,
            passages: Vec::new(),
        }
    }
}

/// The prompt templates (`config/prompts/`): `{name}` placeholders filled per agent.
#[derive(Debug, Clone)]
pub struct PromptTemplates {
    /// System message: `{topic}`, `{style}`, `{example}`.
    pub system: String,
    /// User message: `{round}`, `{intent}`, `{target}`, `{min}`, `{max}`, `{citations}`,
    /// `{passages}`, `{previous}`, `{peers}`, `{feedback}`, `{warning}`, `{optimizer}`,
    /// `{correction}`.
    pub user: String,
    /// The optimizer line under soft pressure: `{advice}`.
    pub optimizer_soft: String,
    /// The optimizer line under hard pressure: `{advice}`.
    pub optimizer_hard: String,
    /// One-shot example of the answer.
    pub example: String,
    /// Style sentence per personality (`normal`, `agreeable`, ...).
    pub styles: BTreeMap<String, String>,
}

/// A template directory that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("prompt templates in {dir}: {reason}")]
pub struct TemplateError {
    dir: String,
    reason: String,
}

impl PromptTemplates {
    /// The templates shipped in `config/prompts/`, compiled in.
    pub fn builtin() -> Self {
        Self::parse(
            include_str!("../../../config/prompts/system.txt"),
            include_str!("../../../config/prompts/user.txt"),
            include_str!("../../../config/prompts/optimizer_soft.txt"),
            include_str!("../../../config/prompts/optimizer_hard.txt"),
            include_str!("../../../config/prompts/example.json"),
            include_str!("../../../config/prompts/styles.json"),
        )
        .unwrap_or_else(|e| panic!("built-in prompt templates are broken: {e}"))
    }

    /// Loads the six template files from `dir` (the layout of `config/prompts/`).
    pub fn load(dir: &Path) -> Result<Self, TemplateError> {
        let err = |reason: String| TemplateError {
            dir: dir.display().to_string(),
            reason,
        };
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).map_err(|e| err(format!("{name}: {e}")))
        };
        Self::parse(
            &read("system.txt")?,
            &read("user.txt")?,
            &read("optimizer_soft.txt")?,
            &read("optimizer_hard.txt")?,
            &read("example.json")?,
            &read("styles.json")?,
        )
        .map_err(err)
    }

    fn parse(
        system: &str,
        user: &str,
        soft: &str,
        hard: &str,
        example: &str,
        styles: &str,
    ) -> Result<Self, String> {
        let example: serde_json::Value =
            serde_json::from_str(example).map_err(|e| format!("example.json: {e}"))?;
        let styles: BTreeMap<String, String> =
            serde_json::from_str(styles).map_err(|e| format!("styles.json: {e}"))?;
        for p in ["normal", "agreeable", "disagreeable", "vulnerable", "toxic"] {
            if !styles.contains_key(p) {
                return Err(format!("styles.json has no {p:?} style"));
            }
        }
        Ok(Self {
            system: system.trim_end().to_owned(),
            user: user.trim_end().to_owned(),
            optimizer_soft: soft.trim_end().to_owned(),
            optimizer_hard: hard.trim_end().to_owned(),
            example: example.to_string(),
            styles,
        })
    }
}

/// Fills `{name}` placeholders in one pass over `template` (a brace pair naming no value is
/// kept as it is). One pass, not one `replace` per value: a round renders a prompt per agent,
/// 10,000 of them in the benchmark.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let extra: usize = values.iter().map(|(_, v)| v.len()).sum();
    let mut out = String::with_capacity(template.len() + extra);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (v, close))
        });
        match value {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The shape an answer must take. Backends that can constrain decoding use it (a GBNF grammar
/// in the local backend, `response_format` on OpenAI-compatible servers that support it); the
/// prompt text says it too, for those that cannot.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnswerFormat {
    /// An agent's intent: `{"value": <number within the context's bounds>, "reasoning": "..."}`.
    #[default]
    Intent,
    /// One JSON object matching `schema` (JSON Schema), named `name` for `response_format`;
    /// `grammar` is the same shape as GBNF for grammar-constrained local decoding.
    Json {
        /// Schema name (`[a-zA-Z0-9_-]`, as OpenAI's `json_schema.name` requires).
        name: String,
        /// The JSON Schema of the answer.
        schema: serde_json::Value,
        /// The same shape as a GBNF grammar (root rule `root`).
        grammar: String,
    },
    /// Free text.
    Text,
    /// Free text within a GBNF grammar for local decoding (MAESTRO's message to an agent:
    /// prose without digits, so the numbers can only come from the placeholders code fills);
    /// servers without grammars get the instruction in the prompt only.
    Prose {
        /// The grammar (root rule `root`).
        grammar: String,
        /// Tokens the answer may have at most (below the backend's own cap).
        max_tokens: u32,
    },
}

impl AnswerFormat {
    /// The JSON Schema of an intent answer.
    pub fn intent_schema() -> serde_json::Value {
        serde_json::json!({
            "type": "object",
            "properties": {
                "value": {"type": "number"},
                "reasoning": {"type": "string"}
            },
            "required": ["value", "reasoning"],
            "additionalProperties": false
        })
    }
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
    /// The shape the answer must take.
    pub format: AnswerFormat,
}

impl Prompt {
    /// Renders the chat prompt for an agent with the built-in templates.
    pub fn render(topic: &str, context: AgentContext) -> Self {
        thread_local! {
            static BUILTIN: PromptTemplates = PromptTemplates::builtin();
        }
        BUILTIN.with(|t| Self::render_with(t, topic, context))
    }

    /// Renders the chat prompt for an agent with `templates`.
    pub fn render_with(templates: &PromptTemplates, topic: &str, context: AgentContext) -> Self {
        let style_key = match context.personality {
            Personality::Normal => "normal",
            Personality::Agreeable => "agreeable",
            Personality::Disagreeable => "disagreeable",
            Personality::Vulnerable => "vulnerable",
            Personality::Toxic => "toxic",
        };
        let system = fill(
            &templates.system,
            &[
                ("topic", topic.to_owned()),
                (
                    "style",
                    templates.styles.get(style_key).cloned().unwrap_or_default(),
                ),
                ("example", templates.example.clone()),
            ],
        );
        let advice = format!("{:.2}", context.optimizer_suggestion_mbps);
        let optimizer = match context.pressure {
            PressureMode::None => String::new(),
            PressureMode::Soft => fill(&templates.optimizer_soft, &[("advice", advice)]) + "\n",
            PressureMode::Hard => fill(&templates.optimizer_hard, &[("advice", advice)]) + "\n",
        };
        let line = |o: Option<String>| o.map(|t| t + "\n").unwrap_or_default();
        let user = fill(
            &templates.user,
            &[
                ("round", context.round.to_string()),
                ("intent", context.business_intent.clone()),
                ("target", format!("{:.2}", context.own_target_mbps)),
                ("min", format!("{:.2}", context.bounds.min_mbps)),
                ("max", format!("{:.2}", context.bounds.max_mbps)),
                (
                    "citations",
                    if context.citations.is_empty() {
                        String::new()
                    } else {
                        format!(" (per {})", context.citations.join("; "))
                    },
                ),
                (
                    "previous",
                    line(
                        context
                            .previous_value_mbps
                            .map(|p| format!("Your last demand: {p:.2} Mbps.")),
                    ),
                ),
                ("passages", regulatory::render_passages(&context.passages)),
                ("peers", peers::render(&context.peers)),
                (
                    "feedback",
                    line(match &context.mediator_message {
                        Some(message) => Some(format!("MAESTRO to you: {message}")),
                        None => context
                            .feedback
                            .as_ref()
                            .map(|f| format!("MAESTRO's feedback: {}", f.summary)),
                    }),
                ),
                (
                    "warning",
                    line(context.warning.as_ref().map(|w| format!("Warning: {w}"))),
                ),
                ("optimizer", optimizer),
                (
                    "correction",
                    line(context.correction.as_ref().map(|c| {
                        format!(
                            "Your previous answer could not be used ({c}). Answer with the \
                             JSON object only."
                        )
                    })),
                ),
            ],
        );
        Self {
            system,
            user,
            context,
            format: AnswerFormat::Intent,
        }
    }

    /// The same prompt with a note telling the agent why its answer could not be used.
    pub fn with_correction(&self, why: &str) -> Self {
        let mut next = self.clone();
        next.context.correction = Some(why.to_owned());
        next.user.push_str(&format!(
            "\nYour previous answer could not be used ({why}). Answer with the JSON object only."
        ));
        next
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
    /// Completes every prompt of a round: one future per prompt, in order, each resolving on
    /// its own (a slow answer does not hold back the others). The default calls
    /// [`Self::complete`] per prompt; a backend that decodes several sequences at once (the
    /// local GGUF backend) submits them together here.
    fn complete_batch<'a>(&'a self, prompts: &'a [Prompt]) -> Vec<LlmFuture<'a>> {
        prompts.iter().map(|p| self.complete(p)).collect()
    }
    /// Requests and tokens used so far, for backends that count them (recorded in the
    /// negotiation outcome and its transcript).
    fn usage(&self) -> Option<LlmUsage> {
        None
    }
}

/// What a backend has used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LlmUsage {
    /// HTTP requests, retries included.
    pub requests: u64,
    /// Retried attempts.
    pub retries: u64,
    /// Calls that ended in an error.
    pub failures: u64,
    /// Prompt tokens, as the server counted them.
    pub prompt_tokens: u64,
    /// Completion tokens, as the server counted them.
    pub completion_tokens: u64,
    /// Times the backend stepped its structured-output form down because the server refused
    /// it (the OpenAI-compatible backend: `json_schema` -> `json_object` -> none).
    #[serde(default)]
    pub structured_downgrades: u64,
}

impl LlmUsage {
    /// What was used between `earlier` and `self`.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            requests: self.requests.saturating_sub(earlier.requests),
            retries: self.retries.saturating_sub(earlier.retries),
            failures: self.failures.saturating_sub(earlier.failures),
            prompt_tokens: self.prompt_tokens.saturating_sub(earlier.prompt_tokens),
            completion_tokens: self
                .completion_tokens
                .saturating_sub(earlier.completion_tokens),
            structured_downgrades: self
                .structured_downgrades
                .saturating_sub(earlier.structured_downgrades),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn placeholders_are_filled_once_and_values_are_not_rescanned() {
        let values = [("a", "x{b}y".to_owned()), ("b", "B".to_owned())];
        assert_eq!(fill("<{a}|{b}|{c}|{>", &values), "<x{b}y|B|{c}|{>");
        assert_eq!(fill("{\"value\": 1}", &values), "{\"value\": 1}");
        assert_eq!(fill("", &values), "");
    }
}
