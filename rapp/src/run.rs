//! One pass of the rApp's loop: ground the negotiation in the live cell (KPI stream), negotiate
//! among the operators' agents with MAESTRO, hand the consensus to the A1 termination as one
//! `ORAN_SliceSLATarget_1.0.0` policy per slice, then watch the KPIs to see it enforced.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use maestro_api::a1::{
    PolicyStatus, SliceScope, SliceSlaObjectives, SliceSlaPolicy, SLICE_SLA_TARGET_TYPE,
};
use maestro_api::cell::NrCgi;
use serde::Serialize;

use crate::a1::{A1ClientError, A1PeerConfig, PutResult};
use crate::auth::ClientAuth;
use crate::consensus_watch::ConsensusWatch;
use crate::kpi_client::{self, KpiClientError, StreamFilter};
use crate::negotiation::arbitral::{Arbitral, BuiltinArbitral, LlmArbitral};
use crate::negotiation::capacity::LiveCapacity;
use crate::negotiation::local::LocalConfig;
use crate::negotiation::openai::{OpenAiBackend, OpenAiConfig};
use crate::negotiation::regulatory::{Chain, RuleBook};
use crate::negotiation::retrieval::{RegulationLibrary, RetrievalError};
use crate::negotiation::{
    negotiate_with, AgentSpec, Bounds, LanguageModel, LlmError, NegotiationConfig,
    NegotiationError, NegotiationOutcome, PersonaNegotiator, Units,
};
use crate::observability::{fair_share_mbps, Fired, Observer, TriggerConfig, TARGET_TOLERANCE};
use crate::scenario::Scenario;
use crate::transcript::{new_id, unix_ms, Transcript, TranscriptError, TranscriptStore};
use crate::web::{LiveHub, LivePolicy};

/// What one pass needs.
#[derive(Debug, Clone)]
pub struct RappJob {
    /// Base URL of the A1 peer, e.g. `http://127.0.0.1:8080`; its kind (A1-P v2 or a Non-RT
    /// RIC PMS, with ric_id/service_id) comes from the scenario's `a1` block.
    pub a1_url: String,
    /// KPI stream gRPC endpoint, e.g. `http://127.0.0.1:50051`.
    pub kpi_url: String,
    /// Operators and negotiation knobs.
    pub scenario: Scenario,
    /// How long to watch the enforced policies, in the gNB's clock (emulated seconds).
    pub observe_s: f64,
    /// Give up when the xApp does not answer within this (wall clock).
    pub connect_timeout: Duration,
    /// Which LLM plays the operators' agents.
    pub llm: LlmChoice,
    /// Where to keep negotiation transcripts (`None`: not kept).
    pub transcripts: Option<PathBuf>,
    /// Directory of regulatory notes (`*.md`, the layout of `config/regulations/`) that replace
    /// (same file name) or add to the bundled notes the regulatory unit retrieves from, on top
    /// of the scenario's own rules.
    pub regulations: Option<PathBuf>,
    /// Credentials for A1 and the KPI stream (bearer token, TLS).
    pub auth: ClientAuth,
    /// The one cell this pass negotiates for (a KPI report's `cell_id`): its KPI subscription
    /// is filtered to it and its policies name it in `sliceSlaResources.cellIdList` (ids
    /// [`cell_policy_id`]). `None`: the RAN as one cell, every cell serving a slice holding its
    /// policy (ids [`policy_id`]). [`crate::cells`] runs one pass per cell.
    pub cell: Option<String>,
}

/// Which LLM backend plays the agents.
#[derive(Debug, Clone)]
pub enum LlmChoice {
    /// The built-in persona negotiator, seeded.
    Persona {
        /// Seed.
        seed: u64,
    },
    /// An OpenAI-compatible chat-completions endpoint.
    OpenAi(OpenAiConfig),
    /// A GGUF model run in-process (needs the `local-llm` feature).
    Local(LocalConfig),
}

impl LlmChoice {
    /// Builds the backend.
    pub fn build(&self) -> Result<Arc<dyn LanguageModel>, LlmError> {
        Ok(match self {
            Self::Persona { seed } => Arc::new(PersonaNegotiator::new(*seed)),
            Self::OpenAi(config) => Arc::new(OpenAiBackend::new(config.clone())?),
            #[cfg(feature = "local-llm")]
            Self::Local(config) => Arc::new(crate::negotiation::local::LocalBackend::new(
                config.clone(),
            )?),
            #[cfg(not(feature = "local-llm"))]
            Self::Local(_) => return Err(crate::negotiation::local::unavailable()),
        })
    }
}

/// rApp failures.
#[derive(Debug, thiserror::Error)]
pub enum RappError {
    /// KPI stream trouble.
    #[error(transparent)]
    Kpi(#[from] KpiClientError),
    /// A1 trouble.
    #[error(transparent)]
    A1(#[from] A1ClientError),
    /// The negotiation could not run.
    #[error(transparent)]
    Negotiation(#[from] NegotiationError),
    /// The scenario is unusable.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
    /// The KPI stream ended before the observation window closed.
    #[error("the KPI stream ended after {0} reports, before the observation window closed")]
    StreamEnded(u64),
    /// The LLM backend could not be set up.
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// The regulatory notes could not be loaded.
    #[error(transparent)]
    Regulations(#[from] RetrievalError),
    /// The transcript could not be stored.
    #[error(transparent)]
    Transcript(#[from] TranscriptError),
    /// The policy read back from the A1 termination differs from what was sent.
    #[error("A1 termination stored policy '{0}' differently from what was sent")]
    PolicyMismatch(String),
    /// A cell id that is not `MCC-MNC-NCI` (NCI in hex), as KPI reports write them.
    #[error("cell id {0:?} is not MCC-MNC-NCI with the NR cell identity in hex (e.g. 001-01-0000000001)")]
    CellId(String),
    /// Cells to negotiate that no xApp reports, or a cell two xApps both report.
    #[error("{0}")]
    Cells(String),
}

/// Outcome of one slice.
#[derive(Debug, Clone, Serialize)]
pub struct SliceOutcome {
    /// Operator owning the slice.
    pub operator: String,
    /// Slice label (`mcc-mnc/sstN-sdXXXXXX`).
    pub slice: String,
    /// A1 policy id.
    pub policy_id: String,
    /// Whether the PUT created (201) or replaced (200) the policy.
    pub a1_created: bool,
    /// The statement read back with `GET` equals what was PUT.
    pub a1_read_back: bool,
    /// A1 status at the end of the observation.
    pub a1_status: Option<PolicyStatus>,
    /// Target throughput, Mbps.
    pub target_mbps: f64,
    /// PRB quota the xApp derived for the target from the last report's CQIs.
    pub prbs: u32,
    /// Mean wide-band CQI of the slice's UEs in the last report.
    pub cqi: f64,
    /// The UEs' wide-band CQIs in the last report (the input of `prbs`).
    pub ue_cqis: Vec<u32>,
    /// Whether the target fit the cell in the last report.
    pub achievable_now: bool,
    /// Mean measured throughput over the periods where the target was achievable, Mbps.
    pub measured_mbps: Option<f64>,
    /// Periods observed with the target in force.
    pub periods: u64,
    /// Of those, periods where the target was achievable.
    pub achievable_periods: u64,
    /// Of those, periods whose own throughput was within tolerance.
    pub periods_within_tolerance: u64,
    /// Some KPI report after the A1 PUT carried the slice with its new target (false: the
    /// stream never showed the policy enforced; it went to another cell's A1 peer).
    pub seen_enforced: bool,
    /// `measured_mbps` is within tolerance of the target (or the target was never achievable).
    pub holds_target: bool,
}

/// What one pass produced (also written as the JSON report).
#[derive(Debug, Clone, Serialize)]
pub struct RappReport {
    /// The cell negotiated for (`None`: the RAN as one cell).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell_id: Option<String>,
    /// Id of the stored transcript (`maestro transcripts show ID`), if transcripts are kept.
    pub negotiation_id: Option<String>,
    /// The agreed throughput per slice, Mbps.
    pub consensus_mbps: f64,
    /// Rounds the negotiation took.
    pub rounds: u32,
    /// Whether it converged (spread below epsilon) rather than hitting the round cap.
    pub converged: bool,
    /// Messages exchanged (intents + feedback).
    pub messages: usize,
    /// Cell capacity at the start, Mbps (all PRBs at the CQIs of the first KPI report).
    pub capacity_mbps_at_start: f64,
    /// Bounds the observability unit set for the negotiation, Mbps.
    pub bounds_mbps: (f64, f64),
    /// KPI reports received over gRPC.
    pub kpi_reports: u64,
    /// Emulated seconds observed after enforcement.
    pub observed_s: f64,
    /// Wall-clock seconds the negotiation took (the LLM's time), beside the gNB time below.
    pub negotiation_wall_s: f64,
    /// gNB time of the first KPI report that carried every agreed target, s (`None`: no
    /// report did; the judged window then starts at the first report after the A1 PUTs).
    pub enforced_at_gnb_s: Option<f64>,
    /// gNB time at which the judged window starts, s.
    pub window_start_gnb_s: f64,
    /// Tolerance used for `holds_target`.
    pub tolerance: f64,
    /// The renegotiation trigger, when it fired while the consensus was watched: the
    /// consensus had become unachievable, or far below what the cell could carry, for the
    /// hold time ([`ConsensusWatch`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Fired>,
    /// Per slice.
    pub slices: Vec<SliceOutcome>,
    /// The negotiation itself, round by round.
    pub negotiation: NegotiationOutcome,
    /// Every slice holds its target whenever it is achievable.
    pub pass: bool,
}

/// Policy id the rApp uses for an operator: stable, so a rerun updates rather than duplicates.
pub fn policy_id(operator_id: &str) -> String {
    format!("maestro-{operator_id}")
}

/// Policy id of an operator's policy for one cell (`maestro-{operator}-{cell id}`): stable,
/// and distinct per cell, so each cell's policy is its own A1 policy.
pub fn cell_policy_id(operator_id: &str, cell_id: &str) -> String {
    format!("maestro-{operator_id}-{cell_id}")
}

/// What passes share: the LLM backend (built once: a local model is loaded once) and the
/// transcript store (one redb file, opened once).
#[derive(Clone)]
pub struct PassResources {
    /// The agents' language model.
    pub llm: Arc<dyn LanguageModel>,
    /// Where transcripts go (`None`: not kept).
    pub transcripts: Option<(Arc<TranscriptStore>, PathBuf)>,
}

impl PassResources {
    /// Builds the backend `job.llm` names and opens `job.transcripts`.
    pub fn for_job(job: &RappJob) -> Result<Self, RappError> {
        let transcripts = match &job.transcripts {
            Some(dir) => Some((Arc::new(TranscriptStore::open(dir)?), dir.clone())),
            None => None,
        };
        Ok(Self {
            llm: job.llm.build()?,
            transcripts,
        })
    }
}

/// Runs one pass.
pub async fn run(job: &RappJob) -> Result<RappReport, RappError> {
    run_live(job, None).await
}

/// Runs one pass, feeding the live page's `live` hub (KPI reports, the negotiation's rounds
/// and consensus, its A1 policies) when given.
pub async fn run_live(job: &RappJob, live: Option<&LiveHub>) -> Result<RappReport, RappError> {
    let resources = PassResources::for_job(job);
    let negotiation_id = new_id();
    let result = match resources {
        Ok(resources) => run_with(job, &resources, live, &negotiation_id).await,
        Err(e) => Err(e),
    };
    if let (Err(e), Some(live)) = (&result, live) {
        live.fail(&negotiation_id, &e.to_string());
    }
    result
}

/// Runs one pass on shared `resources` (the live page's negotiation `live_id`).
pub async fn run_with(
    job: &RappJob,
    resources: &PassResources,
    live: Option<&LiveHub>,
    live_id: &str,
) -> Result<RappReport, RappError> {
    let publish_kpi = |report: &maestro_api::kpi::CellReport| {
        if let Some(live) = live {
            live.kpi(report);
        }
    };
    job.scenario.validate()?;
    // The peer kind (A1-P v2 or a Non-RT RIC PMS) from the scenario's "a1" block, at a1_url.
    let a1 = A1PeerConfig {
        url: Some(job.a1_url.clone()),
        ..job.scenario.a1.clone().unwrap_or_default()
    }
    .connect(&job.auth)?;
    // One cell: its statements name it, its KPI subscription carries it alone.
    let cell = match &job.cell {
        Some(id) => Some(NrCgi::parse(id).ok_or_else(|| RappError::CellId(id.clone()))?),
        None => None,
    };
    let filter = StreamFilter {
        cells: job.cell.iter().cloned().collect(),
        slices: Vec::new(),
    };
    let subscribe = || {
        kpi_client::subscribe_filtered(
            &job.kpi_url,
            "maestro-rapp",
            job.connect_timeout,
            &job.auth,
            &filter,
        )
    };
    let mut stream = subscribe().await?;
    let mut observer = Observer::default();

    // Observability: the cell's capacity now bounds what may be agreed.
    let first = kpi_client::next_report(&job.kpi_url, &mut stream)
        .await?
        .ok_or(RappError::StreamEnded(0))?;
    let n = job.scenario.operators.len();
    let capacity_mbps = first.capacity_bps / 1e6;
    let max_mbps = fair_share_mbps(&first, n) * job.scenario.capacity_headroom;
    publish_kpi(&first);
    let bounds = Bounds {
        min_mbps: job.scenario.min_mbps.min(max_mbps),
        max_mbps,
    };
    observer.observe(first);
    // Only this first report grounds the negotiation. The enforcement is watched on a fresh
    // subscription after the A1 PUTs; kept open, this one would buffer everything the cell
    // reports while the agents negotiate, all of it older than the policies.
    drop(stream);
    tracing::info!(capacity_mbps, max_mbps, "observability: cell capacity");

    let agents: Vec<AgentSpec> = job.scenario.operators.iter().map(|o| o.agent()).collect();
    let config = NegotiationConfig {
        topic: job.scenario.topic.clone(),
        epsilon_mbps: job.scenario.epsilon_mbps,
        max_rounds: job.scenario.max_rounds,
        bounds: bounds.clone(),
        pressure: job.scenario.pressure,
        ..NegotiationConfig::default()
    };
    let rules = RuleBook {
        rules: job.scenario.regulations.clone(),
    };
    // Regulatory retrieval is always on: the bundled notes, with --regulations DIR's notes
    // replacing (same file name) or adding to them.
    let library = match &job.regulations {
        Some(dir) => RegulationLibrary::bundled_with(dir)?,
        None => RegulationLibrary::bundled()?,
    };
    let regulatory = Chain(vec![&rules, &library]);
    let capacity = LiveCapacity::new(max_mbps);
    let llm = Arc::clone(&resources.llm);
    // With a real LLM, MAESTRO speaks through it and the arbitral unit is an LLM judge (the
    // lexicon pre-filters and stands in when its answer is unusable); the persona simulator
    // keeps the template and the lexicon alone.
    let llm_backed = !matches!(job.llm, LlmChoice::Persona { .. });
    let arbitral: Box<dyn Arbitral> = if llm_backed {
        Box::new(LlmArbitral::new(
            Arc::clone(&llm),
            BuiltinArbitral::default(),
        ))
    } else {
        Box::new(BuiltinArbitral::default())
    };
    let units = Units {
        regulatory: &regulatory,
        observability: &capacity,
        arbitral: arbitral.as_ref(),
        mediator: llm_backed.then_some(llm.as_ref()),
    };
    let started_unix_ms = unix_ms();
    if let Some(live) = live {
        live.begin(
            live_id,
            &config.topic,
            job.cell.as_deref(),
            &agents,
            started_unix_ms,
        );
    }
    let outcome = negotiate_with(&config, &agents, llm.as_ref(), &units).await?;
    if let Some(live) = live {
        live.finish(live_id, &outcome);
    }
    let negotiation_id = match &resources.transcripts {
        Some((store, dir)) => {
            let id = live_id.to_owned();
            store.save(&Transcript {
                id: id.clone(),
                started_unix_ms,
                topic: config.topic.clone(),
                agents: agents.clone(),
                config: config.clone(),
                outcome: outcome.clone(),
            })?;
            tracing::info!(negotiation = %id, store = %dir.display(), "transcript stored");
            Some(id)
        }
        None => None,
    };
    let consensus_mbps = outcome.consensus_mbps;
    tracing::info!(consensus_mbps, rounds = outcome.rounds, "negotiation done");

    // Consensus -> A1: one slice SLA target per operator's slice, guaranteed = max = consensus.
    let kbps = (consensus_mbps * 1000.0).round();
    let mut slices = Vec::new();
    for op in &job.scenario.operators {
        let statement = SliceSlaPolicy {
            scope: SliceScope {
                slice_id: op.slice.clone(),
            },
            slice_sla_objectives: SliceSlaObjectives {
                gua_dl_thpt_per_slice: Some(kbps),
                max_dl_thpt_per_slice: Some(kbps),
                ..Default::default()
            },
            slice_sla_resources: cell.as_ref().map(NrCgi::only_this_cell),
        };
        let id = match &job.cell {
            Some(cell_id) => cell_policy_id(&op.id, cell_id),
            None => policy_id(&op.id),
        };
        let sent = serde_json::to_value(&statement).unwrap_or_default();
        let put = a1
            .put_policy(SLICE_SLA_TARGET_TYPE, &id, &sent, None)
            .await?;
        let stored = a1.get_policy(SLICE_SLA_TARGET_TYPE, &id).await?;
        if stored != sent {
            return Err(RappError::PolicyMismatch(id));
        }
        tracing::info!(policy = %id, slice = %op.slice, kbps, "A1 policy in place");
        slices.push((op, id, put == PutResult::Created));
    }
    if let Some(live) = live {
        let policies = slices
            .iter()
            .map(|(op, id, _)| LivePolicy {
                operator: op.id.clone(),
                slice: op.slice.to_string(),
                policy_id: id.clone(),
                dl_kbps: kbps,
            })
            .collect();
        live.policies(live_id, policies);
    }

    // Watch the cell enforce it. The judged window is `observe_s` of gNB time from the first
    // report that carries every new target, however long the negotiation took: on a simulated
    // clock a slow LLM lets the cell run far past the first report meanwhile.
    let mut stream = subscribe().await?;
    // The labels the xApp reports the slices by: `SliceId`'s `Display`, on both sides.
    let targets: Vec<String> = slices
        .iter()
        .map(|(op, _, _)| op.slice.to_string())
        .collect();
    let mut watch = ConsensusWatch::new(
        TriggerConfig::default(),
        kbps / 1000.0,
        agents.iter().map(AgentSpec::utility).collect(),
        job.scenario.capacity_headroom,
        job.scenario.min_mbps,
    );
    let window = watch_enforcement(
        job,
        &mut stream,
        (&mut observer, &mut watch),
        &targets,
        kbps * 1000.0,
        live,
    )
    .await?;
    if let Some(fired) = &window.fired {
        tracing::info!(
            reason = ?fired.reason,
            at_gnb_s = fired.at_ms as f64 / 1000.0,
            consensus_mbps = fired.consensus_mbps,
            slice_max_mbps = fired.max_achievable_mbps,
            "observability: renegotiation trigger fired"
        );
    }
    if let (Some(live), Some(at)) = (live, window.enforced_at_ms) {
        live.enforced(live_id, at as f64 / 1000.0);
    }
    let start_ms = window.start_ms;
    let observed_s = observer.latest.as_ref().map_or(0.0, |r| {
        (r.sim_time_ms.saturating_sub(start_ms)) as f64 / 1000.0
    });

    let mut outcomes = Vec::new();
    for (op, id, created) in slices {
        let label = op.slice.to_string();
        let tally = observer.slices.get(&label).cloned().unwrap_or_default();
        let last = tally.last.clone().unwrap_or_default();
        let ue_cqis: Vec<u32> = last.ues.iter().map(|u| u.wb_cqi).collect();
        let cqi = if ue_cqis.is_empty() {
            0.0
        } else {
            ue_cqis.iter().map(|&c| f64::from(c)).sum::<f64>() / ue_cqis.len() as f64
        };
        let measured_mbps = tally.mean_achievable_bps().map(|b| b / 1e6);
        let target_mbps = kbps / 1000.0;
        // Held whenever achievable; a slice the KPI stream never reported (its policy went to
        // an A1 peer whose cell this stream does not carry) was not seen to hold anything.
        let holds_target = tally.periods > 0
            && measured_mbps
                .is_none_or(|m| (m - target_mbps).abs() <= TARGET_TOLERANCE * target_mbps);
        let a1_status = a1.policy_status(SLICE_SLA_TARGET_TYPE, &id).await.ok();
        outcomes.push(SliceOutcome {
            operator: op.id.clone(),
            slice: label,
            policy_id: id,
            a1_created: created,
            a1_read_back: true,
            a1_status,
            target_mbps,
            prbs: last.next_quota_prbs,
            cqi: (cqi * 10.0).round() / 10.0,
            ue_cqis,
            achievable_now: last.achievable,
            measured_mbps,
            periods: tally.periods,
            achievable_periods: tally.achievable_periods,
            periods_within_tolerance: tally.periods_within_tolerance,
            seen_enforced: carries_target(tally.target_bps, kbps * 1000.0),
            holds_target,
        });
    }
    let pass = outcomes.iter().all(|s| s.holds_target) && observer.reports > 0;
    Ok(RappReport {
        cell_id: job.cell.clone(),
        trigger: window.fired,
        negotiation_id,
        consensus_mbps,
        rounds: outcome.rounds,
        converged: outcome.converged,
        messages: outcome.messages,
        capacity_mbps_at_start: capacity_mbps,
        bounds_mbps: (bounds.min_mbps, bounds.max_mbps),
        kpi_reports: observer.reports,
        observed_s,
        negotiation_wall_s: outcome.wall_ms / 1000.0,
        enforced_at_gnb_s: window.enforced_at_ms.map(|t| t as f64 / 1000.0),
        window_start_gnb_s: start_ms as f64 / 1000.0,
        tolerance: TARGET_TOLERANCE,
        slices: outcomes,
        negotiation: outcome,
        pass,
    })
}

/// Whether a slice's reported target is the one sent (kbps in the policy, bits/s here).
fn carries_target(reported_bps: f64, sent_bps: f64) -> bool {
    (reported_bps - sent_bps).abs() < 0.5
}

/// Where the observation window fell on the gNB's clock.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Start of the judged window, ms of the gNB clock.
    start_ms: u64,
    /// The first report carrying every new target, ms of the gNB clock (`None`: none did).
    enforced_at_ms: Option<u64>,
    /// The renegotiation trigger's first firing after enforcement.
    fired: Option<Fired>,
}

/// Reads the KPI stream after the policies were PUT: first until a report carries every slice
/// of `labels` at `target_bps` (the xApp enforces them), then `job.observe_s` of gNB time from
/// that report. When no report carries them within `observe_s` of gNB time after the first
/// report read, the window is that wait (the slices are not in this stream: wrong peer).
async fn watch_enforcement(
    job: &RappJob,
    stream: &mut tonic::Streaming<maestro_api::kpi::CellReport>,
    (observer, watch): (&mut Observer, &mut ConsensusWatch),
    labels: &[String],
    target_bps: f64,
    live: Option<&LiveHub>,
) -> Result<Window, RappError> {
    let observe_ms = (job.observe_s * 1000.0) as u64;
    let mut first_ms = None;
    let carries = |report: &maestro_api::kpi::CellReport| {
        labels.iter().all(|label| {
            report
                .slices
                .iter()
                .any(|s| &s.label == label && carries_target(s.target_bps, target_bps))
        })
    };
    let mut enforced_at_ms = None;
    let mut fired = None;
    loop {
        let report = kpi_client::next_report(&job.kpi_url, stream)
            .await?
            .ok_or(RappError::StreamEnded(observer.reports))?;
        let t = report.sim_time_ms;
        let first = *first_ms.get_or_insert(t);
        if enforced_at_ms.is_none() && carries(&report) {
            enforced_at_ms = Some(t);
        }
        if let Some(live) = live {
            live.kpi(&report);
        }
        if enforced_at_ms.is_some() {
            let now = watch.observe(&report);
            fired = fired.or(now);
        }
        observer.observe(report);
        let start_ms = enforced_at_ms.unwrap_or(first);
        if t >= start_ms + observe_ms {
            return Ok(Window {
                start_ms,
                enforced_at_ms,
                fired,
            });
        }
    }
}
