//! One negotiation round on a local GGUF model (`MAESTRO_GGUF`), for n = 1, 2, 5 and 10
//! agents, with the agents' sequences decoded together in one context (batched) and one after
//! another (sequential). Each cell is the median of `MAESTRO_BENCH_REPS` (default 3) rounds,
//! after one warm-up round; the round is every agent's answer to its round-1 prompt (what the
//! engine asks the LLM for in a round), all submitted at once with `complete_batch`.
//!
//! `MAESTRO_GGUF=$(.ci/fetch-smollm2) cargo bench -p maestro-rapp --features local-llm \
//!   --bench local_llm`
//!
//! A plain harness (not criterion): one round of ten agents takes seconds on a CPU, and what
//! matters is the table of batched vs sequential wall times, printed at the end.

use std::time::Instant;

use maestro_rapp::negotiation::local::{LocalBackend, LocalConfig, ENV_GGUF};
use maestro_rapp::negotiation::{
    AgentContext, AgentSpec, LanguageModel, NegotiationConfig, Personality, PressureMode, Prompt,
};

const SIZES: [usize; 4] = [1, 2, 5, 10];

/// `n` agents with targets spread over 10..190 Mbps and varied personalities.
fn agents(n: usize) -> Vec<AgentSpec> {
    let styles = [
        Personality::Normal,
        Personality::Agreeable,
        Personality::Disagreeable,
        Personality::Vulnerable,
        Personality::Toxic,
    ];
    let denom = (n.max(2) - 1) as f64;
    (0..n)
        .map(|i| {
            let target = 10.0 + 180.0 * i as f64 / denom;
            AgentSpec {
                id: format!("bo{i}"),
                business_intent: format!("We want {target:.1} Mbps for our slice."),
                target_mbps: target,
                weight: 1.0,
                personality: styles[i % styles.len()],
                weight_above: None,
            }
        })
        .collect()
}

/// Wall time (ms) of one round's answers for `n` agents (their prompts rendered as the
/// engine renders round 1, submitted with `complete_batch`), and the tokens generated.
async fn one_round(backend: &LocalBackend, n: usize) -> (f64, u64) {
    let cfg = NegotiationConfig::default();
    let prompts: Vec<Prompt> = agents(n)
        .iter()
        .map(|a| {
            Prompt::render(
                &cfg.topic,
                AgentContext {
                    agent_id: a.id.clone(),
                    business_intent: a.business_intent.clone(),
                    personality: a.personality,
                    round: 1,
                    own_target_mbps: a.target_mbps,
                    previous_value_mbps: Some(a.target_mbps),
                    optimizer_suggestion_mbps: 100.0,
                    pressure: PressureMode::Soft,
                    bounds: cfg.bounds.clone(),
                    feedback: None,
                    warning: None,
                    citations: Vec::new(),
                    correction: None,
                },
            )
        })
        .collect();
    let before = backend.stats().completion_tokens;
    let t0 = Instant::now();
    for answer in futures::future::join_all(backend.complete_batch(&prompts)).await {
        if let Err(e) = answer {
            panic!("generation failed: {e}");
        }
    }
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    (ms, backend.stats().completion_tokens - before)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let Some(path) = std::env::var_os(ENV_GGUF) else {
        eprintln!("{ENV_GGUF} is not set: point it at a GGUF chat model ($(.ci/fetch-smollm2))");
        std::process::exit(2);
    };
    let reps: usize = std::env::var("MAESTRO_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let base = match LocalConfig::from_env(LocalConfig::for_model(path)) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio: {e}"),
    };
    let mut rows = Vec::new();
    for batch in [true, false] {
        let t_load = Instant::now();
        let backend = match LocalBackend::new(LocalConfig {
            batch,
            ..base.clone()
        }) {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        };
        eprintln!(
            "{} ({}), loaded in {:.0} ms, batch={batch}",
            backend.name(),
            backend.description(),
            t_load.elapsed().as_secs_f64() * 1e3
        );
        rt.block_on(one_round(&backend, 2)); // warm-up
        for n in SIZES {
            let mut walls = Vec::new();
            let mut tokens = 0;
            for _ in 0..reps {
                let (ms, t) = rt.block_on(one_round(&backend, n));
                walls.push(ms);
                tokens += t;
            }
            let ms = median(walls);
            let tok_per_round = tokens as f64 / reps as f64;
            eprintln!("  n={n:>2} batch={batch:<5} round {ms:>8.0} ms, {tok_per_round:.0} tokens");
            rows.push((n, batch, ms, tok_per_round));
        }
    }
    println!(
        "\none round, median of {reps} (ms); tokens generated per round; tok/s over the round"
    );
    println!("| n  | batched ms | sequential ms | speed-up | batched tok/s | sequential tok/s |");
    println!("|----|-----------:|--------------:|---------:|--------------:|-----------------:|");
    for n in SIZES {
        let find = |b: bool| rows.iter().find(|r| r.0 == n && r.1 == b);
        if let (Some(bt), Some(sq)) = (find(true), find(false)) {
            println!(
                "| {n:<2} | {:>10.0} | {:>13.0} | {:>7.2}x | {:>13.1} | {:>16.1} |",
                bt.2,
                sq.2,
                sq.2 / bt.2,
                bt.3 / (bt.2 / 1e3),
                sq.3 / (sq.2 / 1e3)
            );
        }
    }
}
