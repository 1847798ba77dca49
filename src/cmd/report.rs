//! Presenting a pass of the loop: the table on stdout, the JSON report on disk, the exit code.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use maestro_api::a1::EnforceStatus;
use maestro_rapp::cells::CellsReport;
use maestro_rapp::run::{RappReport, SliceOutcome};
use serde::Serialize;

/// Prints the table.
pub fn print_table(r: &RappReport) {
    println!(
        "\nconsensus: {:.2} Mbps per slice after {} rounds ({} messages, {}); \
         cell capacity at start {:.1} Mbps, bounds {:.1}..{:.1} Mbps",
        r.consensus_mbps,
        r.rounds,
        r.messages,
        if r.converged {
            "converged"
        } else {
            "round cap"
        },
        r.capacity_mbps_at_start,
        r.bounds_mbps.0,
        r.bounds_mbps.1,
    );
    println!(
        "negotiation: {:.1} s of wall time; policies enforced at gNB time {}",
        r.negotiation_wall_s,
        r.enforced_at_gnb_s.map_or_else(
            || "- (never seen in the KPI stream)".to_owned(),
            |t| format!("{t:.1} s")
        )
    );
    println!(
        "KPI reports received over gRPC: {} ({:.1} s of gNB time observed from {:.1} s)\n",
        r.kpi_reports, r.observed_s, r.window_start_gnb_s
    );
    println!(
        "{:<22} {:<9} {:>11} {:>5} {:>5} {:>14} {:>11} {:<13}",
        "slice",
        "operator",
        "target Mbps",
        "PRBs",
        "CQI",
        "measured Mbps",
        "achievable",
        "A1 status"
    );
    for s in &r.slices {
        println!(
            "{:<22} {:<9} {:>11.2} {:>5} {:>5.1} {:>14} {:>11} {:<13}",
            s.slice,
            s.operator,
            s.target_mbps,
            s.prbs,
            s.cqi,
            measured(s),
            achievable(s),
            status(s)
        );
    }
    println!();
}

/// Prints the per-cell table of a many-cell run: one line per slice of each cell.
pub fn print_cells_table(r: &CellsReport) {
    println!(
        "\n{} cells negotiated (rApp shard {}), one negotiation each:\n",
        r.cells.len(),
        r.shard
    );
    println!(
        "{:<18} {:<22} {:>9} {:>6} {:<22} {:>11} {:>14} {:>11} {:<13} {:<5} {:<7}",
        "cell",
        "xApp (KPI)",
        "consensus",
        "rounds",
        "slice",
        "target Mbps",
        "measured Mbps",
        "achievable",
        "A1 status",
        "holds",
        "trigger"
    );
    for cell in &r.cells {
        let xapp = cell
            .xapp
            .kpi_url
            .trim_start_matches("http://")
            .trim_start_matches("https://");
        let Some(pass) = &cell.report else {
            println!(
                "{:<18} {:<22} failed: {}",
                cell.cell_id,
                xapp,
                cell.error.as_deref().unwrap_or("unknown error")
            );
            continue;
        };
        // The trigger: how many times it fired (renegotiations included), "-" when never.
        let trigger = match cell.triggers.len() {
            0 => "-".to_owned(),
            n => format!("{n}x"),
        };
        for s in &pass.slices {
            println!(
                "{:<18} {:<22} {:>9.2} {:>6} {:<22} {:>11.2} {:>14} {:>11} {:<13} {:<5} {:<7}",
                cell.cell_id,
                xapp,
                pass.consensus_mbps,
                pass.rounds,
                s.slice,
                s.target_mbps,
                measured(s),
                achievable(s),
                status(s),
                if s.holds_target { "yes" } else { "NO" },
                trigger
            );
        }
    }
    println!();
}

/// 0 when every slice of every cell holds its target whenever achievable; 1 with one line per
/// failure.
pub fn cells_exit_code(r: &CellsReport) -> ExitCode {
    if r.pass {
        let tolerance = r
            .cells
            .iter()
            .find_map(|c| c.report.as_ref())
            .map_or(0.05, |p| p.tolerance);
        println!(
            "PASS: every slice of all {} cells held its target within {:.0}% whenever it was \
             achievable",
            r.cells.len(),
            tolerance * 100.0
        );
        return ExitCode::SUCCESS;
    }
    if r.cells.is_empty() {
        eprintln!("FAIL: no cell to negotiate (none reported, or none in this rApp's shard)");
    }
    for cell in &r.cells {
        match &cell.report {
            None => eprintln!(
                "FAIL: cell {}: {}",
                cell.cell_id,
                cell.error.as_deref().unwrap_or("unknown error")
            ),
            Some(pass) => {
                for s in pass.slices.iter().filter(|s| !s.holds_target) {
                    eprintln!(
                        "FAIL: cell {} slice {}: measured {} Mbps against a target of {:.2} Mbps \
                         over {} periods",
                        cell.cell_id,
                        s.slice,
                        measured(s),
                        s.target_mbps,
                        s.periods
                    );
                }
            }
        }
    }
    ExitCode::FAILURE
}

fn measured(s: &SliceOutcome) -> String {
    s.measured_mbps
        .map_or_else(|| "-".to_owned(), |m| format!("{m:.2}"))
}

fn achievable(s: &SliceOutcome) -> String {
    if s.periods == 0 {
        "-".to_owned()
    } else {
        format!(
            "{:.0}%",
            100.0 * s.achievable_periods as f64 / s.periods as f64
        )
    }
}

fn status(s: &SliceOutcome) -> &'static str {
    match &s.a1_status {
        Some(st) if st.enforce_status == EnforceStatus::Enforced => "ENFORCED",
        Some(_) => "NOT_ENFORCED",
        None => "?",
    }
}

/// Writes the JSON report.
pub fn write_json(r: &impl Serialize, path: &Path) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(r).context("cannot serialize the report")?;
    std::fs::write(path, text).with_context(|| format!("cannot write report {}", path.display()))
}

/// 0 when every slice holds its target whenever achievable; 1 with one line per failure.
pub fn exit_code(r: &RappReport) -> ExitCode {
    if r.pass {
        println!(
            "PASS: every slice held its target within {:.0}% whenever it was achievable",
            r.tolerance * 100.0
        );
        return ExitCode::SUCCESS;
    }
    for s in r.slices.iter().filter(|s| !s.holds_target) {
        if s.periods == 0 && s.seen_enforced {
            eprintln!(
                "FAIL: slice {}: no KPI period after the policy was enforced ({:.1} s of gNB time \
                 observed; the negotiation took {:.1} s of wall time)",
                s.slice, r.observed_s, r.negotiation_wall_s
            );
            continue;
        }
        if s.periods == 0 {
            eprintln!(
                "FAIL: slice {} never appeared in the KPI reports with its new target ({:.1} s of \
                 gNB time watched after the A1 PUT): its A1 policy is not enforced by the cell \
                 this KPI stream reports (is the A1 peer the xApp at --kpi-url?)",
                s.slice, r.observed_s
            );
            continue;
        }
        eprintln!(
            "FAIL: slice {} measured {:.2} Mbps against a target of {:.2} Mbps (tolerance {:.0}%)",
            s.slice,
            s.measured_mbps.unwrap_or(0.0),
            s.target_mbps,
            r.tolerance * 100.0
        );
    }
    if r.kpi_reports == 0 {
        eprintln!("FAIL: no KPI report arrived over gRPC");
    }
    ExitCode::FAILURE
}
