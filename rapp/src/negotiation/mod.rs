//! The MAESTRO negotiation: business-operator agents state service intents in rounds, the
//! MAESTRO mediator answers with feedback, until consensus (spread below epsilon) or the round
//! cap. Each agent is grounded by the paper's optimizer; its words come from an LLM backend
//! (here the built-in persona negotiator) and go through the extraction unit like any LLM's.
//!
//! - [`vocabulary`]: the shared plain types (bounds, personality, pressure mode).
//! - [`intent`]: the service intent message.
//! - [`llm`]: the LLM backend seam and the prompt.
//! - [`extraction`]: LLM text -> `{value, reasoning}`.
//! - [`optimizer`]: `x_i(k+1) = x_i(k) - eta (grad U_i + grad U_0)`.
//! - [`local`]: in-process GGUF model (llama.cpp, feature `local-llm`), grammar-constrained,
//!   the agents of a round decoded together.
//! - [`openai`]: OpenAI-compatible chat-completions backend (OpenAI, vLLM, Ollama, llama.cpp).
//! - [`peers`]: what an agent hears of the others (quoted as data, bounded per agent).
//! - [`persona`]: the built-in persona negotiator (an offline stand-in for an LLM).
//! - [`mediator`]: MAESTRO's feedback and consensus test.
//! - [`utility`]: the parties' utilities; [`theory`]: the optimal consensus, computed apart.
//! - [`regulatory`], [`capacity`] (observability), [`arbitral`], [`validation`]: the
//!   contextual units.
//! - [`voice`]: MAESTRO's per-agent message written by an LLM, numbers filled in by code.
//! - [`engine`]: the rounds.

pub mod arbitral;
pub mod capacity;
pub mod engine;
pub mod extraction;
pub mod intent;
pub mod llm;
pub mod local;
pub mod mediator;
pub mod openai;
pub mod optimizer;
pub mod peers;
pub mod persona;
pub mod regulatory;
pub mod retrieval;
pub mod theory;
pub mod utility;
pub mod validation;
pub mod vocabulary;
pub mod voice;

pub use engine::{
    negotiate, negotiate_with, AgentSpec, AgentTurn, Bounds, NegotiationConfig, NegotiationError,
    NegotiationOutcome, RoundRecord, StopReason, Units,
};
pub use intent::ServiceIntent;
pub use llm::{AgentContext, AnswerFormat, LanguageModel, LlmError, LlmUsage, Prompt};
pub use mediator::Feedback;
pub use persona::{PersonaNegotiator, Personality};
pub use validation::PressureMode;
