//! The real-LLM path end to end: a negotiation of two agents (cost vs QoS personalities) on a
//! GGUF model run in-process (SmolLM2-135M-Instruct in CI, from `.ci/fetch-smollm2`; any chat
//! GGUF works). The model path comes from `MAESTRO_GGUF`.
//!
//! `MAESTRO_GGUF=$(.ci/fetch-smollm2) cargo test -p maestro-rapp --features local-llm \
//!   --test local_llm -- --nocapture`
#![cfg(feature = "local-llm")]

use std::collections::BTreeSet;
use std::time::Instant;

use maestro_rapp::negotiation::extraction::extract;
use maestro_rapp::negotiation::local::{LocalBackend, LocalConfig, ENV_GGUF};
use maestro_rapp::negotiation::{
    negotiate, AgentSpec, LanguageModel, NegotiationConfig, Personality, PressureMode,
};
use maestro_rapp::transcript::{new_id, unix_ms, Transcript, TranscriptStore};

fn model() -> LocalConfig {
    let path = std::env::var(ENV_GGUF).unwrap_or_default();
    assert!(
        !path.trim().is_empty(),
        "{ENV_GGUF} is not set: point it at a GGUF chat model, e.g. \
         `export {ENV_GGUF}=$(.ci/fetch-smollm2)`"
    );
    LocalConfig::from_env(LocalConfig::for_model(path.trim())).expect("local LLM settings")
}

fn agents() -> Vec<AgentSpec> {
    vec![
        AgentSpec {
            id: "cost".into(),
            business_intent: "Keep costs low: our IoT customers pay for a basic tier.".into(),
            target_mbps: 20.0,
            weight: 1.0,
            personality: Personality::Agreeable,
            weight_above: None,
            utility: None,
        },
        AgentSpec {
            id: "qos".into(),
            business_intent: "Premium 4K video: our customers expect high throughput.".into(),
            target_mbps: 100.0,
            weight: 1.0,
            personality: Personality::Disagreeable,
            weight_above: None,
            utility: None,
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_negotiate_on_a_real_model() {
    let t_load = Instant::now();
    let backend = LocalBackend::new(model()).expect("load the GGUF model");
    let load_ms = t_load.elapsed().as_secs_f64() * 1e3;
    println!(
        "model {} ({}) loaded in {load_ms:.0} ms",
        backend.name(),
        backend.description()
    );

    let cfg = NegotiationConfig {
        max_rounds: 4,
        epsilon_mbps: 0.5,
        pressure: PressureMode::None,
        ..NegotiationConfig::default()
    };
    let team = agents();
    let started_unix_ms = unix_ms();
    let t0 = Instant::now();
    let outcome = negotiate(&cfg, &team, &backend)
        .await
        .expect("negotiation runs");
    let wall = t0.elapsed();

    assert!(
        outcome.rounds >= 1 && outcome.rounds <= 4,
        "{}",
        outcome.rounds
    );
    assert!(outcome.llm.starts_with("local:"), "{}", outcome.llm);
    let mut reasonings = Vec::new();
    for record in &outcome.history[1..] {
        assert_eq!(record.turns.len(), 2);
        for (intent, turn) in record.intents.iter().zip(&record.turns) {
            // Every message the model wrote parses (the grammar guarantees it), within the
            // bounds. The only re-ask allowed is the validation unit's contradiction check
            // (the reasoning states another figure than the value), which depends on what the
            // model happened to write; the counted answer is the last one.
            assert!(
                turn.failures
                    .iter()
                    .all(|f| f.contains("contradicts your value")),
                "round {} {}: {:?}",
                record.round,
                intent.agent_id,
                turn.failures
            );
            assert_eq!(
                turn.raw_answers.len(),
                1 + turn.failures.len(),
                "{:?}",
                turn.raw_answers
            );
            for raw in &turn.raw_answers {
                extract(raw).unwrap_or_else(|e| panic!("round {}: {e}: {raw:?}", record.round));
            }
            let last = turn.raw_answers.last().expect("one answer at least");
            let parsed = extract(last).unwrap_or_else(|e| panic!("round {}: {e}", record.round));
            let b = &record.bounds;
            assert!(
                b.min_mbps <= parsed.value_mbps && parsed.value_mbps <= b.max_mbps,
                "round {} {}: {} outside {}..{}",
                record.round,
                intent.agent_id,
                parsed.value_mbps,
                b.min_mbps,
                b.max_mbps
            );
            assert!(!turn.substituted, "{:?}", turn.validation);
            assert_eq!(
                intent.value_mbps, parsed.value_mbps,
                "{:?}",
                turn.validation
            );
            assert!(
                !parsed.reasoning.trim().is_empty(),
                "{:?}",
                turn.raw_answers
            );
            assert_eq!(intent.reasoning, parsed.reasoning);
            println!(
                "round {} {:>4}: {:>7.2} Mbps  {}",
                record.round, intent.agent_id, intent.value_mbps, intent.reasoning
            );
            reasonings.push(parsed.reasoning);
        }
    }
    // Generated by the model: different for each agent and each round.
    let distinct: BTreeSet<&String> = reasonings.iter().collect();
    assert_eq!(
        distinct.len(),
        reasonings.len(),
        "repeated reasoning texts: {reasonings:#?}"
    );

    let usage = outcome.llm_usage.expect("the local backend counts tokens");
    // One request per answer the model wrote (re-asks included).
    let answers: usize = outcome.history[1..]
        .iter()
        .flat_map(|r| &r.turns)
        .map(|t| t.raw_answers.len())
        .sum();
    assert_eq!(usage.requests, answers as u64);
    assert!(usage.requests >= 2 * u64::from(outcome.rounds));
    assert!(usage.completion_tokens > 0 && usage.prompt_tokens > 0);

    // The outcome and the full transcript are stored and read back.
    let dir = tempfile::tempdir().expect("temp dir");
    let store = TranscriptStore::open(dir.path()).expect("open the transcript store");
    let id = new_id();
    store
        .save(&Transcript {
            id: id.clone(),
            started_unix_ms,
            topic: cfg.topic.clone(),
            agents: team.clone(),
            config: cfg.clone(),
            outcome: outcome.clone(),
        })
        .expect("store the transcript");
    let back = store.get(&id).expect("read").expect("stored");
    assert_eq!(back.outcome.rounds, outcome.rounds);
    assert_eq!(back.outcome.history.len(), outcome.history.len());
    assert_eq!(back.outcome.llm_usage, outcome.llm_usage);
    for (a, b) in back.outcome.history.iter().zip(&outcome.history) {
        let texts = |r: &maestro_rapp::negotiation::RoundRecord| {
            r.turns
                .iter()
                .map(|t| t.raw_answers.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(a), texts(b));
    }
    assert_eq!(store.list().expect("list").len(), 1);

    let stats = backend.stats();
    let wall_s = wall.as_secs_f64();
    println!(
        "negotiation: {} rounds, {:?} at {:.2} Mbps, wall {wall_s:.2} s ({:.2} s per round)",
        outcome.rounds,
        outcome.stop,
        outcome.consensus_mbps,
        wall_s / f64::from(outcome.rounds)
    );
    println!(
        "tokens: {} prompt ({:.0} tok/s prefill), {} generated ({:.1} tok/s decoding, {:.1} \
         tok/s over the wall time), {} batches",
        stats.prompt_tokens,
        stats.prefill_tokens_per_s(),
        stats.completion_tokens,
        stats.generation_tokens_per_s(),
        stats.completion_tokens as f64 / wall_s,
        stats.batches
    );
}
