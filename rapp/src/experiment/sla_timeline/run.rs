//! Runs the timeline against a running xApp, step by step: read the next KPI period, note a new
//! phase, let the observability unit decide whether to renegotiate, and negotiate while the
//! cell goes on — then enforce the outcome over A1 (or, when the topic became void, restart).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use maestro_api::a1::{
    SliceId, SliceScope, SliceSlaObjectives, SliceSlaPolicy, SLICE_SLA_TARGET_TYPE,
};

use crate::a1::A1Client;
use crate::kpi_client;
use crate::negotiation::arbitral::{Arbitral, BuiltinArbitral, Incentive, LlmArbitral};
use crate::negotiation::capacity::LiveCapacity;
use crate::negotiation::engine::{negotiate_session, Standing};
use crate::negotiation::regulatory::RuleBook;
use crate::negotiation::{
    AgentSpec, Bounds, LanguageModel, NegotiationConfig, NegotiationOutcome, StopReason, Units,
};
use crate::observability::{
    topic_holds, CellView, PrometheusSource, RenegotiationTrigger, TriggerReason,
};
use crate::transcript::{new_id, unix_ms, Transcript, TranscriptStore};

use super::feed::Feed;
use super::report::{incentive_name, Cause, Event, RunRecord, TimelineNegotiation, TimelineReport};
use super::scenario::{Phase, TimelineScenario};
use super::TimelineError;

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

/// Runs the timeline against a running xApp.
pub async fn run(job: &TimelineJob, cqi_source: &str) -> Result<TimelineReport, TimelineError> {
    let wall = Instant::now();
    let mut timeline = Timeline::connect(job).await?;
    let end_ms = (job.scenario.duration_s * 1000.0) as u64;
    loop {
        let ended_ms = timeline.feed.last_ms();
        let report = timeline.feed.next(ended_ms).await?;
        let (t_ms, view) = timeline.feed.record(&report);
        if t_ms >= end_ms {
            break;
        }
        timeline.step(t_ms, &view).await?;
    }
    Ok(timeline.finish(cqi_source, wall))
}

/// A run in progress: the connections, the units, the arbitral standing, what was enforced,
/// and the log so far.
struct Timeline<'j> {
    job: &'j TimelineJob,
    a1: A1Client,
    feed: Feed<'j>,
    arbitral: Box<dyn Arbitral>,
    store: Option<TranscriptStore>,
    rules: RuleBook,
    trigger: RenegotiationTrigger,
    standing: BTreeMap<String, Standing>,
    events: Vec<Event>,
    negotiations: Vec<TimelineNegotiation>,
    enforced: Option<f64>,
    pending: Option<Cause>,
    phase_name: String,
    standing_phase: String,
}

impl<'j> Timeline<'j> {
    /// Connects to the xApp (A1 and the KPI stream) and sets up the units; the session's
    /// opening negotiation is pending.
    async fn connect(job: &'j TimelineJob) -> Result<Self, TimelineError> {
        let sc = &job.scenario;
        let a1 = A1Client::new(&job.a1_url)?;
        let stream =
            kpi_client::subscribe(&job.kpi_url, "maestro-sla-timeline", job.connect_timeout)
                .await?;
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
        Ok(Self {
            job,
            a1,
            feed: Feed::new(&job.kpi_url, stream, (sc.settle_s * 1000.0) as u64),
            arbitral,
            store,
            rules: RuleBook {
                rules: sc.regulations.clone(),
            },
            trigger: RenegotiationTrigger::new(sc.trigger),
            standing: BTreeMap::new(),
            events: Vec::new(),
            negotiations: Vec::new(),
            enforced: None,
            pending: Some(Cause::Start),
            phase_name: String::new(),
            standing_phase: String::new(),
        })
    }

    /// One KPI period at `t_ms`: notes a new phase, lets the observability unit fire, and runs
    /// the negotiation pending, if any.
    async fn step(&mut self, t_ms: u64, view: &CellView) -> Result<(), TimelineError> {
        let job = self.job;
        let t_s = t_ms as f64 / 1000.0;
        let phase = job.scenario.phase_at(t_s);
        if phase.name != self.phase_name {
            self.phase_name = phase.name.clone();
            self.events.push(Event {
                t_s,
                kind: "phase".into(),
                detail: format!("business intents: {}", phase.name),
            });
        }
        if self.pending.is_none() {
            self.observe(t_s, view);
        }
        let Some(cause) = self.pending.take() else {
            return Ok(());
        };
        self.negotiate(cause, t_ms, phase, view).await
    }

    /// The observability unit's check of the enforced consensus against what the cell carries
    /// and the operators want; when it fires, a negotiation is pending.
    fn observe(&mut self, t_s: f64, view: &CellView) {
        let sc = &self.job.scenario;
        let wanted = sc.wanted_mbps_given(t_s, view.max_achievable_mbps, &self.standing);
        let Some(fired) = self.trigger.update(view, self.enforced, wanted) else {
            return;
        };
        self.events.push(Event {
            t_s,
            kind: "trigger".into(),
            detail: format!(
                "observability: consensus {:.1} Mbps {} (max achievable {:.1} Mbps, \
                 operators want {wanted:.1} Mbps) since {:.1} s",
                fired.consensus_mbps,
                match fired.reason {
                    TriggerReason::Unachievable => "unachievable",
                    TriggerReason::FarBelowCapacity =>
                        "far below what the cell and the operators allow",
                },
                fired.max_achievable_mbps,
                fired.since_ms.saturating_sub(self.feed.origin_ms()) as f64 / 1000.0
            ),
        });
        self.pending = Some(Cause::Observability { fired });
    }

    /// Runs a negotiation started at `t_ms` in `phase` on the cell in `view`, and enforces
    /// its outcome.
    async fn negotiate(
        &mut self,
        cause: Cause,
        t_ms: u64,
        phase: &Phase,
        view: &CellView,
    ) -> Result<(), TimelineError> {
        let sc = &self.job.scenario;
        let t_s = t_ms as f64 / 1000.0;
        self.open_session(t_s, phase);
        // Negotiate while the cell goes on: the KPI stream keeps the capacity live and halts
        // the negotiation if its topic becomes void.
        let cap = view.max_achievable_mbps * sc.capacity_headroom;
        let agents = sc.agents_at(t_s, cap);
        let votes_off: Vec<String> = agents
            .iter()
            .filter(|a| a.target_mbps == 0.0)
            .map(|a| a.id.clone())
            .collect();
        let config = negotiation_config(sc, cap);
        let index = self.negotiations.len() + 1;
        self.events.push(Event {
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
        self.log_prometheus(t_s).await;
        let started_unix_ms = unix_ms();
        let outcome = self
            .negotiate_live(&config, &agents, cap, view.max_achievable_mbps, t_ms)
            .await?;
        let end_s = self.feed.samples.last().map_or(t_s, |s| s.t_s);
        self.standing = outcome.standing.clone();
        self.log_arbitral(index, end_s, &outcome);
        let transcript_id = self.store_transcript(started_unix_ms, &config, &agents, &outcome)?;
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
        match enforce {
            Some(mbps) => {
                self.enforce(index, end_s, mbps, switch_off, &outcome)
                    .await?
            }
            None => self.restart_halted(index, end_s),
        }
        self.negotiations.push(TimelineNegotiation {
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
        Ok(())
    }

    /// A session of the arbitral unit lasts as long as the business intents it judged: new
    /// intents (a new phase) start every operator with a clean standing.
    fn open_session(&mut self, t_s: f64, phase: &Phase) {
        if self.standing_phase == phase.name {
            return;
        }
        if self.standing.values().any(|s| s.strikes > 0) {
            self.events.push(Event {
                t_s,
                kind: "arbitral_session".into(),
                detail: format!(
                    "new business intents ('{}'): arbitral standing reset",
                    phase.name
                ),
            });
        }
        self.standing.clear();
        self.standing_phase = phase.name.clone();
    }

    /// Logs the cell as the Prometheus server sees it, when one is configured.
    async fn log_prometheus(&mut self, t_s: f64) {
        let Some(prom) = &self.job.prometheus else {
            return;
        };
        self.events.push(Event {
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

    /// The negotiation itself, with the KPI stream read meanwhile: each period updates the
    /// capacity the negotiation sees, and voids its topic when the cell keeps less than the
    /// scenario's share of `started_cap`.
    async fn negotiate_live(
        &mut self,
        config: &NegotiationConfig,
        agents: &[AgentSpec],
        cap: f64,
        started_cap: f64,
        t_ms: u64,
    ) -> Result<NegotiationOutcome, TimelineError> {
        let job = self.job;
        let sc = &job.scenario;
        let live = LiveCapacity::new(cap.max(0.0));
        let units = Units {
            regulatory: &self.rules,
            observability: &live,
            arbitral: self.arbitral.as_ref(),
            mediator: None,
        };
        let fut = negotiate_session(config, agents, job.llm.as_ref(), &units, &self.standing);
        tokio::pin!(fut);
        loop {
            tokio::select! {
                out = &mut fut => break Ok(out?),
                next = self.feed.next(t_ms) => {
                    let (_, v) = self.feed.record(&next?);
                    live.set(v.max_achievable_mbps * sc.capacity_headroom);
                    if !topic_holds(started_cap, v.max_achievable_mbps, sc.topic_hold_share) {
                        live.set_topic_invalid(true);
                    }
                }
            }
        }
    }

    /// Logs the arbitral unit's decisions of negotiation `index`.
    fn log_arbitral(&mut self, index: usize, end_s: f64, outcome: &NegotiationOutcome) {
        for d in &outcome.arbitral_log {
            self.events.push(Event {
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
    }

    /// Stores the negotiation's transcript, when a store is configured; its id.
    fn store_transcript(
        &self,
        started_unix_ms: u64,
        config: &NegotiationConfig,
        agents: &[AgentSpec],
        outcome: &NegotiationOutcome,
    ) -> Result<Option<String>, TimelineError> {
        let Some(store) = &self.store else {
            return Ok(None);
        };
        let id = new_id();
        store.save(&Transcript {
            id: id.clone(),
            started_unix_ms,
            topic: config.topic.clone(),
            agents: agents.to_vec(),
            config: config.clone(),
            outcome: outcome.clone(),
        })?;
        Ok(Some(id))
    }

    /// Enforces `mbps` (0: the slice switched off) as the slice's A1 policy; the trigger
    /// starts over.
    async fn enforce(
        &mut self,
        index: usize,
        end_s: f64,
        mbps: f64,
        switch_off: bool,
        outcome: &NegotiationOutcome,
    ) -> Result<(), TimelineError> {
        let sc = &self.job.scenario;
        let id = policy_id(sc);
        self.a1
            .put_policy(
                SLICE_SLA_TARGET_TYPE,
                &id,
                &statement(&sc.slice, mbps),
                None,
            )
            .await?;
        self.enforced = Some(mbps);
        self.trigger.reset();
        self.events.push(Event {
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
        Ok(())
    }

    /// Negotiation `index` halted on a void topic: nothing enforced, a new one pending on the
    /// new capacity.
    fn restart_halted(&mut self, index: usize, end_s: f64) {
        self.events.push(Event {
            t_s: end_s,
            kind: "halted".into(),
            detail: format!("N{index}: topic became invalid (capacity fell); renegotiating"),
        });
        self.pending = Some(Cause::TopicInvalid {
            max_achievable_mbps: self
                .feed
                .samples
                .last()
                .map_or(0.0, |s| s.max_achievable_mbps),
        });
    }

    /// The report of the finished run.
    fn finish(self, cqi_source: &str, wall: Instant) -> TimelineReport {
        TimelineReport::analyse(RunRecord {
            scenario: self.job.scenario.name.clone(),
            cqi_source: cqi_source.to_owned(),
            llm: self.job.llm.name().to_owned(),
            wall_s: wall.elapsed().as_secs_f64(),
            kpi_reports: self.feed.reports,
            kpi_dropped: self.feed.dropped,
            negotiations: self.negotiations,
            events: self.events,
            samples: self.feed.samples,
        })
    }
}

/// The negotiation of the scenario's topic that may hand out at most `cap` Mbps.
fn negotiation_config(sc: &TimelineScenario, cap: f64) -> NegotiationConfig {
    NegotiationConfig {
        topic: sc.topic.clone(),
        epsilon_mbps: sc.epsilon_mbps,
        max_rounds: sc.max_rounds,
        bounds: Bounds {
            min_mbps: 0.0,
            max_mbps: cap.max(0.0),
        },
        pressure: sc.pressure,
        ..NegotiationConfig::default()
    }
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
        slice_sla_resources: None,
    }
}
