//! The built-in emulated gNB: NR cells (one by default; `cells` or `cell_count` for more, each
//! its own E2 node, see [`EmulatorConfig::cell_configs`]) with slices and UEs, per-UE CQI from a vehicular
//! model or a drive trace, a MAC scheduler that honours the slice PRB quotas, and a clock that
//! runs in real time or faster (simulated). It stands in for an OAI gNB behind FlexRIC.
//!
//! Its E2 boundary speaks the real service models ([`super::wire`]): every control arrives as
//! E2SM-RC APER bytes in the configured RAN-parameter dialect and is decoded by the node's
//! agent before it is applied; every period's report leaves as E2SM-KPM APER indications of
//! the configured version (`kpm_version`, v03.00 by default, or v02.03) that the xApp side
//! decodes with the version it reads from the KPM RAN function OID the node announces
//! ([`E2Backend::nodes`]). A control the agent cannot read is answered as a RIC CONTROL
//! FAILURE with the decoder's reason.
//!
//! Fault injection: [`EmulatedGnb::link_fault`] hands out a [`LinkFault`] that drops and
//! restores the E2 link. While it is down the cell keeps running but no report reaches the
//! xApp and every control fails as unreachable (E2AP v2.03 clause 8.3: a RIC CONTROL needs
//! the E2 connection; with the SCTP association gone there is no answer).

pub mod cell;
pub mod cqi;
pub mod scheduler;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use maestro_api::shard::Shard;
use maestro_e2sm::kpm::KpmVersion;
use maestro_e2sm::rc::{
    ControlOutcome, LeafEncoding, RanParamDialect, RrmPolicyMember, SlicePrbQuotaControl,
};
use maestro_e2sm::report::CellMeasurement;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use self::cell::EmulatedCell;
use super::{wire, BoxFuture, E2Backend, E2Error, E2NodeInfo, RanFunctionInfo, ServedCell};
use crate::nr::CellConfig;

/// How the emulated gNB's clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Clock {
    /// One emulated second per wall second.
    Realtime,
    /// `speedup` emulated seconds per wall second.
    Simulated {
        /// Emulated seconds per wall second (> 0).
        speedup: f64,
    },
}

/// Where UE CQIs come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum CqiSource {
    /// Synthetic vehicular model (each UE a car on a road past the gNB).
    Vehicular,
    /// A drive trace CSV (UCC 5G dataset columns), each UE replaying it from its own offset.
    Trace {
        /// CSV path.
        path: PathBuf,
    },
}

/// A slice of the emulated cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmulatedSlice {
    /// PLMN + S-NSSAI.
    pub member: RrmPolicyMember,
    /// Number of UEs attached to it.
    pub ues: u32,
}

/// Configuration of the emulated gNB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmulatorConfig {
    /// NR cell id (for reports).
    pub cell_id: String,
    /// Carrier.
    pub cell: CellConfig,
    /// Slices and their UEs.
    pub slices: Vec<EmulatedSlice>,
    /// Report period, ms (the MAC stats / KPM report period).
    pub period_ms: u64,
    /// Clock.
    pub clock: Clock,
    /// CQI source.
    pub cqi: CqiSource,
    /// Seed of the synthetic CQI models and of the fast fading.
    pub seed: u64,
    /// Per-slot fast fading around the wide-band CQI (PF then gains from multi-user
    /// diversity, which the xApp's closed loop must learn).
    #[serde(default = "default_fast_fading")]
    pub fast_fading: bool,
    /// RAN parameter IDs the node's E2SM-RC agent expects (`oran`: the O-RAN table, default;
    /// `oai`: OAI/FlexRIC's 1..12 numbering).
    #[serde(default)]
    pub rc_dialect: RanParamDialect,
    /// Form of the PLMN/SST/SD leaves in the controls sent to this node (`binary` or
    /// `ascii`; absent: the dialect's default, binary for `oran`, ASCII for `oai`). The node
    /// reads either form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rc_leaf_encoding: Option<LeafEncoding>,
    /// E2SM-KPM version of the node's KPM RAN function (`v03.00`, default, or `v02.03`; also
    /// `3.00`, `2.03`): its announced OID and the encoding of its indication headers.
    #[serde(default)]
    pub kpm_version: KpmVersion,
    /// Many cells, each its own E2 node: the list of cells (absent or empty: the one cell
    /// above). A field a cell leaves out is taken from above (its seed: `seed` + its index).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<CellSpec>,
    /// Many cells by count (instead of `cells`): cell `k` (from 0) has the NR cell identity
    /// of `cell_id` plus `k` and the seed `seed` + `k`, everything else from above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_count: Option<u32>,
    /// Acknowledge every PRB quota control but keep scheduling with the quotas in force
    /// before it, as upstream OAI's FlexRIC SLICE SM does (it only prints the control); the
    /// reports still carry the quota asked for, as the FlexRIC bridge reports it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_controls: bool,
    /// Send no report in a period in which the cell has no UE, as OAI's MAC SM sends no
    /// indication while no UE is attached. The node stays connected, so the xApp fills the
    /// silence with empty reports (`e2::idle`) instead of calling the link lost.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub silent_without_ues: bool,
}

/// One cell of a many-cell emulator (`cells`); what it leaves out comes from the top level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellSpec {
    /// NR cell id, as the top-level `cell_id` (e.g. `001-01-0000000002`).
    pub cell_id: String,
    /// Seed of its CQI models and fading (default: the top-level `seed` + its index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Its CQI source (default: the top-level `cqi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cqi: Option<CqiSource>,
    /// Its slices and UEs (default: the top-level `slices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slices: Option<Vec<EmulatedSlice>>,
}

fn default_fast_fading() -> bool {
    true
}

impl Default for EmulatorConfig {
    /// 40 MHz / 30 kHz / 106 PRB cell, slices sst 1 sd 000001 and 000002 of PLMN 001-01 with
    /// three UEs each, 100 ms reports, real time, vehicular CQI.
    fn default() -> Self {
        let member = |sd| RrmPolicyMember {
            mcc: "001".into(),
            mnc: "01".into(),
            sst: 1,
            sd: Some(sd),
        };
        Self {
            cell_id: "001-01-0000000001".into(),
            cell: CellConfig::oai_40mhz(),
            slices: vec![
                EmulatedSlice {
                    member: member(1),
                    ues: 3,
                },
                EmulatedSlice {
                    member: member(2),
                    ues: 3,
                },
            ],
            period_ms: 100,
            clock: Clock::Realtime,
            cqi: CqiSource::Vehicular,
            seed: 1,
            fast_fading: true,
            rc_dialect: RanParamDialect::default(),
            rc_leaf_encoding: None,
            kpm_version: KpmVersion::default(),
            cells: Vec::new(),
            cell_count: None,
            ignore_controls: false,
            silent_without_ues: false,
        }
    }
}

impl EmulatorConfig {
    /// The configuration of each emulated cell, each a one-cell config (no `cells`, no
    /// `cell_count`): the top level alone by default (today's one cell, unchanged), else
    /// one per entry of `cells`, or `cell_count` cells numbered from `cell_id`.
    pub fn cell_configs(&self) -> Result<Vec<EmulatorConfig>, EmulatorError> {
        let base = EmulatorConfig {
            cells: Vec::new(),
            cell_count: None,
            ..self.clone()
        };
        let configs: Vec<EmulatorConfig> = match (&self.cells[..], self.cell_count) {
            ([], None) => vec![base],
            ([_, ..], Some(_)) => {
                return Err(EmulatorError::Config(
                    "give either `cells` or `cell_count`, not both".into(),
                ))
            }
            ([], Some(0)) => return Err(EmulatorError::Config("`cell_count` must be >= 1".into())),
            ([], Some(n)) => (0..u64::from(n))
                .map(|k| {
                    Ok(EmulatorConfig {
                        cell_id: nth_cell_id(&self.cell_id, k)?,
                        seed: self.seed.wrapping_add(k),
                        ..base.clone()
                    })
                })
                .collect::<Result<_, EmulatorError>>()?,
            (cells, _) => cells
                .iter()
                .zip(0u64..)
                .map(|(c, k)| EmulatorConfig {
                    cell_id: c.cell_id.clone(),
                    seed: c.seed.unwrap_or(self.seed.wrapping_add(k)),
                    cqi: c.cqi.clone().unwrap_or_else(|| self.cqi.clone()),
                    slices: c.slices.clone().unwrap_or_else(|| self.slices.clone()),
                    ..base.clone()
                })
                .collect(),
        };
        for (i, c) in configs.iter().enumerate() {
            if configs[..i].iter().any(|o| o.cell_id == c.cell_id) {
                return Err(EmulatorError::Config(format!(
                    "cell {} is configured twice",
                    c.cell_id
                )));
            }
            c.validate()?;
        }
        Ok(configs)
    }

    /// Checks the carrier, slices, period and clock.
    pub fn validate(&self) -> Result<(), EmulatorError> {
        self.cell
            .validate()
            .map_err(|e| EmulatorError::Config(e.to_string()))?;
        if self.slices.is_empty() {
            return Err(EmulatorError::Config("at least one slice is needed".into()));
        }
        if self.period_ms == 0 {
            return Err(EmulatorError::Config("report period must be > 0 ms".into()));
        }
        let slots = u64::from(self.cell.slots_per_second()) * self.period_ms;
        if !slots.is_multiple_of(1000) {
            return Err(EmulatorError::Config(format!(
                "report period {} ms is not a whole number of slots",
                self.period_ms
            )));
        }
        if let Clock::Simulated { speedup } = self.clock {
            if !(speedup.is_finite() && speedup > 0.0) {
                return Err(EmulatorError::Config(format!(
                    "simulated clock speedup must be > 0, got {speedup}"
                )));
            }
        }
        Ok(())
    }
}

/// The id of cell `k` numbered from `first`: its trailing NR cell identity digits (hex, as
/// in `001-01-0000000001`) plus `k`, same width.
fn nth_cell_id(first: &str, k: u64) -> Result<String, EmulatorError> {
    let digits = first
        .rsplit('-')
        .next()
        .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| {
            EmulatorError::Config(format!(
                "`cell_count` needs a cell_id ending in hex digits, got {first:?}"
            ))
        })?;
    let prefix = &first[..first.len() - digits.len()];
    let nci = u64::from_str_radix(digits, 16)
        .ok()
        .and_then(|n| n.checked_add(k))
        .ok_or_else(|| EmulatorError::Config(format!("cell id {first:?} + {k} overflows")))?;
    Ok(format!("{prefix}{nci:0width$x}", width = digits.len()))
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// Bad configuration.
    #[error("emulated gNB: {0}")]
    Config(String),
    /// The CQI trace is unusable.
    #[error(transparent)]
    Trace(#[from] cqi::TraceError),
}

/// Mutable state shared by the tick task and the control path.
struct State {
    /// Max PRB ratio per slice the scheduler applies, from the last control (None: no
    /// control yet).
    max_ratio: Vec<Option<u8>>,
    /// Max PRB ratio per slice the last control asked for (= `max_ratio` unless the node
    /// ignores controls).
    asked_ratio: Vec<Option<u8>>,
}

/// A fault-injection handle on an emulated gNB's E2 link (clones share the link).
#[derive(Debug, Clone, Default)]
pub struct LinkFault {
    down: Arc<AtomicBool>,
    dropped_reports: Arc<AtomicU64>,
    refused_controls: Arc<AtomicU64>,
}

impl LinkFault {
    /// Drops the link: reports stop reaching the xApp, controls fail as unreachable.
    pub fn drop_link(&self) {
        self.down.store(true, Ordering::SeqCst);
    }

    /// Restores the link: the next period's report reaches the xApp again.
    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }

    /// Whether the link is down.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    /// Reports the cell produced while the link was down (never delivered).
    pub fn dropped_reports(&self) -> u64 {
        self.dropped_reports.load(Ordering::SeqCst)
    }

    /// Controls refused while the link was down.
    pub fn refused_controls(&self) -> u64 {
        self.refused_controls.load(Ordering::SeqCst)
    }
}

/// RAN function ID of the emulated node's E2SM-KPM function (FlexRIC's agents use 2).
pub const KPM_RAN_FUNCTION_ID: u16 = 2;
/// RAN function ID of its E2SM-RC function (FlexRIC's agents use 3).
pub const RC_RAN_FUNCTION_ID: u16 = 3;
/// E2SM-RC v1.03 RAN function OID.
const RC_OID: &str = "1.3.6.1.4.1.53148.1.1.2.3";

/// The E2 node the emulator stands for, as it would announce itself in E2 SETUP (E2AP
/// clause 9.2.23): its KPM function with the OID of the configured version, and RC.
fn announced_node(config: &EmulatorConfig) -> E2NodeInfo {
    E2NodeInfo {
        node_id: format!("gnb-{}", config.cell_id),
        ran_functions: vec![
            RanFunctionInfo {
                id: KPM_RAN_FUNCTION_ID,
                oid: config.kpm_version.oid().into(),
                revision: 1,
                name: wire::KPM_RAN_FUNCTION_NAME.into(),
            },
            RanFunctionInfo {
                id: RC_RAN_FUNCTION_ID,
                oid: RC_OID.into(),
                revision: 1,
                name: "ORAN-E2SM-RC".into(),
            },
        ],
    }
}

/// The two ends of the KPM wire: the version the node encodes (its configuration) and the
/// one the xApp decodes (read from the node's announced OID).
#[derive(Debug, Clone, Copy)]
struct KpmLink {
    node: KpmVersion,
    xapp: KpmVersion,
}

/// One emulated cell and its E2 node: its agent's state, its link and its clock task.
struct EmulatedNode {
    config: EmulatorConfig,
    node: E2NodeInfo,
    members: Vec<RrmPolicyMember>,
    state: Arc<Mutex<State>>,
    link: LinkFault,
    task: JoinHandle<()>,
}

impl Drop for EmulatedNode {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EmulatedNode {
    /// Starts one cell's clock, its reports going to `reports` (a one-cell config).
    fn start(
        config: EmulatorConfig,
        reports: broadcast::Sender<Arc<CellMeasurement>>,
    ) -> Result<Self, EmulatorError> {
        let node = announced_node(&config);
        // What the xApp side does with a real node: the KPM version from the announced OID.
        let kpm = KpmLink {
            node: config.kpm_version,
            xapp: wire::kpm_version_of(&node.ran_functions)
                .map_err(|e| EmulatorError::Config(e.to_string()))?,
        };
        let cell = EmulatedCell::new(config.clone())?;
        let members = cell.members().to_vec();
        let state = Arc::new(Mutex::new(State {
            max_ratio: vec![None; members.len()],
            asked_ratio: vec![None; members.len()],
        }));
        let link = LinkFault::default();
        let task = tokio::spawn(run_cell(
            cell,
            Arc::clone(&state),
            reports,
            link.clone(),
            kpm,
        ));
        Ok(Self {
            config,
            node,
            members,
            state,
            link,
            task,
        })
    }

    /// The node's agent: decodes the control's E2SM-RC bytes and applies the quotas.
    fn control(&self, control: SlicePrbQuotaControl) -> Result<ControlOutcome, E2Error> {
        if self.link.is_down() {
            self.link.refused_controls.fetch_add(1, Ordering::SeqCst);
            return Err(E2Error::Unreachable(
                "E2 link to the emulated gNB is down (fault injected)".into(),
            ));
        }
        control
            .validate()
            .map_err(|e| E2Error::InvalidControl(e.to_string()))?;
        // xApp side encodes, the node's agent decodes: the control crosses E2 as RC bytes.
        let dialect = self.config.rc_dialect;
        let bytes = wire::encode_control(&control, dialect, self.config.rc_leaf_encoding)?;
        let control = match wire::decode_control(&bytes, dialect) {
            Ok(read) => read.control,
            Err(cause) => return Ok(ControlOutcome::Failed { cause }),
        };
        let mut updates = Vec::new();
        for group in &control.groups {
            match self.members.iter().position(|m| m == &group.member) {
                Some(i) => updates.push((i, group.max_prb_ratio)),
                None => {
                    return Ok(ControlOutcome::Failed {
                        cause: format!("unknown slice {:?}", group.member),
                    })
                }
            }
        }
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (i, ratio) in updates {
            state.asked_ratio[i] = Some(ratio);
            if !self.config.ignore_controls {
                state.max_ratio[i] = Some(ratio);
            }
        }
        Ok(ControlOutcome::Acknowledged)
    }
}

/// The running emulated gNB: its cells, each an E2 node, all reporting on one stream.
pub struct EmulatedGnb {
    /// The first cell (the one of a single-cell config), fixed for the gNB's life; none when
    /// its shard owns no configured cell.
    first: Option<Arc<EmulatedNode>>,
    /// The carrier of the first configured cell (the first running cell's, when one runs).
    carrier: CellConfig,
    /// Every cell by id, the first included; [`EmulatedGnb::add_cell`] adds to it.
    nodes: Mutex<Vec<Arc<EmulatedNode>>>,
    /// The slices the configured cells serve (union, first cell's order first): every
    /// configured cell's, those of other shards included, so that a slice policy means the
    /// same to every shard of the RAN.
    members: Vec<RrmPolicyMember>,
    reports: broadcast::Sender<Arc<CellMeasurement>>,
}

impl EmulatedGnb {
    /// Validates the config and starts each cell's clock (one cell by default).
    pub fn start(config: EmulatorConfig) -> Result<Arc<Self>, EmulatorError> {
        Self::start_shard(config, Shard::WHOLE)
    }

    /// Validates the config (every cell of it) and starts the clocks of the cells `shard`
    /// owns ([`Shard::owns`]); with none owned it runs no cell (and reports nothing).
    pub fn start_shard(config: EmulatorConfig, shard: Shard) -> Result<Arc<Self>, EmulatorError> {
        let configs = config.cell_configs()?;
        // Every cell may report in the same instant: room for a few periods of all of them.
        let (reports, _) = broadcast::channel(256.max(configs.len() * 4));
        let mut members: Vec<RrmPolicyMember> = Vec::new();
        for m in configs.iter().flat_map(|c| &c.slices).map(|s| &s.member) {
            if !members.contains(m) {
                members.push(m.clone());
            }
        }
        let mut nodes = Vec::new();
        for c in configs.into_iter().filter(|c| shard.owns(&c.cell_id)) {
            nodes.push(Arc::new(EmulatedNode::start(c, reports.clone())?));
        }
        let first = nodes.first().cloned();
        let carrier = first
            .as_ref()
            .map_or_else(|| config.cell.clone(), |n| n.config.cell.clone());
        Ok(Arc::new(Self {
            first,
            carrier,
            nodes: Mutex::new(nodes),
            members,
            reports,
        }))
    }

    /// Adds a cell at run time (a one-cell config; its `cell_id` must be new): it reports on
    /// the same stream from its first period on. Returns its link's fault handle.
    pub fn add_cell(&self, config: EmulatorConfig) -> Result<LinkFault, EmulatorError> {
        let mut configs = config.cell_configs()?;
        let (Some(config), true) = (configs.pop(), configs.is_empty()) else {
            return Err(EmulatorError::Config(
                "add one cell at a time (no `cells`, `cell_count` 1)".into(),
            ));
        };
        let mut nodes = self.lock_nodes();
        if nodes.iter().any(|n| n.config.cell_id == config.cell_id) {
            return Err(EmulatorError::Config(format!(
                "cell {} is already running",
                config.cell_id
            )));
        }
        let node = EmulatedNode::start(config, self.reports.clone())?;
        let link = node.link.clone();
        nodes.push(Arc::new(node));
        Ok(link)
    }

    /// The fault-injection handle on the first cell's E2 link (a handle on no link when no
    /// cell runs).
    pub fn link_fault(&self) -> LinkFault {
        self.first
            .as_ref()
            .map(|n| n.link.clone())
            .unwrap_or_default()
    }

    /// The fault-injection handle on the E2 link of the node serving `cell_id`.
    pub fn link_fault_of(&self, cell_id: &str) -> Option<LinkFault> {
        self.node(cell_id).map(|n| n.link.clone())
    }

    fn lock_nodes(&self) -> std::sync::MutexGuard<'_, Vec<Arc<EmulatedNode>>> {
        self.nodes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn node(&self, cell_id: &str) -> Option<Arc<EmulatedNode>> {
        self.lock_nodes()
            .iter()
            .find(|n| n.config.cell_id == cell_id)
            .cloned()
    }
}

/// The tick task: one period of the cell per tick of the (real or simulated) clock.
async fn run_cell(
    mut cell: EmulatedCell,
    state: Arc<Mutex<State>>,
    reports: broadcast::Sender<Arc<CellMeasurement>>,
    link: LinkFault,
    kpm: KpmLink,
) {
    let period_ms = cell.config().period_ms;
    let wall_period = match cell.config().clock {
        Clock::Realtime => Duration::from_millis(period_ms),
        Clock::Simulated { speedup } => {
            Duration::from_secs_f64(period_ms as f64 / 1000.0 / speedup)
        }
    };
    let mut ticker = tokio::time::interval(wall_period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let (max_ratio, asked_ratio) = {
            let s = state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            (s.max_ratio.clone(), s.asked_ratio.clone())
        };
        let mut report = cell.step(&max_ratio);
        if cell.config().ignore_controls {
            let asked = cell::quotas(report.n_prb, &asked_ratio);
            for (s, q) in report.slices.iter_mut().zip(asked) {
                s.prb_quota = q;
            }
        }
        if link.is_down() {
            link.dropped_reports.fetch_add(1, Ordering::SeqCst);
            continue;
        }
        if cell.config().silent_without_ues && report.slices.iter().all(|s| s.ues.is_empty()) {
            continue;
        }
        // Node side encodes, xApp side decodes: the report crosses E2 as KPM bytes, each
        // side with its own idea of the KPM version.
        match wire::encode_report(&report, kpm.node)
            .and_then(|ind| wire::decode_report(&ind, kpm.xapp))
        {
            // No subscriber is fine: the cell runs regardless.
            Ok(received) => {
                let _ = reports.send(Arc::new(received));
            }
            Err(e) => tracing::error!(sequence = report.sequence, "KPM report dropped: {e}"),
        }
    }
}

impl E2Backend for EmulatedGnb {
    fn name(&self) -> &'static str {
        "emulated-gnb"
    }

    fn cell(&self) -> &CellConfig {
        &self.carrier
    }

    fn slices(&self) -> &[RrmPolicyMember] {
        &self.members
    }

    fn served_cell(&self, cell_id: &str) -> Option<ServedCell> {
        self.node(cell_id).map(|n| ServedCell {
            carrier: n.config.cell.clone(),
            slices: n.members.clone(),
        })
    }

    fn nodes(&self) -> Vec<E2NodeInfo> {
        self.lock_nodes().iter().map(|n| n.node.clone()).collect()
    }

    /// The cells running, in the order they started.
    fn cell_ids(&self) -> Vec<String> {
        self.lock_nodes()
            .iter()
            .map(|n| n.config.cell_id.clone())
            .collect()
    }

    /// The cells whose E2 link is up (a link with a fault injected is not listed).
    fn listed_cells(&self) -> Option<Vec<String>> {
        Some(
            self.lock_nodes()
                .iter()
                .filter(|n| !n.link.is_down())
                .map(|n| n.config.cell_id.clone())
                .collect(),
        )
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<CellMeasurement>> {
        self.reports.subscribe()
    }

    fn control(
        &self,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        Box::pin(async move {
            match &self.first {
                Some(node) => node.control(control),
                None => Err(E2Error::Unreachable(
                    "this emulated gNB runs no cell (its shard owns none)".into(),
                )),
            }
        })
    }

    fn control_cell(
        &self,
        cell_id: &str,
        control: SlicePrbQuotaControl,
    ) -> BoxFuture<'_, Result<ControlOutcome, E2Error>> {
        let node = self.node(cell_id);
        let cell_id = cell_id.to_owned();
        Box::pin(async move {
            match node {
                Some(node) => node.control(control),
                None => Err(E2Error::Unreachable(format!(
                    "no emulated E2 node serves cell {cell_id}"
                ))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn control_changes_the_quota_in_the_next_report() {
        let config = EmulatorConfig {
            clock: Clock::Simulated { speedup: 100.0 },
            ..Default::default()
        };
        let gnb = EmulatedGnb::start(config).unwrap();
        let mut rx = gnb.subscribe();
        let first = rx.recv().await.unwrap();
        assert_eq!(first.slices[0].prb_quota, 53);
        let member = gnb.slices()[0].clone();
        let control = SlicePrbQuotaControl {
            groups: vec![maestro_e2sm::rc::RrmPolicyRatioGroup::new(member, 20, 20, 0).unwrap()],
        };
        assert_eq!(
            gnb.control(control).await.unwrap(),
            ControlOutcome::Acknowledged
        );
        // The tick after the control carries the new quota (21 PRBs = floor(20% of 106)).
        let mut seen = false;
        for _ in 0..3 {
            let r = rx.recv().await.unwrap();
            if r.slices[0].prb_quota == 21 {
                assert_eq!(r.slices[1].prb_quota, 85);
                seen = true;
                break;
            }
        }
        assert!(seen, "quota never applied");
    }

    #[tokio::test]
    async fn reports_and_controls_cross_e2_as_service_model_bytes() {
        for rc_dialect in [RanParamDialect::Oran, RanParamDialect::Oai] {
            let gnb = EmulatedGnb::start(EmulatorConfig {
                clock: Clock::Simulated { speedup: 100.0 },
                rc_dialect,
                ..Default::default()
            })
            .unwrap();
            let mut rx = gnb.subscribe();
            let r = rx.recv().await.unwrap();
            // DRB.UEThpDl travels in whole kbit/s (TS 28.552): the report was KPM bytes.
            let ues: Vec<_> = r.slices.iter().flat_map(|s| &s.ues).collect();
            assert_eq!(ues.len(), 6);
            assert!(ues.iter().all(|u| u.dl_throughput_bps % 1000.0 == 0.0));
            assert_eq!(r.cell_id, "001-01-0000000001");
            let member = gnb.slices()[1].clone();
            let control = SlicePrbQuotaControl {
                groups: vec![
                    maestro_e2sm::rc::RrmPolicyRatioGroup::new(member, 10, 30, 5).unwrap(),
                ],
            };
            assert_eq!(
                gnb.control(control).await.unwrap(),
                ControlOutcome::Acknowledged,
                "{rc_dialect:?}"
            );
        }
    }

    #[tokio::test]
    async fn each_kpm_version_is_announced_and_carries_the_reports() {
        for kpm_version in KpmVersion::ALL {
            let gnb = EmulatedGnb::start(EmulatorConfig {
                clock: Clock::Simulated { speedup: 100.0 },
                kpm_version,
                ..Default::default()
            })
            .unwrap();
            let nodes = gnb.nodes();
            assert_eq!(nodes.len(), 1);
            let kpm = &nodes[0].ran_functions[0];
            assert_eq!(
                (kpm.id, kpm.oid.as_str()),
                (KPM_RAN_FUNCTION_ID, kpm_version.oid())
            );
            assert_eq!(
                wire::kpm_version_of(&nodes[0].ran_functions),
                Ok(kpm_version)
            );
            // The report crossed E2 as KPM bytes of that version (whole kbit/s throughput).
            let r = gnb.subscribe().recv().await.unwrap();
            assert_eq!(r.cell_id, "001-01-0000000001");
            let ues: Vec<_> = r.slices.iter().flat_map(|s| &s.ues).collect();
            assert_eq!(ues.len(), 6, "{kpm_version}");
            assert!(ues.iter().all(|u| u.dl_throughput_bps % 1000.0 == 0.0));
        }
    }

    #[test]
    fn the_kpm_version_is_configurable_and_defaults_to_v3() {
        let text = serde_json::to_string(&EmulatorConfig::default()).unwrap();
        assert!(text.contains(r#""kpm_version":"v03.00""#), "{text}");
        // Older config files have no kpm_version.
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v.as_object_mut().unwrap().remove("kpm_version");
        let old: EmulatorConfig = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(old.kpm_version, KpmVersion::V3_00);
        for (text, version) in [("2.03", KpmVersion::V2_03), ("v03.00", KpmVersion::V3_00)] {
            v["kpm_version"] = text.into();
            let c: EmulatorConfig = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(c.kpm_version, version);
        }
        v["kpm_version"] = "4.00".into();
        let err = serde_json::from_value::<EmulatorConfig>(v).unwrap_err();
        assert!(
            err.to_string().contains("unknown E2SM-KPM version"),
            "{err}"
        );
    }

    #[test]
    fn a_node_and_xapp_on_different_kpm_versions_do_not_exchange_reports() {
        let mut cell = EmulatedCell::new(EmulatorConfig {
            kpm_version: KpmVersion::V2_03,
            ..Default::default()
        })
        .unwrap();
        let report = cell.step(&[None, None]);
        let v2 = wire::encode_report(&report, KpmVersion::V2_03).unwrap();
        let v3 = wire::encode_report(&report, KpmVersion::V3_00).unwrap();
        // Same report either way (throughput rounded to whole kbit/s by both).
        let via_v2 = wire::decode_report(&v2, KpmVersion::V2_03).unwrap();
        assert_eq!(via_v2, wire::decode_report(&v3, KpmVersion::V3_00).unwrap());
        assert_eq!((via_v2.sequence, via_v2.slices.len()), (report.sequence, 2));
        let err = wire::decode_report(&v2, KpmVersion::V3_00).unwrap_err();
        assert!(
            err.contains("expected v03.00") && err.contains("v02.03 header"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_dropped_link_stops_reports_and_refuses_controls_until_restored() {
        let gnb = EmulatedGnb::start(EmulatorConfig {
            clock: Clock::Simulated { speedup: 100.0 },
            ..Default::default()
        })
        .unwrap();
        let mut rx = gnb.subscribe();
        let before = rx.recv().await.unwrap().sequence;
        let link = gnb.link_fault();
        link.drop_link();
        let member = gnb.slices()[0].clone();
        let control = || SlicePrbQuotaControl {
            groups: vec![
                maestro_e2sm::rc::RrmPolicyRatioGroup::new(member.clone(), 20, 20, 0).unwrap(),
            ],
        };
        assert!(matches!(
            gnb.control(control()).await,
            Err(E2Error::Unreachable(_))
        ));
        assert_eq!(link.refused_controls(), 1);
        // Drain what was sent before the drop, then wait for the cell to tick while down.
        while link.dropped_reports() < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        while rx.try_recv().is_ok() {}
        link.restore();
        let after = rx.recv().await.unwrap().sequence;
        assert!(
            after >= before + 1 + link.dropped_reports().min(3),
            "the cell kept running while the link was down: {before} -> {after}"
        );
        assert_eq!(
            gnb.control(control()).await.unwrap(),
            ControlOutcome::Acknowledged
        );
    }

    #[tokio::test]
    async fn rejects_unknown_slices_and_bad_configs() {
        let gnb = EmulatedGnb::start(EmulatorConfig {
            clock: Clock::Simulated { speedup: 100.0 },
            ..Default::default()
        })
        .unwrap();
        let stranger = RrmPolicyMember {
            mcc: "999".into(),
            mnc: "99".into(),
            sst: 2,
            sd: None,
        };
        let control = SlicePrbQuotaControl {
            groups: vec![maestro_e2sm::rc::RrmPolicyRatioGroup::new(stranger, 0, 10, 0).unwrap()],
        };
        assert!(matches!(
            gnb.control(control).await.unwrap(),
            ControlOutcome::Failed { .. }
        ));
        let bad = EmulatorConfig {
            slices: vec![],
            ..Default::default()
        };
        assert!(EmulatedGnb::start(bad).is_err());
    }

    #[test]
    fn one_cell_by_default_and_many_by_list_or_count() {
        let base = EmulatorConfig::default();
        // The default config's JSON is what it was before many cells existed.
        let text = serde_json::to_string(&base).unwrap();
        assert!(
            !text.contains("cells") && !text.contains("cell_count"),
            "{text}"
        );
        assert_eq!(base.cell_configs().unwrap(), vec![base.clone()]);

        let counted = EmulatorConfig {
            cell_id: "001-01-00000000f".into(),
            cell_count: Some(3),
            ..Default::default()
        };
        let cells = counted.cell_configs().unwrap();
        let ids: Vec<&str> = cells.iter().map(|c| c.cell_id.as_str()).collect();
        assert_eq!(
            ids,
            ["001-01-00000000f", "001-01-000000010", "001-01-000000011"]
        );
        assert_eq!(cells.iter().map(|c| c.seed).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(cells
            .iter()
            .all(|c| c.cells.is_empty() && c.cell_count.is_none()));

        let listed: EmulatorConfig = serde_json::from_value(serde_json::json!({
            "cell_id": "001-01-0000000001",
            "cell": serde_json::to_value(CellConfig::oai_40mhz()).unwrap(),
            "slices": serde_json::to_value(&base.slices).unwrap(),
            "period_ms": 100,
            "clock": {"mode": "realtime"},
            "cqi": {"source": "vehicular"},
            "seed": 7,
            "cells": [
                {"cell_id": "001-01-0000000001"},
                {"cell_id": "001-01-0000000002", "seed": 42,
                 "slices": [{"member": serde_json::to_value(&base.slices[0].member).unwrap(), "ues": 5}]}
            ]
        }))
        .unwrap();
        let cells = listed.cell_configs().unwrap();
        assert_eq!((cells[0].seed, cells[1].seed), (7, 42));
        assert_eq!((cells[0].slices.len(), cells[1].slices.len()), (2, 1));
        assert_eq!(cells[1].slices[0].ues, 5);

        let both = EmulatorConfig {
            cell_count: Some(2),
            ..listed.clone()
        };
        assert!(both.cell_configs().is_err());
        let twice = EmulatorConfig {
            cells: vec![listed.cells[0].clone(), listed.cells[0].clone()],
            ..listed
        };
        let err = twice.cell_configs().unwrap_err().to_string();
        assert!(
            err.contains("001-01-0000000001 is configured twice"),
            "{err}"
        );
        let none = EmulatorConfig {
            cell_count: Some(0),
            ..Default::default()
        };
        assert!(none.cell_configs().is_err());
    }

    #[tokio::test]
    async fn a_shard_runs_only_the_cells_it_owns_and_may_run_none() {
        let nine = EmulatorConfig {
            clock: Clock::Simulated { speedup: 100.0 },
            cell_count: Some(9),
            ..Default::default()
        };
        let mut all = Vec::new();
        for i in 0..3 {
            let shard = Shard::new(i, 3).unwrap();
            let gnb = EmulatedGnb::start_shard(nine.clone(), shard).unwrap();
            assert!(gnb.cell_ids().iter().all(|c| shard.owns(c)));
            // Every shard knows the RAN's slices, whatever cells it runs.
            assert_eq!(gnb.slices().len(), 2);
            all.extend(gnb.cell_ids());
        }
        all.sort();
        let expected: Vec<String> = nine
            .cell_configs()
            .unwrap()
            .into_iter()
            .map(|c| c.cell_id)
            .collect();
        assert_eq!(all, expected);
        // One cell over two shards: one of them runs nothing, and says so on a control.
        let one = EmulatorConfig::default();
        let owner = maestro_api::shard::owner_of(&one.cell_id, 2);
        let empty = EmulatedGnb::start_shard(one, Shard::new(1 - owner, 2).unwrap()).unwrap();
        assert!(empty.cell_ids().is_empty() && empty.nodes().is_empty());
        assert_eq!(empty.cell().n_prb, 106);
        let member = empty.slices()[0].clone();
        let control = SlicePrbQuotaControl {
            groups: vec![maestro_e2sm::rc::RrmPolicyRatioGroup::new(member, 20, 20, 0).unwrap()],
        };
        assert!(matches!(
            empty.control(control).await,
            Err(E2Error::Unreachable(_))
        ));
    }

    #[tokio::test]
    async fn each_cell_is_its_own_node_with_its_own_reports_controls_and_link() {
        let gnb = EmulatedGnb::start(EmulatorConfig {
            clock: Clock::Simulated { speedup: 100.0 },
            cell_count: Some(2),
            ..Default::default()
        })
        .unwrap();
        let ids = gnb.cell_ids();
        assert_eq!(ids, ["001-01-0000000001", "001-01-0000000002"]);
        assert_eq!(gnb.nodes().len(), 2);
        assert!(gnb.served_cell("001-01-0000000009").is_none());
        let mut rx = gnb.subscribe();
        // A control to the second cell shows in its reports only.
        let member = gnb.slices()[0].clone();
        let control = SlicePrbQuotaControl {
            groups: vec![maestro_e2sm::rc::RrmPolicyRatioGroup::new(member, 20, 20, 0).unwrap()],
        };
        assert_eq!(
            gnb.control_cell(&ids[1], control.clone()).await.unwrap(),
            ControlOutcome::Acknowledged
        );
        assert!(matches!(
            gnb.control_cell("001-01-0000000009", control).await,
            Err(E2Error::Unreachable(_))
        ));
        let (mut first, mut second) = (None, None);
        for _ in 0..20 {
            let r = rx.recv().await.unwrap();
            if r.cell_id == ids[0] {
                first = Some(r.slices[0].prb_quota);
            } else if r.slices[0].prb_quota == 21 {
                second = Some(21);
            }
            if first.is_some() && second.is_some() {
                break;
            }
        }
        assert_eq!((first, second), (Some(53), Some(21)));
        // Dropping one cell's link silences that cell only.
        gnb.link_fault_of(&ids[0]).unwrap().drop_link();
        while rx.try_recv().is_ok() {}
        for _ in 0..5 {
            assert_eq!(rx.recv().await.unwrap().cell_id, ids[1]);
        }
        // A cell added at run time reports on the same stream.
        let added = EmulatorConfig {
            cell_id: "001-01-0000000003".into(),
            clock: Clock::Simulated { speedup: 100.0 },
            ..Default::default()
        };
        gnb.add_cell(added.clone()).unwrap();
        assert!(gnb.add_cell(added).is_err(), "the same cell twice");
        let mut seen = false;
        for _ in 0..20 {
            if rx.recv().await.unwrap().cell_id == "001-01-0000000003" {
                seen = true;
                break;
            }
        }
        assert!(seen, "the added cell never reported");
        assert_eq!(gnb.nodes().len(), 3);
    }
}
