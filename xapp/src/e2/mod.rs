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
//! A backend publishes one [`CellMeasurement`] per cell and report period (what E2SM-KPM
//! indications and FlexRIC's MAC stats carry; `cell_id` says which cell) and applies
//! [`SlicePrbQuotaControl`]s (E2SM-RC style 2, action 6) to the node serving a cell
//! ([`E2Backend::control_cell`]). A backend may serve many cells, each its own E2 node (as
//! FlexRIC's agents are one node each), and cells may appear at run time (their first report)
//! or stop reporting. The emulator serves N cells, FlexRIC every node its RIC lists, the
//! bridge what its child serves. A backend in the process is wrapped by [`idle`]: a cell
//! whose node is connected but silent (no UE) is reported empty, not lost.

pub mod bridge;
pub mod config;
pub mod emulator;
#[cfg(feature = "flexric")]
pub mod flexric;
pub mod flexric_config;
pub mod idle;
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

/// A cell a backend serves: its carrier and its slices, in the order of its reports.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedCell {
    /// The cell's carrier (numerology, PRBs) the controller's tables need.
    pub carrier: CellConfig,
    /// The slices it serves (S-NSSAI + PLMN).
    pub slices: Vec<RrmPolicyMember>,
}

/// A subscription to `reports`, or, when the stream has ended (`None`), a receiver that
/// reports `Closed` at once: how a backend whose E2 side is lost answers `subscribe`.
pub(crate) fn subscribe_or_ended(
    reports: Option<&broadcast::Sender<Arc<CellMeasurement>>>,
) -> broadcast::Receiver<Arc<CellMeasurement>> {
    match reports {
        Some(tx) => tx.subscribe(),
        None => broadcast::channel(1).1,
    }
}

/// The E2 nodes the xApp controls: one (FlexRIC, the bridge, test doubles) or many (the
/// emulator with `cells`), each serving one cell.
pub trait E2Backend: Send + Sync {
    /// Backend name for logs and `/readyz`.
    fn name(&self) -> &'static str;
    /// The carrier of its first cell (a single-cell backend: its only one).
    fn cell(&self) -> &CellConfig;
    /// The slices (S-NSSAI + PLMN) its cells served at start-up (a single-cell backend: its
    /// cell's).
    fn slices(&self) -> &[RrmPolicyMember];
    /// The cell whose reports carry `cell_id`, if the backend serves it (it may have appeared
    /// since start-up). Default, for single-cell backends: their one cell, whatever the id.
    fn served_cell(&self, cell_id: &str) -> Option<ServedCell> {
        let _ = cell_id;
        Some(ServedCell {
            carrier: self.cell().clone(),
            slices: self.slices().to_vec(),
        })
    }
    /// The ids of the cells it serves that are known before their first report (the
    /// emulator's configured cells). Default: none; a cell is known from its first report.
    fn cell_ids(&self) -> Vec<String> {
        Vec::new()
    }
    /// Sends a slice PRB quota control to the E2 node serving `cell_id` and waits for its
    /// outcome. Default, for single-cell backends: [`E2Backend::control`].
    fn control_cell(
        &self,
        cell_id: &str,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        let _ = cell_id;
        self.control(control)
    }
    /// The cells whose E2 node is connected right now, when the backend can tell (FlexRIC:
    /// the RIC lists the node; the emulator: its link is up). Such a cell that sends nothing
    /// is idle (no UE), not lost ([`idle`]). Default: cannot tell, silence means lost.
    fn listed_cells(&self) -> Option<Vec<String>> {
        None
    }
    /// The E2 nodes behind this backend and their RAN functions (logged at start-up).
    fn nodes(&self) -> Vec<E2NodeInfo> {
        Vec::new()
    }
    /// Subscribes to per-period measurements.
    fn subscribe(&self) -> broadcast::Receiver<Arc<CellMeasurement>>;
    /// Sends a slice PRB quota control to its first cell's node and waits for its outcome.
    fn control(
        &self,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>>;
}
