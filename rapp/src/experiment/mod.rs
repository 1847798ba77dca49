//! The paper's experiments, runnable on any LLM backend (`maestro experiment ...`):
//!
//! - [`personalities`]: two standalone agents (cost vs QoS) for every personality pair the
//!   paper shows (Fig. 3a); each agent's final decision, agreement rate, convergence time, and
//!   the paper's qualitative claims checked against the data.
//! - [`optimizer`]: 2, 5 and 10 agents with varied starting intents under the three designs
//!   (no optimizer, soft advice, hard directive); error to the theoretical consensus, rounds.
//! - [`sla_timeline`]: the Fig. 5 story against a running xApp — renegotiations triggered by
//!   the live KPI stream, a toxic operator warned, a switch-off, a recovery; timeline plot.
//!
//! Each returns plain rows; [`write_report`] stores them as JSON, CSV and an SVG box plot, plus
//! a PNG of the plot for the reports that offer one ([`ExperimentReport::png`]).

pub mod optimizer;
pub mod personalities;
pub mod plot;
pub mod sla_timeline;
pub mod stats;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::negotiation::LanguageModel;

/// Makes the LLM backend for one game from the game's seed (the persona negotiator is seeded
/// per game; a hosted model ignores the seed).
pub type LlmFactory<'a> = &'a (dyn Fn(u64) -> Arc<dyn LanguageModel> + Sync);

/// The built-in persona negotiator seeded for a game: the default [`LlmFactory`].
pub fn persona_backend(seed: u64) -> Arc<dyn LanguageModel> {
    Arc::new(crate::negotiation::PersonaNegotiator::new(seed))
}

/// Called after each game with (games done, games in all).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Files an experiment wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// Every file, in the order written.
    pub files: Vec<PathBuf>,
}

/// Why the results could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {reason}")]
pub struct WriteError {
    path: String,
    reason: String,
}

/// What every experiment's report offers: a table for stdout, per-game CSV, a box plot.
pub trait ExperimentReport: serde::Serialize {
    /// File stem, e.g. `optimizer`.
    fn name(&self) -> &'static str;
    /// The table printed on stdout.
    fn table(&self) -> String;
    /// One CSV row per game.
    fn csv(&self) -> String;
    /// The box plot.
    fn svg(&self) -> String;
    /// The plot as PNG, for reports that also want a raster copy (`None`: SVG only).
    fn png(&self) -> Option<Result<Vec<u8>, plot::RenderError>> {
        None
    }
}

/// Writes a report's JSON, CSV and SVG under `dir` (see [`write_files`]), and `name.png` when
/// the report offers a PNG.
pub fn write_report(dir: &Path, report: &impl ExperimentReport) -> Result<Written, WriteError> {
    let json = serde_json::to_value(report).map_err(|e| WriteError {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut written = write_files(dir, report.name(), &json, &report.csv(), &report.svg())?;
    if let Some(png) = report.png() {
        let path = dir.join(format!("{}.png", report.name()));
        let err = |reason: String| WriteError {
            path: path.display().to_string(),
            reason,
        };
        let bytes = png.map_err(|e| err(e.to_string()))?;
        std::fs::write(&path, bytes).map_err(|e| err(e.to_string()))?;
        written.files.push(path);
    }
    Ok(written)
}

/// Writes `name.json` (the summary and every game), `name.csv` (one row per game) and
/// `name.svg` (the box plot) under `dir`, creating it.
pub fn write_files(
    dir: &Path,
    name: &str,
    json: &serde_json::Value,
    csv: &str,
    svg: &str,
) -> Result<Written, WriteError> {
    let err = |path: &Path, e: &dyn std::fmt::Display| WriteError {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| err(dir, &e))?;
    let text = serde_json::to_string_pretty(json).map_err(|e| err(dir, &e))?;
    let mut files = Vec::new();
    for (ext, body) in [("json", text.as_str()), ("csv", csv), ("svg", svg)] {
        let path = dir.join(format!("{name}.{ext}"));
        std::fs::write(&path, body).map_err(|e| err(&path, &e))?;
        files.push(path);
    }
    Ok(Written { files })
}
