//! One full negotiation with the built-in persona backend, 4 rounds, for 10 to 10,000 agents.
//!
//! Throughput is reported in agent-rounds (n agents x 4 rounds), so criterion's elements/s is
//! agent-rounds per second and its inverse is the cost of one agent's turn in one round
//! (prompt, persona answer, extraction, validation, arbitral verdict, feedback).

#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use maestro_rapp::negotiation::{
    negotiate, AgentSpec, NegotiationConfig, PersonaNegotiator, Personality,
};

const ROUNDS: u32 = 4;

/// `n` Normal agents, targets spread over 10..190 Mbps, weights over 0.5..2.0.
fn agents(n: usize) -> Vec<AgentSpec> {
    let denom = (n.max(2) - 1) as f64;
    (0..n)
        .map(|i| {
            let f = i as f64 / denom;
            let target = 10.0 + 180.0 * f;
            AgentSpec {
                id: format!("bo{i}"),
                business_intent: format!("We want {target:.1} Mbps for our slice."),
                target_mbps: target,
                // A different permutation than the targets', so stake and target are not tied.
                weight: 0.5 + 1.5 * ((i * 7919) % n) as f64 / denom,
                personality: Personality::Normal,
                weight_above: None,
                utility: None,
            }
        })
        .collect()
}

fn config() -> NegotiationConfig {
    NegotiationConfig {
        max_rounds: ROUNDS,
        // No consensus before the cap: every negotiation runs all 4 rounds.
        epsilon_mbps: 1e-9,
        ..Default::default()
    }
}

fn bench_negotiation(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let cfg = config();
    let llm = PersonaNegotiator::new(1);

    let mut group = c.benchmark_group("negotiation_persona_4_rounds");
    group.sample_size(10);
    for n in [10usize, 100, 1_000, 10_000] {
        let agents = agents(n);
        // Check once, outside the timing, that the run is the one we mean to measure.
        let out = rt
            .block_on(negotiate(&cfg, &agents, &llm))
            .expect("negotiation runs");
        assert_eq!(out.rounds, ROUNDS, "n = {n}");
        assert!(!out.converged, "n = {n}");
        assert_eq!(out.history.len(), ROUNDS as usize + 1);
        assert_eq!(out.messages, (ROUNDS as usize + 1) * n * 2);

        group.throughput(Throughput::Elements(n as u64 * u64::from(ROUNDS)));
        if n >= 10_000 {
            // One negotiation takes seconds here: ten single-run samples, the shortest
            // criterion allows.
            group.sampling_mode(SamplingMode::Flat);
            group.warm_up_time(Duration::from_secs(1));
            group.measurement_time(Duration::from_secs(5));
        } else {
            group.sampling_mode(SamplingMode::Auto);
            group.warm_up_time(Duration::from_secs(2));
            group.measurement_time(Duration::from_secs(4));
        }
        group.bench_with_input(BenchmarkId::from_parameter(n), &agents, |b, agents| {
            b.iter(|| {
                let out = rt
                    .block_on(negotiate(&cfg, black_box(agents), &llm))
                    .expect("negotiation runs");
                black_box(out.consensus_mbps)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_negotiation);
criterion_main!(benches);
