//! What the arbitral evaluations share: neutral observations (only the text decides),
//! precision/recall/F1 of the malicious class, the results table, and (feature `local-llm`)
//! running the LLM judge on SmolLM2 in batches.
#![allow(dead_code)] // each test file uses its part

use std::time::Duration;

use maestro_rapp::negotiation::arbitral::{Class, Observation};

/// One labelled message.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// Corpus id.
    pub id: String,
    /// The message.
    pub text: String,
    /// Its label.
    pub label: Class,
}

/// The observation of `text` with neutral numbers: the demand equals the last demand, the
/// optimizer's advice and the group's mean (60 Mbps in a 200 Mbps range), so the behaviour
/// rules never score and only the text decides.
pub fn neutral(text: &str) -> Observation<'_> {
    Observation {
        reasoning: text,
        value_mbps: 60.0,
        previous_mbps: 60.0,
        advice_mbps: 60.0,
        mean_mbps: 60.0,
        range_mbps: 200.0,
        strikes: 0,
    }
}

/// Confusion counts of the malicious class.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scores {
    pub tp: u32,
    pub fp: u32,
    pub fn_: u32,
    pub tn: u32,
}

impl Scores {
    /// Counts one decision.
    pub fn add(&mut self, label: Class, got: Class) {
        match (label, got) {
            (Class::Malicious, Class::Malicious) => self.tp += 1,
            (Class::Benign, Class::Malicious) => self.fp += 1,
            (Class::Malicious, Class::Benign) => self.fn_ += 1,
            (Class::Benign, Class::Benign) => self.tn += 1,
        }
    }

    /// The scores of `got` against the labels of `items`.
    pub fn of(items: &[Labelled], got: &[Class]) -> Self {
        let mut s = Self::default();
        for (item, &g) in items.iter().zip(got) {
            s.add(item.label, g);
        }
        s
    }

    pub fn n(&self) -> u32 {
        self.tp + self.fp + self.fn_ + self.tn
    }

    pub fn precision(&self) -> f64 {
        f64::from(self.tp) / f64::from(self.tp + self.fp).max(1.0)
    }

    pub fn recall(&self) -> f64 {
        f64::from(self.tp) / f64::from(self.tp + self.fn_).max(1.0)
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        2.0 * p * r / (p + r).max(1e-12)
    }
}

/// One row of the results table.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub scores: Scores,
    pub fallbacks: usize,
    pub wall: Duration,
}

/// The results as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| classifier | n | TP | FP | FN | TN | precision | recall | F1 | fallbacks | wall time |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let s = &r.scores;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {} | {:.1} s |\n",
            r.name,
            s.n(),
            s.tp,
            s.fp,
            s.fn_,
            s.tn,
            s.precision(),
            s.recall(),
            s.f1(),
            r.fallbacks,
            r.wall.as_secs_f64()
        ));
    }
    out
}

#[cfg(feature = "local-llm")]
pub mod smollm2 {
    //! The LLM judge on a local GGUF model (`MAESTRO_GGUF`; SmolLM2-135M-Instruct in CI).

    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use maestro_rapp::negotiation::arbitral::{
        Arbitral, BuiltinArbitral, JudgeConfig, LlmArbitral, Observation, Verdict,
    };
    use maestro_rapp::negotiation::local::{LocalBackend, LocalConfig, ENV_GGUF};

    use super::{neutral, Labelled};

    /// Messages judged per round (one batch). All of a round's sequences share one KV cache,
    /// where every token attends over every sequence's cells: smaller rounds prefill cheaper,
    /// and 8 was faster than 16 on the in-sample messages.
    pub const BATCH: usize = 8;

    /// The model: greedy decoding (reproducible), answers capped at 48 tokens (the class and
    /// the confidence come first; a cut answer is read up to the cut), every core (the
    /// evaluation runs alone in its test binary); the `MAESTRO_LOCAL_*` variables override.
    pub fn backend() -> Arc<LocalBackend> {
        let path = std::env::var(ENV_GGUF).unwrap_or_default();
        assert!(
            !path.trim().is_empty(),
            "{ENV_GGUF} is not set: `export {ENV_GGUF}=$(.ci/fetch-smollm2)`"
        );
        let base = LocalConfig {
            temperature: 0.0,
            max_tokens: 40,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
            ..LocalConfig::for_model(path.trim())
        };
        let cfg = LocalConfig::from_env(base).expect("local LLM settings");
        Arc::new(LocalBackend::new(cfg).expect("load the GGUF model"))
    }

    /// A judge on `backend`; `prefilter` off asks the model about every message.
    pub fn judge(backend: &Arc<LocalBackend>, prefilter: bool) -> LlmArbitral {
        LlmArbitral::new(backend.clone(), BuiltinArbitral::default()).with_config(JudgeConfig {
            prefilter,
            // Generous: the evaluation measures the judge, not the deadline.
            deadline_ms: 600_000,
            ..JudgeConfig::default()
        })
    }

    /// Judges every item in rounds of [`BATCH`]; the verdicts and the wall time.
    pub async fn judge_all(judge: &LlmArbitral, items: &[&Labelled]) -> (Vec<Verdict>, Duration) {
        let t0 = Instant::now();
        let mut verdicts = Vec::with_capacity(items.len());
        for chunk in items.chunks(BATCH) {
            let round: Vec<Observation<'_>> = chunk.iter().map(|i| neutral(&i.text)).collect();
            verdicts.extend(judge.judge_round(&round).await);
        }
        (verdicts, t0.elapsed())
    }
}
