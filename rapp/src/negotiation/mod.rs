//! The MAESTRO negotiation: business-operator agents state service intents in rounds, the
//! MAESTRO mediator answers with feedback, until consensus (spread below epsilon) or the round
//! cap. Each agent is grounded by the paper's optimizer; its words come from an LLM backend
//! (here the built-in persona negotiator) and go through the extraction unit like any LLM's.
//!
//! - [`intent`]: the service intent message.
//! - [`llm`]: the LLM backend seam and the prompt.
//! - [`extraction`]: LLM text -> `{value, reasoning}`.
//! - [`optimizer`]: `x_i(k+1) = x_i(k) - eta (grad U_i + grad U_0)`.
//! - [`persona`]: the built-in persona negotiator (an offline stand-in for an LLM).
//! - [`mediator`]: MAESTRO's feedback and consensus test.
//! - [`engine`]: the rounds.

pub mod engine;
pub mod extraction;
pub mod intent;
pub mod llm;
pub mod mediator;
pub mod optimizer;
pub mod persona;

pub use engine::{
    negotiate, AgentSpec, Bounds, NegotiationConfig, NegotiationError, NegotiationOutcome,
    RoundRecord,
};
pub use intent::ServiceIntent;
pub use llm::{AgentContext, LanguageModel, LlmError, Prompt};
pub use mediator::Feedback;
pub use persona::{PersonaNegotiator, Personality};
