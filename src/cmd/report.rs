//! Presenting a pass of the loop: the table on stdout, the JSON report on disk, the exit code.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use maestro_api::a1::EnforceStatus;
use maestro_rapp::run::RappReport;

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
        let measured = s
            .measured_mbps
            .map_or_else(|| "-".to_owned(), |m| format!("{m:.2}"));
        let achievable = if s.periods == 0 {
            "-".to_owned()
        } else {
            format!(
                "{:.0}%",
                100.0 * s.achievable_periods as f64 / s.periods as f64
            )
        };
        let status = match &s.a1_status {
            Some(st) if st.enforce_status == EnforceStatus::Enforced => "ENFORCED".to_owned(),
            Some(_) => "NOT_ENFORCED".to_owned(),
            None => "?".to_owned(),
        };
        println!(
            "{:<22} {:<9} {:>11.2} {:>5} {:>5.1} {:>14} {:>11} {:<13}",
            s.slice, s.operator, s.target_mbps, s.prbs, s.cqi, measured, achievable, status
        );
    }
    println!();
}

/// Writes the JSON report.
pub fn write_json(r: &RappReport, path: &Path) -> anyhow::Result<()> {
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
