//! The arbitral unit on the HELD-OUT corpus: 242 negotiation messages (110 malicious) written
//! by a separate session from the label definitions only, without reading the lexicon, the
//! persona's lines or the in-sample corpus (`rapp/tests/data/ARBITRAL_HELDOUT.md` says how).
//! Precision, recall and F1 of the malicious class, every message with neutral numbers (the
//! demand equals the advice, the last demand and the mean) so that only the text decides.
//!
//! - Always: the lexicon alone (`BuiltinArbitral`), printed; no bar.
//! - With `--features local-llm` and `MAESTRO_GGUF`: the LLM judge alone and the combination
//!   (the production rule, see `arbitral/judge.rs`) on that model, in rounds of
//!   `smollm2::BATCH` messages (one batch each), printed as a table with the lexicon's row
//!   (results and cost: `docs/ARBITRAL.md`). The only bar is the issue's: the combination's F1
//!   is not below the lexicon's.
//!
//! `MAESTRO_GGUF=$(.ci/fetch-smollm2) cargo test -p maestro-rapp --features local-llm \
//!   --test arbitral_heldout -- --nocapture`

mod arbitral_eval;

use std::time::Instant;

use maestro_rapp::negotiation::arbitral::{Arbitral, BuiltinArbitral, Class};
use serde::Deserialize;

use arbitral_eval::{neutral, table, Labelled, Row, Scores};

/// One line of `arbitral_heldout.jsonl`.
#[derive(Deserialize)]
struct Line {
    id: String,
    label: Class,
    #[allow(dead_code)]
    category: String,
    text: String,
}

fn corpus() -> Vec<Labelled> {
    let items: Vec<Labelled> = include_str!("data/arbitral_heldout.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let line: Line = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            Labelled {
                id: line.id,
                text: line.text,
                label: line.label,
            }
        })
        .collect();
    assert!(items.len() >= 200, "{} messages", items.len());
    items
}

/// `MAESTRO_HELDOUT_SAMPLE=N`: every k-th message, about N of them, for the LLM rows in CI
/// (the whole corpus takes a 135M model on 2 cores tens of minutes; `docs/ARBITRAL.md` has the
/// whole-corpus table). The lexicon's row is computed on the same messages, so the rows stay
/// comparable. Unset: every message.
#[cfg_attr(not(feature = "local-llm"), allow(dead_code))]
fn sample(items: Vec<Labelled>) -> Vec<Labelled> {
    let wanted = std::env::var("MAESTRO_HELDOUT_SAMPLE")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0 && n < items.len());
    let Some(n) = wanted else {
        return items;
    };
    let step = items.len().div_ceil(n);
    let picked: Vec<Labelled> = items.into_iter().step_by(step).collect();
    println!(
        "held-out SAMPLE: every {step}th message, {} of them ({} malicious)",
        picked.len(),
        picked
            .iter()
            .filter(|i| i.label == Class::Malicious)
            .count()
    );
    picked
}

/// The lexicon's row.
fn lexicon_row(items: &[Labelled]) -> Row {
    let lexicon = BuiltinArbitral::default();
    let t0 = Instant::now();
    let got: Vec<Class> = items
        .iter()
        .map(|i| lexicon.judge(&neutral(&i.text)).class)
        .collect();
    Row {
        name: "lexicon alone".into(),
        scores: Scores::of(items, &got),
        fallbacks: 0,
        wall: t0.elapsed(),
    }
}

#[test]
fn lexicon_on_the_held_out_corpus() {
    let items = corpus();
    let row = lexicon_row(&items);
    let s = row.scores;
    println!(
        "arbitral HELD-OUT corpus, lexicon alone ({} malicious):\n{}",
        s.tp + s.fn_,
        table(std::slice::from_ref(&row))
    );
    assert_eq!(s.n() as usize, items.len());
}

/// Two passes, every message asked once: the production configuration (the lexicon settles
/// what it flags, the judge is asked about the rest; the combination's row and wall time),
/// then the judge alone on the messages the first pass did not ask about, so the LLM-alone
/// row covers every message (its wall time is both passes').
#[cfg(feature = "local-llm")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_judge_and_combination_on_the_held_out_corpus() {
    use std::io::Write;

    use maestro_rapp::negotiation::arbitral::{DecidedBy, JudgeAnswer, Verdict};
    use maestro_rapp::negotiation::LanguageModel;

    use arbitral_eval::smollm2;

    let items = sample(corpus());
    let lexicon = lexicon_row(&items);
    let backend = smollm2::backend();
    println!("model {} ({})", backend.name(), backend.description());
    let fell_back = |vs: &[&Verdict]| {
        vs.iter()
            .filter(|v| v.basis.decided_by == DecidedBy::Fallback)
            .count()
    };

    // Pass 1, production: the combination.
    let production = smollm2::judge(&backend, true);
    let all: Vec<&Labelled> = items.iter().collect();
    let (combined, combined_wall) = smollm2::judge_all(&production, &all).await;
    let not_asked: Vec<usize> = (0..items.len())
        .filter(|&i| combined[i].basis.decided_by == DecidedBy::Lexicon)
        .collect();

    // Pass 2: the judge on the messages the lexicon settled.
    let every = smollm2::judge(&backend, false);
    let rest: Vec<&Labelled> = not_asked.iter().map(|&i| &items[i]).collect();
    let (extra, extra_wall) = smollm2::judge_all(&every, &rest).await;
    let mut asked: Vec<&Verdict> = combined.iter().collect();
    for (&i, v) in not_asked.iter().zip(&extra) {
        asked[i] = v;
    }
    let rule = production.config().clone();
    let answers: Vec<Option<&JudgeAnswer>> = asked.iter().map(|v| v.basis.judge.as_ref()).collect();
    // A fallback counts as "not flagged".
    let alone: Vec<Class> = answers
        .iter()
        .map(|a| match a {
            Some(a) if rule.flags(a) => Class::Malicious,
            _ => Class::Benign,
        })
        .collect();
    let raw: Vec<Class> = answers
        .iter()
        .map(|a| a.map_or(Class::Benign, |a| a.class))
        .collect();
    let got: Vec<Class> = combined.iter().map(|v| v.class).collect();

    let rows = [
        lexicon,
        Row {
            name: format!("LLM judge alone ({})", backend.name()),
            scores: Scores::of(&items, &alone),
            fallbacks: fell_back(&asked),
            wall: combined_wall + extra_wall,
        },
        Row {
            name: "combination (production rule)".into(),
            scores: Scores::of(&items, &got),
            fallbacks: fell_back(&combined.iter().collect::<Vec<_>>()),
            wall: combined_wall,
        },
    ];
    let printed = table(&rows);
    println!(
        "arbitral HELD-OUT corpus ({} messages):\n{printed}",
        items.len()
    );
    let r = Scores::of(&items, &raw);
    let usable: Vec<&JudgeAnswer> = answers.iter().flatten().copied().collect();
    let said_malicious = usable
        .iter()
        .filter(|a| a.class == Class::Malicious)
        .count();
    let dropped: usize = usable.iter().map(|a| a.dropped.len()).sum();
    let salvaged = usable.iter().filter(|a| a.salvaged).count();
    println!(
        "judge: {} usable answers, {said_malicious} of them malicious; raw class (ignoring \
         confidence and quotes) precision {:.3} recall {:.3} F1 {:.3}; {dropped} quotes not in \
         the message dropped; {salvaged} answers cut and read up to the cut. In production the \
         judge was asked about {} of {} messages.",
        usable.len(),
        r.precision(),
        r.recall(),
        r.f1(),
        items.len() - not_asked.len(),
        items.len()
    );
    println!("{:?}", backend.stats());

    // Per message, for reading the mistakes.
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("arbitral_heldout.jsonl");
    let mut out = std::fs::File::create(&path).expect("results file");
    for ((item, a), c) in items.iter().zip(&asked).zip(&combined) {
        let line = serde_json::json!({
            "id": item.id, "label": item.label, "judge": a.basis.judge,
            "fallback": a.basis.fallback, "combination": c.class,
            "decided_by": c.basis.decided_by,
        });
        writeln!(out, "{line}").expect("write results");
    }
    println!("per message: {}", path.display());

    assert_eq!(printed.lines().count(), 2 + rows.len());
    assert!(
        rows[2].scores.f1() >= rows[0].scores.f1(),
        "the combination's F1 {:.3} is below the lexicon's {:.3}",
        rows[2].scores.f1(),
        rows[0].scores.f1()
    );
}
