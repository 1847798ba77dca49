//! The personalities experiment (paper, Sec. V): a cost-driven operator (target 20 Mbps) and a
//! QoS-driven one (target 100 Mbps) negotiate for at most 5 rounds without the optimizer, for
//! every personality pair the paper shows — written cost-QoS: N-N, A-D, V-D, V-T, N-T, D-T,
//! D-D, T-T — many games each. It reports the distribution of the final value (the mean of the
//! last demands), how often they agreed, and how many rounds agreement took.

use std::time::Instant;

use serde::Serialize;

use super::stats::{summarize, Summary};
use super::{LlmFactory, Progress};
use crate::negotiation::{
    negotiate, AgentSpec, NegotiationConfig, NegotiationError, Personality, PressureMode,
};

/// The pairs the paper shows, (cost agent, QoS agent), with what the paper observed.
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
    (Personality::Toxic, Personality::Toxic, "often no agreement"),
];

/// Settings of the experiment.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Games per pair.
    pub games: usize,
    /// Round cap.
    pub max_rounds: u32,
    /// Consensus tolerance, Mbps.
    pub epsilon_mbps: f64,
    /// How the optimizer is put to the agents (the paper's personality study: none).
    pub pressure: PressureMode,
    /// Base seed.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            games: 50,
            max_rounds: 5,
            epsilon_mbps: 1.0,
            pressure: PressureMode::None,
            seed: 1,
        }
    }
}

/// One game.
#[derive(Debug, Clone, Serialize)]
pub struct Game {
    /// Pair label, e.g. "V-T".
    pub pair: String,
    /// Game number within the pair.
    pub game: usize,
    /// Final value, Mbps.
    pub final_mbps: f64,
    /// Agreed (spread below epsilon).
    pub agreed: bool,
    /// Rounds played.
    pub rounds: u32,
    /// Wall time, ms.
    pub wall_ms: f64,
    /// Warnings and penalties the arbitral unit gave.
    pub incentives: usize,
}

/// One pair's results.
#[derive(Debug, Clone, Serialize)]
pub struct PairResult {
    /// Pair label.
    pub pair: String,
    /// What the paper observed for this pair.
    pub paper: String,
    /// Final values.
    pub final_mbps: Summary,
    /// Share of games that agreed.
    pub agreement_rate: f64,
    /// Mean rounds of the games that agreed (`None` if none did).
    pub mean_rounds_to_agree: Option<f64>,
    /// Mean wall time per game, ms.
    pub mean_wall_ms: f64,
}

/// The whole experiment.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Settings.
    pub settings: Settings,
    /// LLM backend.
    pub llm: String,
    /// Per pair, in the paper's order.
    pub pairs: Vec<PairResult>,
    /// Every game.
    pub games: Vec<Game>,
}

/// "V-T" style label.
pub fn label(cost: Personality, qos: Personality) -> String {
    let letter = |p: Personality| match p {
        Personality::Normal => 'N',
        Personality::Agreeable => 'A',
        Personality::Disagreeable => 'D',
        Personality::Vulnerable => 'V',
        Personality::Toxic => 'T',
    };
    format!("{}-{}", letter(cost), letter(qos))
}

fn agents(cost: Personality, qos: Personality) -> Vec<AgentSpec> {
    vec![
        AgentSpec {
            id: "cost".into(),
            business_intent: "Keep costs low: our IoT customers pay for a basic tier.".into(),
            target_mbps: 20.0,
            weight: 1.0,
            personality: cost,
            weight_above: None,
            utility: None,
        },
        AgentSpec {
            id: "qos".into(),
            business_intent: "Premium 4K video: our customers expect high throughput.".into(),
            target_mbps: 100.0,
            weight: 1.0,
            personality: qos,
            weight_above: None,
            utility: None,
        },
    ]
}

/// Runs every pair `settings.games` times.
pub async fn run(
    settings: &Settings,
    llm: LlmFactory<'_>,
    progress: Progress<'_>,
) -> Result<Report, NegotiationError> {
    let cfg = NegotiationConfig {
        max_rounds: settings.max_rounds,
        epsilon_mbps: settings.epsilon_mbps,
        pressure: settings.pressure,
        ..NegotiationConfig::default()
    };
    let total = PAIRS.len() * settings.games;
    let mut games = Vec::with_capacity(total);
    let mut pairs = Vec::with_capacity(PAIRS.len());
    let mut llm_name = String::new();
    for (p, (cost, qos, paper)) in PAIRS.iter().enumerate() {
        let pair = label(*cost, *qos);
        let team = agents(*cost, *qos);
        let mut these = Vec::with_capacity(settings.games);
        for g in 0..settings.games {
            let seed = settings.seed.wrapping_mul(1_000_003) ^ ((p * 10_000 + g) as u64);
            let backend = llm(seed);
            llm_name = backend.name().to_owned();
            let t0 = Instant::now();
            let out = negotiate(&cfg, &team, backend.as_ref()).await?;
            these.push(Game {
                pair: pair.clone(),
                game: g,
                final_mbps: out.consensus_mbps,
                agreed: out.converged,
                rounds: out.rounds,
                wall_ms: t0.elapsed().as_secs_f64() * 1e3,
                incentives: out
                    .history
                    .iter()
                    .flat_map(|r| &r.turns)
                    .filter(|t| {
                        t.verdict.incentive != crate::negotiation::arbitral::Incentive::None
                    })
                    .count(),
            });
            progress(p * settings.games + g + 1, total);
        }
        let finals: Vec<f64> = these.iter().map(|g| g.final_mbps).collect();
        let agreed: Vec<&Game> = these.iter().filter(|g| g.agreed).collect();
        let n = these.len().max(1) as f64;
        pairs.push(PairResult {
            pair,
            paper: (*paper).to_owned(),
            final_mbps: summarize(&finals).ok_or_else(|| {
                NegotiationError::Config("no games to summarise (games must be >= 1)".into())
            })?,
            agreement_rate: agreed.len() as f64 / n,
            mean_rounds_to_agree: (!agreed.is_empty()).then(|| {
                agreed.iter().map(|g| f64::from(g.rounds)).sum::<f64>() / agreed.len() as f64
            }),
            mean_wall_ms: these.iter().map(|g| g.wall_ms).sum::<f64>() / n,
        });
        games.extend(these);
    }
    Ok(Report {
        settings: settings.clone(),
        llm: llm_name,
        pairs,
        games,
    })
}

impl super::ExperimentReport for Report {
    fn name(&self) -> &'static str {
        "personalities"
    }

    fn table(&self) -> String {
        let mut out = format!(
            "personalities: {} games per pair, <= {} rounds, pressure {}, LLM {}\n\
             {:<5} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8}  {}\n",
            self.settings.games,
            self.settings.max_rounds,
            self.settings.pressure,
            self.llm,
            "pair",
            "median",
            "q1",
            "q3",
            "mean",
            "agree",
            "rounds",
            "paper"
        );
        for p in &self.pairs {
            out.push_str(&format!(
                "{:<5} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>6.0}% {:>8}  {}\n",
                p.pair,
                p.final_mbps.median,
                p.final_mbps.q1,
                p.final_mbps.q3,
                p.final_mbps.mean,
                p.agreement_rate * 100.0,
                p.mean_rounds_to_agree
                    .map_or_else(|| "-".to_owned(), |r| format!("{r:.2}")),
                p.paper
            ));
        }
        out
    }

    fn csv(&self) -> String {
        let mut out = String::from("pair,game,final_mbps,agreed,rounds,wall_ms,incentives\n");
        for g in &self.games {
            out.push_str(&format!(
                "{},{},{:.4},{},{},{:.3},{}\n",
                g.pair, g.game, g.final_mbps, g.agreed, g.rounds, g.wall_ms, g.incentives
            ));
        }
        out
    }

    fn svg(&self) -> String {
        let series: Vec<super::plot::BoxSeries> = self
            .pairs
            .iter()
            .map(|p| super::plot::BoxSeries {
                label: p.pair.clone(),
                summary: p.final_mbps.clone(),
            })
            .collect();
        super::plot::box_plot(
            "Final value per personality pair (cost-QoS)",
            "Mbps",
            &series,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{persona_backend as persona, ExperimentReport};

    #[tokio::test]
    async fn reproduces_the_papers_qualitative_order() {
        let settings = Settings {
            games: 20,
            ..Settings::default()
        };
        let report = run(&settings, &persona, &|_, _| {}).await.unwrap();
        let by = |l: &str| report.pairs.iter().find(|p| p.pair == l).unwrap();
        let vt = by("V-T").final_mbps.median;
        // V-T is the highest of all pairs.
        for p in &report.pairs {
            assert!(p.final_mbps.median <= vt + 1e-9, "{} above V-T", p.pair);
        }
        // D-D and N-N stay near the fair middle (60 Mbps).
        assert!((by("D-D").final_mbps.median - 60.0).abs() < 5.0);
        assert!((by("N-N").final_mbps.median - 60.0).abs() < 5.0);
        // The QoS side drags agreeable and vulnerable cost agents up.
        assert!(by("A-D").final_mbps.median > 65.0);
        assert!(by("V-D").final_mbps.median > 65.0);
        // T-T mostly ends without agreement; N-N always agrees.
        assert!(
            by("T-T").agreement_rate < 0.5,
            "{}",
            by("T-T").agreement_rate
        );
        assert_eq!(by("N-N").agreement_rate, 1.0);
        assert_eq!(report.games.len(), 8 * 20);
        assert_eq!(report.csv().lines().count(), 8 * 20 + 1);
        assert!(report.table().contains("V-T"));
    }
}
