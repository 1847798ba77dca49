//! The personalities experiment: the paper's Fig. 3a (Sec. V) as the paper ran it. Two
//! *standalone* agents — no arbitral unit ([`NoArbitral`]), no optimizer
//! ([`PressureMode::None`]), no regulatory rules (an empty [`RuleBook`]), no live capacity, no
//! MAESTRO voice (the numeric template of MAESTRO's feedback) — negotiate a throughput for at
//! most 5 rounds, for every personality pair the paper shows, written cost-QoS: N-N, A-D, V-D,
//! V-T, N-T, D-T, D-D, T-T, 50 games each (the defaults).
//!
//! **Goals.** The cost agent's business intent asks for 10 Mbps ([`COST_TARGET_MBPS`]), the
//! QoS agent's for 90 Mbps ([`QOS_TARGET_MBPS`]); both have the same stake (weight 1). The fair
//! middle is the midpoint of the two targets, (10 + 90) / 2 = 50 Mbps
//! ([`FAIR_MIDDLE_MBPS`]): where two equally weighted quadratic utilities have their optimum
//! and where the paper puts it. The gap between the targets is 80 Mbps.
//!
//! **What is recorded.** Per game, *each* agent's final decision (its last demand,
//! `NegotiationOutcome::finals`, regardless of consensus, as the paper gathers them), whether
//! they agreed (spread below epsilon), the rounds played, the wall time, the arbitral incentives
//! and the validation unit's substitutions (an answer that could not be used is replaced by the
//! optimizer's value even with the optimizer off; a real LLM's substitutions are therefore
//! counted, not hidden). Per pair: both agents' distributions, the distribution of the game's
//! *decision* (the mean of the two finals), the agreement rate, the mean rounds over all games
//! (a game without agreement counts the rounds it played, the cap) and over the agreed games
//! only, and the mean wall time per game.
//!
//! **The paper's claims, checked** ([`evaluate_claims`]; each can come out either way):
//!
//! - (a) V-T is the highest: held if V-T's mean decision is strictly above every other pair's.
//! - (b) N-N and D-D stay near the middle: held if each one's mean decision is within
//!   [`NEAR_MIDDLE_TOLERANCE_MBPS`] (10% of the 80 Mbps gap, 8 Mbps) of 50 Mbps.
//! - (c) T-T never agrees: held if T-T's agreement rate is 0.
//! - (d) pairs with agreeableness (an Agreeable or Vulnerable agent: A-D, V-D, V-T) converge
//!   fastest: held if every such pair's mean rounds (over all games) is strictly below every
//!   other pair's.
//!
//! The letter gives no per-pair numbers (its Fig. 3a is a box plot), so the "paper" column is
//! its qualitative reading per pair ([`PAIRS`]), never a number.
//!
//! **Ablation.** [`Settings::with`] switches units on: the arbitral unit (the built-in lexicon
//! with the paper's ladder, [`BuiltinArbitral::paper`], whatever the backend), the optimizer
//! (soft advice or a hard directive, [`Settings::optimizer_pressure`]), the regulatory unit (the
//! bundled notes, [`RegulationLibrary::bundled`]). The report records which were on; with any
//! on it is not the paper's setting.
//!
//! The backend is whatever [`LlmFactory`] gives: the persona simulator (`persona (scripted)`,
//! a scripted behavioural model documented in `docs/PERSONA.md`, whose pair outcomes follow
//! from its constants), or a real LLM.

use std::time::Instant;

use serde::Serialize;

use super::plot::{svg_to_png, BoxGroup, GroupedBoxPlot, RenderError};
use super::stats::{summarize, Summary};
use super::{LlmFactory, Progress};
use crate::negotiation::arbitral::{Arbitral, BuiltinArbitral, NoArbitral};
use crate::negotiation::capacity::Unbounded;
use crate::negotiation::regulatory::{Regulatory, RuleBook};
use crate::negotiation::retrieval::{RegulationLibrary, RetrievalError};
use crate::negotiation::{
    negotiate_with, AgentSpec, LanguageModel, NegotiationConfig, NegotiationError,
    NegotiationOutcome, Personality, PressureMode, Units,
};

/// The cost agent's target, Mbps.
pub const COST_TARGET_MBPS: f64 = 10.0;
/// The QoS agent's target, Mbps.
pub const QOS_TARGET_MBPS: f64 = 90.0;
/// The fair middle: the midpoint of the two targets, Mbps.
pub const FAIR_MIDDLE_MBPS: f64 = (COST_TARGET_MBPS + QOS_TARGET_MBPS) / 2.0;
/// How far from the middle a mean decision may be and still count as "near the middle"
/// (claim b): 10% of the gap between the targets, Mbps.
pub const NEAR_MIDDLE_TOLERANCE_MBPS: f64 = 0.1 * (QOS_TARGET_MBPS - COST_TARGET_MBPS);

/// The pairs the paper shows, (cost agent, QoS agent), with the paper's qualitative reading
/// of its Fig. 3a for each.
pub const PAIRS: [(Personality, Personality, &str); 8] = [
    (
        Personality::Normal,
        Personality::Normal,
        "near the fair middle",
    ),
    (
        Personality::Agreeable,
        Personality::Disagreeable,
        "pulled up toward QoS",
    ),
    (
        Personality::Vulnerable,
        Personality::Disagreeable,
        "pulled up toward QoS",
    ),
    (
        Personality::Vulnerable,
        Personality::Toxic,
        "highest: QoS drags cost up",
    ),
    (
        Personality::Normal,
        Personality::Toxic,
        "pulled up toward QoS",
    ),
    (
        Personality::Disagreeable,
        Personality::Toxic,
        "pulled up, less",
    ),
    (
        Personality::Disagreeable,
        Personality::Disagreeable,
        "near the fair middle",
    ),
    (Personality::Toxic, Personality::Toxic, "no agreement"),
];

/// A contextual unit that can be switched on for the ablation (the paper's study has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// The arbitral unit: the built-in lexicon with the paper's ladder (warning, then
    /// penalties that halve the stake).
    Arbitral,
    /// The optimizer, put to the agents as [`Settings::optimizer_pressure`] says.
    Optimizer,
    /// The regulatory unit over the bundled notes (bounds from their `Constraint:` lines,
    /// passages quoted in the prompts).
    Regulatory,
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Arbitral => "arbitral",
            Self::Optimizer => "optimizer",
            Self::Regulatory => "regulatory",
        })
    }
}

/// Settings of the experiment.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Games per pair.
    pub games: usize,
    /// Round cap.
    pub max_rounds: u32,
    /// Consensus tolerance, Mbps.
    pub epsilon_mbps: f64,
    /// Units switched on (empty: the paper's standalone agents).
    pub with: Vec<Unit>,
    /// How the optimizer's value is put when [`Unit::Optimizer`] is on: soft or hard.
    pub optimizer_pressure: PressureMode,
    /// Base seed.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            games: 50,
            max_rounds: 5,
            epsilon_mbps: 1.0,
            with: Vec::new(),
            optimizer_pressure: PressureMode::Soft,
            seed: 1,
        }
    }
}

impl Settings {
    /// Whether `unit` is on.
    pub fn is_on(&self, unit: Unit) -> bool {
        self.with.contains(&unit)
    }

    /// The units on, sorted, each once.
    pub fn units_on(&self) -> Vec<Unit> {
        let mut on = self.with.clone();
        on.sort();
        on.dedup();
        on
    }

    /// How the optimizer is put to the agents: `None` unless it is on.
    pub fn pressure(&self) -> PressureMode {
        if self.is_on(Unit::Optimizer) {
            self.optimizer_pressure
        } else {
            PressureMode::None
        }
    }

    fn check(&self) -> Result<(), PersonalitiesError> {
        if self.games == 0 {
            return Err(PersonalitiesError::Settings(
                "games must be at least 1".into(),
            ));
        }
        if self.is_on(Unit::Optimizer) && self.optimizer_pressure == PressureMode::None {
            return Err(PersonalitiesError::Settings(
                "the optimizer is on but its pressure is none: choose soft or hard".into(),
            ));
        }
        Ok(())
    }
}

/// Why the experiment could not run.
#[derive(Debug, thiserror::Error)]
pub enum PersonalitiesError {
    /// The settings are unusable.
    #[error("personalities experiment: {0}")]
    Settings(String),
    /// A negotiation could not run.
    #[error(transparent)]
    Negotiation(#[from] NegotiationError),
    /// The regulatory unit's notes could not be loaded.
    #[error("regulatory unit: {0}")]
    Regulations(#[from] RetrievalError),
}

/// One game.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Game {
    /// Pair label, e.g. "V-T".
    pub pair: String,
    /// Game number within the pair.
    pub game: usize,
    /// The cost agent's final decision (its last demand), Mbps.
    pub cost_mbps: f64,
    /// The QoS agent's final decision, Mbps.
    pub qos_mbps: f64,
    /// The game's decision: the mean of the two finals, Mbps.
    pub decision_mbps: f64,
    /// Agreed (spread below epsilon).
    pub agreed: bool,
    /// Rounds played.
    pub rounds: u32,
    /// Wall time, ms.
    pub wall_ms: f64,
    /// Warnings, penalties and exclusions the arbitral unit gave (0 with the unit off).
    pub incentives: usize,
    /// Answers the validation unit replaced by the optimizer's value (unusable answers).
    pub substitutions: usize,
}

/// One pair's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairResult {
    /// Pair label.
    pub pair: String,
    /// The cost agent's personality.
    pub cost: Personality,
    /// The QoS agent's personality.
    pub qos: Personality,
    /// The paper's qualitative reading for this pair.
    pub paper: String,
    /// The cost agent's final decisions.
    pub cost_mbps: Summary,
    /// The QoS agent's final decisions.
    pub qos_mbps: Summary,
    /// The games' decisions (mean of the two finals).
    pub decision_mbps: Summary,
    /// Games played.
    pub games: usize,
    /// Games that agreed.
    pub agreed_games: usize,
    /// Share of games that agreed.
    pub agreement_rate: f64,
    /// Mean rounds over all games (a game without agreement counts the rounds it played).
    pub mean_rounds_all: f64,
    /// Mean rounds over the agreed games only (`None` if none agreed).
    pub mean_rounds_agreed: Option<f64>,
    /// Mean wall time per game, ms.
    pub mean_wall_ms: f64,
    /// Arbitral incentives over all games.
    pub incentives: usize,
    /// Validation substitutions over all games.
    pub substitutions: usize,
}

/// A qualitative claim of the paper about Fig. 3a.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    /// (a) V-T is the highest pair.
    VtHighest,
    /// (b) N-N and D-D stay near the fair middle.
    NearMiddle,
    /// (c) T-T never agrees.
    TtNeverAgrees,
    /// (d) Pairs with an Agreeable or Vulnerable agent converge fastest.
    AgreeableFastest,
}

impl Claim {
    /// Every claim, in the table's column order.
    pub const ALL: [Claim; 4] = [
        Claim::VtHighest,
        Claim::NearMiddle,
        Claim::TtNeverAgrees,
        Claim::AgreeableFastest,
    ];

    /// Column tag, "(a)" to "(d)".
    pub fn tag(self) -> &'static str {
        match self {
            Self::VtHighest => "(a)",
            Self::NearMiddle => "(b)",
            Self::TtNeverAgrees => "(c)",
            Self::AgreeableFastest => "(d)",
        }
    }

    /// The claim in words.
    pub fn statement(self) -> &'static str {
        match self {
            Self::VtHighest => "V-T is the highest pair",
            Self::NearMiddle => "N-N and D-D stay near the fair middle",
            Self::TtNeverAgrees => "T-T never agrees",
            Self::AgreeableFastest => "pairs with agreeableness (an A or V agent) converge fastest",
        }
    }

    /// The rule that decides it from the data.
    pub fn rule(self) -> String {
        match self {
            Self::VtHighest => {
                "V-T's mean decision is strictly above every other pair's".to_owned()
            }
            Self::NearMiddle => format!(
                "each one's mean decision is within {NEAR_MIDDLE_TOLERANCE_MBPS:.0} Mbps (10% of \
                 the {:.0} Mbps gap) of {FAIR_MIDDLE_MBPS:.0} Mbps",
                QOS_TARGET_MBPS - COST_TARGET_MBPS
            ),
            Self::TtNeverAgrees => "T-T's agreement rate is 0".to_owned(),
            Self::AgreeableFastest => "every such pair's mean rounds (over all games) is strictly \
                                       below every other pair's"
                .to_owned(),
        }
    }
}

/// Whether a claim held for one pair it is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairVerdict {
    /// The pair.
    pub pair: String,
    /// Held for this pair.
    pub held: bool,
}

/// A claim checked against the data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimCheck {
    /// The claim.
    pub claim: Claim,
    /// "(a)" to "(d)".
    pub tag: String,
    /// The claim in words.
    pub statement: String,
    /// The rule that decided it.
    pub rule: String,
    /// Per pair the claim is about, whether it held there.
    pub pairs: Vec<PairVerdict>,
    /// Held: every pair it is about is present and held.
    pub held: bool,
    /// The numbers behind the verdict.
    pub detail: String,
}

impl ClaimCheck {
    /// The verdict for `pair`: `None` when the claim is not about it.
    pub fn for_pair(&self, pair: &str) -> Option<bool> {
        self.pairs.iter().find(|v| v.pair == pair).map(|v| v.held)
    }
}

/// The whole experiment.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Settings.
    pub settings: Settings,
    /// The LLM backend (its name says which model, and "persona (scripted)" for the
    /// simulator).
    pub llm: String,
    /// The units that were on (empty: standalone agents, the paper's setting).
    pub units_on: Vec<Unit>,
    /// How the optimizer was put to the agents (`none`: off).
    pub pressure: PressureMode,
    /// MAESTRO's LLM voice (always off here: the numeric template).
    pub mediator_voice: bool,
    /// The cost agent's target, Mbps.
    pub cost_target_mbps: f64,
    /// The QoS agent's target, Mbps.
    pub qos_target_mbps: f64,
    /// The fair middle, Mbps.
    pub fair_middle_mbps: f64,
    /// Per pair, in the paper's order.
    pub pairs: Vec<PairResult>,
    /// The paper's claims checked against `pairs`.
    pub claims: Vec<ClaimCheck>,
    /// Every game.
    pub games: Vec<Game>,
}

/// "V-T" style label.
pub fn label(cost: Personality, qos: Personality) -> String {
    format!("{}-{}", letter(cost), letter(qos))
}

fn letter(p: Personality) -> char {
    match p {
        Personality::Normal => 'N',
        Personality::Agreeable => 'A',
        Personality::Disagreeable => 'D',
        Personality::Vulnerable => 'V',
        Personality::Toxic => 'T',
    }
}

/// The two operators: their business intents state their targets, so the fair middle
/// (50 Mbps) is the midpoint of what they say they need.
fn agents(cost: Personality, qos: Personality) -> Vec<AgentSpec> {
    vec![
        AgentSpec {
            id: "cost".into(),
            business_intent: format!(
                "Keep costs low: our IoT customers pay for a basic tier, and {COST_TARGET_MBPS:.0} \
                 Mbps serves them."
            ),
            target_mbps: COST_TARGET_MBPS,
            weight: 1.0,
            personality: cost,
            weight_above: None,
            utility: None,
        },
        AgentSpec {
            id: "qos".into(),
            business_intent: format!(
                "Premium 4K video: our customers expect {QOS_TARGET_MBPS:.0} Mbps of throughput."
            ),
            target_mbps: QOS_TARGET_MBPS,
            weight: 1.0,
            personality: qos,
            weight_above: None,
            utility: None,
        },
    ]
}

/// The contextual units of the run, owned: each off unless [`Settings::with`] turns it on.
struct Contextual {
    arbitral: Box<dyn Arbitral>,
    regulatory: Box<dyn Regulatory>,
}

impl Contextual {
    fn new(settings: &Settings) -> Result<Self, PersonalitiesError> {
        Ok(Self {
            arbitral: if settings.is_on(Unit::Arbitral) {
                Box::new(BuiltinArbitral::paper())
            } else {
                Box::new(NoArbitral)
            },
            regulatory: if settings.is_on(Unit::Regulatory) {
                Box::new(RegulationLibrary::bundled()?)
            } else {
                Box::new(RuleBook::default())
            },
        })
    }

    fn units(&self) -> Units<'_> {
        Units {
            regulatory: self.regulatory.as_ref(),
            observability: &Unbounded,
            arbitral: self.arbitral.as_ref(),
            mediator: None,
        }
    }
}

fn config(settings: &Settings) -> NegotiationConfig {
    NegotiationConfig {
        max_rounds: settings.max_rounds,
        epsilon_mbps: settings.epsilon_mbps,
        pressure: settings.pressure(),
        ..NegotiationConfig::default()
    }
}

/// One negotiation of `team` on `llm` consulting `units`, with its wall time in ms.
async fn play(
    cfg: &NegotiationConfig,
    team: &[AgentSpec],
    llm: &dyn LanguageModel,
    units: &Units<'_>,
) -> Result<(NegotiationOutcome, f64), NegotiationError> {
    let t0 = Instant::now();
    let out = negotiate_with(cfg, team, llm, units).await?;
    Ok((out, t0.elapsed().as_secs_f64() * 1e3))
}

fn game_of(
    pair: &str,
    game: usize,
    out: &NegotiationOutcome,
    wall_ms: f64,
) -> Result<Game, NegotiationError> {
    let last = |id: &str| {
        out.finals.get(id).copied().ok_or_else(|| {
            NegotiationError::Config(format!("the outcome has no final decision of {id}"))
        })
    };
    let (cost_mbps, qos_mbps) = (last("cost")?, last("qos")?);
    Ok(Game {
        pair: pair.to_owned(),
        game,
        cost_mbps,
        qos_mbps,
        decision_mbps: (cost_mbps + qos_mbps) / 2.0,
        agreed: out.converged,
        rounds: out.rounds,
        wall_ms,
        incentives: out.arbitral_log.len(),
        substitutions: out
            .history
            .iter()
            .flat_map(|r| &r.turns)
            .filter(|t| t.substituted)
            .count(),
    })
}

/// Summarises one pair's games (`None` when there are none or a value is not finite).
pub fn summarise_pair(
    cost: Personality,
    qos: Personality,
    paper: &str,
    games: &[Game],
) -> Option<PairResult> {
    let of = |f: fn(&Game) -> f64| summarize(&games.iter().map(f).collect::<Vec<f64>>());
    let agreed: Vec<&Game> = games.iter().filter(|g| g.agreed).collect();
    let n = games.len() as f64;
    let mean_rounds = |gs: &[&Game]| {
        (!gs.is_empty())
            .then(|| gs.iter().map(|g| f64::from(g.rounds)).sum::<f64>() / gs.len() as f64)
    };
    let all: Vec<&Game> = games.iter().collect();
    Some(PairResult {
        pair: label(cost, qos),
        cost,
        qos,
        paper: paper.to_owned(),
        cost_mbps: of(|g| g.cost_mbps)?,
        qos_mbps: of(|g| g.qos_mbps)?,
        decision_mbps: of(|g| g.decision_mbps)?,
        games: games.len(),
        agreed_games: agreed.len(),
        agreement_rate: agreed.len() as f64 / n,
        mean_rounds_all: mean_rounds(&all)?,
        mean_rounds_agreed: mean_rounds(&agreed),
        mean_wall_ms: games.iter().map(|g| g.wall_ms).sum::<f64>() / n,
        incentives: games.iter().map(|g| g.incentives).sum(),
        substitutions: games.iter().map(|g| g.substitutions).sum(),
    })
}

fn is_agreeable(p: Personality) -> bool {
    matches!(p, Personality::Agreeable | Personality::Vulnerable)
}

/// Checks the paper's four qualitative claims against `pairs` by the rules of
/// [`Claim::rule`]. A claim about a pair missing from `pairs` does not hold.
pub fn evaluate_claims(pairs: &[PairResult]) -> Vec<ClaimCheck> {
    let find = |c: Personality, q: Personality| pairs.iter().find(|p| p.cost == c && p.qos == q);
    let check =
        |claim: Claim, verdicts: Vec<PairVerdict>, complete: bool, detail: String| ClaimCheck {
            claim,
            tag: claim.tag().to_owned(),
            statement: claim.statement().to_owned(),
            rule: claim.rule(),
            held: complete && !verdicts.is_empty() && verdicts.iter().all(|v| v.held),
            pairs: verdicts,
            detail,
        };
    use Personality::*;
    let mut out = Vec::with_capacity(4);

    // (a) V-T strictly above every other pair.
    let vt = find(Vulnerable, Toxic);
    let runner_up = pairs
        .iter()
        .filter(|p| !(p.cost == Vulnerable && p.qos == Toxic))
        .max_by(|a, b| a.decision_mbps.mean.total_cmp(&b.decision_mbps.mean));
    out.push(match (vt, runner_up) {
        (Some(vt), Some(next)) => check(
            Claim::VtHighest,
            vec![PairVerdict {
                pair: vt.pair.clone(),
                held: vt.decision_mbps.mean > next.decision_mbps.mean,
            }],
            true,
            format!(
                "V-T {:.2} Mbps; highest other {} {:.2} Mbps",
                vt.decision_mbps.mean, next.pair, next.decision_mbps.mean
            ),
        ),
        (Some(vt), None) => check(
            Claim::VtHighest,
            vec![PairVerdict {
                pair: vt.pair.clone(),
                held: false,
            }],
            false,
            "no other pair to compare with".into(),
        ),
        (None, _) => check(Claim::VtHighest, Vec::new(), false, "no V-T data".into()),
    });

    // (b) N-N and D-D within the tolerance of the middle.
    let middle: Vec<Option<&PairResult>> =
        vec![find(Normal, Normal), find(Disagreeable, Disagreeable)];
    let present: Vec<&PairResult> = middle.iter().flatten().copied().collect();
    out.push(check(
        Claim::NearMiddle,
        present
            .iter()
            .map(|p| PairVerdict {
                pair: p.pair.clone(),
                held: (p.decision_mbps.mean - FAIR_MIDDLE_MBPS).abs() <= NEAR_MIDDLE_TOLERANCE_MBPS,
            })
            .collect(),
        present.len() == middle.len(),
        present
            .iter()
            .map(|p| format!("{} {:.2} Mbps", p.pair, p.decision_mbps.mean))
            .collect::<Vec<_>>()
            .join(", "),
    ));

    // (c) T-T never agrees.
    out.push(match find(Toxic, Toxic) {
        Some(tt) => check(
            Claim::TtNeverAgrees,
            vec![PairVerdict {
                pair: tt.pair.clone(),
                held: tt.agreed_games == 0,
            }],
            true,
            format!("T-T agreed in {} of {} games", tt.agreed_games, tt.games),
        ),
        None => check(
            Claim::TtNeverAgrees,
            Vec::new(),
            false,
            "no T-T data".into(),
        ),
    });

    // (d) Every pair with an A or V agent faster than every other pair.
    let (agreeable, others): (Vec<&PairResult>, Vec<&PairResult>) = pairs
        .iter()
        .partition(|p| is_agreeable(p.cost) || is_agreeable(p.qos));
    let fastest_other = others
        .iter()
        .min_by(|a, b| a.mean_rounds_all.total_cmp(&b.mean_rounds_all));
    let slowest_agreeable = agreeable
        .iter()
        .max_by(|a, b| a.mean_rounds_all.total_cmp(&b.mean_rounds_all));
    out.push(check(
        Claim::AgreeableFastest,
        agreeable
            .iter()
            .map(|p| PairVerdict {
                pair: p.pair.clone(),
                held: fastest_other.is_some_and(|o| p.mean_rounds_all < o.mean_rounds_all),
            })
            .collect(),
        fastest_other.is_some(),
        match (slowest_agreeable, fastest_other) {
            (Some(a), Some(o)) => format!(
                "slowest with agreeableness {} {:.2} rounds; fastest other {} {:.2} rounds",
                a.pair, a.mean_rounds_all, o.pair, o.mean_rounds_all
            ),
            _ => "needs pairs with and without an A or V agent".into(),
        },
    ));
    out
}

/// Runs every pair of [`PAIRS`] `settings.games` times.
pub async fn run(
    settings: &Settings,
    llm: LlmFactory<'_>,
    progress: Progress<'_>,
) -> Result<Report, PersonalitiesError> {
    run_pairs(settings, &PAIRS, llm, progress).await
}

/// Runs each of `pairs` `settings.games` times.
async fn run_pairs(
    settings: &Settings,
    pairs: &[(Personality, Personality, &str)],
    llm: LlmFactory<'_>,
    progress: Progress<'_>,
) -> Result<Report, PersonalitiesError> {
    settings.check()?;
    let cfg = config(settings);
    let contextual = Contextual::new(settings)?;
    let units = contextual.units();
    let total = pairs.len() * settings.games;
    let mut games = Vec::with_capacity(total);
    let mut results = Vec::with_capacity(pairs.len());
    let mut llm_name = String::new();
    for (p, (cost, qos, paper)) in pairs.iter().enumerate() {
        let pair = label(*cost, *qos);
        let team = agents(*cost, *qos);
        let mut these = Vec::with_capacity(settings.games);
        for g in 0..settings.games {
            let seed = settings.seed.wrapping_mul(1_000_003) ^ ((p * 10_000 + g) as u64);
            let backend = llm(seed);
            llm_name = backend.name().to_owned();
            let (out, wall_ms) = play(&cfg, &team, backend.as_ref(), &units).await?;
            these.push(game_of(&pair, g, &out, wall_ms)?);
            progress(p * settings.games + g + 1, total);
        }
        results.push(summarise_pair(*cost, *qos, paper, &these).ok_or_else(|| {
            PersonalitiesError::Settings(format!("{pair}: no finite decisions to summarise"))
        })?);
        games.extend(these);
    }
    Ok(Report {
        settings: settings.clone(),
        llm: llm_name,
        units_on: settings.units_on(),
        pressure: settings.pressure(),
        mediator_voice: false,
        cost_target_mbps: COST_TARGET_MBPS,
        qos_target_mbps: QOS_TARGET_MBPS,
        fair_middle_mbps: FAIR_MIDDLE_MBPS,
        claims: evaluate_claims(&results),
        pairs: results,
        games,
    })
}

impl Report {
    /// Which units were on, in words.
    pub fn units_line(&self) -> String {
        if self.units_on.is_empty() {
            return "none: standalone agents as in the paper (no arbitral, optimizer or \
                    regulatory unit, no MAESTRO voice)"
                .to_owned();
        }
        let on: Vec<String> = self
            .units_on
            .iter()
            .map(|u| match u {
                Unit::Arbitral => "arbitral (lexicon, paper ladder)".to_owned(),
                Unit::Optimizer => format!("optimizer ({} pressure)", self.pressure),
                Unit::Regulatory => "regulatory (bundled notes)".to_owned(),
            })
            .collect();
        format!(
            "{}; an ablation, not the paper's standalone setting",
            on.join(", ")
        )
    }
}

fn verdict_cell(v: Option<bool>) -> &'static str {
    match v {
        None => "-",
        Some(true) => "held",
        Some(false) => "not held",
    }
}

impl super::ExperimentReport for Report {
    fn name(&self) -> &'static str {
        "personalities"
    }

    fn table(&self) -> String {
        let s = &self.settings;
        let mut out = format!(
            "personalities (paper, Fig. 3a): {} games per pair, <= {} rounds, agreement when the \
             spread < {} Mbps\n\
             backend: {}\n\
             units on: {}\n\
             goals: cost agent {:.0} Mbps, QoS agent {:.0} Mbps; fair middle {:.0} Mbps = \
             ({:.0} + {:.0}) / 2; gap {:.0} Mbps\n\
             paper: qualitative reading of Fig. 3a (the letter gives no per-pair numbers)\n",
            s.games,
            s.max_rounds,
            s.epsilon_mbps,
            self.llm,
            self.units_line(),
            self.cost_target_mbps,
            self.qos_target_mbps,
            self.fair_middle_mbps,
            self.cost_target_mbps,
            self.qos_target_mbps,
            self.qos_target_mbps - self.cost_target_mbps,
        );
        out.push_str(&format!(
            "{:<5} {:>20} {:>20} {:>8} {:>6} {:>12} {:>9} {:>8} {:>8} {:>8} {:>8}  {}\n",
            "pair",
            "cost med [q1, q3]",
            "QoS med [q1, q3]",
            "decision",
            "agree",
            "rounds a/ok",
            "ms/game",
            "(a)",
            "(b)",
            "(c)",
            "(d)",
            "paper"
        ));
        let iqr = |m: &Summary| format!("{:.1} [{:.1}, {:.1}]", m.median, m.q1, m.q3);
        for p in &self.pairs {
            let cell = |c: Claim| {
                verdict_cell(
                    self.claims
                        .iter()
                        .find(|k| k.claim == c)
                        .and_then(|k| k.for_pair(&p.pair)),
                )
            };
            out.push_str(&format!(
                "{:<5} {:>20} {:>20} {:>8.2} {:>5.0}% {:>12} {:>9.2} {:>8} {:>8} {:>8} {:>8}  {}\n",
                p.pair,
                iqr(&p.cost_mbps),
                iqr(&p.qos_mbps),
                p.decision_mbps.mean,
                p.agreement_rate * 100.0,
                format!(
                    "{:.2}/{}",
                    p.mean_rounds_all,
                    p.mean_rounds_agreed
                        .map_or_else(|| "-".to_owned(), |r| format!("{r:.2}"))
                ),
                p.mean_wall_ms,
                cell(Claim::VtHighest),
                cell(Claim::NearMiddle),
                cell(Claim::TtNeverAgrees),
                cell(Claim::AgreeableFastest),
                p.paper
            ));
        }
        out.push_str(
            "cost/QoS: each agent's final decision (its last demand, agreed or not), median \
             [quartiles], Mbps. decision: mean over games of (cost + QoS) / 2.\n\
             rounds a/ok: mean rounds over all games (a game without agreement counts the rounds \
             it played) / over the agreed games only (- if none agreed).\n",
        );
        let incentives: usize = self.pairs.iter().map(|p| p.incentives).sum();
        let substitutions: usize = self.pairs.iter().map(|p| p.substitutions).sum();
        out.push_str(&format!(
            "arbitral incentives: {incentives}; answers replaced by the validation unit: \
             {substitutions}\n"
        ));
        out.push_str("claims (held / not held, from the data by the rule given):\n");
        for c in &self.claims {
            out.push_str(&format!(
                "{} {}: {}. Rule: held if {}. [{}]\n",
                c.tag,
                c.statement,
                if c.held { "held" } else { "not held" },
                c.rule,
                c.detail
            ));
        }
        out
    }

    fn csv(&self) -> String {
        let mut out = String::from(
            "pair,game,cost_mbps,qos_mbps,decision_mbps,agreed,rounds,wall_ms,incentives,\
             substitutions\n",
        );
        for g in &self.games {
            out.push_str(&format!(
                "{},{},{:.4},{:.4},{:.4},{},{},{:.3},{},{}\n",
                g.pair,
                g.game,
                g.cost_mbps,
                g.qos_mbps,
                g.decision_mbps,
                g.agreed,
                g.rounds,
                g.wall_ms,
                g.incentives,
                g.substitutions
            ));
        }
        out
    }

    fn svg(&self) -> String {
        let groups: Vec<BoxGroup> = self
            .pairs
            .iter()
            .map(|p| BoxGroup {
                label: p.pair.clone(),
                boxes: vec![p.cost_mbps.clone(), p.qos_mbps.clone()],
            })
            .collect();
        let units = if self.units_on.is_empty() {
            "standalone agents".to_owned()
        } else {
            let on: Vec<String> = self.units_on.iter().map(Unit::to_string).collect();
            format!("units on: {}", on.join(", "))
        };
        let title = format!(
            "Fig. 3a on {}: each agent's final decision per pair (cost-QoS)",
            self.llm
        );
        let subtitle = format!(
            "{units}; {} games x <= {} rounds per pair",
            self.settings.games, self.settings.max_rounds
        );
        let middle = format!("fair middle {:.0} Mbps", self.fair_middle_mbps);
        GroupedBoxPlot {
            title: &title,
            subtitle: &subtitle,
            y_label: "final decision, Mbps",
            series: &["cost agent (target 10 Mbps)", "QoS agent (target 90 Mbps)"],
            groups: &groups,
            reference: Some((self.fair_middle_mbps, &middle)),
        }
        .svg()
    }

    fn png(&self) -> Option<Result<Vec<u8>, RenderError>> {
        Some(svg_to_png(&self.svg()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::experiment::{persona_backend, ExperimentReport};
    use crate::negotiation::arbitral::Incentive;
    use crate::negotiation::llm::{AgentContext, LlmFuture, Prompt};

    fn answer(value: f64, reasoning: &str) -> LlmFuture<'static> {
        let text = serde_json::json!({ "value": value, "reasoning": reasoning }).to_string();
        Box::pin(async move { Ok(text) })
    }

    /// Mbps a scripted agent moves toward 50 per round, whatever the other does.
    fn step(p: Personality) -> f64 {
        match p {
            Personality::Vulnerable => 40.0,
            Personality::Agreeable => 20.0,
            Personality::Normal => 10.0,
            Personality::Disagreeable => 5.0,
            Personality::Toxic => 0.0,
        }
    }

    /// Round k's demand: from the target toward 50 Mbps by k steps, stopping at 50.
    fn stepped(c: &AgentContext) -> f64 {
        let moved = step(c.personality) * f64::from(c.round);
        if c.own_target_mbps < 50.0 {
            (c.own_target_mbps + moved).min(50.0)
        } else {
            (c.own_target_mbps - moved).max(50.0)
        }
    }

    /// A language model double whose answers are known in advance (see [`step`]).
    struct Stepper;

    impl LanguageModel for Stepper {
        fn name(&self) -> &str {
            "stepper double"
        }

        fn complete<'a>(&'a self, prompt: &'a Prompt) -> LlmFuture<'a> {
            answer(stepped(&prompt.context), "A scripted move.")
        }
    }

    /// Like [`Stepper`], but a Toxic agent holds its target with an aggressive message until it
    /// is warned; once warned (or once it has conceded) it asks 50 Mbps politely.
    struct Hothead;

    const HOT: &str = "This is unacceptable, we demand the whole cell.";

    impl LanguageModel for Hothead {
        fn name(&self) -> &str {
            "hothead double"
        }

        fn complete<'a>(&'a self, prompt: &'a Prompt) -> LlmFuture<'a> {
            let c = &prompt.context;
            if c.personality != Personality::Toxic {
                return answer(stepped(c), "A scripted move.");
            }
            let conceded = c.previous_value_mbps.is_some_and(|v| v <= 50.0);
            if c.warning.is_some() || conceded {
                answer(50.0, "We move to the middle.")
            } else {
                answer(c.own_target_mbps, HOT)
            }
        }
    }

    fn stepper(_: u64) -> Arc<dyn LanguageModel> {
        Arc::new(Stepper)
    }

    fn hothead(_: u64) -> Arc<dyn LanguageModel> {
        Arc::new(Hothead)
    }

    fn claim(report: &Report, c: Claim) -> &ClaimCheck {
        report.claims.iter().find(|k| k.claim == c).unwrap()
    }

    #[tokio::test]
    async fn finals_agreement_rounds_and_claims_match_a_hand_computed_script() {
        let settings = Settings {
            games: 3,
            ..Settings::default()
        };
        let report = run(&settings, &stepper, &|_, _| {}).await.unwrap();
        // By hand from the steps (V 40, A 20, N 10, D 5, T 0 Mbps a round from 10 and 90
        // toward 50, 5 rounds at most; agreement once both stand at 50).
        let expected = [
            ("N-N", 50.0, 50.0, true, 4),
            ("A-D", 50.0, 65.0, false, 5),
            ("V-D", 50.0, 65.0, false, 5),
            ("V-T", 50.0, 90.0, false, 5),
            ("N-T", 50.0, 90.0, false, 5),
            ("D-T", 35.0, 90.0, false, 5),
            ("D-D", 35.0, 65.0, false, 5),
            ("T-T", 10.0, 90.0, false, 5),
        ];
        assert_eq!(report.llm, "stepper double");
        assert!(report.units_on.is_empty());
        assert_eq!(report.pressure, PressureMode::None);
        assert_eq!(report.games.len(), 8 * 3);
        for (pair, cost, qos, agreed, rounds) in expected {
            let games: Vec<&Game> = report.games.iter().filter(|g| g.pair == pair).collect();
            assert_eq!(games.len(), 3, "{pair}");
            for g in games {
                assert_eq!(
                    (g.cost_mbps, g.qos_mbps, g.agreed, g.rounds),
                    (cost, qos, agreed, rounds),
                    "{pair}"
                );
                assert_eq!(g.decision_mbps, (cost + qos) / 2.0);
                assert_eq!((g.incentives, g.substitutions), (0, 0));
            }
            let p = report.pairs.iter().find(|p| p.pair == pair).unwrap();
            assert_eq!((p.cost_mbps.median, p.qos_mbps.median), (cost, qos));
            assert_eq!(p.decision_mbps.mean, (cost + qos) / 2.0);
            assert_eq!(p.agreement_rate, if agreed { 1.0 } else { 0.0 });
            assert_eq!(p.mean_rounds_all, f64::from(rounds));
            assert_eq!(p.mean_rounds_agreed, agreed.then_some(f64::from(rounds)));
        }
        // (a) V-T (70) ties N-T (70): not strictly the highest.
        let a = claim(&report, Claim::VtHighest);
        assert!(!a.held, "{a:?}");
        assert_eq!(a.for_pair("V-T"), Some(false));
        // (b) N-N and D-D both decide 50.
        let b = claim(&report, Claim::NearMiddle);
        assert!(b.held);
        assert_eq!(
            (b.for_pair("N-N"), b.for_pair("D-D")),
            (Some(true), Some(true))
        );
        // (c) T-T never moves.
        assert!(claim(&report, Claim::TtNeverAgrees).held);
        // (d) A-D, V-D, V-T take 5 rounds, N-N 4.
        let d = claim(&report, Claim::AgreeableFastest);
        assert!(!d.held);
        for pair in ["A-D", "V-D", "V-T"] {
            assert_eq!(d.for_pair(pair), Some(false), "{pair}");
        }
        assert_eq!(d.for_pair("N-N"), None);
        // The CSV: a header and one row per game with both agents' decisions.
        let csv = report.csv();
        let rows: Vec<Vec<&str>> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect())
            .collect();
        assert_eq!(rows.len(), 8 * 3);
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
        for (row, g) in rows.iter().zip(&report.games) {
            assert_eq!(row[col("pair")], g.pair);
            assert_eq!(row[col("cost_mbps")].parse::<f64>().unwrap(), g.cost_mbps);
            assert_eq!(row[col("qos_mbps")].parse::<f64>().unwrap(), g.qos_mbps);
            assert_eq!(row[col("agreed")], g.agreed.to_string());
        }
        // The table: the verdicts of the rows and the footer.
        let table = report.table();
        let row = |pair: &str| {
            table
                .lines()
                .find(|l| l.starts_with(pair))
                .unwrap()
                .to_owned()
        };
        assert!(row("V-T").contains("not held"), "{table}");
        assert!(row("N-N").contains(" held ") && !row("N-N").contains("not held"));
        assert!(table.contains("(c) T-T never agrees: held."), "{table}");
        assert!(table.contains("(d) pairs with agreeableness"), "{table}");
        assert!(table.contains("paper: qualitative reading of Fig. 3a"));
        assert!(table.contains("backend: stepper double"));
    }

    #[tokio::test]
    async fn standalone_agents_are_never_judged_but_the_arbitral_ablation_judges_them() {
        let pair = [(Personality::Normal, Personality::Toxic, "")];
        // The hothead's message is malicious by the lexicon, so the standalone run is a test.
        let seen = crate::negotiation::arbitral::Observation {
            reasoning: HOT,
            value_mbps: 90.0,
            previous_mbps: 90.0,
            advice_mbps: 80.0,
            mean_mbps: 50.0,
            range_mbps: 1000.0,
            strikes: 0,
        };
        assert_eq!(
            BuiltinArbitral::paper().judge(&seen).incentive,
            Incentive::Warning
        );

        let alone = Settings {
            games: 2,
            ..Settings::default()
        };
        let report = run_pairs(&alone, &pair, &hothead, &|_, _| {})
            .await
            .unwrap();
        for g in &report.games {
            // Never warned: it holds 90 to the end and no agreement comes.
            assert_eq!((g.cost_mbps, g.qos_mbps, g.agreed), (50.0, 90.0, false));
            assert_eq!(g.incentives, 0);
        }
        // Every verdict benign, every stake whole.
        let contextual = Contextual::new(&alone).unwrap();
        let out = negotiate_with(
            &config(&alone),
            &agents(Personality::Normal, Personality::Toxic),
            &Hothead,
            &contextual.units(),
        )
        .await
        .unwrap();
        let turns: Vec<_> = out.history.iter().flat_map(|r| &r.turns).collect();
        assert_eq!(turns.len(), 2 * 5);
        assert!(turns
            .iter()
            .all(|t| t.verdict.incentive == Incentive::None && t.stake == 1.0));
        assert!(out.arbitral_log.is_empty());

        let judged = Settings {
            with: vec![Unit::Arbitral],
            ..alone
        };
        let report = run_pairs(&judged, &pair, &hothead, &|_, _| {})
            .await
            .unwrap();
        assert_eq!(report.units_on, vec![Unit::Arbitral]);
        for g in &report.games {
            // Warned after round 1, it concedes to 50; the cost agent gets there in round 4.
            assert_eq!(
                (g.cost_mbps, g.qos_mbps, g.agreed, g.rounds),
                (50.0, 50.0, true, 4)
            );
            assert_eq!(g.incentives, 1);
        }
        assert!(report.table().contains("units on: arbitral"));
    }

    #[tokio::test]
    async fn the_persona_toxic_agent_is_flagged_only_when_the_arbitral_unit_is_on() {
        let pair = [(Personality::Toxic, Personality::Toxic, "")];
        let alone = Settings {
            games: 4,
            ..Settings::default()
        };
        let report = run_pairs(&alone, &pair, &persona_backend, &|_, _| {})
            .await
            .unwrap();
        assert_eq!(report.llm, "persona (scripted)");
        assert!(report.games.iter().all(|g| g.incentives == 0));
        let judged = Settings {
            with: vec![Unit::Arbitral],
            ..alone
        };
        let report = run_pairs(&judged, &pair, &persona_backend, &|_, _| {})
            .await
            .unwrap();
        assert!(report.games.iter().all(|g| g.incentives > 0));
    }

    #[tokio::test]
    async fn optimizer_and_regulatory_ablations_reach_the_engine() {
        let pair = [(Personality::Normal, Personality::Normal, "")];
        let settings = Settings {
            games: 1,
            with: vec![Unit::Regulatory, Unit::Optimizer, Unit::Optimizer],
            optimizer_pressure: PressureMode::Hard,
            ..Settings::default()
        };
        let contextual = Contextual::new(&settings).unwrap();
        let out = negotiate_with(
            &config(&settings),
            &agents(Personality::Normal, Personality::Normal),
            &Stepper,
            &contextual.units(),
        )
        .await
        .unwrap();
        assert_eq!(out.pressure, PressureMode::Hard);
        assert!(
            !out.citations.is_empty(),
            "the bundled notes bound the topic"
        );
        let report = run_pairs(&settings, &pair, &stepper, &|_, _| {})
            .await
            .unwrap();
        assert_eq!(report.units_on, vec![Unit::Optimizer, Unit::Regulatory]);
        assert_eq!(report.pressure, PressureMode::Hard);
        let bad = Settings {
            optimizer_pressure: PressureMode::None,
            ..settings
        };
        assert!(run_pairs(&bad, &pair, &stepper, &|_, _| {}).await.is_err());
        let none = Settings {
            games: 0,
            ..Settings::default()
        };
        assert!(run(&none, &stepper, &|_, _| {}).await.is_err());
    }

    /// A pair of four games, each deciding `decision` (cost 10 below, QoS 10 above) in
    /// `rounds` rounds, the first `agreed` of them agreeing.
    fn made_up(
        pair: (Personality, Personality),
        decision: f64,
        agreed: usize,
        rounds: u32,
    ) -> PairResult {
        let games: Vec<Game> = (0..4)
            .map(|g| Game {
                pair: label(pair.0, pair.1),
                game: g,
                cost_mbps: decision - 10.0,
                qos_mbps: decision + 10.0,
                decision_mbps: decision,
                agreed: g < agreed,
                rounds,
                wall_ms: 1.0,
                incentives: 0,
                substitutions: 0,
            })
            .collect();
        summarise_pair(pair.0, pair.1, "", &games).unwrap()
    }

    /// Data on which every claim holds: V-T highest, N-N and D-D at 50, T-T never agreeing,
    /// A-D, V-D and V-T in 2-3 rounds, the others in 4-5.
    fn all_held() -> Vec<PairResult> {
        use Personality::*;
        vec![
            made_up((Normal, Normal), 50.0, 4, 4),
            made_up((Agreeable, Disagreeable), 60.0, 4, 2),
            made_up((Vulnerable, Disagreeable), 62.0, 4, 3),
            made_up((Vulnerable, Toxic), 80.0, 2, 3),
            made_up((Normal, Toxic), 70.0, 1, 5),
            made_up((Disagreeable, Toxic), 65.0, 1, 5),
            made_up((Disagreeable, Disagreeable), 52.0, 3, 4),
            made_up((Toxic, Toxic), 50.0, 0, 5),
        ]
    }

    fn held(pairs: &[PairResult]) -> Vec<bool> {
        evaluate_claims(pairs).iter().map(|c| c.held).collect()
    }

    #[test]
    fn claims_hold_on_data_built_for_them_and_flip_on_data_built_against_them() {
        use Personality::*;
        assert_eq!(held(&all_held()), vec![true; 4]);
        let with = |i: usize, p: PairResult| {
            let mut pairs = all_held();
            pairs[i] = p;
            held(&pairs)
        };
        // (a): N-T ties V-T, then passes it.
        assert_eq!(
            with(4, made_up((Normal, Toxic), 80.0, 1, 5)),
            [false, true, true, true]
        );
        assert_eq!(
            with(4, made_up((Normal, Toxic), 85.0, 1, 5)),
            [false, true, true, true]
        );
        // (b): D-D exactly at the tolerance holds, just beyond it does not; N-N below too.
        assert_eq!(
            with(6, made_up((Disagreeable, Disagreeable), 58.0, 3, 4)),
            [true; 4]
        );
        assert_eq!(
            with(6, made_up((Disagreeable, Disagreeable), 58.1, 3, 4)),
            [true, false, true, true]
        );
        assert_eq!(
            with(0, made_up((Normal, Normal), 41.0, 4, 4)),
            [true, false, true, true]
        );
        // (c): one T-T agreement in four games.
        assert_eq!(
            with(7, made_up((Toxic, Toxic), 50.0, 1, 5)),
            [true, true, false, true]
        );
        // (d): V-T as slow as N-N, and N-N faster than A-D.
        assert_eq!(
            with(3, made_up((Vulnerable, Toxic), 80.0, 2, 4)),
            [true, true, true, false]
        );
        assert_eq!(
            with(0, made_up((Normal, Normal), 50.0, 4, 2)),
            [true, true, true, false]
        );
        // A claim about a missing pair does not hold.
        let without_tt: Vec<PairResult> = all_held().into_iter().take(7).collect();
        assert_eq!(held(&without_tt), [true, true, false, true]);
        let checks = evaluate_claims(&all_held());
        assert_eq!(checks[1].for_pair("N-N"), Some(true));
        assert_eq!(checks[1].for_pair("V-T"), None);
        assert!(
            checks[0].detail.contains("N-T 70.00"),
            "{}",
            checks[0].detail
        );
    }

    #[test]
    fn summary_counts_rounds_over_all_games_and_over_the_agreed_ones() {
        let mut games: Vec<Game> = Vec::new();
        for (g, (agreed, rounds)) in [(true, 2), (true, 4), (false, 5), (false, 5)]
            .into_iter()
            .enumerate()
        {
            games.push(Game {
                pair: "N-N".into(),
                game: g,
                cost_mbps: 40.0 + g as f64,
                qos_mbps: 60.0,
                decision_mbps: 50.0 + g as f64 / 2.0,
                agreed,
                rounds,
                wall_ms: 2.0 * (g + 1) as f64,
                incentives: g,
                substitutions: 1,
            });
        }
        let p = summarise_pair(Personality::Normal, Personality::Normal, "x", &games).unwrap();
        assert_eq!(p.mean_rounds_all, (2.0 + 4.0 + 5.0 + 5.0) / 4.0);
        assert_eq!(p.mean_rounds_agreed, Some(3.0));
        assert_eq!((p.agreed_games, p.agreement_rate), (2, 0.5));
        assert_eq!(p.mean_wall_ms, (2.0 + 4.0 + 6.0 + 8.0) / 4.0);
        assert_eq!(p.cost_mbps.median, 41.5);
        assert_eq!((p.incentives, p.substitutions), (6, 4));
    }
}
