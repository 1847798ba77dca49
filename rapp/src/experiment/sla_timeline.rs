//! The SLA timeline (the paper's Fig. 5, `maestro experiment sla-timeline`): the rApp watches
//! the xApp's KPI stream for the length of a drive, and every renegotiation comes from the
//! observability unit — the enforced consensus became unachievable, or far below what the
//! operators want and the cell can carry, for the hold time — never from a timer. The
//! operators' business intents change over time (the scenario's phases); an operator whose
//! minimum useful throughput the cell cannot carry votes to switch the slice off, and a
//! unanimous vote is enforced as a zero-throughput A1 policy (`maxDlThptPerSlice` = 0, which
//! `ORAN_SliceSLATarget_1.0.0` defines as "switch the slice off"). The arbitral unit's
//! standing (warnings, penalties, exclusions) carries over a session: every negotiation while
//! the same business intents stand (a phase); new intents start a new session.
//!
//! This module is the rApp's side only (it talks to the xApp over A1 and gRPC, as in a real
//! deployment); `maestro experiment sla-timeline` starts the xApp with its emulated gNB on
//! the simulated or real-time clock and hands over the endpoints. [`write_outputs`] writes the
//! timeline plot (SVG and PNG), the JSON event log, and [`TimelineReport::table`] is the
//! printed summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use maestro_api::a1::{
    SliceId, SliceScope, SliceSlaObjectives, SliceSlaPolicy, SLICE_SLA_TARGET_TYPE,
};
use maestro_api::kpi::CellReport;
use serde::{Deserialize, Serialize};

use crate::a1::{A1Client, A1ClientError};
use crate::kpi_client::{self, KpiClientError};
use crate::negotiation::arbitral::{Arbitral, BuiltinArbitral, Incentive, LlmArbitral};
use crate::negotiation::capacity::LiveCapacity;
use crate::negotiation::engine::{negotiate_session, Standing};
use crate::negotiation::regulatory::{Rule, RuleBook};
use crate::negotiation::theory::optimal_consensus;
use crate::negotiation::{
    AgentSpec, Bounds, LanguageModel, LlmError, NegotiationConfig, NegotiationError,
    NegotiationOutcome, Personality, PressureMode, StopReason, Units,
};
use crate::observability::{
    topic_holds, CellView, Fired, PrometheusSource, RenegotiationTrigger, TriggerConfig,
    TARGET_TOLERANCE,
};
use crate::transcript::{new_id, unix_ms, Transcript, TranscriptError, TranscriptStore};

/// One operator of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineOperator {
    /// Agent id.
    pub id: String,
    /// Its stake (curvature of its quadratic utility).
    pub weight: f64,
    /// Below this throughput the service is worthless to it, Mbps: when the cell cannot carry
    /// it, the operator votes to switch the slice off.
    pub min_useful_mbps: f64,
}

/// An operator's intent during a phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseIntent {
    /// Business intent, in the operator's words.
    pub business_intent: String,
    /// Target, Mbps.
    pub target_mbps: f64,
    /// How its agent negotiates in this phase.
    pub personality: Personality,
}

/// Business intents from a time on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// Start, s of the gNB's clock.
    pub from_s: f64,
    /// Name, for the plot and the log.
    pub name: String,
    /// Per operator id.
    pub intents: BTreeMap<String, PhaseIntent>,
}

/// The timeline scenario (`config/scenarios/sla-timeline.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineScenario {
    /// Name.
    pub name: String,
    /// What happens, in words.
    #[serde(default)]
    pub description: String,
    /// Length of the run, s of the gNB's clock.
    pub duration_s: f64,
    /// Negotiation topic.
    pub topic: String,
    /// The shared slice whose throughput is negotiated.
    pub slice: SliceId,
    /// Consensus tolerance, Mbps.
    pub epsilon_mbps: f64,
    /// Round cap.
    pub max_rounds: u32,
    /// How the optimizer is put to the agents.
    #[serde(default)]
    pub pressure: PressureMode,
    /// Share of the maximum achievable throughput a negotiation may hand out (0..1].
    pub capacity_headroom: f64,
    /// When the observability unit triggers a renegotiation.
    pub trigger: TriggerConfig,
    /// A running negotiation halts when the cell keeps less than this share of the capacity it
    /// started with.
    pub topic_hold_share: f64,
    /// After a new target, and after the slice's CQI changed, the control counts as settled
    /// after this long, s.
    pub settle_s: f64,
    /// Seed of the persona negotiator.
    pub seed: u64,
    /// Regulatory rules, each citing its source.
    #[serde(default)]
    pub regulations: Vec<Rule>,
    /// The operators.
    pub operators: Vec<TimelineOperator>,
    /// Their intents over time (sorted by `from_s`, the first from 0).
    pub phases: Vec<Phase>,
}

/// The shipped scenario, compiled in.
pub const BUILTIN_SCENARIO: &str = include_str!("../../../config/scenarios/sla-timeline.json");

impl TimelineScenario {
    /// The shipped scenario.
    pub fn builtin() -> Result<Self, TimelineError> {
        Self::parse(BUILTIN_SCENARIO, "built-in sla-timeline.json")
    }

    /// Reads and validates a scenario file.
    pub fn from_file(path: &Path) -> Result<Self, TimelineError> {
        let text = std::fs::read_to_string(path).map_err(|e| TimelineError::Scenario {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    fn parse(text: &str, name: &str) -> Result<Self, TimelineError> {
        let bad = |reason: String| TimelineError::Scenario {
            path: name.to_owned(),
            reason,
        };
        let s: Self = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        s.validate().map_err(bad)?;
        Ok(s)
    }

    /// Checks ranges, and that every phase gives every operator an intent.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.duration_s.is_finite() && self.duration_s > 0.0) {
            return Err("duration_s must be > 0".into());
        }
        if !(self.capacity_headroom > 0.0 && self.capacity_headroom <= 1.0) {
            return Err("capacity_headroom must be in (0, 1]".into());
        }
        if self.operators.is_empty() {
            return Err("at least one operator is needed".into());
        }
        if self.phases.first().is_none_or(|p| p.from_s > 0.0) {
            return Err("the first phase must start at 0 s".into());
        }
        if self.phases.windows(2).any(|w| w[1].from_s < w[0].from_s) {
            return Err("phases must be sorted by from_s".into());
        }
        for p in &self.phases {
            for o in &self.operators {
                let Some(i) = p.intents.get(&o.id) else {
                    return Err(format!("phase '{}' has no intent for '{}'", p.name, o.id));
                };
                if !(i.target_mbps.is_finite() && i.target_mbps >= 0.0) {
                    return Err(format!("phase '{}': bad target for '{}'", p.name, o.id));
                }
            }
        }
        if !(self.settle_s >= 0.0 && self.topic_hold_share >= 0.0) {
            return Err("settle_s and topic_hold_share must be >= 0".into());
        }
        Ok(())
    }

    /// The phase in force at `t_s`.
    pub fn phase_at(&self, t_s: f64) -> &Phase {
        self.phases
            .iter()
            .rev()
            .find(|p| p.from_s <= t_s)
            .unwrap_or(&self.phases[0])
    }

    /// The agents for a negotiation at `t_s` when the negotiation may hand out at most
    /// `cap_mbps`: an operator whose minimum useful throughput exceeds that votes to switch
    /// off (target 0 Mbps).
    pub fn agents_at(&self, t_s: f64, cap_mbps: f64) -> Vec<AgentSpec> {
        let phase = self.phase_at(t_s);
        self.operators
            .iter()
            .filter_map(|o| {
                let i = phase.intents.get(&o.id)?;
                let off = cap_mbps < o.min_useful_mbps;
                Some(AgentSpec {
                    id: o.id.clone(),
                    business_intent: if off {
                        format!(
                            "Switch the slice off: the cell carries at most {cap_mbps:.1} Mbps, \
                             below the {:.0} Mbps our service needs to be worth anything.",
                            o.min_useful_mbps
                        )
                    } else {
                        i.business_intent.clone()
                    },
                    target_mbps: if off { 0.0 } else { i.target_mbps },
                    weight: o.weight,
                    personality: i.personality,
                    weight_above: None,
                    utility: None,
                })
            })
            .collect()
    }

    /// What the operators would agree on at `t_s` if the cell carries `max_achievable_mbps`:
    /// the optimum of their utilities within the bounds (0 when all vote to switch off).
    pub fn wanted_mbps(&self, t_s: f64, max_achievable_mbps: f64) -> f64 {
        self.wanted_mbps_given(t_s, max_achievable_mbps, &BTreeMap::new())
    }

    /// [`Self::wanted_mbps`] as MAESTRO would weigh the operators given their `standing` with
    /// the arbitral unit: excluded operators do not count, penalised ones count less.
    pub fn wanted_mbps_given(
        &self,
        t_s: f64,
        max_achievable_mbps: f64,
        standing: &BTreeMap<String, Standing>,
    ) -> f64 {
        let cap = max_achievable_mbps * self.capacity_headroom;
        let bounds = self.bounds(cap);
        let utilities: Vec<_> = self
            .agents_at(t_s, cap)
            .into_iter()
            .filter_map(|mut a| {
                let st = standing.get(&a.id).cloned().unwrap_or_default();
                (!st.excluded && st.stake_factor > 0.0).then(|| {
                    a.weight *= st.stake_factor;
                    a.utility()
                })
            })
            .collect();
        optimal_consensus(&utilities, &bounds).unwrap_or(0.0)
    }

    /// Bounds of a negotiation that may hand out at most `cap_mbps`.
    fn bounds(&self, cap_mbps: f64) -> Bounds {
        let book = RuleBook {
            rules: self.regulations.clone(),
        };
        let base = Bounds {
            min_mbps: 0.0,
            max_mbps: cap_mbps.max(0.0),
        };
        let b = crate::negotiation::regulatory::Regulatory::constraints(&book, &self.topic, &base)
            .bounds;
        Bounds {
            min_mbps: b.min_mbps.min(cap_mbps.max(0.0)),
            max_mbps: b.max_mbps.min(cap_mbps.max(0.0)).max(0.0),
        }
    }
}

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

/// What a run needs.
pub struct TimelineJob {
    /// A1-P v2 termination, e.g. `http://127.0.0.1:8080`.
    pub a1_url: String,
    /// KPI stream, e.g. `http://127.0.0.1:50051`.
    pub kpi_url: String,
    /// The scenario.
    pub scenario: TimelineScenario,
    /// The operators' LLM backend.
    pub llm: Arc<dyn LanguageModel>,
    /// Judge with the LLM ([`LlmArbitral`]) rather than the built-in classifier (for a real
    /// LLM backend).
    pub llm_arbitral: bool,
    /// Where to store the transcripts (`None`: not stored).
    pub transcripts: Option<PathBuf>,
    /// Give up when the xApp does not answer within this (wall clock).
    pub connect_timeout: Duration,
    /// A Prometheus server scraping the xApp, when configured: at each negotiation the
    /// observability unit also reads the cell there (PromQL) and logs it beside the KPI
    /// stream's view (a cross-check; the stream stays the trigger's source, since Prometheus
    /// scrapes on the wall clock).
    pub prometheus: Option<PrometheusSource>,
}

/// One KPI period as the observability unit saw it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Sample {
    /// gNB clock, s.
    pub t_s: f64,
    /// Mean wide-band CQI.
    pub cqi: f64,
    /// Maximum achievable throughput, Mbps.
    pub max_achievable_mbps: f64,
    /// Target of the slice's policy in force (as the xApp reports it), Mbps.
    pub enforced_mbps: f64,
    /// Measured throughput of the slice, Mbps.
    pub measured_mbps: f64,
    /// The xApp judges the target reachable at this period's CQIs.
    pub achievable: bool,
    /// PRBs the slice could use.
    pub prb_quota: u32,
    /// The control had settled (target and CQI unchanged for the settle time).
    pub settled: bool,
}

/// Why a negotiation ran.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    /// The session's opening negotiation.
    Start,
    /// The observability unit's trigger.
    Observability {
        /// What fired.
        fired: Fired,
    },
    /// The previous negotiation halted because its topic became invalid; restarted on the
    /// new capacity (also the observability unit's doing).
    TopicInvalid {
        /// Capacity when it halted, Mbps.
        max_achievable_mbps: f64,
    },
}

impl Cause {
    /// Whether the observability unit caused it (not the session start).
    pub fn by_observability(&self) -> bool {
        !matches!(self, Cause::Start)
    }

    fn label(&self) -> &'static str {
        match self {
            Cause::Start => "start",
            Cause::Observability { fired } => match fired.reason {
                crate::observability::TriggerReason::Unachievable => "unachievable",
                crate::observability::TriggerReason::FarBelowCapacity => "far below",
            },
            Cause::TopicInvalid { .. } => "topic void",
        }
    }
}

/// One negotiation of the timeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimelineNegotiation {
    /// 1, 2, ...
    pub index: usize,
    /// Transcript id, when stored.
    pub transcript_id: Option<String>,
    /// Why it ran.
    pub cause: Cause,
    /// Phase of the intents.
    pub phase: String,
    /// gNB clock when it started and ended, s.
    pub start_s: f64,
    /// End, s.
    pub end_s: f64,
    /// Maximum achievable throughput when it started, Mbps.
    pub max_achievable_mbps: f64,
    /// Operators that voted to switch off.
    pub switch_off_votes: Vec<String>,
    /// What was enforced (`None`: halted, nothing enforced), Mbps.
    pub enforced_mbps: Option<f64>,
    /// Every operator voted to switch off, and the slice was switched off.
    pub switch_off: bool,
    /// The negotiation itself, round by round, with the arbitral log.
    pub outcome: NegotiationOutcome,
}

/// One line of the event log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// gNB clock, s.
    pub t_s: f64,
    /// What happened.
    pub kind: String,
    /// Details.
    pub detail: String,
}

/// How one enforced consensus was held.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Segment {
    /// Negotiation that set it.
    pub negotiation: usize,
    /// Enforced, Mbps.
    pub target_mbps: f64,
    /// In force from, to (gNB clock, s).
    pub from_s: f64,
    /// To.
    pub to_s: f64,
    /// Settled periods where the target was achievable.
    pub settled_achievable_periods: usize,
    /// Of those, within 5% of the target.
    pub periods_within_tolerance: usize,
    /// Mean measured throughput over them, Mbps.
    pub mean_measured_mbps: Option<f64>,
    /// The mean is within 5% of the target (true when never achievable and settled).
    pub holds: bool,
}

/// The whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimelineReport {
    /// Scenario name.
    pub scenario: String,
    /// CQI source, for the plot's title.
    pub cqi_source: String,
    /// LLM backend.
    pub llm: String,
    /// gNB seconds covered.
    pub duration_s: f64,
    /// Wall time of the run, s.
    pub wall_s: f64,
    /// KPI reports received.
    pub kpi_reports: u64,
    /// Reports the stream dropped because we read too slowly.
    pub kpi_dropped: u64,
    /// Negotiations, in order.
    pub negotiations: Vec<TimelineNegotiation>,
    /// The event log.
    pub events: Vec<Event>,
    /// How each consensus was held.
    pub segments: Vec<Segment>,
    /// Every KPI period.
    pub samples: Vec<Sample>,
    /// Negotiations the observability unit triggered.
    pub observability_triggers: usize,
    /// Arbitral warnings given.
    pub warnings: usize,
    /// A switch-off was enforced as a zero-throughput policy and the slice went to 0 PRBs.
    pub switch_off_enforced: bool,
    /// Share of settled, achievable periods within 5% of the target.
    pub share_within_tolerance: f64,
    /// Every segment holds its target.
    pub all_segments_hold: bool,
}

fn policy_id(scenario: &TimelineScenario) -> String {
    format!("maestro-{}", scenario.name)
}

fn statement(slice: &SliceId, mbps: f64) -> SliceSlaPolicy {
    let kbps = (mbps * 1000.0).round();
    SliceSlaPolicy {
        scope: SliceScope {
            slice_id: slice.clone(),
        },
        slice_sla_objectives: SliceSlaObjectives {
            gua_dl_thpt_per_slice: Some(kbps),
            max_dl_thpt_per_slice: Some(kbps),
            ..Default::default()
        },
    }
}

/// Tracks when the control counts as settled.
#[derive(Default)]
struct Settling {
    target_since_ms: u64,
    cqi_since_ms: u64,
    target: Option<f64>,
    cqis: Vec<u32>,
}

impl Settling {
    fn sample(&mut self, r: &CellReport, settle_ms: u64) -> Sample {
        let view = CellView::from_report(r);
        let slice = r.slices.first();
        let target = slice.map_or(0.0, |s| s.target_bps);
        let cqis: Vec<u32> = slice
            .map(|s| s.ues.iter().map(|u| u.wb_cqi).collect())
            .unwrap_or_default();
        if self.target != Some(target) {
            self.target = Some(target);
            self.target_since_ms = r.sim_time_ms;
        }
        if self.cqis != cqis {
            self.cqis = cqis;
            self.cqi_since_ms = r.sim_time_ms;
        }
        let since = self.target_since_ms.max(self.cqi_since_ms);
        Sample {
            t_s: r.sim_time_ms as f64 / 1000.0,
            cqi: view.cqi_mean,
            max_achievable_mbps: view.max_achievable_mbps,
            enforced_mbps: target / 1e6,
            measured_mbps: slice.map_or(0.0, |s| s.dl_throughput_bps / 1e6),
            achievable: slice.is_some_and(|s| s.achievable),
            prb_quota: slice.map_or(0, |s| s.prb_quota),
            settled: r.sim_time_ms.saturating_sub(since) >= settle_ms,
        }
    }
}

/// Runs the timeline against a running xApp.
pub async fn run(job: &TimelineJob, cqi_source: &str) -> Result<TimelineReport, TimelineError> {
    let sc = &job.scenario;
    let wall = Instant::now();
    let a1 = A1Client::new(&job.a1_url)?;
    let mut stream =
        kpi_client::subscribe(&job.kpi_url, "maestro-sla-timeline", job.connect_timeout).await?;
    let builtin = BuiltinArbitral::default();
    let arbitral: Box<dyn Arbitral> = if job.llm_arbitral {
        Box::new(LlmArbitral::new(Arc::clone(&job.llm), builtin))
    } else {
        Box::new(builtin)
    };
    let store = match &job.transcripts {
        Some(dir) => Some(TranscriptStore::open(dir)?),
        None => None,
    };
    let rules = RuleBook {
        rules: sc.regulations.clone(),
    };
    let settle_ms = (sc.settle_s * 1000.0) as u64;
    let mut trigger = RenegotiationTrigger::new(sc.trigger);
    let mut standing: BTreeMap<String, Standing> = BTreeMap::new();
    let mut settling = Settling::default();
    let mut samples: Vec<Sample> = Vec::new();
    let mut events: Vec<Event> = Vec::new();
    let mut negotiations: Vec<TimelineNegotiation> = Vec::new();
    let mut enforced: Option<f64> = None;
    let mut pending: Option<Cause> = Some(Cause::Start);
    let mut reports = 0u64;
    let mut dropped = 0u64;
    let end_ms = (sc.duration_s * 1000.0) as u64;
    let mut first_ms: Option<u64> = None;
    let mut phase_name = String::new();
    let mut standing_phase = String::new();
    loop {
        let report = kpi_client::next_report(&job.kpi_url, &mut stream)
            .await?
            .ok_or(TimelineError::StreamEnded(
                samples.last().map_or(0, |s| (s.t_s * 1e3) as u64),
            ))?;
        reports += 1;
        dropped += report.dropped_before;
        let t0 = *first_ms.get_or_insert(report.sim_time_ms);
        let t_ms = report.sim_time_ms.saturating_sub(t0);
        let view = CellView::from_report(&report);
        let mut sample = settling.sample(&report, settle_ms);
        sample.t_s = t_ms as f64 / 1000.0;
        samples.push(sample);
        if t_ms >= end_ms {
            break;
        }
        let t_s = sample.t_s;
        let phase = sc.phase_at(t_s);
        if phase.name != phase_name {
            phase_name = phase.name.clone();
            events.push(Event {
                t_s,
                kind: "phase".into(),
                detail: format!("business intents: {}", phase.name),
            });
        }
        if pending.is_none() {
            let wanted = sc.wanted_mbps_given(t_s, view.max_achievable_mbps, &standing);
            if let Some(fired) = trigger.update(&view, enforced, wanted) {
                events.push(Event {
                    t_s,
                    kind: "trigger".into(),
                    detail: format!(
                        "observability: consensus {:.1} Mbps {} (max achievable {:.1} Mbps, \
                         operators want {wanted:.1} Mbps) since {:.1} s",
                        fired.consensus_mbps,
                        match fired.reason {
                            crate::observability::TriggerReason::Unachievable => "unachievable",
                            crate::observability::TriggerReason::FarBelowCapacity =>
                                "far below what the cell and the operators allow",
                        },
                        fired.max_achievable_mbps,
                        fired.since_ms.saturating_sub(t0) as f64 / 1000.0
                    ),
                });
                pending = Some(Cause::Observability { fired });
            }
        }
        let Some(cause) = pending.take() else {
            continue;
        };

        // A session of the arbitral unit lasts as long as the business intents it judged: new
        // intents (a new phase) start every operator with a clean standing.
        if standing_phase != phase.name {
            if standing.values().any(|s| s.strikes > 0) {
                events.push(Event {
                    t_s,
                    kind: "arbitral_session".into(),
                    detail: format!(
                        "new business intents ('{}'): arbitral standing reset",
                        phase.name
                    ),
                });
            }
            standing.clear();
            standing_phase = phase.name.clone();
        }
        // Negotiate while the cell goes on: the KPI stream keeps the capacity live and halts
        // the negotiation if its topic becomes void.
        let cap = view.max_achievable_mbps * sc.capacity_headroom;
        let agents = sc.agents_at(t_s, cap);
        let votes_off: Vec<String> = agents
            .iter()
            .filter(|a| a.target_mbps == 0.0)
            .map(|a| a.id.clone())
            .collect();
        let config = NegotiationConfig {
            topic: sc.topic.clone(),
            epsilon_mbps: sc.epsilon_mbps,
            max_rounds: sc.max_rounds,
            bounds: Bounds {
                min_mbps: 0.0,
                max_mbps: cap.max(0.0),
            },
            pressure: sc.pressure,
            ..NegotiationConfig::default()
        };
        let live = LiveCapacity::new(cap.max(0.0));
        let units = Units {
            regulatory: &rules,
            observability: &live,
            arbitral: arbitral.as_ref(),
            mediator: None,
        };
        let index = negotiations.len() + 1;
        events.push(Event {
            t_s,
            kind: "negotiation_start".into(),
            detail: format!(
                "N{index} ({}): phase '{}', max achievable {:.1} Mbps, bounds 0..{cap:.1} Mbps{}",
                cause.label(),
                phase.name,
                view.max_achievable_mbps,
                if votes_off.is_empty() {
                    String::new()
                } else {
                    format!(", switch-off votes: {}", votes_off.join(", "))
                }
            ),
        });
        if let Some(prom) = &job.prometheus {
            events.push(Event {
                t_s,
                kind: "prometheus".into(),
                detail: match prom.cell_view().await {
                    Ok(v) => format!(
                        "PromQL view: max achievable {:.1} Mbps, delivered {:.1} Mbps, CQI {:.1}",
                        v.max_achievable_mbps, v.delivered_mbps, v.cqi_mean
                    ),
                    Err(e) => format!("PromQL view unavailable: {e}"),
                },
            });
        }
        let started_unix_ms = unix_ms();
        let started_cap = view.max_achievable_mbps;
        let outcome = {
            let fut = negotiate_session(&config, &agents, job.llm.as_ref(), &units, &standing);
            tokio::pin!(fut);
            loop {
                tokio::select! {
                    out = &mut fut => break out?,
                    next = kpi_client::next_report(&job.kpi_url, &mut stream) => {
                        let r = next?.ok_or(TimelineError::StreamEnded(t_ms))?;
                        reports += 1;
                        dropped += r.dropped_before;
                        let v = CellView::from_report(&r);
                        let mut s = settling.sample(&r, settle_ms);
                        s.t_s = r.sim_time_ms.saturating_sub(t0) as f64 / 1000.0;
                        samples.push(s);
                        live.set(v.max_achievable_mbps * sc.capacity_headroom);
                        if !topic_holds(started_cap, v.max_achievable_mbps, sc.topic_hold_share) {
                            live.set_topic_invalid(true);
                        }
                    }
                }
            }
        };
        let end_s = samples.last().map_or(t_s, |s| s.t_s);
        standing = outcome.standing.clone();
        for d in &outcome.arbitral_log {
            events.push(Event {
                t_s: end_s,
                kind: format!("arbitral_{}", incentive_name(d.incentive)),
                detail: format!(
                    "N{index} round {}: {} {} — evidence: {}",
                    d.round,
                    d.agent_id,
                    match d.incentive {
                        Incentive::Warning => "warned".to_owned(),
                        Incentive::Penalty => format!("penalised (stake x{:.3})", d.stake_after),
                        Incentive::Exclusion => "excluded for the session".to_owned(),
                        Incentive::None => "noted".to_owned(),
                    },
                    d.evidence.join("; ")
                ),
            });
        }
        let transcript_id = match &store {
            Some(store) => {
                let id = new_id();
                store.save(&Transcript {
                    id: id.clone(),
                    started_unix_ms,
                    topic: config.topic.clone(),
                    agents: agents.clone(),
                    config: config.clone(),
                    outcome: outcome.clone(),
                })?;
                Some(id)
            }
            None => None,
        };
        let halted = outcome.stop == StopReason::TopicInvalid;
        let switch_off = !halted && votes_off.len() == agents.len();
        let enforce = if halted {
            None
        } else if switch_off {
            Some(0.0)
        } else {
            // A negotiation cut by the round cap still ends with MAESTRO's reference.
            Some(
                ((outcome.agreed_mbps.unwrap_or(outcome.consensus_mbps)) * 1000.0).round() / 1000.0,
            )
        };
        if let Some(mbps) = enforce {
            let id = policy_id(sc);
            a1.put_policy(
                SLICE_SLA_TARGET_TYPE,
                &id,
                &statement(&sc.slice, mbps),
                None,
            )
            .await?;
            enforced = Some(mbps);
            trigger.reset();
            events.push(Event {
                t_s: end_s,
                kind: if switch_off {
                    "switch_off"
                } else {
                    "consensus"
                }
                .into(),
                detail: format!(
                    "N{index}: {} after {} rounds ({:?}); A1 policy {id} = {:.0} kbps",
                    if switch_off {
                        "unanimous switch-off".to_owned()
                    } else {
                        format!("{mbps:.2} Mbps")
                    },
                    outcome.rounds,
                    outcome.stop,
                    mbps * 1000.0
                ),
            });
        } else {
            events.push(Event {
                t_s: end_s,
                kind: "halted".into(),
                detail: format!("N{index}: topic became invalid (capacity fell); renegotiating"),
            });
            pending = Some(Cause::TopicInvalid {
                max_achievable_mbps: samples.last().map_or(0.0, |s| s.max_achievable_mbps),
            });
        }
        negotiations.push(TimelineNegotiation {
            index,
            transcript_id,
            cause,
            phase: phase.name.clone(),
            start_s: t_s,
            end_s,
            max_achievable_mbps: view.max_achievable_mbps,
            switch_off_votes: votes_off,
            enforced_mbps: enforce,
            switch_off,
            outcome,
        });
    }
    let segments = segments(&samples, &negotiations);
    let settled: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.settled && s.achievable && s.enforced_mbps > 0.0)
        .collect();
    let within = settled
        .iter()
        .filter(|s| within_tolerance(s.measured_mbps, s.enforced_mbps))
        .count();
    let switch_off_enforced = negotiations.iter().any(|n| n.switch_off)
        && samples.iter().any(|s| {
            s.enforced_mbps == 0.0 && s.prb_quota == 0 && s.measured_mbps == 0.0 && s.t_s > 0.0
        });
    Ok(TimelineReport {
        scenario: sc.name.clone(),
        cqi_source: cqi_source.to_owned(),
        llm: job.llm.name().to_owned(),
        duration_s: samples.last().map_or(0.0, |s| s.t_s),
        wall_s: wall.elapsed().as_secs_f64(),
        kpi_reports: reports,
        kpi_dropped: dropped,
        observability_triggers: negotiations
            .iter()
            .filter(|n| n.cause.by_observability())
            .count(),
        warnings: negotiations
            .iter()
            .flat_map(|n| &n.outcome.arbitral_log)
            .filter(|d| d.incentive == Incentive::Warning)
            .count(),
        switch_off_enforced,
        share_within_tolerance: if settled.is_empty() {
            1.0
        } else {
            within as f64 / settled.len() as f64
        },
        all_segments_hold: segments.iter().all(|s| s.holds),
        negotiations,
        events,
        segments,
        samples,
    })
}

fn incentive_name(i: Incentive) -> &'static str {
    match i {
        Incentive::None => "none",
        Incentive::Warning => "warning",
        Incentive::Penalty => "penalty",
        Incentive::Exclusion => "exclusion",
    }
}

fn within_tolerance(measured: f64, target: f64) -> bool {
    (measured - target).abs() <= TARGET_TOLERANCE * target
}

/// Splits the run into the spans each enforced consensus was in force (as the xApp reported
/// the target), and measures how it was held once settled.
fn segments(samples: &[Sample], negotiations: &[TimelineNegotiation]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let enforced: Vec<&TimelineNegotiation> = negotiations
        .iter()
        .filter(|n| n.enforced_mbps.is_some())
        .collect();
    let mut k = 0usize;
    for s in samples {
        // Which negotiation's value is in force: the latest one whose value the xApp reports.
        while k + 1 < enforced.len()
            && s.t_s >= enforced[k + 1].end_s
            && (s.enforced_mbps - enforced[k + 1].enforced_mbps.unwrap_or(-1.0)).abs() < 1e-3
        {
            k += 1;
        }
        let Some(n) = enforced.get(k) else { break };
        let target = n.enforced_mbps.unwrap_or(0.0);
        if (s.enforced_mbps - target).abs() > 1e-3 || s.t_s < n.end_s {
            continue;
        }
        if out.last().is_none_or(|seg| seg.negotiation != n.index) {
            out.push(Segment {
                negotiation: n.index,
                target_mbps: target,
                from_s: s.t_s,
                to_s: s.t_s,
                settled_achievable_periods: 0,
                periods_within_tolerance: 0,
                mean_measured_mbps: None,
                holds: true,
            });
        }
        if let Some(seg) = out.last_mut() {
            seg.to_s = s.t_s;
            if s.settled && s.achievable && target > 0.0 {
                let n0 = seg.settled_achievable_periods as f64;
                let m = seg.mean_measured_mbps.unwrap_or(0.0);
                seg.mean_measured_mbps = Some((m * n0 + s.measured_mbps) / (n0 + 1.0));
                seg.settled_achievable_periods += 1;
                if within_tolerance(s.measured_mbps, target) {
                    seg.periods_within_tolerance += 1;
                }
            }
        }
    }
    for seg in &mut out {
        seg.holds = seg
            .mean_measured_mbps
            .is_none_or(|m| within_tolerance(m, seg.target_mbps));
    }
    out
}

impl TimelineReport {
    /// The printed summary.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "SLA timeline '{}' on {} (backend: {}): {:.0} s of gNB time in {:.1} s wall, {} KPI \
             reports ({} dropped)",
            self.scenario,
            self.cqi_source,
            self.llm,
            self.duration_s,
            self.wall_s,
            self.kpi_reports,
            self.kpi_dropped
        );
        let _ = writeln!(
            t,
            "{:>3} {:>7} {:>7} {:<13} {:<18} {:>8} {:>6} {:>9} {:<12} arbitral",
            "#", "start s", "end s", "cause", "phase", "max Mbps", "rounds", "enforced", "stop",
        );
        for n in &self.negotiations {
            let arb: Vec<String> = n
                .outcome
                .arbitral_log
                .iter()
                .map(|d| {
                    format!(
                        "{} {} r{}",
                        d.agent_id,
                        incentive_name(d.incentive),
                        d.round
                    )
                })
                .collect();
            let _ = writeln!(
                t,
                "{:>3} {:>7.1} {:>7.1} {:<13} {:<18} {:>8.1} {:>6} {:>9} {:<12} {}",
                n.index,
                n.start_s,
                n.end_s,
                n.cause.label(),
                n.phase,
                n.max_achievable_mbps,
                n.outcome.rounds,
                match (n.enforced_mbps, n.switch_off) {
                    (_, true) => "OFF".to_owned(),
                    (Some(v), _) => format!("{v:.2}"),
                    (None, _) => "-".to_owned(),
                },
                format!("{:?}", n.outcome.stop),
                if arb.is_empty() {
                    "-".to_owned()
                } else {
                    arb.join(", ")
                }
            );
        }
        let _ = writeln!(t, "\nHeld targets (settled, achievable periods):");
        let _ = writeln!(
            t,
            "{:>3} {:>9} {:>7} {:>7} {:>8} {:>10} {:>10} {:>5}",
            "N", "target", "from s", "to s", "periods", "within 5%", "mean Mbps", "holds"
        );
        for s in &self.segments {
            let _ = writeln!(
                t,
                "{:>3} {:>9.2} {:>7.1} {:>7.1} {:>8} {:>10} {:>10} {:>5}",
                s.negotiation,
                s.target_mbps,
                s.from_s,
                s.to_s,
                s.settled_achievable_periods,
                s.periods_within_tolerance,
                s.mean_measured_mbps
                    .map_or("-".to_owned(), |m| format!("{m:.2}")),
                if s.holds { "yes" } else { "NO" }
            );
        }
        let _ = writeln!(
            t,
            "\nnegotiations triggered by observability: {}; arbitral warnings: {}; switch-off \
             enforced as a 0 kbps policy: {}; settled achievable periods within 5%: {:.1}%; every \
             consensus held: {}",
            self.observability_triggers,
            self.warnings,
            if self.switch_off_enforced {
                "yes"
            } else {
                "no"
            },
            100.0 * self.share_within_tolerance,
            if self.all_segments_hold { "yes" } else { "NO" }
        );
        t
    }

    /// The JSON event log: the report without the per-period samples.
    pub fn event_log(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("samples");
        }
        v
    }
}

/// Files written by [`write_outputs`].
#[derive(Debug, Clone)]
pub struct TimelineFiles {
    /// `sla-timeline.svg`.
    pub svg: PathBuf,
    /// `sla-timeline.png`.
    pub png: PathBuf,
    /// `sla-timeline.json` (event log, negotiations, segments).
    pub events: PathBuf,
    /// `sla-timeline-samples.csv` (every KPI period).
    pub samples: PathBuf,
}

/// Writes the plot (SVG and PNG), the JSON event log and the per-period CSV under `dir`.
pub fn write_outputs(dir: &Path, report: &TimelineReport) -> Result<TimelineFiles, TimelineError> {
    let err = |path: &Path, e: &dyn std::fmt::Display| TimelineError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| err(dir, &e))?;
    let files = TimelineFiles {
        svg: dir.join("sla-timeline.svg"),
        png: dir.join("sla-timeline.png"),
        events: dir.join("sla-timeline.json"),
        samples: dir.join("sla-timeline-samples.csv"),
    };
    let svg = super::plot::timeline_svg(report);
    std::fs::write(&files.svg, &svg).map_err(|e| err(&files.svg, &e))?;
    let png = super::plot::svg_to_png(&svg).map_err(|e| err(&files.png, &e))?;
    std::fs::write(&files.png, png).map_err(|e| err(&files.png, &e))?;
    let json =
        serde_json::to_string_pretty(&report.event_log()).map_err(|e| err(&files.events, &e))?;
    std::fs::write(&files.events, json).map_err(|e| err(&files.events, &e))?;
    let mut csv = String::from(
        "t_s,cqi,max_achievable_mbps,enforced_mbps,measured_mbps,achievable,prb_quota,settled\n",
    );
    for s in &report.samples {
        let _ = writeln!(
            csv,
            "{:.1},{:.2},{:.3},{:.3},{:.3},{},{},{}",
            s.t_s,
            s.cqi,
            s.max_achievable_mbps,
            s.enforced_mbps,
            s.measured_mbps,
            s.achievable,
            s.prb_quota,
            s.settled
        );
    }
    std::fs::write(&files.samples, csv).map_err(|e| err(&files.samples, &e))?;
    Ok(files)
}

/// The built-in synthetic drive, as a trace in the UCC 5G dataset's CSV columns (what
/// `--cqi-trace` reads): 15 at the start, worsening from 120 s to around 7-9, poor (2-4)
/// from 350 s to 385 s, recovering to 14-15 within 5 s after. Deterministic.
pub fn synthetic_drive_csv(duration_s: u32) -> String {
    let mut csv = String::from("Timestamp,CQI\n");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for s in 0..duration_s.max(1) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let wiggle = (state % 3) as f64 - 1.0;
        let t = f64::from(s);
        let base: f64 = match s {
            0..=119 => 15.0,
            120..=169 => 15.0 - 6.0 * (t - 120.0) / 50.0,
            170..=329 => 8.0 + 1.5 * ((t - 170.0) / 20.0).sin(),
            330..=349 => 8.0 - 5.0 * (t - 330.0) / 20.0,
            350..=384 => 3.0,
            385..=390 => 3.0 + 11.5 * (t - 385.0) / 5.0,
            _ => 14.5,
        };
        let cqi = (base
            + if base >= 14.5 {
                wiggle.max(0.0) * 0.5
            } else {
                wiggle
            })
        .round()
        .clamp(1.0, 15.0) as u8;
        let (h, m, sec) = (13 + s / 3600, (s / 60) % 60, s % 60);
        let _ = writeln!(csv, "2019.11.26_{h:02}.{m:02}.{sec:02},{cqi}");
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_scenario_is_valid_and_phases_switch_on_time() {
        let s = TimelineScenario::builtin().unwrap();
        assert_eq!(s.phase_at(0.0).name, "high CQI");
        assert_eq!(s.phase_at(200.0).name, "conditions worsen");
        assert!(s
            .agents_at(200.0, 100.0)
            .iter()
            .any(|a| a.personality == Personality::Toxic));
        // A cell that carries 10 Mbps is worthless to both: a unanimous switch-off vote.
        assert!(s
            .agents_at(360.0, 10.0)
            .iter()
            .all(|a| a.target_mbps == 0.0));
        assert_eq!(s.wanted_mbps(360.0, 10.0), 0.0);
        // At CQI 15 the two operators want 60 and 40: about 50 Mbps.
        assert!((s.wanted_mbps(10.0, 134.0) - 50.0).abs() < 1e-6);
        // A capped cell caps what they want.
        assert!((s.wanted_mbps(10.0, 40.0) - 34.0).abs() < 1e-6);
    }

    #[test]
    fn synthetic_drive_tells_the_story() {
        let csv = synthetic_drive_csv(500);
        let cqi: Vec<u8> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        assert_eq!(cqi.len(), 500);
        assert!(cqi[..100].iter().all(|&c| c == 15));
        assert!(cqi[355..380].iter().all(|&c| c <= 4));
        assert!(cqi[420..].iter().all(|&c| c >= 14));
        assert!(csv
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("2019.11.26_13.00.00,"));
    }

    fn sample(t_s: f64, target: f64, measured: f64) -> Sample {
        Sample {
            t_s,
            cqi: 15.0,
            max_achievable_mbps: 134.0,
            enforced_mbps: target,
            measured_mbps: measured,
            achievable: true,
            prb_quota: 40,
            settled: true,
        }
    }

    #[test]
    fn segments_follow_the_enforced_target() {
        let outcome = |v: f64| NegotiationOutcome {
            consensus_mbps: v,
            agreed_mbps: Some(v),
            theoretical_mbps: None,
            rounds: 1,
            converged: true,
            stop: StopReason::Consensus,
            messages: 0,
            llm: "t".into(),
            llm_usage: None,
            pressure: PressureMode::Hard,
            citations: vec![],
            finals: BTreeMap::new(),
            wall_ms: 0.0,
            history: vec![],
            arbitral_log: vec![],
            standing: BTreeMap::new(),
        };
        let neg = |index, end_s, v: f64| TimelineNegotiation {
            index,
            transcript_id: None,
            cause: Cause::Start,
            phase: "p".into(),
            start_s: end_s,
            end_s,
            max_achievable_mbps: 134.0,
            switch_off_votes: vec![],
            enforced_mbps: Some(v),
            switch_off: false,
            outcome: outcome(v),
        };
        let samples = vec![
            sample(0.1, 0.0, 0.0),
            sample(1.0, 50.0, 50.5),
            sample(2.0, 50.0, 49.0),
            sample(3.0, 50.0, 40.0), // the target is held on average, not each period
            sample(4.0, 30.0, 30.1),
            sample(5.0, 30.0, 30.2),
        ];
        let segs = segments(&samples, &[neg(1, 0.5, 50.0), neg(2, 3.5, 30.0)]);
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].settled_achievable_periods, 3);
        assert_eq!(segs[0].periods_within_tolerance, 2);
        assert!(!segs[0].holds, "mean 46.5 is 7% off");
        assert!(segs[1].holds);
        assert_eq!((segs[1].from_s, segs[1].to_s), (4.0, 5.0));
    }
}
