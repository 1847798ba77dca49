//! The SLA timeline's plot: CQI over time above the throughputs (maximum achievable, each
//! consensus, the enforced target, the measured), with the negotiation windows, the phases and
//! the arbitral incentives marked; a standalone SVG written without a plotting library.

use std::fmt::Write as _;

use crate::experiment::plot::escape;
use crate::negotiation::arbitral::Incentive;

use super::report::{Sample, TimelineReport};

/// Size of the figure, px.
const W: f64 = 1100.0;
/// Height.
const H: f64 = 660.0;
/// Margins left and right of the panels.
const LEFT: f64 = 70.0;
/// Right margin.
const RIGHT: f64 = 30.0;
/// The CQI panel's top and bottom.
const A_TOP: f64 = 70.0;
/// Its bottom.
const A_BOT: f64 = 190.0;
/// The throughput panel's top and bottom.
const B_TOP: f64 = 235.0;
/// Its bottom.
const B_BOT: f64 = 560.0;
/// Width of the panels.
const PLOT_W: f64 = W - LEFT - RIGHT;

/// The scales of one report's figure.
struct Frame {
    /// The time axis's end, s.
    t_max: f64,
    /// The throughput axis's top, Mbps.
    y_hi: f64,
}

impl Frame {
    fn new(report: &TimelineReport) -> Self {
        let y_hi = {
            let m = report
                .samples
                .iter()
                .map(|s| s.max_achievable_mbps.max(s.measured_mbps))
                .fold(10.0, f64::max);
            (m / 20.0).ceil() * 20.0
        };
        Self {
            t_max: report.duration_s.max(1.0),
            y_hi,
        }
    }

    /// x of gNB time `t`, s.
    fn x(&self, t: f64) -> f64 {
        LEFT + PLOT_W * (t / self.t_max).clamp(0.0, 1.0)
    }

    /// y of CQI `c` in the CQI panel.
    fn ya(&self, c: f64) -> f64 {
        A_BOT - (A_BOT - A_TOP) * (c / 15.0)
    }

    /// y of throughput `v`, Mbps, in the throughput panel.
    fn yb(&self, v: f64) -> f64 {
        B_BOT - (B_BOT - B_TOP) * (v / self.y_hi).clamp(0.0, 1.0)
    }
}

/// Renders the SLA timeline: CQI on top; below, the maximum achievable throughput, each
/// consensus, the enforced target and the measured throughput over time, with the negotiation
/// windows shaded and the arbitral incentives marked.
pub fn timeline_svg(report: &TimelineReport) -> String {
    let f = Frame::new(report);
    let mut svg = String::new();
    title(&mut svg, report);
    negotiation_windows(&mut svg, &f, report);
    axes(&mut svg, &f);
    phases(&mut svg, &f, report);
    series(&mut svg, &f, &per_second(&report.samples));
    consensus_lines(&mut svg, &f, report);
    incentives(&mut svg, &f, report);
    legend(&mut svg);
    svg.push_str("</svg>\n");
    svg
}

/// The samples grouped by second of the gNB's clock: one point per second keeps the file
/// small.
fn per_second(samples: &[Sample]) -> Vec<(f64, Vec<&Sample>)> {
    let mut buckets: Vec<(f64, Vec<&Sample>)> = Vec::new();
    for s in samples {
        let sec = s.t_s.floor();
        match buckets.last_mut() {
            Some((t, v)) if *t == sec => v.push(s),
            _ => buckets.push((sec, vec![s])),
        }
    }
    buckets
}

/// The SVG's opening, the background and the two title lines.
fn title(svg: &mut String, report: &TimelineReport) {
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>"#
    );
    let _ = write!(
        svg,
        r##"<text x="{}" y="24" text-anchor="middle" font-size="16">{}</text><text x="{}" y="44" text-anchor="middle" fill="#555">{}</text>"##,
        W / 2.0,
        escape(&format!(
            "MAESTRO SLA timeline: {} (backend: {})",
            report.scenario, report.llm
        )),
        W / 2.0,
        escape(&format!(
            "CQI from {}; {} negotiations, {} triggered by observability",
            report.cqi_source,
            report.negotiations.len(),
            report.observability_triggers
        ))
    );
}

/// Negotiation windows, shaded across both panels (labels only where they do not collide).
fn negotiation_windows(svg: &mut String, f: &Frame, report: &TimelineReport) {
    let mut last_label = f64::NEG_INFINITY;
    for n in &report.negotiations {
        let x0 = f.x(n.start_s);
        let wd = (f.x(n.end_s) - x0).max(3.0);
        let _ = write!(
            svg,
            r##"<rect x="{x0:.1}" y="{A_TOP}" width="{wd:.1}" height="{}" fill="#fcd34d" fill-opacity="0.55"><title>N{}: {:.1} s..{:.1} s</title></rect>"##,
            B_BOT - A_TOP,
            n.index,
            n.start_s,
            n.end_s,
        );
        if x0 - last_label >= 24.0 {
            last_label = x0;
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle" fill="#92400e">N{}</text>"##,
                x0 + wd / 2.0,
                B_TOP - 6.0,
                n.index
            );
        }
    }
}

/// The panels' frames, their grids and ticks, the axis labels.
fn axes(svg: &mut String, f: &Frame) {
    for (top, bot) in [(A_TOP, A_BOT), (B_TOP, B_BOT)] {
        let _ = write!(
            svg,
            r#"<rect x="{LEFT}" y="{top}" width="{PLOT_W}" height="{}" fill="none" stroke="black"/>"#,
            bot - top
        );
    }
    for c in [0.0, 5.0, 10.0, 15.0] {
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e7eb"/><text x="{}" y="{:.1}" text-anchor="end">{c}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            f.ya(c) + 4.0,
            y = f.ya(c)
        );
    }
    for i in 0..=5 {
        let v = f.y_hi * f64::from(i) / 5.0;
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e7eb"/><text x="{}" y="{:.1}" text-anchor="end">{v:.0}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            f.yb(v) + 4.0,
            y = f.yb(v)
        );
    }
    let step = if f.t_max > 300.0 { 50.0 } else { 20.0 };
    let mut t = 0.0;
    while t <= f.t_max + 1e-9 {
        let _ = write!(
            svg,
            r#"<line x1="{xx:.1}" x2="{xx:.1}" y1="{B_BOT}" y2="{}" stroke="black"/><text x="{xx:.1}" y="{}" text-anchor="middle">{t:.0}</text>"#,
            B_BOT + 5.0,
            B_BOT + 19.0,
            xx = f.x(t)
        );
        t += step;
    }
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">time (s, gNB clock)</text><text transform="translate(22,{}) rotate(-90)" text-anchor="middle">CQI</text><text transform="translate(22,{}) rotate(-90)" text-anchor="middle">throughput (Mbps)</text>"#,
        LEFT + PLOT_W / 2.0,
        B_BOT + 36.0,
        (A_TOP + A_BOT) / 2.0,
        (B_TOP + B_BOT) / 2.0
    );
}

/// A dashed line and the name where each phase of business intents starts.
fn phases(svg: &mut String, f: &Frame, report: &TimelineReport) {
    let mut last_phase = String::new();
    for e in report.events.iter().filter(|e| e.kind == "phase") {
        if e.detail == last_phase {
            continue;
        }
        last_phase = e.detail.clone();
        let name = e.detail.trim_start_matches("business intents: ");
        let xx = f.x(e.t_s);
        let _ = write!(
            svg,
            r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{A_TOP}" y2="{B_BOT}" stroke="#6b7280" stroke-dasharray="2,3"/><text x="{:.1}" y="{}" font-size="11" fill="#374151">{}</text>"##,
            xx + 3.0,
            A_TOP - 6.0,
            escape(name),
        );
    }
}

/// An SVG polyline through `pts`.
fn polyline(pts: &[(f64, f64)], style: &str) -> String {
    let d: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
    format!(
        r#"<polyline fill="none" {style} points="{}"/>"#,
        d.join(" ")
    )
}

/// The per-second series: CQI, maximum achievable and measured throughput (means over the
/// second), and the enforced target as a step line.
fn series(svg: &mut String, f: &Frame, buckets: &[(f64, Vec<&Sample>)]) {
    let avg = |v: &[&Sample], g: &dyn Fn(&Sample) -> f64| {
        v.iter().map(|s| g(s)).sum::<f64>() / v.len().max(1) as f64
    };
    let line = |y: &dyn Fn(&[&Sample]) -> f64| -> Vec<(f64, f64)> {
        buckets.iter().map(|(t, v)| (f.x(*t), y(v))).collect()
    };
    svg.push_str(&polyline(
        &line(&|v| f.ya(avg(v, &|s| s.cqi))),
        r##"stroke="#2563eb" stroke-width="1.5""##,
    ));
    svg.push_str(&polyline(
        &line(&|v| f.yb(avg(v, &|s| s.max_achievable_mbps))),
        r##"stroke="#9ca3af" stroke-width="2""##,
    ));
    svg.push_str(&polyline(
        &line(&|v| f.yb(avg(v, &|s| s.measured_mbps))),
        r##"stroke="#16a34a" stroke-width="1.2""##,
    ));
    let mut steps = Vec::new();
    let mut prev: Option<f64> = None;
    for (t, v) in buckets {
        let e = v.last().map_or(0.0, |s| s.enforced_mbps);
        if let Some(p) = prev {
            if p != e {
                steps.push((f.x(*t), f.yb(p)));
            }
        }
        steps.push((f.x(*t), f.yb(e)));
        prev = Some(e);
    }
    svg.push_str(&polyline(&steps, r##"stroke="black" stroke-width="1.5""##));
}

/// Each consensus, from its enforcement to the next, labelled once per value in a row.
fn consensus_lines(svg: &mut String, f: &Frame, report: &TimelineReport) {
    let enforced: Vec<_> = report
        .negotiations
        .iter()
        .filter(|n| n.enforced_mbps.is_some())
        .collect();
    for (i, n) in enforced.iter().enumerate() {
        let v = n.enforced_mbps.unwrap_or(0.0);
        let to = enforced.get(i + 1).map_or(f.t_max, |m| m.end_s);
        let (color, mut label) = if n.switch_off {
            ("#dc2626", "OFF".to_owned())
        } else {
            ("#ea580c", format!("{v:.1}"))
        };
        if i > 0 && enforced[i - 1].enforced_mbps == n.enforced_mbps {
            label.clear(); // the same consensus again: labelled once
        }
        let y = f.yb(v);
        let _ = write!(
            svg,
            r#"<line x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{color}" stroke-width="2" stroke-dasharray="6,3"/><text x="{:.1}" y="{:.1}" font-size="10" fill="{color}">{label}</text>"#,
            f.x(n.end_s),
            f.x(to),
            f.x(n.end_s) + 2.0,
            y - 4.0,
        );
    }
}

/// Arbitral incentives at the end of their negotiation, stacked in rows so neighbours do not
/// overlap.
fn incentives(svg: &mut String, f: &Frame, report: &TimelineReport) {
    let mut row = 0usize;
    for n in &report.negotiations {
        for d in &n.outcome.arbitral_log {
            let k = row % 5;
            row += 1;
            let (color, what) = match d.incentive {
                Incentive::Warning => ("#f59e0b", "warning"),
                Incentive::Penalty => ("#dc2626", "penalty"),
                Incentive::Exclusion => ("#111827", "excluded"),
                Incentive::None => continue,
            };
            let cx = f.x(n.end_s);
            let cy = B_TOP + 14.0 + 14.0 * k as f64;
            let _ = write!(
                svg,
                r#"<path d="M{:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z" fill="{color}" stroke="black" stroke-width="0.5"><title>{}</title></path><text x="{:.1}" y="{:.1}" font-size="10" fill="{color}">{} {}</text>"#,
                cx,
                cy - 6.0,
                cx - 5.0,
                cy + 3.0,
                cx + 5.0,
                cy + 3.0,
                escape(&d.evidence.join("; ")),
                cx + 7.0,
                cy + 3.0,
                what,
                escape(&d.agent_id)
            );
        }
    }
}

/// The legend along the bottom.
fn legend(svg: &mut String) {
    let items = [
        ("#2563eb", "CQI", false),
        ("#9ca3af", "max achievable", false),
        ("#ea580c", "consensus", true),
        ("black", "enforced target (A1)", false),
        ("#16a34a", "measured", false),
        ("#fcd34d", "negotiation", false),
        ("#f59e0b", "arbitral incentive", false),
    ];
    let mut lx = LEFT;
    let ly = H - 22.0;
    for (color, name, dashed) in items {
        let _ = write!(
            svg,
            r#"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="4"{}/><text x="{}" y="{}">{name}</text>"#,
            lx + 22.0,
            if dashed {
                r#" stroke-dasharray="6,3""#
            } else {
                ""
            },
            lx + 27.0,
            ly + 4.0
        );
        lx += 34.0 + 7.0 * name.len() as f64;
    }
}
