//! The live page's state: the negotiations this rApp ran (current and past, newest last) and
//! each cell's latest KPIs (one entry per cell the KPI stream carries), plus a broadcast channel of what changes (`kpi`, `round`,
//! `consensus`, `policy` events) for the server-sent events stream.
//!
//! Publishing never waits: a subscriber that reads too slowly loses the oldest events and is
//! told how many (like `dropped_before` on the gRPC KPI stream).

use std::collections::{BTreeMap, VecDeque};
use std::sync::RwLock;

use maestro_api::kpi::CellReport;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use crate::negotiation::arbitral::ArbitralDecision;
use crate::negotiation::arbitral::Verdict;
use crate::negotiation::{AgentSpec, NegotiationOutcome, StopReason};

/// Negotiations kept in memory; older ones are forgotten (the transcript store keeps them).
pub const KEPT_NEGOTIATIONS: usize = 100;

/// Events buffered per subscriber before the oldest are dropped.
pub const EVENT_BUFFER: usize = 256;

/// Where a negotiation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveStatus {
    /// Rounds are running.
    Running,
    /// The spread fell below epsilon.
    Consensus,
    /// The round cap was reached first.
    RoundCap,
    /// The observability unit said the topic no longer holds.
    TopicInvalid,
    /// The pass failed before the negotiation finished.
    Failed,
}

impl From<StopReason> for LiveStatus {
    fn from(stop: StopReason) -> Self {
        match stop {
            StopReason::Consensus => Self::Consensus,
            StopReason::RoundCap => Self::RoundCap,
            StopReason::TopicInvalid => Self::TopicInvalid,
        }
    }
}

/// A negotiating agent (one per business operator).
#[derive(Debug, Clone, Serialize)]
pub struct LiveAgent {
    /// Agent (operator) id.
    pub id: String,
    /// The operator's business intent.
    pub business_intent: String,
    /// What the operator wants, Mbps.
    pub target_mbps: f64,
    /// Its negotiation personality.
    pub personality: String,
}

/// One agent's message of one round.
#[derive(Debug, Clone, Serialize)]
pub struct AgentValue {
    /// Agent id.
    pub agent_id: String,
    /// Demanded throughput, Mbps.
    pub value_mbps: f64,
    /// The agent's reasoning.
    pub reasoning: String,
    /// The optimizer's value for the agent this round, Mbps.
    pub advice_mbps: Option<f64>,
    /// The optimizer's value stood in for the agent's.
    pub substituted: bool,
    /// The arbitral unit's verdict on the message (none for the opening round).
    pub verdict: Option<Verdict>,
}

/// MAESTRO's answer to a round: the proposal every agent is steered towards.
#[derive(Debug, Clone, Serialize)]
pub struct MediatorProposal {
    /// Stake-weighted mean demand, Mbps.
    pub mean_mbps: f64,
    /// Lowest demand, Mbps.
    pub min_mbps: f64,
    /// Highest demand, Mbps.
    pub max_mbps: f64,
    /// max - min, Mbps.
    pub spread_mbps: f64,
    /// Natural-language summary sent to the agents.
    pub summary: String,
}

/// One round.
#[derive(Debug, Clone, Serialize)]
pub struct LiveRound {
    /// Negotiation id.
    pub negotiation_id: String,
    /// Round number (0 = opening statements).
    pub round: u32,
    /// Each agent's value and reasoning.
    pub values: Vec<AgentValue>,
    /// MAESTRO's proposal after the round.
    pub proposal: MediatorProposal,
    /// Incentives the arbitral unit gave for this round's messages.
    pub incentives: Vec<ArbitralDecision>,
}

/// An A1 policy a negotiation produced.
#[derive(Debug, Clone, Serialize)]
pub struct LivePolicy {
    /// Operator owning the slice.
    pub operator: String,
    /// Slice label (`mcc-mnc/sstN-sdXXXXXX`).
    pub slice: String,
    /// A1 policy id.
    pub policy_id: String,
    /// Guaranteed = maximum DL throughput in the policy, kbps.
    pub dl_kbps: f64,
}

/// A negotiation as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LiveNegotiation {
    /// Negotiation id (the transcript id when transcripts are kept).
    pub id: String,
    /// Topic.
    pub topic: String,
    /// The cell it negotiates for (many cells: one negotiation each); absent: the RAN as one
    /// cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    /// Start, ms since the Unix epoch.
    pub started_unix_ms: u64,
    /// Where it stands.
    pub status: LiveStatus,
    /// The agents.
    pub agents: Vec<LiveAgent>,
    /// Round by round.
    pub rounds: Vec<LiveRound>,
    /// The agreed (or last mean) value, Mbps, once finished.
    pub consensus_mbps: Option<f64>,
    /// Spread fell below epsilon.
    pub converged: bool,
    /// Every arbitral decision with an incentive, in order.
    pub incentives: Vec<ArbitralDecision>,
    /// Sources the regulatory unit cited.
    pub citations: Vec<String>,
    /// The A1 policies it produced.
    pub policies: Vec<LivePolicy>,
    /// Wall-clock seconds the negotiation took (the LLM's time), once finished.
    pub negotiation_wall_s: Option<f64>,
    /// gNB time at which the KPI stream first showed every policy enforced, s.
    pub enforced_at_gnb_s: Option<f64>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// A slice's KPIs in one report.
#[derive(Debug, Clone, Serialize)]
pub struct SliceKpi {
    /// Slice label.
    pub slice: String,
    /// Target of the A1 policy in force, Mbps (0: none).
    pub target_mbps: f64,
    /// Measured DL throughput over the period, Mbps.
    pub measured_mbps: f64,
    /// PRBs per DL slot the slice could use.
    pub prb_quota: u32,
    /// PRBs per DL slot used (mean).
    pub prb_used: f64,
    /// Mean wide-band CQI of its UEs (CQI table 1, TS 38.214 Table 5.2.2.1-2).
    pub cqi: f64,
    /// UEs reported.
    pub ues: usize,
    /// The target fits the cell at this period's CQIs.
    pub achievable: bool,
}

/// One KPI report of the cell.
#[derive(Debug, Clone, Serialize)]
pub struct KpiSnapshot {
    /// Report sequence number.
    pub sequence: u64,
    /// gNB clock at the end of the period, ms.
    pub sim_time_ms: u64,
    /// Cell id.
    pub cell_id: String,
    /// PRBs of the cell.
    pub n_prb: u32,
    /// Capacity at the current CQIs, Mbps.
    pub capacity_mbps: f64,
    /// Per slice.
    pub slices: Vec<SliceKpi>,
}

impl From<&CellReport> for KpiSnapshot {
    fn from(r: &CellReport) -> Self {
        Self {
            sequence: r.sequence,
            sim_time_ms: r.sim_time_ms,
            cell_id: r.cell_id.clone(),
            n_prb: r.n_prb,
            capacity_mbps: r.capacity_bps / 1e6,
            slices: r
                .slices
                .iter()
                .map(|s| {
                    let cqis: Vec<f64> = s.ues.iter().map(|u| f64::from(u.wb_cqi)).collect();
                    let cqi = if cqis.is_empty() {
                        0.0
                    } else {
                        cqis.iter().sum::<f64>() / cqis.len() as f64
                    };
                    SliceKpi {
                        slice: s.label.clone(),
                        target_mbps: s.target_bps / 1e6,
                        measured_mbps: s.dl_throughput_bps / 1e6,
                        prb_quota: s.prb_quota,
                        prb_used: s.prb_used,
                        cqi,
                        ues: s.ues.len(),
                        achievable: s.achievable,
                    }
                })
                .collect(),
        }
    }
}

/// The consensus of a finished negotiation.
#[derive(Debug, Clone, Serialize)]
pub struct ConsensusEvent {
    /// Negotiation id.
    pub negotiation_id: String,
    /// How it ended.
    pub status: LiveStatus,
    /// Agreed (or last mean) value, Mbps.
    pub consensus_mbps: f64,
    /// Rounds after the opening.
    pub rounds: u32,
}

/// The A1 policies a negotiation produced, once in place.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyEvent {
    /// Negotiation id.
    pub negotiation_id: String,
    /// The policies.
    pub policies: Vec<LivePolicy>,
}

/// The KPI stream showed a negotiation's policies enforced.
#[derive(Debug, Clone, Serialize)]
pub struct EnforcedEvent {
    /// Negotiation id.
    pub negotiation_id: String,
    /// gNB time of the first report carrying every agreed target, s.
    pub gnb_time_s: f64,
    /// Wall-clock seconds the negotiation took.
    pub negotiation_wall_s: Option<f64>,
}

/// What the events stream carries.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    /// A KPI report arrived.
    Kpi(KpiSnapshot),
    /// A round finished.
    Round(LiveRound),
    /// A negotiation finished.
    Consensus(ConsensusEvent),
    /// Its A1 policies are in place.
    Policy(PolicyEvent),
    /// The cell enforces them (the judged window starts).
    Enforced(EnforcedEvent),
}

impl LiveEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Kpi(_) => "kpi",
            Self::Round(_) => "round",
            Self::Consensus(_) => "consensus",
            Self::Policy(_) => "policy",
            Self::Enforced(_) => "enforced",
        }
    }

    /// The event's data as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let value = match self {
            Self::Kpi(k) => serde_json::to_value(k),
            Self::Round(r) => serde_json::to_value(r),
            Self::Consensus(c) => serde_json::to_value(c),
            Self::Policy(p) => serde_json::to_value(p),
            Self::Enforced(e) => serde_json::to_value(e),
        };
        value.unwrap_or(serde_json::Value::Null)
    }
}

/// The live page's shared state; share it as `Arc<LiveHub>`.
#[derive(Debug)]
pub struct LiveHub {
    negotiations: RwLock<VecDeque<LiveNegotiation>>,
    /// Each cell's latest report, by cell id, and the id of the cell that reported last.
    latest_kpi: RwLock<(BTreeMap<String, KpiSnapshot>, String)>,
    events: broadcast::Sender<LiveEvent>,
    closed: watch::Sender<bool>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveHub {
    /// An empty hub.
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (closed, _) = watch::channel(false);
        Self {
            negotiations: RwLock::new(VecDeque::new()),
            latest_kpi: RwLock::new((BTreeMap::new(), String::new())),
            events,
            closed,
        }
    }

    fn publish(&self, event: LiveEvent) {
        // No subscriber is not an error: the page may not be open.
        let _ = self.events.send(event);
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut LiveNegotiation)) {
        let mut all = match self.negotiations.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(n) = all.iter_mut().find(|n| n.id == id) {
            f(n);
        }
    }

    /// A KPI report arrived.
    pub fn kpi(&self, report: &CellReport) {
        let snapshot = KpiSnapshot::from(report);
        {
            let mut latest = match self.latest_kpi.write() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            let (by_cell, newest) = &mut *latest;
            newest.clone_from(&snapshot.cell_id);
            by_cell.insert(snapshot.cell_id.clone(), snapshot.clone());
        }
        self.publish(LiveEvent::Kpi(snapshot));
    }

    /// A negotiation starts (for `cell`, with many cells).
    pub fn begin(
        &self,
        id: &str,
        topic: &str,
        cell: Option<&str>,
        agents: &[AgentSpec],
        started_unix_ms: u64,
    ) {
        let negotiation = LiveNegotiation {
            id: id.to_owned(),
            topic: topic.to_owned(),
            cell: cell.map(str::to_owned),
            started_unix_ms,
            status: LiveStatus::Running,
            agents: agents
                .iter()
                .map(|a| LiveAgent {
                    id: a.id.clone(),
                    business_intent: a.business_intent.clone(),
                    target_mbps: a.target_mbps,
                    personality: format!("{:?}", a.personality),
                })
                .collect(),
            rounds: Vec::new(),
            consensus_mbps: None,
            converged: false,
            incentives: Vec::new(),
            citations: Vec::new(),
            policies: Vec::new(),
            negotiation_wall_s: None,
            enforced_at_gnb_s: None,
            error: None,
        };
        let mut all = match self.negotiations.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        all.push_back(negotiation);
        while all.len() > KEPT_NEGOTIATIONS {
            all.pop_front();
        }
    }

    /// A negotiation finished: its rounds (one `round` event each, in order), then its
    /// consensus (a `consensus` event).
    pub fn finish(&self, id: &str, outcome: &NegotiationOutcome) {
        let rounds: Vec<LiveRound> = outcome
            .history
            .iter()
            .map(|r| LiveRound {
                negotiation_id: id.to_owned(),
                round: r.round,
                values: r
                    .intents
                    .iter()
                    .enumerate()
                    .map(|(i, intent)| {
                        let turn = r.turns.get(i);
                        AgentValue {
                            agent_id: intent.agent_id.clone(),
                            value_mbps: intent.value_mbps,
                            reasoning: intent.reasoning.clone(),
                            advice_mbps: turn.map(|t| t.advice_mbps),
                            substituted: turn.is_some_and(|t| t.substituted),
                            verdict: turn.map(|t| t.verdict.clone()),
                        }
                    })
                    .collect(),
                proposal: MediatorProposal {
                    mean_mbps: r.feedback.mean_mbps,
                    min_mbps: r.feedback.min_mbps,
                    max_mbps: r.feedback.max_mbps,
                    spread_mbps: r.feedback.spread_mbps,
                    summary: r.feedback.summary.clone(),
                },
                incentives: outcome
                    .arbitral_log
                    .iter()
                    .filter(|d| d.round == r.round)
                    .cloned()
                    .collect(),
            })
            .collect();
        let status = LiveStatus::from(outcome.stop);
        for round in &rounds {
            self.update(id, |n| n.rounds.push(round.clone()));
            self.publish(LiveEvent::Round(round.clone()));
        }
        self.update(id, |n| {
            n.status = status;
            n.consensus_mbps = Some(outcome.consensus_mbps);
            n.converged = outcome.converged;
            n.incentives = outcome.arbitral_log.clone();
            n.citations = outcome.citations.clone();
            n.negotiation_wall_s = Some(outcome.wall_ms / 1000.0);
        });
        self.publish(LiveEvent::Consensus(ConsensusEvent {
            negotiation_id: id.to_owned(),
            status,
            consensus_mbps: outcome.consensus_mbps,
            rounds: outcome.rounds,
        }));
    }

    /// The negotiation's A1 policies are in place.
    pub fn policies(&self, id: &str, policies: Vec<LivePolicy>) {
        self.update(id, |n| n.policies = policies.clone());
        self.publish(LiveEvent::Policy(PolicyEvent {
            negotiation_id: id.to_owned(),
            policies,
        }));
    }

    /// The KPI stream first showed the negotiation's policies enforced at `gnb_time_s`.
    pub fn enforced(&self, id: &str, gnb_time_s: f64) {
        let mut wall = None;
        self.update(id, |n| {
            n.enforced_at_gnb_s = Some(gnb_time_s);
            wall = n.negotiation_wall_s;
        });
        self.publish(LiveEvent::Enforced(EnforcedEvent {
            negotiation_id: id.to_owned(),
            gnb_time_s,
            negotiation_wall_s: wall,
        }));
    }

    /// The pass failed while the negotiation was still running.
    pub fn fail(&self, id: &str, error: &str) {
        self.update(id, |n| {
            if n.status == LiveStatus::Running {
                n.status = LiveStatus::Failed;
                n.error = Some(error.to_owned());
            }
        });
    }

    /// Every negotiation kept, oldest first.
    pub fn negotiations(&self) -> Vec<LiveNegotiation> {
        match self.negotiations.read() {
            Ok(g) => g.iter().cloned().collect(),
            Err(poisoned) => poisoned.into_inner().iter().cloned().collect(),
        }
    }

    /// One negotiation.
    pub fn negotiation(&self, id: &str) -> Option<LiveNegotiation> {
        match self.negotiations.read() {
            Ok(g) => g.iter().find(|n| n.id == id).cloned(),
            Err(poisoned) => poisoned.into_inner().iter().find(|n| n.id == id).cloned(),
        }
    }

    /// The latest KPI report, of whichever cell reported last.
    pub fn latest_kpi(&self) -> Option<KpiSnapshot> {
        let latest = match self.latest_kpi.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        latest.0.get(&latest.1).cloned()
    }

    /// The latest KPI report of every cell, by cell id.
    pub fn latest_kpis(&self) -> Vec<KpiSnapshot> {
        let latest = match self.latest_kpi.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        latest.0.values().cloned().collect()
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.events.subscribe()
    }

    /// Flips to `true` when the hub is closed (see [`LiveHub::close`]).
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// Ends every open events stream (so an HTTP server's graceful shutdown can finish).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::negotiation::{negotiate, NegotiationConfig, PersonaNegotiator, Personality};
    use maestro_api::kpi::{SliceReport, UeReport};

    fn agents() -> Vec<AgentSpec> {
        [("bo-cost", 20.0), ("bo-qos", 100.0)]
            .into_iter()
            .map(|(id, target)| AgentSpec {
                id: id.into(),
                business_intent: format!("{id} wants {target} Mbps"),
                target_mbps: target,
                weight: 1.0,
                personality: Personality::Normal,
                weight_above: None,
                utility: None,
            })
            .collect()
    }

    #[tokio::test]
    async fn finish_publishes_every_round_then_the_consensus() {
        let hub = LiveHub::new();
        let mut events = hub.subscribe();
        let agents = agents();
        let cfg = NegotiationConfig::default();
        let outcome = negotiate(&cfg, &agents, &PersonaNegotiator::new(7))
            .await
            .unwrap();
        hub.begin("neg-1", &cfg.topic, None, &agents, 1);
        assert_eq!(
            hub.negotiation("neg-1").unwrap().status,
            LiveStatus::Running
        );
        hub.finish("neg-1", &outcome);

        let n = hub.negotiation("neg-1").unwrap();
        assert_eq!(n.rounds.len(), outcome.history.len());
        assert_eq!(n.consensus_mbps, Some(outcome.consensus_mbps));
        assert_eq!(n.status, LiveStatus::from(outcome.stop));
        for (live, rec) in n.rounds.iter().zip(&outcome.history) {
            assert_eq!(live.values.len(), 2);
            assert_eq!(live.values[1].value_mbps, rec.intents[1].value_mbps);
            assert_eq!(live.proposal.mean_mbps, rec.feedback.mean_mbps);
        }
        for i in 0..outcome.history.len() {
            match events.try_recv().unwrap() {
                LiveEvent::Round(r) => assert_eq!(r.round as usize, i),
                other => panic!("expected round {i}, got {}", other.name()),
            }
        }
        match events.try_recv().unwrap() {
            LiveEvent::Consensus(c) => assert_eq!(c.consensus_mbps, outcome.consensus_mbps),
            other => panic!("expected consensus, got {}", other.name()),
        }
    }

    #[test]
    fn kpi_snapshot_converts_units_and_averages_cqi() {
        let hub = LiveHub::new();
        let report = CellReport {
            sequence: 9,
            sim_time_ms: 4_000,
            cell_id: "cell-1".into(),
            n_prb: 106,
            capacity_bps: 134e6,
            slices: vec![SliceReport {
                label: "001-01/sst1-sd000001".into(),
                prb_quota: 40,
                dl_throughput_bps: 50e6,
                target_bps: 52e6,
                ues: vec![
                    UeReport {
                        wb_cqi: 12,
                        ..Default::default()
                    },
                    UeReport {
                        wb_cqi: 15,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        hub.kpi(&report);
        let k = hub.latest_kpi().unwrap();
        assert_eq!(k.sequence, 9);
        assert_eq!(k.capacity_mbps, 134.0);
        assert_eq!(k.slices[0].measured_mbps, 50.0);
        assert_eq!(k.slices[0].target_mbps, 52.0);
        assert_eq!(k.slices[0].cqi, 13.5);
        assert_eq!(k.slices[0].prb_quota, 40);
        // Another cell: both kept, the newest is the latest.
        hub.kpi(&CellReport {
            sequence: 3,
            cell_id: "cell-0".into(),
            ..report.clone()
        });
        assert_eq!(hub.latest_kpi().map(|k| k.cell_id), Some("cell-0".into()));
        let cells: Vec<(String, u64)> = hub
            .latest_kpis()
            .into_iter()
            .map(|k| (k.cell_id, k.sequence))
            .collect();
        assert_eq!(cells, [("cell-0".to_owned(), 3), ("cell-1".to_owned(), 9)]);
    }

    #[test]
    fn keeps_at_most_the_last_negotiations() {
        let hub = LiveHub::new();
        for i in 0..KEPT_NEGOTIATIONS + 3 {
            hub.begin(&format!("neg-{i}"), "t", None, &agents(), 0);
        }
        let all = hub.negotiations();
        assert_eq!(all.len(), KEPT_NEGOTIATIONS);
        assert_eq!(all[0].id, "neg-3");
        assert!(hub.negotiation("neg-0").is_none());
    }

    #[test]
    fn a_slow_subscriber_is_told_how_many_events_it_lost() {
        let hub = LiveHub::new();
        let mut slow = hub.subscribe();
        let report = CellReport::default();
        for _ in 0..EVENT_BUFFER + 10 {
            hub.kpi(&report);
        }
        match slow.try_recv() {
            Err(broadcast::error::TryRecvError::Lagged(n)) => assert_eq!(n, 10),
            other => panic!("expected a lag of 10, got {other:?}"),
        }
    }
}
