//! The SLA timeline's plot: CQI over time above the throughputs (maximum achievable, each
//! consensus, the enforced target, the measured), with the negotiation windows, the phases and
//! the arbitral incentives marked; a standalone SVG written without a plotting library.

use std::fmt::Write as _;

use crate::experiment::plot::escape;
use crate::negotiation::arbitral::Incentive;

use super::report::{Sample, TimelineReport};

/// Renders the SLA timeline: CQI on top; below, the maximum achievable throughput, each
/// consensus, the enforced target and the measured throughput over time, with the negotiation
/// windows shaded and the arbitral incentives marked.
pub fn timeline_svg(report: &TimelineReport) -> String {
    let (w, h) = (1100.0, 660.0);
    let (left, right) = (70.0, 30.0);
    let (a_top, a_bot) = (70.0, 190.0);
    let (b_top, b_bot) = (235.0, 560.0);
    let plot_w = w - left - right;
    let t_max = report.duration_s.max(1.0);
    let x = |t: f64| left + plot_w * (t / t_max).clamp(0.0, 1.0);
    // One point per second of the gNB's clock keeps the file small.
    let mut buckets: Vec<(f64, Vec<&Sample>)> = Vec::new();
    for s in &report.samples {
        let sec = s.t_s.floor();
        match buckets.last_mut() {
            Some((t, v)) if *t == sec => v.push(s),
            _ => buckets.push((sec, vec![s])),
        }
    }
    let avg = |v: &[&Sample], f: &dyn Fn(&Sample) -> f64| {
        v.iter().map(|s| f(s)).sum::<f64>() / v.len().max(1) as f64
    };
    let y_hi = {
        let m = report
            .samples
            .iter()
            .map(|s| s.max_achievable_mbps.max(s.measured_mbps))
            .fold(10.0, f64::max);
        (m / 20.0).ceil() * 20.0
    };
    let ya = |c: f64| a_bot - (a_bot - a_top) * (c / 15.0);
    let yb = |v: f64| b_bot - (b_bot - b_top) * (v / y_hi).clamp(0.0, 1.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>"#
    );
    let _ = write!(
        svg,
        r##"<text x="{}" y="24" text-anchor="middle" font-size="16">{}</text><text x="{}" y="44" text-anchor="middle" fill="#555">{}</text>"##,
        w / 2.0,
        escape(&format!(
            "MAESTRO SLA timeline: {} (backend: {})",
            report.scenario, report.llm
        )),
        w / 2.0,
        escape(&format!(
            "CQI from {}; {} negotiations, {} triggered by observability",
            report.cqi_source,
            report.negotiations.len(),
            report.observability_triggers
        ))
    );
    // Negotiation windows (labels only where they do not collide).
    let mut last_label = f64::NEG_INFINITY;
    for n in &report.negotiations {
        let x0 = x(n.start_s);
        let wd = (x(n.end_s) - x0).max(3.0);
        let _ = write!(
            svg,
            r##"<rect x="{x0:.1}" y="{a_top}" width="{wd:.1}" height="{}" fill="#fcd34d" fill-opacity="0.55"><title>N{}: {:.1} s..{:.1} s</title></rect>"##,
            b_bot - a_top,
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
                b_top - 6.0,
                n.index
            );
        }
    }
    // Axes and grids.
    for (top, bot) in [(a_top, a_bot), (b_top, b_bot)] {
        let _ = write!(
            svg,
            r#"<rect x="{left}" y="{top}" width="{plot_w}" height="{}" fill="none" stroke="black"/>"#,
            bot - top
        );
    }
    for c in [0.0, 5.0, 10.0, 15.0] {
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e7eb"/><text x="{}" y="{:.1}" text-anchor="end">{c}</text>"##,
            w - right,
            left - 6.0,
            ya(c) + 4.0,
            y = ya(c)
        );
    }
    for i in 0..=5 {
        let v = y_hi * f64::from(i) / 5.0;
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e7eb"/><text x="{}" y="{:.1}" text-anchor="end">{v:.0}</text>"##,
            w - right,
            left - 6.0,
            yb(v) + 4.0,
            y = yb(v)
        );
    }
    let step = if t_max > 300.0 { 50.0 } else { 20.0 };
    let mut t = 0.0;
    while t <= t_max + 1e-9 {
        let _ = write!(
            svg,
            r#"<line x1="{xx:.1}" x2="{xx:.1}" y1="{b_bot}" y2="{}" stroke="black"/><text x="{xx:.1}" y="{}" text-anchor="middle">{t:.0}</text>"#,
            b_bot + 5.0,
            b_bot + 19.0,
            xx = x(t)
        );
        t += step;
    }
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">time (s, gNB clock)</text><text transform="translate(22,{}) rotate(-90)" text-anchor="middle">CQI</text><text transform="translate(22,{}) rotate(-90)" text-anchor="middle">throughput (Mbps)</text>"#,
        left + plot_w / 2.0,
        b_bot + 36.0,
        (a_top + a_bot) / 2.0,
        (b_top + b_bot) / 2.0
    );
    // Phases.
    let mut last_phase = String::new();
    for e in report.events.iter().filter(|e| e.kind == "phase") {
        if e.detail == last_phase {
            continue;
        }
        last_phase = e.detail.clone();
        let name = e.detail.trim_start_matches("business intents: ");
        let xx = x(e.t_s);
        let _ = write!(
            svg,
            r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{a_top}" y2="{b_bot}" stroke="#6b7280" stroke-dasharray="2,3"/><text x="{:.1}" y="{}" font-size="11" fill="#374151">{}</text>"##,
            xx + 3.0,
            a_top - 6.0,
            escape(name),
        );
    }
    let poly = |pts: Vec<(f64, f64)>, style: &str| {
        let d: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
        format!(
            r#"<polyline fill="none" {style} points="{}"/>"#,
            d.join(" ")
        )
    };
    svg.push_str(&poly(
        buckets
            .iter()
            .map(|(t, v)| (x(*t), ya(avg(v, &|s| s.cqi))))
            .collect(),
        r##"stroke="#2563eb" stroke-width="1.5""##,
    ));
    svg.push_str(&poly(
        buckets
            .iter()
            .map(|(t, v)| (x(*t), yb(avg(v, &|s| s.max_achievable_mbps))))
            .collect(),
        r##"stroke="#9ca3af" stroke-width="2""##,
    ));
    svg.push_str(&poly(
        buckets
            .iter()
            .map(|(t, v)| (x(*t), yb(avg(v, &|s| s.measured_mbps))))
            .collect(),
        r##"stroke="#16a34a" stroke-width="1.2""##,
    ));
    // The enforced target as a step line.
    let mut steps = Vec::new();
    let mut prev: Option<f64> = None;
    for (t, v) in &buckets {
        let e = v.last().map_or(0.0, |s| s.enforced_mbps);
        if let Some(p) = prev {
            if p != e {
                steps.push((x(*t), yb(p)));
            }
        }
        steps.push((x(*t), yb(e)));
        prev = Some(e);
    }
    svg.push_str(&poly(steps, r##"stroke="black" stroke-width="1.5""##));
    // Each consensus, from its enforcement to the next.
    let enforced: Vec<_> = report
        .negotiations
        .iter()
        .filter(|n| n.enforced_mbps.is_some())
        .collect();
    for (i, n) in enforced.iter().enumerate() {
        let v = n.enforced_mbps.unwrap_or(0.0);
        let to = enforced.get(i + 1).map_or(t_max, |m| m.end_s);
        let (color, mut label) = if n.switch_off {
            ("#dc2626", "OFF".to_owned())
        } else {
            ("#ea580c", format!("{v:.1}"))
        };
        if i > 0 && enforced[i - 1].enforced_mbps == n.enforced_mbps {
            label.clear(); // the same consensus again: labelled once
        }
        let y = yb(v);
        let _ = write!(
            svg,
            r#"<line x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{color}" stroke-width="2" stroke-dasharray="6,3"/><text x="{:.1}" y="{:.1}" font-size="10" fill="{color}">{label}</text>"#,
            x(n.end_s),
            x(to),
            x(n.end_s) + 2.0,
            y - 4.0,
        );
    }
    // Arbitral incentives, stacked in rows so neighbours do not overlap.
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
            let cx = x(n.end_s);
            let cy = b_top + 14.0 + 14.0 * k as f64;
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
    // Legend.
    let items = [
        ("#2563eb", "CQI", false),
        ("#9ca3af", "max achievable", false),
        ("#ea580c", "consensus", true),
        ("black", "enforced target (A1)", false),
        ("#16a34a", "measured", false),
        ("#fcd34d", "negotiation", false),
        ("#f59e0b", "arbitral incentive", false),
    ];
    let mut lx = left;
    let ly = h - 22.0;
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
    svg.push_str("</svg>\n");
    svg
}
