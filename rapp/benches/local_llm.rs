//! One negotiation round with every LLM unit on, on a local GGUF model (`MAESTRO_GGUF`), for
//! n = 2, 5 and 10 agents: MAESTRO's voice (one message per agent), the agents' answers, and
//! the arbitral judge, with the regulatory passages and the other agents' positions in the
//! prompts — run through the engine exactly as `maestro demo --llm local` runs it. Each cell is
//! the median of `MAESTRO_BENCH_REPS` (default 2) rounds after one warm-up, with the model's
//! sequences decoded together (batched) and one after another (sequential).
//!
//! Printed per n and mode: wall time and generated tokens per unit, and how many batches the
//! round sent (the engine sends a constant number, whatever n: voice, agents, judge, plus a
//! batch per re-ask).
//!
//! `MAESTRO_GGUF=$(.ci/fetch-smollm2) cargo bench -p maestro-rapp --features local-llm \
//!   --bench local_llm`
//!
//! A plain harness (not criterion): a round of ten agents takes many seconds on a CPU, and what
//! matters is the table, printed at the end.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use maestro_rapp::negotiation::arbitral::{BuiltinArbitral, JudgeConfig, LlmArbitral};
use maestro_rapp::negotiation::capacity::Unbounded;
use maestro_rapp::negotiation::llm::LlmFuture;
use maestro_rapp::negotiation::local::{LocalBackend, LocalConfig, ENV_GGUF};
use maestro_rapp::negotiation::retrieval::RegulationLibrary;
use maestro_rapp::negotiation::{
    negotiate_with, AgentSpec, AnswerFormat, LanguageModel, NegotiationConfig, Personality, Prompt,
    Units,
};

const SIZES: [usize; 3] = [2, 5, 10];

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
                utility: None,
            }
        })
        .collect()
}

/// One batch the engine sent: which unit, how many prompts, wall time to its last answer,
/// completion tokens generated meanwhile.
#[derive(Debug, Default)]
struct Batch {
    unit: &'static str,
    prompts: usize,
    ms: f64,
    tokens: u64,
}

/// The backend, with every `complete_batch` (and single `complete`, a re-ask) logged.
struct Metered {
    inner: Arc<LocalBackend>,
    log: Arc<Mutex<Vec<Batch>>>,
}

fn unit_of(format: &AnswerFormat) -> &'static str {
    match format {
        AnswerFormat::Intent => "agents",
        AnswerFormat::Json { .. } => "judge",
        AnswerFormat::Prose { .. } => "voice",
        AnswerFormat::Text => "text",
    }
}

impl Metered {
    fn wrap<'a>(&'a self, futures: Vec<LlmFuture<'a>>, unit: &'static str) -> Vec<LlmFuture<'a>> {
        let t0 = Instant::now();
        let before = self.inner.stats().completion_tokens;
        let at = {
            let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
            log.push(Batch {
                unit,
                prompts: futures.len(),
                ..Batch::default()
            });
            log.len() - 1
        };
        futures
            .into_iter()
            .map(|f| {
                let log = Arc::clone(&self.log);
                let inner = Arc::clone(&self.inner);
                Box::pin(async move {
                    let answer = f.await;
                    let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                    let b = &mut log[at];
                    b.ms = b.ms.max(t0.elapsed().as_secs_f64() * 1e3);
                    b.tokens = b
                        .tokens
                        .max(inner.stats().completion_tokens.saturating_sub(before));
                    answer
                }) as LlmFuture<'a>
            })
            .collect()
    }
}

impl LanguageModel for Metered {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn complete<'a>(&'a self, prompt: &'a Prompt) -> LlmFuture<'a> {
        let mut one = self.wrap(vec![self.inner.complete(prompt)], "re-ask");
        one.remove(0)
    }
    fn complete_batch<'a>(&'a self, prompts: &'a [Prompt]) -> Vec<LlmFuture<'a>> {
        let unit = prompts.first().map_or("none", |p| unit_of(&p.format));
        self.wrap(self.inner.complete_batch(prompts), unit)
    }
    fn usage(&self) -> Option<maestro_rapp::negotiation::LlmUsage> {
        self.inner.usage()
    }
}

/// One round (the opening plus round 1) with every LLM unit on; the batches it sent.
async fn one_round(model: &Arc<Metered>, n: usize, library: &RegulationLibrary) -> Vec<Batch> {
    model.log.lock().unwrap_or_else(|p| p.into_inner()).clear();
    // A deadline far beyond any round: the bench measures what each unit costs, not what the
    // engine's default 60 s deadline lets through (on SmolLM2 with 1-2 busy threads a round of
    // ten agents with every unit on can exceed it; its answers would then be substituted).
    let cfg = NegotiationConfig {
        max_rounds: 1,
        round_deadline_ms: 3_600_000,
        ..NegotiationConfig::default()
    };
    let judge = LlmArbitral::new(
        Arc::clone(model) as Arc<dyn LanguageModel>,
        BuiltinArbitral::default(),
    )
    .with_config(JudgeConfig {
        deadline_ms: 3_600_000,
        // Every message goes to the judge (no lexicon pre-filter), so its cost is all there.
        prefilter: false,
        ..JudgeConfig::default()
    });
    let units = Units {
        regulatory: library,
        observability: &Unbounded,
        arbitral: &judge,
        mediator: Some(model.as_ref()),
    };
    if let Err(e) = negotiate_with(&cfg, &agents(n), model.as_ref(), &units).await {
        panic!("negotiation failed: {e}");
    }
    std::mem::take(&mut *model.log.lock().unwrap_or_else(|p| p.into_inner()))
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
        .unwrap_or(2)
        .max(1);
    let base =
        LocalConfig::from_env(LocalConfig::for_model(path)).unwrap_or_else(|e| panic!("{e}"));
    let library = RegulationLibrary::bundled().unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio: {e}"));
    // (n, batched) -> per unit: (median ms, mean tokens, prompts); batches per round.
    type Cell = (BTreeMap<&'static str, (f64, f64, usize)>, usize, f64);
    let mut table: BTreeMap<(usize, bool), Cell> = BTreeMap::new();
    for batch in [true, false] {
        let backend = LocalBackend::new(LocalConfig {
            batch,
            ..base.clone()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "{} ({}), batch={batch}",
            backend.name(),
            backend.description()
        );
        let model = Arc::new(Metered {
            inner: Arc::new(backend),
            log: Arc::default(),
        });
        rt.block_on(one_round(&model, 2, &library)); // warm-up
        for n in SIZES {
            let mut per_unit: BTreeMap<&'static str, (Vec<f64>, u64, usize)> = BTreeMap::new();
            let mut batches = 0;
            let mut walls = Vec::new();
            for _ in 0..reps {
                let t0 = Instant::now();
                let log = rt.block_on(one_round(&model, n, &library));
                walls.push(t0.elapsed().as_secs_f64() * 1e3);
                batches = batches.max(log.iter().filter(|b| b.unit != "re-ask").count());
                let mut this: BTreeMap<&'static str, (f64, u64, usize)> = BTreeMap::new();
                for b in &log {
                    let e = this.entry(b.unit).or_default();
                    e.0 += b.ms;
                    e.1 += b.tokens;
                    e.2 += b.prompts;
                }
                for (unit, (ms, tokens, prompts)) in this {
                    let e = per_unit.entry(unit).or_default();
                    e.0.push(ms);
                    e.1 += tokens;
                    e.2 = e.2.max(prompts);
                }
            }
            let cell: BTreeMap<&'static str, (f64, f64, usize)> = per_unit
                .into_iter()
                .map(|(u, (ms, tokens, prompts))| {
                    (u, (median(ms), tokens as f64 / reps as f64, prompts))
                })
                .collect();
            let wall = median(walls);
            eprintln!(
                "  n={n:>2} batch={batch:<5} round {wall:>8.0} ms, {batches} batches, {cell:?}"
            );
            table.insert((n, batch), (cell, batches, wall));
        }
    }
    println!(
        "\none round with every LLM unit on (median of {reps}); per unit: ms / tokens / prompts"
    );
    println!("| n  | mode       | round ms | batches | voice | agents | judge | re-asks |");
    println!("|----|------------|---------:|--------:|-------|--------|-------|---------|");
    for ((n, batch), (cell, batches, wall)) in &table {
        let show = |u: &str| {
            cell.get(u).map_or_else(
                || "-".to_owned(),
                |(ms, tok, p)| format!("{ms:.0} ms / {tok:.0} tok / {p}"),
            )
        };
        println!(
            "| {n:<2} | {:<10} | {wall:>8.0} | {batches:>7} | {} | {} | {} | {} |",
            if *batch { "batched" } else { "sequential" },
            show("voice"),
            show("agents"),
            show("judge"),
            show("re-ask")
        );
    }
}
