//! The timeline's outputs: the printed summary ([`TimelineReport::table`]), the JSON event log,
//! the per-period CSV, and the plot's files (SVG and PNG), written under a directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::report::{incentive_name, TimelineReport};
use super::TimelineError;

impl TimelineReport {
    /// The printed summary.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "SLA timeline '{}' on {} (backend: {}): {:.0} s of gNB time in {:.1} s wall, {} KPI \
             reports ({} dropped)",
            self.scenario,
            self.cqi_source,
            self.llm,
            self.duration_s,
            self.wall_s,
            self.kpi_reports,
            self.kpi_dropped
        );
        let _ = writeln!(
            t,
            "{:>3} {:>7} {:>7} {:<13} {:<18} {:>8} {:>6} {:>9} {:<12} arbitral",
            "#", "start s", "end s", "cause", "phase", "max Mbps", "rounds", "enforced", "stop",
        );
        for n in &self.negotiations {
            let arb: Vec<String> = n
                .outcome
                .arbitral_log
                .iter()
                .map(|d| {
                    format!(
                        "{} {} r{}",
                        d.agent_id,
                        incentive_name(d.incentive),
                        d.round
                    )
                })
                .collect();
            let _ = writeln!(
                t,
                "{:>3} {:>7.1} {:>7.1} {:<13} {:<18} {:>8.1} {:>6} {:>9} {:<12} {}",
                n.index,
                n.start_s,
                n.end_s,
                n.cause.label(),
                n.phase,
                n.max_achievable_mbps,
                n.outcome.rounds,
                match (n.enforced_mbps, n.switch_off) {
                    (_, true) => "OFF".to_owned(),
                    (Some(v), _) => format!("{v:.2}"),
                    (None, _) => "-".to_owned(),
                },
                format!("{:?}", n.outcome.stop),
                if arb.is_empty() {
                    "-".to_owned()
                } else {
                    arb.join(", ")
                }
            );
        }
        let _ = writeln!(t, "\nHeld targets (settled, achievable periods):");
        let _ = writeln!(
            t,
            "{:>3} {:>9} {:>7} {:>7} {:>8} {:>10} {:>10} {:>5}",
            "N", "target", "from s", "to s", "periods", "within 5%", "mean Mbps", "holds"
        );
        for s in &self.segments {
            let _ = writeln!(
                t,
                "{:>3} {:>9.2} {:>7.1} {:>7.1} {:>8} {:>10} {:>10} {:>5}",
                s.negotiation,
                s.target_mbps,
                s.from_s,
                s.to_s,
                s.settled_achievable_periods,
                s.periods_within_tolerance,
                s.mean_measured_mbps
                    .map_or("-".to_owned(), |m| format!("{m:.2}")),
                if s.holds { "yes" } else { "NO" }
            );
        }
        let _ = writeln!(
            t,
            "\nnegotiations triggered by observability: {}; arbitral warnings: {}; switch-off \
             enforced as a 0 kbps policy: {}; settled achievable periods within 5%: {:.1}%; every \
             consensus held: {}",
            self.observability_triggers,
            self.warnings,
            if self.switch_off_enforced {
                "yes"
            } else {
                "no"
            },
            100.0 * self.share_within_tolerance,
            if self.all_segments_hold { "yes" } else { "NO" }
        );
        t
    }

    /// The JSON event log: the report without the per-period samples.
    pub fn event_log(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("samples");
        }
        v
    }
}

/// Files written by [`write_outputs`].
#[derive(Debug, Clone)]
pub struct TimelineFiles {
    /// `sla-timeline.svg`.
    pub svg: PathBuf,
    /// `sla-timeline.png`.
    pub png: PathBuf,
    /// `sla-timeline.json` (event log, negotiations, segments).
    pub events: PathBuf,
    /// `sla-timeline-samples.csv` (every KPI period).
    pub samples: PathBuf,
}

/// Writes the plot (SVG and PNG), the JSON event log and the per-period CSV under `dir`.
pub fn write_outputs(dir: &Path, report: &TimelineReport) -> Result<TimelineFiles, TimelineError> {
    let err = |path: &Path, e: &dyn std::fmt::Display| TimelineError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| err(dir, &e))?;
    let files = TimelineFiles {
        svg: dir.join("sla-timeline.svg"),
        png: dir.join("sla-timeline.png"),
        events: dir.join("sla-timeline.json"),
        samples: dir.join("sla-timeline-samples.csv"),
    };
    let svg = super::plot::timeline_svg(report);
    std::fs::write(&files.svg, &svg).map_err(|e| err(&files.svg, &e))?;
    let png = crate::experiment::plot::svg_to_png(&svg).map_err(|e| err(&files.png, &e))?;
    std::fs::write(&files.png, png).map_err(|e| err(&files.png, &e))?;
    let json =
        serde_json::to_string_pretty(&report.event_log()).map_err(|e| err(&files.events, &e))?;
    std::fs::write(&files.events, json).map_err(|e| err(&files.events, &e))?;
    let mut csv = String::from(
        "t_s,cqi,max_achievable_mbps,enforced_mbps,measured_mbps,achievable,prb_quota,settled\n",
    );
    for s in &report.samples {
        let _ = writeln!(
            csv,
            "{:.1},{:.2},{:.3},{:.3},{:.3},{},{},{}",
            s.t_s,
            s.cqi,
            s.max_achievable_mbps,
            s.enforced_mbps,
            s.measured_mbps,
            s.achievable,
            s.prb_quota,
            s.settled
        );
    }
    std::fs::write(&files.samples, csv).map_err(|e| err(&files.samples, &e))?;
    Ok(files)
}
