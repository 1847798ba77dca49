//! E2 backends: how the xApp reaches the RAN. One trait, several implementations:
//! the built-in emulated gNB ([`emulator`]) now, FlexRIC through `maestro-ffi` later.
//!
//! A backend publishes one [`CellMeasurement`] per report period (what E2SM-KPM indications and
//! FlexRIC's MAC stats carry) and applies [`SlicePrbQuotaControl`]s (E2SM-RC style 2, action 6).

pub mod emulator;
pub mod wire;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use maestro_e2sm::rc::{ControlOutcome, RrmPolicyMember, SlicePrbQuotaControl};
use maestro_e2sm::report::CellMeasurement;
use tokio::sync::broadcast;

use crate::nr::CellConfig;

/// A boxed, sendable future (keeps [`E2Backend`] object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// E2 failures.
#[derive(Debug, thiserror::Error)]
pub enum E2Error {
    /// The E2 node is not reachable.
    #[error("E2 node unreachable: {0}")]
    Unreachable(String),
    /// The control is malformed (e.g. ratios out of order).
    #[error("invalid control: {0}")]
    InvalidControl(String),
}

/// An E2 node the xApp controls.
pub trait E2Backend: Send + Sync {
    /// Backend name for logs and `/readyz`.
    fn name(&self) -> &'static str;
    /// The cell it serves.
    fn cell(&self) -> &CellConfig;
    /// The slices it serves (S-NSSAI + PLMN).
    fn slices(&self) -> &[RrmPolicyMember];
    /// Subscribes to per-period measurements.
    fn subscribe(&self) -> broadcast::Receiver<Arc<CellMeasurement>>;
    /// Sends a slice PRB quota control and waits for its outcome.
    fn control(
        &self,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>>;
}
