//! `maestro transcripts`: list and show the negotiations the rApp stored — every round's
//! demands and reasoning, and what each unit (optimizer, validation, arbitral) did.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use maestro_rapp::negotiation::peers::clip;
use maestro_rapp::negotiation::voice::Spoken;
use maestro_rapp::transcript::TranscriptStore;

/// What to do.
#[derive(Debug, Subcommand)]
pub enum TranscriptCommand {
    /// One line per stored negotiation, oldest first.
    List,
    /// One negotiation: a round-by-round table, or the whole record with --json.
    Show {
        /// Negotiation id (from `list`, or the rApp's report).
        id: String,
        /// Print the full stored record as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Options of `maestro transcripts`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    maestro transcripts list --data-dir maestro-rapp-state\n  \
    maestro transcripts show neg-1764230400000-0a1b2c --data-dir maestro-rapp-state\n  \
    maestro transcripts show neg-1764230400000-0a1b2c --json | jq '.outcome.history[1].turns'")]
pub struct TranscriptArgs {
    #[command(subcommand)]
    pub command: TranscriptCommand,
    /// The rApp's data directory.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "maestro-rapp-state",
        global = true
    )]
    pub data_dir: PathBuf,
}

/// Runs the command.
pub async fn run(args: TranscriptArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.data_dir.join("transcripts.redb").exists(),
        "no transcript store in {} (the rApp writes one with --data-dir)",
        args.data_dir.display()
    );
    let store = TranscriptStore::open(&args.data_dir)?;
    match args.command {
        TranscriptCommand::List => {
            println!(
                "{:<28} {:>15} {:>6} {:>6} {:>9} {:>10}  topic",
                "id", "started (ms)", "agents", "rounds", "agreed", "Mbps"
            );
            for t in store.list()? {
                println!(
                    "{:<28} {:>15} {:>6} {:>6} {:>9} {:>10.3}  {}",
                    t.id,
                    t.started_unix_ms,
                    t.agents,
                    t.rounds,
                    if t.converged { "yes" } else { "no" },
                    t.consensus_mbps,
                    t.topic
                );
            }
        }
        TranscriptCommand::Show { id, json } => {
            let t = store
                .get(&id)?
                .with_context(|| format!("no negotiation {id:?} in {}", args.data_dir.display()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&t)?);
                return Ok(ExitCode::SUCCESS);
            }
            let o = &t.outcome;
            println!(
                "{}: {} agents, {} rounds, stop {:?}, consensus {:.3} Mbps (theory {}), LLM {}, pressure {}",
                t.id,
                t.agents.len(),
                o.rounds,
                o.stop,
                o.consensus_mbps,
                o.theoretical_mbps
                    .map_or_else(|| "-".to_owned(), |v| format!("{v:.3}")),
                o.llm,
                o.pressure
            );
            for r in &o.history {
                println!(
                    "round {} (bounds {:.2}..{:.2} Mbps, mean {:.3}, spread {:.3})",
                    r.round,
                    r.bounds.min_mbps,
                    r.bounds.max_mbps,
                    r.feedback.mean_mbps,
                    r.feedback.spread_mbps
                );
                for p in &r.passages {
                    println!("  retrieved [{}] \"{}\"", p.citation, clip(&p.text, 160));
                }
                for (k, intent) in r.intents.iter().enumerate() {
                    println!(
                        "  {:<10} {:>9.3}  {}",
                        intent.agent_id, intent.value_mbps, intent.reasoning
                    );
                    let Some(turn) = r.turns.get(k) else {
                        continue;
                    };
                    for h in &turn.heard {
                        println!(
                            "      heard {} at {:.2} Mbps: \"{}\"",
                            h.agent_id,
                            h.value_mbps,
                            clip(&h.reasoning, 200)
                        );
                    }
                    match &turn.mediator {
                        Some(Spoken {
                            message: Some(m), ..
                        }) => println!("      MAESTRO (LLM) to it: {m}"),
                        Some(Spoken {
                            fallback: Some(why),
                            ..
                        }) => {
                            println!("      MAESTRO's LLM message unusable ({why}): template used")
                        }
                        _ => {}
                    }
                    println!(
                        "      advice {:.2} Mbps; arbitral: {}",
                        turn.advice_mbps,
                        verdict_line(&turn.verdict)
                    );
                    for note in &turn.validation {
                        println!("      validation: {note}");
                    }
                    for flag in &turn.flags {
                        println!("      flagged: {flag}");
                    }
                    for failure in &turn.failures {
                        println!("      failed: {failure}");
                    }
                }
                println!("  MAESTRO: {}", r.feedback.summary);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line for an arbitral verdict: class, who decided, the judge's answer and evidence,
/// a fallback's reason, the incentive.
fn verdict_line(v: &maestro_rapp::negotiation::arbitral::Verdict) -> String {
    use maestro_rapp::negotiation::arbitral::Incentive;
    let mut line = format!(
        "{:?} by {:?} (score {:.2})",
        v.class, v.basis.decided_by, v.score
    )
    .to_lowercase();
    if let Some(j) = &v.basis.judge {
        line.push_str(&format!(
            "; judge said {:?} at confidence {:.2}",
            j.class, j.confidence
        ));
        if !j.evidence.is_empty() {
            line.push_str(&format!(", quoting \"{}\"", j.evidence.join("\", \"")));
        }
        if !j.dropped.is_empty() {
            line.push_str(&format!(", {} invented quote(s) dropped", j.dropped.len()));
        }
    }
    if let Some(f) = &v.basis.fallback {
        line.push_str(&format!(
            "; judge unusable ({:?}: {})",
            f.reason,
            clip(&f.detail, 120)
        ));
    }
    if !v.evidence.is_empty() {
        line.push_str(&format!("; evidence: {}", v.evidence.join("; ")));
    }
    if v.incentive != Incentive::None {
        line.push_str(&format!(" -> {:?}", v.incentive));
    }
    line
}
