//! E2 backends: how the xApp reaches the RAN. One trait, [`E2Backend`], what implements it,
//! and the one place that picks one:
//!
//! - the built-in emulated gNB ([`emulator`]), in process, speaking E2SM-RC and E2SM-KPM
//!   bytes at its boundary ([`wire`]);
//! - the supervised E2 bridge ([`bridge`]): a child process `maestro e2-bridge` running
//!   either the emulated gNB or FlexRIC's xApp library (`flexric`, feature `flexric`, through
//!   `maestro-ffi`; configured by [`flexric_config`]), so that FlexRIC aborting its process
//!   never takes down the process serving A1;
//! - the choice: [`NodeKind`] names the three nodes (`--e2 emulator|flexric|bridge-emulator`),
//!   [`E2Config`] is the configured one and its settings, and [`start()`] starts the backend it
//!   describes, in the xApp or in the bridge child ([`Host`]).
//!
//! A backend publishes one [`CellMeasurement`] per report period (what E2SM-KPM indications and
//! FlexRIC's MAC stats carry) and applies [`SlicePrbQuotaControl`]s (E2SM-RC style 2, action 6).

pub mod bridge;
pub mod config;
pub mod emulator;
#[cfg(feature = "flexric")]
pub mod flexric;
pub mod flexric_config;
pub mod node_kind;
pub mod start;
pub mod wire;

pub use config::E2Config;
pub use node_kind::NodeKind;
pub use start::{start, Host, StartError, StartedE2, FLEXRIC_BUILT};

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

/// A RAN function an E2 node offers (E2AP v2.03 clause 9.2.23, RAN Function Definition; the
/// OID names the service model, e.g. `1.3.6.1.4.1.53148.1.1.2.3` for E2SM-RC).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RanFunctionInfo {
    /// RAN function id (E2AP clause 9.2.8), e.g. 2 (KPM), 3 (RC), 142 (FlexRIC MAC stats).
    pub id: u16,
    /// Service model OID.
    pub oid: String,
    /// RAN function revision (E2AP clause 9.2.10).
    pub revision: u16,
    /// Short name, e.g. `ORAN-E2SM-KPM` or `MAC_STATS_V0`.
    pub name: String,
}

/// An E2 node as the backend sees it: its id and what it offers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct E2NodeInfo {
    /// Global E2 node id as text (PLMN, node type and id), e.g. `gnb-001-01-3584`.
    pub node_id: String,
    /// The RAN functions it announced in E2 SETUP.
    pub ran_functions: Vec<RanFunctionInfo>,
}

/// An E2 node the xApp controls.
pub trait E2Backend: Send + Sync {
    /// Backend name for logs and `/readyz`.
    fn name(&self) -> &'static str;
    /// The cell it serves.
    fn cell(&self) -> &CellConfig;
    /// The slices it serves (S-NSSAI + PLMN).
    fn slices(&self) -> &[RrmPolicyMember];
    /// The E2 nodes behind this backend and their RAN functions (logged at start-up).
    fn nodes(&self) -> Vec<E2NodeInfo> {
        Vec::new()
    }
    /// Subscribes to per-period measurements.
    fn subscribe(&self) -> broadcast::Receiver<Arc<CellMeasurement>>;
    /// Sends a slice PRB quota control and waits for its outcome.
    fn control(
        &self,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>>;
}
