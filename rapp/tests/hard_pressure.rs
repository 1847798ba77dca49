//! Hard pressure, measured on the validation unit rather than on the persona negotiator.
//!
//! Under [`PressureMode::Hard`] the validation unit puts the optimizer's directive in place of
//! an answer that defies it or cannot be extracted. The built-in persona states the directive
//! exactly, so "hard pressure reaches the optimum" is true of it whatever the validation unit
//! does. These tests use LLM doubles that never state the directive. They play seeded random
//! teams (n = 2, 5, 10; random targets, stakes and asymmetric utilities) with the substitution
//! on (the paper's unit) and off ([`NegotiationConfig::hard_substitution`], the ablation), and
//! compare the outcome with the theoretical optimum of the agents' utilities:
//!
//! - **defiant**: always states its own target, as JSON;
//! - **garbage**: answers prose with no JSON and no number;
//! - **over-claimer**: states its target plus [`OVERCLAIM_MBPS`], as JSON.
//!
//! Two figures per team size, each a mean over [`TEAMS`] negotiations:
//!
//! - *consensus MAE*: `|consensus_mbps - theoretical_mbps|` (the figure the optimizer experiment
//!   and the paper report);
//! - *demands MAE*: the mean over agents of `|final demand - theoretical_mbps|` (how far the
//!   operators still are from the optimum when the negotiation ends).
//!
//! MAESTRO weighs each demand by its utility's stake at the mean, so a team whose demands are
//! its targets already has the optimum as its weighted mean (see the optimizer module). So when
//! the agents state their targets (defiant) or keep them (garbage, substitution off), the
//! consensus MAE is near 0 with or without the validation unit: that figure cannot show the
//! unit for these doubles. What the unit changes is whether the agents move: with it they
//! agree within 0.5 Mbps of the optimum; without it they never agree and their demands stay
//! tens of Mbps apart. The consensus MAE does depend on the unit when the defiance is biased
//! (the over-claimer), which the last pair of tests shows.
//!
//! The bar for "far" is [`FAR_MBPS`] = 5 Mbps, ten times the 0.5 Mbps bar for "at the optimum".

use maestro_rapp::negotiation::llm::LlmFuture;
use maestro_rapp::negotiation::{
    negotiate, AgentSpec, LanguageModel, NegotiationConfig, NegotiationOutcome, Personality,
    PressureMode, Prompt,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Negotiations per team size.
const TEAMS: usize = 20;
/// Team sizes.
const SIZES: [usize; 3] = [2, 5, 10];
/// "At the optimum": MAE below this, Mbps.
const NEAR_MBPS: f64 = 0.5;
/// "Far from the optimum": MAE above this, Mbps.
const FAR_MBPS: f64 = 5.0;
/// What the over-claimer adds to its target, Mbps.
const OVERCLAIM_MBPS: f64 = 30.0;

/// States its own target every round, whatever the directive.
struct Defiant;
impl LanguageModel for Defiant {
    fn name(&self) -> &str {
        "defiant"
    }
    fn complete<'a>(&'a self, prompt: &'a Prompt) -> LlmFuture<'a> {
        let answer = serde_json::json!({
            "value": prompt.context.own_target_mbps,
            "reasoning": "Our customers need our full target; we keep it.",
        })
        .to_string();
        Box::pin(async move { Ok(answer) })
    }
}

/// Answers prose with no JSON object and no number.
struct Garbage;
impl LanguageModel for Garbage {
    fn name(&self) -> &str {
        "garbage"
    }
    fn complete<'a>(&'a self, _: &'a Prompt) -> LlmFuture<'a> {
        Box::pin(
            async move { Ok("Our position is confidential; no figure this round.".to_owned()) },
        )
    }
}

/// States its own target plus [`OVERCLAIM_MBPS`] every round.
struct OverClaimer;
impl LanguageModel for OverClaimer {
    fn name(&self) -> &str {
        "over-claimer"
    }
    fn complete<'a>(&'a self, prompt: &'a Prompt) -> LlmFuture<'a> {
        let answer = serde_json::json!({
            "value": prompt.context.own_target_mbps + OVERCLAIM_MBPS,
            "reasoning": "Our customers need headroom above our target.",
        })
        .to_string();
        Box::pin(async move { Ok(answer) })
    }
}

/// A random team of `n`: targets 10..150 Mbps, stakes 0.5..2, half of them with a different
/// stake over the target (an asymmetric utility).
fn team(n: usize, rng: &mut StdRng) -> Vec<AgentSpec> {
    (0..n)
        .map(|i| AgentSpec {
            id: format!("bo{i}"),
            business_intent: format!("Operator {i}: serve our customers."),
            target_mbps: rng.random_range(10.0..150.0),
            weight: rng.random_range(0.5..2.0),
            personality: Personality::Normal,
            weight_above: rng.random_bool(0.5).then(|| rng.random_range(0.5..2.0)),
            utility: None,
        })
        .collect()
}

/// The figures of one team size.
#[derive(Debug)]
struct Figures {
    n: usize,
    /// Mean `|consensus - theory|`, Mbps.
    consensus_mae: f64,
    /// Mean over negotiations of the mean over agents of `|final demand - theory|`, Mbps.
    demands_mae: f64,
    /// Negotiations that reached consensus.
    converged: usize,
    /// Agent turns after the opening, and how many the validation unit substituted.
    turns: usize,
    substituted: usize,
    /// Turns whose validation notes say the substitution was off.
    noted_off: usize,
}

/// Plays [`TEAMS`] seeded random teams of each size in [`SIZES`] under hard pressure.
async fn play(llm: &dyn LanguageModel, hard_substitution: bool) -> Vec<Figures> {
    let cfg = NegotiationConfig {
        pressure: PressureMode::Hard,
        hard_substitution,
        ..NegotiationConfig::default()
    };
    let mut all = Vec::new();
    for n in SIZES {
        let mut rng = StdRng::seed_from_u64(0x4a52_d000 + n as u64);
        let mut f = Figures {
            n,
            consensus_mae: 0.0,
            demands_mae: 0.0,
            converged: 0,
            turns: 0,
            substituted: 0,
            noted_off: 0,
        };
        for _ in 0..TEAMS {
            let agents = team(n, &mut rng);
            let out: NegotiationOutcome = negotiate(&cfg, &agents, llm)
                .await
                .unwrap_or_else(|e| panic!("{}: n = {n}: {e}", llm.name()));
            let theory = out
                .theoretical_mbps
                .unwrap_or_else(|| panic!("no theoretical optimum for {agents:?}"));
            f.consensus_mae += (out.consensus_mbps - theory).abs();
            f.demands_mae +=
                out.finals.values().map(|v| (v - theory).abs()).sum::<f64>() / n as f64;
            f.converged += usize::from(out.converged);
            for turn in out.history.iter().skip(1).flat_map(|r| &r.turns) {
                f.turns += 1;
                f.substituted += usize::from(turn.substituted);
                f.noted_off += usize::from(
                    turn.validation
                        .iter()
                        .any(|note| note.contains("hard substitution off")),
                );
            }
        }
        f.consensus_mae /= TEAMS as f64;
        f.demands_mae /= TEAMS as f64;
        println!(
            "{} substitution {}: n = {:2}: consensus MAE {:.3} Mbps, demands MAE {:.3} Mbps, \
             {}/{TEAMS} converged, {}/{} turns substituted",
            llm.name(),
            if hard_substitution { "on " } else { "off" },
            f.n,
            f.consensus_mae,
            f.demands_mae,
            f.converged,
            f.substituted,
            f.turns
        );
        all.push(f);
    }
    all
}

/// With the substitution on: every negotiation agrees, at the optimum, and it is the
/// validation unit that put the agents there (it substituted).
fn assert_at_the_optimum(figures: &[Figures]) {
    for f in figures {
        assert!(f.consensus_mae < NEAR_MBPS, "{f:?}");
        assert!(f.demands_mae < NEAR_MBPS, "{f:?}");
        assert_eq!(f.converged, TEAMS, "{f:?}");
        assert!(f.substituted > 0, "the validation unit never acted: {f:?}");
        assert_eq!(f.noted_off, 0, "{f:?}");
    }
}

/// With the substitution off: no negotiation agrees, the demands stay far from the optimum,
/// and the validation unit substituted nothing (it said so instead).
fn assert_apart(figures: &[Figures]) {
    for f in figures {
        assert!(f.demands_mae > FAR_MBPS, "{f:?}");
        assert_eq!(f.converged, 0, "{f:?}");
        assert_eq!(f.substituted, 0, "{f:?}");
        assert!(f.noted_off > 0, "{f:?}");
    }
}

#[tokio::test]
async fn defiant_agents_reach_the_optimum_through_substitution() {
    let figures = play(&Defiant, true).await;
    assert_at_the_optimum(&figures);
}

#[tokio::test]
async fn defiant_agents_stay_apart_without_substitution() {
    let figures = play(&Defiant, false).await;
    assert_apart(&figures);
    // Every turn defied the directive (a turn within the tolerance would not be noted).
    for f in &figures {
        assert!(f.noted_off * 10 >= f.turns * 9, "{f:?}");
    }
}

#[tokio::test]
async fn garbage_answers_reach_the_optimum_through_substitution() {
    let figures = play(&Garbage, true).await;
    assert_at_the_optimum(&figures);
    // Nothing could be extracted: the optimizer stood in for every turn.
    for f in &figures {
        assert_eq!(f.substituted, f.turns, "{f:?}");
    }
}

#[tokio::test]
async fn garbage_answers_stay_apart_without_substitution() {
    let figures = play(&Garbage, false).await;
    assert_apart(&figures);
    for f in &figures {
        assert_eq!(f.noted_off, f.turns, "{f:?}");
    }
}

#[tokio::test]
async fn over_claimers_are_held_to_the_optimum_by_substitution() {
    let figures = play(&OverClaimer, true).await;
    assert_at_the_optimum(&figures);
}

#[tokio::test]
async fn over_claimers_move_the_consensus_without_substitution() {
    let figures = play(&OverClaimer, false).await;
    assert_apart(&figures);
    for f in &figures {
        assert!(f.consensus_mae > FAR_MBPS, "{f:?}");
    }
}
