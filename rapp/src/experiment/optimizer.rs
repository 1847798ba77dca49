//! The optimizer experiment (paper, Sec. V, Fig. 3b): teams of 2, 5 and 10 business operators
//! with varied utilities and starting intents negotiate for at most 4 rounds under each design
//! — no optimizer (`none`), advice (`soft`), a directive (`hard`) — and each outcome is compared
//! with the theoretical optimal consensus of the team's utilities
//! ([`crate::negotiation::theory`]). Per team size and design it reports the mean absolute
//! error (MAE) with its sd, that error split into its two parts (below), the agreement rate, the
//! rounds played next to the bound the pressure schedule implies ([`rounds_bound`]), the share
//! of answers the validation unit replaced by the optimizer's value, and the wall time per
//! negotiation. Every output names the LLM backend
//! ([`crate::negotiation::LanguageModel::name`]).
//!
//! # Teams
//!
//! Per team size, `negotiations` teams are drawn from the seed; every design faces the same
//! teams (and the same per-negotiation LLM seed). A team's targets lie in a window whose width
//! `S` is drawn uniformly from [`Settings::spread_range_mbps`] (5..140 Mbps) and whose position
//! is drawn uniformly inside [`Settings::target_range_mbps`] (10..150 Mbps): two operators sit
//! at its ends (so the team's initial spread is `S`), the others uniformly in between, and the
//! targets are then shuffled over the operators. The four utility kinds of
//! [`crate::negotiation::utility`] are shuffled per team and dealt round-robin to its operators
//! (a pair gets two different kinds, five operators all four and one twice, ten operators
//! 3/3/2/2), with parameters drawn per operator: quadratic `a` in 0.5..2; asymmetric `above` in
//! 0.5..2 and `below = above x 1..4` (falling short hurts more); logarithmic `a` in 0.5..2 (its
//! curvature at the target); linear cost `price` 10..60 per Mbps above its floor and `penalty`
//! 5..20 below it. Each operator's business intent is one of two texts for its kind, naming its
//! target. Every agent plays [`Personality::Normal`].
//!
//! # The error split
//!
//! Let `c` be the consensus MAESTRO publishes at the end (the mean of the last demands MAESTRO
//! computes: stake-weighted under soft and hard; under none every operator counts the same, a
//! plain mean — the engine's `round_stakes` — both times the arbitral penalties), `x*` the
//! theoretical optimum, and `w` the stake-weighted mean of the *same* final demands by the
//! optimizer's rule ([`weighted_reference`]: stakes from the utilities at the mean, times the
//! penalties MAESTRO applied). Then `c - x* = (w - x*) + (c - w)`, so by the triangle inequality
//!
//! ```text
//! |c - x*|  <=  |w - x*|  +  |c - w|
//!  total        demands      rule
//! ```
//!
//! The demands part is how far the LLM's final demands are from the theory when they are
//! weighed as the theory weighs the operators; the rule part is what MAESTRO's averaging rule
//! adds on top. The parts can partly cancel, so their sum bounds the total rather than equals
//! it. Under soft and hard MAESTRO publishes `w` itself, so the rule part is 0 up to rounding
//! *by construction*; it is computed and printed for every design anyway. The rule part only
//! covers the final aggregation: that under none the agents were shown the plain mean every
//! round, and conceded toward it, is part of their demands and so of the demands part.
//!
//! # Rounds
//!
//! Each negotiation's rounds are reported next to [`rounds_bound`] of its team's initial
//! spread: the rounds after which demands that follow the optimizer exactly must be within
//! epsilon, computed from the team's targets and [`NegotiationConfig`] before the negotiation
//! runs. A negotiation counts as within the bound when it agreed in at most that many rounds
//! (one that did not agree took more rounds than the cap, so it does not count).

use std::time::Instant;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::stats::{summarize, Summary};
use super::{LlmFactory, Progress};
use crate::negotiation::optimizer::{pressure, weighted_reference};
use crate::negotiation::utility::Utility;
use crate::negotiation::{
    negotiate, AgentSpec, Bounds, NegotiationConfig, NegotiationError, NegotiationOutcome,
    Personality, PressureMode,
};

/// Settings of the experiment.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Team sizes.
    pub sizes: Vec<usize>,
    /// Negotiations per size and design.
    pub negotiations: usize,
    /// Round cap.
    pub max_rounds: u32,
    /// Consensus tolerance, Mbps.
    pub epsilon_mbps: f64,
    /// Base seed.
    pub seed: u64,
    /// Window every team's targets lie in, Mbps (lowest, highest).
    pub target_range_mbps: (f64, f64),
    /// Range each team's initial spread (the width of its targets) is drawn from, Mbps.
    pub spread_range_mbps: (f64, f64),
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            sizes: vec![2, 5, 10],
            negotiations: 100,
            max_rounds: 4,
            epsilon_mbps: 1.0,
            seed: 1,
            target_range_mbps: (10.0, 150.0),
            spread_range_mbps: (5.0, 140.0),
        }
    }
}

/// One negotiation.
#[derive(Debug, Clone, Serialize)]
pub struct Game {
    /// Agents.
    pub n: usize,
    /// Design.
    pub design: PressureMode,
    /// Negotiation number (the same team under every design).
    pub game: usize,
    /// The operators' utilities, in agent order (their targets are the starting intents).
    pub utilities: Vec<Utility>,
    /// The team's initial spread: highest minus lowest target (projected onto the bounds), Mbps.
    pub spread_mbps: f64,
    /// The consensus MAESTRO published at the end (the mean of the last demands by MAESTRO's
    /// rule for the design), Mbps.
    pub outcome_mbps: f64,
    /// Theoretical optimum, Mbps.
    pub theory_mbps: f64,
    /// The stake-weighted mean of the last demands by the optimizer's rule, Mbps.
    pub weighted_mbps: f64,
    /// |outcome - theory|, Mbps.
    pub abs_error_mbps: f64,
    /// |weighted - theory|: the LLM's demands against the theory, Mbps.
    pub demands_error_mbps: f64,
    /// |outcome - weighted|: what MAESTRO's averaging rule adds, Mbps.
    pub rule_error_mbps: f64,
    /// Agreed within the round cap.
    pub agreed: bool,
    /// Rounds played.
    pub rounds: u32,
    /// [`rounds_bound`] of the team's initial spread (`None`: the schedule never gets the
    /// directed demands within epsilon).
    pub bound_rounds: Option<u32>,
    /// Agreed in at most `bound_rounds` rounds.
    pub within_bound: bool,
    /// Answers the validation unit replaced by the optimizer's value (defied directives,
    /// unusable answers).
    pub substituted: usize,
    /// Answers asked for (agents x rounds after the opening).
    pub answers: usize,
    /// Agents whose stake the arbitral unit lowered (MAESTRO's means weigh them less).
    pub penalised: usize,
    /// Messages exchanged.
    pub messages: usize,
    /// Wall time, ms.
    pub wall_ms: f64,
}

/// One (size, design) cell.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// Agents.
    pub n: usize,
    /// Design.
    pub design: PressureMode,
    /// |outcome - theory|, Mbps.
    pub abs_error_mbps: Summary,
    /// Its demands part, |weighted - theory|, Mbps.
    pub demands_error_mbps: Summary,
    /// Its rule part, |outcome - weighted|, Mbps.
    pub rule_error_mbps: Summary,
    /// Share that agreed.
    pub agreement_rate: f64,
    /// Mean rounds played.
    pub mean_rounds: f64,
    /// Mean [`rounds_bound`] over the games that have one (`None`: no game has one).
    pub mean_bound_rounds: Option<f64>,
    /// Share that agreed within their bound.
    pub within_bound_rate: f64,
    /// Share of answers the validation unit replaced by the optimizer's value.
    pub substitution_rate: f64,
    /// Mean messages per round per agent.
    pub messages_per_agent_round: f64,
    /// Mean wall time per negotiation, ms.
    pub mean_wall_ms: f64,
    /// What the paper reports for this design.
    pub paper: String,
}

/// The whole experiment.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Settings.
    pub settings: Settings,
    /// LLM backend ([`crate::negotiation::LanguageModel::name`]).
    pub llm: String,
    /// How the teams were drawn.
    pub teams: String,
    /// The negotiation knobs every design shares (the pressure aside).
    pub negotiation: NegotiationConfig,
    /// Per size and design.
    pub cells: Vec<Cell>,
    /// Every negotiation.
    pub games: Vec<Game>,
}

/// The paper's figure for a design.
pub fn paper(design: PressureMode) -> &'static str {
    match design {
        PressureMode::None => "MAE 8 Mbps (sd 3)",
        PressureMode::Soft => "closer than none",
        PressureMode::Hard => "matches theory",
    }
}

/// The rounds after which demands that follow the optimizer exactly must all lie within
/// epsilon of each other, for a team whose targets (projected onto the bounds) span
/// `spread_mbps`; `None` when the schedule never gets them there.
///
/// Derivation. An agent that states its advice in round `k >= 1` demands
/// `x_i(k) = (t_i + mu_k m(k-1)) / (1 + mu_k)` ([`crate::negotiation::optimizer`]: the step is
/// exact for every utility kind, whatever the agent's last demand), where `t_i` is its projected
/// target, `m(k-1)` MAESTRO's last published mean — the same number for every agent — and
/// `mu_k = mu0 growth^k` ([`pressure`], the engine's schedule). Hence
/// `x_i(k) - x_j(k) = (t_i - t_j) / (1 + mu_k)`: after round `k` the spread is `S / (1 + mu_k)`
/// for the team's initial spread `S`, whatever `m` was (so whatever the weighting, the design,
/// the utilities or `n`), and no demand is clamped (each is a convex combination of in-bounds
/// values). The engine stops at the first round whose spread is below epsilon, round 0 being
/// the targets themselves, so the bound is `0` when `S < epsilon`, else the least `k >= 1` with
/// `S / (1 + mu0 growth^k) < epsilon`; it is also the exact count for such agents, since every
/// earlier round's spread is `>= epsilon`. With the defaults (`mu0` 1, growth 4, epsilon
/// 1 Mbps) that is 1 round below 5 Mbps, 2 below 17, 3 below 65 and 4 below 257. Answers that
/// only approximate the advice can need more: the hard design keeps an answer within
/// [`NegotiationConfig::hard_tolerance_mbps`] of the directive, which may widen the spread by
/// twice that.
pub fn rounds_bound(spread_mbps: f64, cfg: &NegotiationConfig) -> Option<u32> {
    /// Past this many rounds the schedule is taken to never get there.
    const LIMIT: u32 = 10_000;
    if spread_mbps < cfg.epsilon_mbps {
        return Some(0);
    }
    for k in 1..=LIMIT {
        let mu = pressure(cfg.mu0, cfg.mu_growth, k);
        if spread_mbps / (1.0 + mu) < cfg.epsilon_mbps {
            return Some(k);
        }
        if cfg.mu_growth <= 1.0 || !mu.is_finite() {
            // The pressure no longer grows: later rounds are no closer.
            return None;
        }
    }
    None
}

/// Highest minus lowest target of `agents`, each projected onto `bounds`, Mbps.
pub fn initial_spread(agents: &[AgentSpec], bounds: &Bounds) -> f64 {
    let (lo, hi) = agents
        .iter()
        .map(|a| a.utility().projected(bounds).target())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
            (lo.min(t), hi.max(t))
        });
    if lo.is_finite() && hi.is_finite() {
        hi - lo
    } else {
        0.0
    }
}

/// The utility kinds dealt to a team's operators.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Quadratic,
    Asymmetric,
    Logarithmic,
    LinearCost,
}

/// Every kind, shuffled per team.
const KINDS: [Kind; 4] = [
    Kind::Quadratic,
    Kind::Asymmetric,
    Kind::Logarithmic,
    Kind::LinearCost,
];

/// How the teams are drawn, for the report.
fn team_rule(settings: &Settings) -> String {
    let (t_lo, t_hi) = settings.target_range_mbps;
    let (s_lo, s_hi) = settings.spread_range_mbps;
    format!(
        "targets in a window of width {s_lo}..{s_hi} Mbps placed in {t_lo}..{t_hi} Mbps (two \
         operators at its ends); utilities quadratic/asymmetric/logarithmic/linear_cost \
         shuffled per team and dealt round-robin; random stakes and intent texts; all Normal"
    )
}

/// Operator `i` of kind `kind` with target `target`: its utility's parameters and the text of
/// its business intent drawn from `rng`.
fn operator(i: usize, kind: Kind, target: f64, rng: &mut StdRng) -> AgentSpec {
    let (utility, texts): (Utility, [&str; 2]) = match kind {
        Kind::Quadratic => (
            Utility::Quadratic {
                a: rng.random_range(0.5..2.0),
                target,
            },
            [
                "Enterprise connectivity at about {t} Mbps per slice: every Mbps off it costs \
                 us, too much as well as too little.",
                "Smart-factory backhaul sized for {t} Mbps per slice: deviations either way \
                 cost us in proportion.",
            ],
        ),
        Kind::Asymmetric => {
            let above = rng.random_range(0.5..2.0);
            (
                Utility::Asymmetric {
                    below: above * rng.random_range(1.0..4.0),
                    above,
                    target,
                },
                [
                    "Cloud gaming at {t} Mbps per slice: falling short hurts far more than \
                     paying for extra.",
                    "Live sports streaming at {t} Mbps per slice: too little loses viewers, too \
                     much only costs a little.",
                ],
            )
        }
        Kind::Logarithmic => (
            Utility::Logarithmic {
                a: rng.random_range(0.5..2.0),
                target,
            },
            [
                "Premium video at {t} Mbps per slice: every Mbps short of it costs us viewers, \
                 and quality beyond it is worth little more than its price.",
                "Extended-reality services at {t} Mbps per slice: below it the experience \
                 degrades fast, above it the gains are small.",
            ],
        ),
        Kind::LinearCost => (
            Utility::LinearCost {
                price: rng.random_range(10.0..60.0),
                floor: target,
                penalty: rng.random_range(5.0..20.0),
            },
            [
                "Keep costs low: {t} Mbps per slice is our floor, and every Mbps above it is \
                 paid for.",
                "IoT telemetry with a floor of {t} Mbps per slice: anything above it is cost \
                 without benefit.",
            ],
        ),
    };
    let text = texts[rng.random_range(0..texts.len())].replace("{t}", &format!("{target:.1}"));
    AgentSpec {
        id: format!("bo{i}"),
        business_intent: text,
        target_mbps: target,
        // Unused when `utility` is given; its curvature below the target, for the record.
        weight: utility.target_curvature(false),
        personality: Personality::Normal,
        weight_above: None,
        utility: Some(utility),
    }
}

/// A random team of `n` (the same for every design, so the designs face the same
/// negotiations); see the module doc.
fn team(n: usize, settings: &Settings, rng: &mut StdRng) -> Vec<AgentSpec> {
    let (t_lo, t_hi) = settings.target_range_mbps;
    let (s_lo, s_hi) = settings.spread_range_mbps;
    let spread = rng.random_range(s_lo..=s_hi);
    let low = rng.random_range(t_lo..=t_hi - spread);
    let mut targets: Vec<f64> = (0..n)
        .map(|i| match i {
            0 => low,
            1 => low + spread,
            _ => rng.random_range(low..=low + spread),
        })
        .collect();
    targets.shuffle(rng);
    let mut kinds = KINDS;
    kinds.shuffle(rng);
    targets
        .iter()
        .enumerate()
        .map(|(i, &t)| operator(i, kinds[i % kinds.len()], t, rng))
        .collect()
}

/// Why the settings cannot run, if they cannot.
fn check(settings: &Settings) -> Result<(), NegotiationError> {
    let bad = |m: &str| Err(NegotiationError::Config(m.to_owned()));
    let (t_lo, t_hi) = settings.target_range_mbps;
    let (s_lo, s_hi) = settings.spread_range_mbps;
    if settings.negotiations == 0 || settings.sizes.is_empty() || settings.sizes.contains(&0) {
        return bad("need at least one negotiation and team sizes >= 1");
    }
    if !(t_lo.is_finite() && t_hi.is_finite() && t_lo > 0.0 && t_lo <= t_hi) {
        return bad("the target range must be finite, above 0 Mbps and not empty");
    }
    if !(s_lo.is_finite() && s_hi.is_finite() && 0.0 <= s_lo && s_lo <= s_hi) {
        return bad("the spread range must be finite, >= 0 and not empty");
    }
    if s_hi > t_hi - t_lo {
        return bad("the widest spread must fit in the target range");
    }
    Ok(())
}

/// The error split of one outcome (see the module doc): MAESTRO's stake-weighted mean of the
/// final demands under the final bounds and the arbitral penalties.
fn weighted_final(
    agents: &[AgentSpec],
    out: &NegotiationOutcome,
    cfg: &NegotiationConfig,
) -> Result<f64, NegotiationError> {
    let bounds = out
        .history
        .last()
        .map_or_else(|| cfg.bounds.clone(), |r| r.bounds.clone());
    let projected: Vec<Utility> = agents
        .iter()
        .map(|a| a.utility().projected(&bounds))
        .collect();
    let finals: Vec<f64> = agents
        .iter()
        .map(|a| {
            out.finals.get(&a.id).copied().ok_or_else(|| {
                NegotiationError::Config(format!("no final demand for agent {}", a.id))
            })
        })
        .collect::<Result<_, _>>()?;
    let factors: Vec<f64> = agents
        .iter()
        .map(|a| {
            out.standing
                .get(&a.id)
                .map_or(1.0, |s| if s.excluded { 0.0 } else { s.stake_factor })
        })
        .collect();
    let (weighted, _) = weighted_reference(&projected, &finals, &factors);
    if weighted.is_finite() {
        Ok(weighted)
    } else {
        Err(NegotiationError::Config(
            "no agent left to weigh the final demands".into(),
        ))
    }
}

/// Summarises `values`, or says which sample was not finite.
fn summary(values: &[f64], what: &str) -> Result<Summary, NegotiationError> {
    summarize(values)
        .ok_or_else(|| NegotiationError::Config(format!("a {what} was not a finite number")))
}

/// The cell of `n` agents under `design` from its games.
fn cell(n: usize, design: PressureMode, games: &[Game]) -> Result<Cell, NegotiationError> {
    let k = games.len() as f64;
    let share = |f: &dyn Fn(&Game) -> bool| games.iter().filter(|g| f(g)).count() as f64 / k;
    let bounds: Vec<f64> = games
        .iter()
        .filter_map(|g| g.bound_rounds.map(f64::from))
        .collect();
    let answers: usize = games.iter().map(|g| g.answers).sum();
    let substituted: usize = games.iter().map(|g| g.substituted).sum();
    Ok(Cell {
        n,
        design,
        abs_error_mbps: summary(
            &games.iter().map(|g| g.abs_error_mbps).collect::<Vec<_>>(),
            "error",
        )?,
        demands_error_mbps: summary(
            &games
                .iter()
                .map(|g| g.demands_error_mbps)
                .collect::<Vec<_>>(),
            "demands error",
        )?,
        rule_error_mbps: summary(
            &games.iter().map(|g| g.rule_error_mbps).collect::<Vec<_>>(),
            "rule error",
        )?,
        agreement_rate: share(&|g| g.agreed),
        mean_rounds: games.iter().map(|g| f64::from(g.rounds)).sum::<f64>() / k,
        mean_bound_rounds: (!bounds.is_empty())
            .then(|| bounds.iter().sum::<f64>() / bounds.len() as f64),
        within_bound_rate: share(&|g| g.within_bound),
        substitution_rate: if answers == 0 {
            0.0
        } else {
            substituted as f64 / answers as f64
        },
        messages_per_agent_round: games
            .iter()
            .map(|g| g.messages as f64 / (n as f64 * f64::from(g.rounds + 1)))
            .sum::<f64>()
            / k,
        mean_wall_ms: games.iter().map(|g| g.wall_ms).sum::<f64>() / k,
        paper: paper(design).to_owned(),
    })
}

/// Runs every size and design.
pub async fn run(
    settings: &Settings,
    llm: LlmFactory<'_>,
    progress: Progress<'_>,
) -> Result<Report, NegotiationError> {
    check(settings)?;
    let designs = [PressureMode::None, PressureMode::Soft, PressureMode::Hard];
    let base = NegotiationConfig {
        max_rounds: settings.max_rounds,
        epsilon_mbps: settings.epsilon_mbps,
        ..NegotiationConfig::default()
    };
    let total = settings.sizes.len() * designs.len() * settings.negotiations;
    let mut done = 0;
    let mut games = Vec::with_capacity(total);
    let mut cells = Vec::new();
    let mut llm_name = String::new();
    for &n in &settings.sizes {
        let mut rng = StdRng::seed_from_u64(settings.seed ^ (n as u64).wrapping_mul(0x9e37));
        // Each team with its spread and bound, computed before any negotiation.
        let teams: Vec<(Vec<AgentSpec>, f64, Option<u32>)> = (0..settings.negotiations)
            .map(|_| {
                let agents = team(n, settings, &mut rng);
                let spread = initial_spread(&agents, &base.bounds);
                let bound = rounds_bound(spread, &base);
                (agents, spread, bound)
            })
            .collect();
        for design in designs {
            let cfg = NegotiationConfig {
                pressure: design,
                ..base.clone()
            };
            let mut these = Vec::with_capacity(settings.negotiations);
            for (g, (agents, spread, bound)) in teams.iter().enumerate() {
                let backend = llm(settings.seed.wrapping_add(g as u64 * 7919 + n as u64));
                llm_name = backend.name().to_owned();
                let t0 = Instant::now();
                let out = negotiate(&cfg, agents, backend.as_ref()).await?;
                let wall_ms = t0.elapsed().as_secs_f64() * 1e3;
                let theory = out.theoretical_mbps.ok_or_else(|| {
                    NegotiationError::Config("no theoretical consensus for these agents".into())
                })?;
                let weighted = weighted_final(agents, &out, &cfg)?;
                let turns = out.history.iter().flat_map(|r| &r.turns);
                these.push(Game {
                    n,
                    design,
                    game: g,
                    utilities: agents.iter().map(AgentSpec::utility).collect(),
                    spread_mbps: *spread,
                    outcome_mbps: out.consensus_mbps,
                    theory_mbps: theory,
                    weighted_mbps: weighted,
                    abs_error_mbps: (out.consensus_mbps - theory).abs(),
                    demands_error_mbps: (weighted - theory).abs(),
                    rule_error_mbps: (out.consensus_mbps - weighted).abs(),
                    agreed: out.converged,
                    rounds: out.rounds,
                    bound_rounds: *bound,
                    within_bound: out.converged && bound.is_none_or(|b| out.rounds <= b),
                    substituted: turns.clone().filter(|t| t.substituted).count(),
                    answers: turns.count(),
                    penalised: out
                        .standing
                        .values()
                        .filter(|s| s.stake_factor < 1.0)
                        .count(),
                    messages: out.messages,
                    wall_ms,
                });
                done += 1;
                progress(done, total);
            }
            cells.push(cell(n, design, &these)?);
            games.extend(these);
        }
    }
    Ok(Report {
        settings: settings.clone(),
        llm: llm_name,
        teams: team_rule(settings),
        negotiation: base,
        cells,
        games,
    })
}

impl Report {
    /// The cell for `n` agents under `design`.
    pub fn cell(&self, n: usize, design: PressureMode) -> Option<&Cell> {
        self.cells.iter().find(|c| c.n == n && c.design == design)
    }
}

/// `mean (sd)` of a summary.
fn mean_sd(s: &Summary) -> String {
    format!("{:.3} ({:.3})", s.mean, s.sd)
}

/// A CSV field, quoted (a backend's name may hold commas or quotes).
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

impl super::ExperimentReport for Report {
    fn name(&self) -> &'static str {
        "optimizer"
    }

    fn table(&self) -> String {
        let cfg = &self.negotiation;
        let mut out = format!(
            "optimizer (Fig. 3b), LLM {}: {} negotiations per cell, <= {} rounds, epsilon {} \
             Mbps, pressure mu_k = {} x {}^k\n\
             teams: {}\n\
             error split: |consensus - theory| <= demands |W - theory| + rule |consensus - W|, \
             W = stake-weighted mean of the final demands (rule = 0 by construction under \
             soft/hard: MAESTRO publishes W)\n\
             bound: rounds after which demands that follow the optimizer are within epsilon, \
             from each team's initial spread; <=bound: share agreeing within it\n\
             {:>3} {:<6} {:>16} {:>16} {:>16} {:>6} {:>6} {:>6} {:>7} {:>6} {:>9}  {}\n",
            self.llm,
            self.settings.negotiations,
            self.settings.max_rounds,
            self.settings.epsilon_mbps,
            cfg.mu0,
            cfg.mu_growth,
            self.teams,
            "n",
            "design",
            "MAE (sd) Mbps",
            "demands (sd)",
            "rule (sd)",
            "agree",
            "rounds",
            "bound",
            "<=bound",
            "subst",
            "ms/neg",
            "paper"
        );
        for c in &self.cells {
            out.push_str(&format!(
                "{:>3} {:<6} {:>16} {:>16} {:>16} {:>5.0}% {:>6.2} {:>6} {:>6.0}% {:>5.0}% {:>9.3}  {}\n",
                c.n,
                c.design.to_string(),
                mean_sd(&c.abs_error_mbps),
                mean_sd(&c.demands_error_mbps),
                mean_sd(&c.rule_error_mbps),
                c.agreement_rate * 100.0,
                c.mean_rounds,
                c.mean_bound_rounds
                    .map_or_else(|| "-".to_owned(), |b| format!("{b:.2}")),
                c.within_bound_rate * 100.0,
                c.substitution_rate * 100.0,
                c.mean_wall_ms,
                c.paper
            ));
        }
        out
    }

    fn csv(&self) -> String {
        let mut out = String::from(
            "n,design,game,kinds,spread_mbps,outcome_mbps,theory_mbps,weighted_mbps,\
             abs_error_mbps,demands_error_mbps,rule_error_mbps,agreed,rounds,bound_rounds,\
             within_bound,substituted,answers,penalised,messages,wall_ms,llm\n",
        );
        let llm = quoted(&self.llm);
        for g in &self.games {
            let kinds: Vec<&str> = g.utilities.iter().map(Utility::kind).collect();
            out.push_str(&format!(
                "{},{},{},{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{},{},{},{},{},{},{},{},{:.3},{}\n",
                g.n,
                g.design,
                g.game,
                kinds.join("|"),
                g.spread_mbps,
                g.outcome_mbps,
                g.theory_mbps,
                g.weighted_mbps,
                g.abs_error_mbps,
                g.demands_error_mbps,
                g.rule_error_mbps,
                g.agreed,
                g.rounds,
                g.bound_rounds.map_or_else(String::new, |b| b.to_string()),
                g.within_bound,
                g.substituted,
                g.answers,
                g.penalised,
                g.messages,
                g.wall_ms,
                llm
            ));
        }
        out
    }

    fn svg(&self) -> String {
        let series: Vec<super::plot::BoxSeries> = self
            .cells
            .iter()
            .map(|c| super::plot::BoxSeries {
                label: format!("{} {}", c.n, c.design),
                summary: c.abs_error_mbps.clone(),
            })
            .collect();
        super::plot::box_plot(
            &format!(
                "|consensus - theoretical optimum| by team size and design (LLM {})",
                self.llm
            ),
            "Mbps",
            &series,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use super::*;
    use crate::experiment::ExperimentReport;
    use crate::negotiation::llm::LlmFuture;
    use crate::negotiation::{LanguageModel, Prompt};

    /// An LLM double: answers every prompt with the value `pick` reads from its context.
    struct Double {
        name: &'static str,
        pick: fn(&Prompt) -> f64,
    }

    impl LanguageModel for Double {
        fn name(&self) -> &str {
            self.name
        }

        fn complete<'a>(&'a self, prompt: &'a Prompt) -> LlmFuture<'a> {
            let value = (self.pick)(prompt);
            Box::pin(async move {
                Ok(serde_json::json!({
                    "value": value,
                    "reasoning": "We state our position for this round."
                })
                .to_string())
            })
        }
    }

    const STUBBORN: &str = "stubborn, \"test\" double";

    /// Repeats its own target every round.
    fn stubborn(_seed: u64) -> Arc<dyn LanguageModel> {
        Arc::new(Double {
            name: STUBBORN,
            pick: |p| p.context.own_target_mbps,
        })
    }

    /// States the optimizer's value exactly (read from the context, so also under none, where
    /// the prompt's text does not show it).
    fn obedient(_seed: u64) -> Arc<dyn LanguageModel> {
        Arc::new(Double {
            name: "obedient double",
            pick: |p| p.context.optimizer_suggestion_mbps,
        })
    }

    fn targets(g: &Game) -> Vec<f64> {
        g.utilities.iter().map(Utility::target).collect()
    }

    fn plain_mean(values: &[f64]) -> f64 {
        values.iter().sum::<f64>() / values.len() as f64
    }

    /// The total slope of a game's utilities at `x` (0 at the theoretical optimum).
    fn slope(g: &Game, x: f64) -> f64 {
        g.utilities.iter().map(|u| u.gradient(x)).sum()
    }

    #[test]
    fn the_bound_is_the_first_round_whose_directed_spread_is_under_epsilon() {
        let cfg = NegotiationConfig {
            epsilon_mbps: 1.0,
            mu0: 1.0,
            mu_growth: 4.0,
            ..NegotiationConfig::default()
        };
        // spread / (1 + 4^k) < 1, with 1 + 4^k = 5, 17, 65, 257, 1025 for k = 1..5.
        for (spread, k) in [
            (0.5, 0),
            (1.0, 1),
            (4.9, 1),
            (5.0, 2),
            (16.9, 2),
            (17.0, 3),
            (64.0, 3),
            (80.0, 4),
            (256.9, 4),
            (257.0, 5),
        ] {
            assert_eq!(rounds_bound(spread, &cfg), Some(k), "spread {spread}");
        }
        // A flat schedule: 1.5 / 2 < 1 in round 1, 2 / 2 never.
        let flat = NegotiationConfig {
            mu_growth: 1.0,
            ..cfg.clone()
        };
        assert_eq!(rounds_bound(1.5, &flat), Some(1));
        assert_eq!(rounds_bound(2.0, &flat), None);
        // A tighter epsilon: 80 / 257 >= 0.1 > 80 / 1025.
        let tight = NegotiationConfig {
            epsilon_mbps: 0.1,
            ..cfg
        };
        assert_eq!(rounds_bound(80.0, &tight), Some(5));
    }

    #[tokio::test]
    async fn stubborn_operators_put_the_none_error_on_the_averaging_rule() {
        let settings = Settings {
            negotiations: 8,
            ..Settings::default()
        };
        let r = run(&settings, &stubborn, &|_, _| {}).await.unwrap();
        let cap = settings.max_rounds;
        let mut largest_rule: f64 = 0.0;
        let mut all_substituted = 0;
        for g in &r.games {
            let t = targets(g);
            let plain = plain_mean(&t);
            // The theory, checked by hand: the utilities' total slope vanishes there.
            assert!(slope(g, g.theory_mbps).abs() < 1e-5, "{g:?}");
            assert_eq!(g.penalised, 0, "{g:?}");
            match g.design {
                PressureMode::None => {
                    // MAESTRO's plain mean of the targets, and never an agreement.
                    assert!((g.outcome_mbps - plain).abs() < 1e-9, "{g:?}");
                    assert!(!g.agreed && !g.within_bound && g.rounds == cap, "{g:?}");
                    // The demands are the targets, whose stake-weighted mean solves the same
                    // slope equation as the theory: the demands part is 0 and the whole error
                    // is the rule's, |plain mean - theory|.
                    assert!(slope(g, g.weighted_mbps).abs() < 1e-5, "{g:?}");
                    assert!(g.demands_error_mbps < 1e-6, "{g:?}");
                    let by_hand = (plain - g.theory_mbps).abs();
                    assert!((g.rule_error_mbps - by_hand).abs() < 1e-6, "{g:?}");
                    assert!((g.abs_error_mbps - by_hand).abs() < 1e-9, "{g:?}");
                    largest_rule = largest_rule.max(g.rule_error_mbps);
                }
                PressureMode::Soft => {
                    // MAESTRO publishes the stake-weighted mean of the targets, the theory:
                    // no error at all, and no agreement either.
                    assert!(g.abs_error_mbps < 1e-6 && g.rule_error_mbps < 1e-9, "{g:?}");
                    assert!(!g.agreed && g.rounds == cap, "{g:?}");
                }
                PressureMode::Hard => {
                    // The validation unit replaces the defiant answers by the directive, and
                    // the team agrees: the design's agreement is the validation unit's doing.
                    assert!(g.substituted > 0 && g.agreed, "{g:?}");
                    if g.substituted == g.answers {
                        // Every demand directed: exactly the bound.
                        assert_eq!(Some(g.rounds), g.bound_rounds, "{g:?}");
                        all_substituted += 1;
                    }
                }
            }
        }
        // The split is not the identity: where the plain and the weighted means differ, the
        // rule part carries the error and the demands part does not.
        assert!(largest_rule > 1.0, "{largest_rule}");
        assert!(all_substituted > r.games.len() / 6, "{all_substituted}");
        for &n in &settings.sizes {
            let none = r.cell(n, PressureMode::None).unwrap();
            let games: Vec<&Game> = r
                .games
                .iter()
                .filter(|g| g.n == n && g.design == PressureMode::None)
                .collect();
            let bounds: Vec<f64> = games
                .iter()
                .map(|g| f64::from(g.bound_rounds.unwrap()))
                .collect();
            assert_eq!(
                (
                    none.agreement_rate,
                    none.within_bound_rate,
                    none.mean_rounds
                ),
                (0.0, 0.0, f64::from(cap))
            );
            assert!((none.mean_bound_rounds.unwrap() - plain_mean(&bounds)).abs() < 1e-12);
            let rule: Vec<f64> = games.iter().map(|g| g.rule_error_mbps).collect();
            assert!((none.rule_error_mbps.mean - plain_mean(&rule)).abs() < 1e-12);
        }
    }

    #[tokio::test]
    async fn operators_that_obey_the_advice_agree_exactly_at_the_bound() {
        let settings = Settings {
            negotiations: 10,
            ..Settings::default()
        };
        let r = run(&settings, &obedient, &|_, _| {}).await.unwrap();
        let mut bounds = BTreeSet::new();
        for g in &r.games {
            let bound = g.bound_rounds.unwrap();
            bounds.insert(bound);
            assert!(g.agreed && g.rounds == bound && g.within_bound, "{g:?}");
            assert_eq!(g.substituted, 0, "{g:?}");
            // The triangle inequality of the split.
            assert!(
                g.abs_error_mbps <= g.demands_error_mbps + g.rule_error_mbps + 1e-9,
                "{g:?}"
            );
            match g.design {
                PressureMode::None => {
                    // Directed demands keep the plain mean where it opened: at the plain mean
                    // of the targets, (sum t + mu n m) / ((1 + mu) n) = m.
                    let plain = plain_mean(&targets(g));
                    assert!((g.outcome_mbps - plain).abs() < 1e-9, "{g:?}");
                    let by_hand = (plain - g.theory_mbps).abs();
                    assert!((g.abs_error_mbps - by_hand).abs() < 1e-9, "{g:?}");
                }
                PressureMode::Soft | PressureMode::Hard => {
                    // MAESTRO's weighted mean stays on the theory from round 1 on.
                    assert!(g.abs_error_mbps < 1e-6, "{g:?}");
                    assert!(g.demands_error_mbps < 1e-6 && g.rule_error_mbps < 1e-9);
                }
            }
        }
        // The spreads vary, and so do the bounds (and the rounds with them).
        assert!(bounds.len() >= 2, "{bounds:?}");
        for c in &r.cells {
            assert_eq!((c.agreement_rate, c.within_bound_rate), (1.0, 1.0));
            assert!((c.mean_rounds - c.mean_bound_rounds.unwrap()).abs() < 1e-12);
        }
    }

    #[tokio::test]
    async fn every_output_names_the_backend_and_the_designs_face_the_same_teams() {
        let settings = Settings {
            sizes: vec![2, 5],
            negotiations: 4,
            ..Settings::default()
        };
        let r = run(&settings, &stubborn, &|_, _| {}).await.unwrap();
        assert_eq!(r.llm, STUBBORN);
        let table = r.table();
        assert!(table.lines().next().unwrap().contains(STUBBORN), "{table}");
        for design in ["none", "soft", "hard"] {
            // One row per team size, and the design named nowhere else.
            assert_eq!(table.matches(&format!(" {design} ")).count(), 2, "{table}");
        }
        assert!(r.svg().contains(STUBBORN));
        let csv = r.csv();
        assert_eq!(csv.lines().count(), 2 * 3 * 4 + 1);
        let field = quoted(STUBBORN);
        assert!(csv.lines().skip(1).all(|l| l.ends_with(&field)), "{csv}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["llm"], STUBBORN);
        let (s_lo, s_hi) = settings.spread_range_mbps;
        let (t_lo, t_hi) = settings.target_range_mbps;
        for g in &r.games {
            let none = r
                .games
                .iter()
                .find(|h| h.n == g.n && h.game == g.game && h.design == PressureMode::None)
                .unwrap();
            assert_eq!(
                (&g.utilities, g.spread_mbps, g.bound_rounds),
                (&none.utilities, none.spread_mbps, none.bound_rounds)
            );
            let t = targets(g);
            assert!(t.iter().all(|&x| (t_lo..=t_hi).contains(&x)), "{t:?}");
            assert!((s_lo..=s_hi).contains(&g.spread_mbps), "{g:?}");
            // Round-robin over the four kinds: all different up to four operators.
            let kinds: BTreeSet<&str> = g.utilities.iter().map(Utility::kind).collect();
            assert_eq!(kinds.len(), g.n.min(4), "{kinds:?}");
        }
        // The teams differ from one negotiation to the next.
        let spreads: BTreeSet<u64> = r.games.iter().map(|g| g.spread_mbps.to_bits()).collect();
        assert_eq!(spreads.len(), 2 * 4);
    }

    #[tokio::test]
    async fn unusable_settings_are_refused() {
        for settings in [
            Settings {
                sizes: vec![0],
                ..Settings::default()
            },
            Settings {
                spread_range_mbps: (5.0, 200.0),
                ..Settings::default()
            },
            Settings {
                target_range_mbps: (0.0, 150.0),
                ..Settings::default()
            },
        ] {
            assert!(run(&settings, &stubborn, &|_, _| {}).await.is_err());
        }
    }
}
