//! What can go wrong in a timeline: the scenario, the KPI stream, A1, a negotiation, the LLM
//! backend, storing a transcript, writing an output.

use crate::a1::A1ClientError;
use crate::kpi_client::KpiClientError;
use crate::negotiation::{LlmError, NegotiationError};
use crate::transcript::TranscriptError;

/// Timeline failures.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    /// The scenario is unusable.
    #[error("scenario {path}: {reason}")]
    Scenario {
        /// File.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// KPI stream trouble.
    #[error(transparent)]
    Kpi(#[from] KpiClientError),
    /// The KPI stream ended early.
    #[error("the KPI stream ended at {0} ms of the gNB's clock, before the timeline did")]
    StreamEnded(u64),
    /// A1 trouble.
    #[error(transparent)]
    A1(#[from] A1ClientError),
    /// A negotiation could not run.
    #[error(transparent)]
    Negotiation(#[from] NegotiationError),
    /// The LLM backend could not be set up.
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// A transcript could not be stored.
    #[error(transparent)]
    Transcript(#[from] TranscriptError),
    /// An output could not be written.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// File.
        path: String,
        /// What went wrong.
        reason: String,
    },
}
