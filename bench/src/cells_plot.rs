//! The growth plot of `maestro-bench cells --sweep`: the xApp's CPU (% of one core) and the
//! process's peak RSS against the number of cells, two panels of one SVG, written by hand as
//! the experiments' plots are (no plotting library).

use std::fmt::Write as _;

use crate::cells::CellsFigures;

/// One panel's frame: where it is drawn and the ranges it maps.
struct Panel {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    x_max: f64,
    y_max: f64,
}

impl Panel {
    fn x(&self, v: f64) -> f64 {
        self.left + self.width * v / self.x_max
    }
    fn y(&self, v: f64) -> f64 {
        self.top + self.height * (1.0 - v / self.y_max)
    }
}

/// The SVG document: CPU % of one core vs cells (left), peak RSS MiB vs cells (right); one
/// point per run, in the order of the cell counts.
pub fn growth_svg(runs: &[CellsFigures]) -> String {
    let mut runs: Vec<&CellsFigures> = runs.iter().collect();
    runs.sort_by_key(|f| f.cells);
    let x_max = nice(runs.iter().map(|f| f64::from(f.cells)).fold(1.0, f64::max));
    let (w, h) = (900.0, 380.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(svg, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let period = runs.first().map_or(0, |f| f.period_ms);
    let _ = write!(
        svg,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">maestro-bench cells: one xApp, cells reporting every {period} ms</text>"#,
        w / 2.0
    );
    let panels = [
        (
            "xApp CPU, % of one core",
            runs.iter()
                .map(|f| (f64::from(f.cells), f.cpu_pct))
                .collect::<Vec<_>>(),
            "#1f77b4",
        ),
        (
            "peak RSS, MiB",
            runs.iter()
                .map(|f| (f64::from(f.cells), f.peak_rss_mib))
                .collect(),
            "#d62728",
        ),
    ];
    for (i, (label, points, colour)) in panels.iter().enumerate() {
        let y_max = nice(points.iter().map(|p| p.1).fold(1.0, f64::max));
        let p = Panel {
            left: 70.0 + 440.0 * i as f64,
            top: 50.0,
            width: 360.0,
            height: 270.0,
            x_max,
            y_max,
        };
        axes(&mut svg, &p, label);
        let line: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", p.x(*x), p.y(*y)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            line.join(" ")
        );
        for (x, y) in points {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"><title>{x} cells: {y:.1}</title></circle>"#,
                p.x(*x),
                p.y(*y)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Axes, five grid lines each way, the y label and "cells" under the x axis.
fn axes(svg: &mut String, p: &Panel, y_label: &str) {
    for k in 0..=5 {
        let (vx, vy) = (p.x_max * k as f64 / 5.0, p.y_max * k as f64 / 5.0);
        let (x, y) = (p.x(vx), p.y(vy));
        let _ = write!(
            svg,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            p.left,
            p.left + p.width,
            p.left - 6.0,
            y + 4.0,
            label(vy)
        );
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#eee"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            p.top,
            p.top + p.height,
            p.top + p.height + 16.0,
            label(vx)
        );
    }
    let _ = write!(
        svg,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#333"/>"##,
        p.left, p.top, p.width, p.height
    );
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">cells</text>"#,
        p.left + p.width / 2.0,
        p.top + p.height + 36.0
    );
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{y_label}</text>"#,
        p.left + p.width / 2.0,
        p.top - 8.0
    );
}

/// A round upper bound for an axis: 1, 2 or 5 times a power of ten, at or above `v`.
fn nice(v: f64) -> f64 {
    let v = v.max(1e-9);
    let step = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * step)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * step)
}

/// A tick label without needless decimals.
fn label(v: f64) -> String {
    if v >= 10.0 || v == v.round() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_bounds_are_round() {
        assert_eq!(nice(1000.0), 1000.0);
        assert_eq!(nice(1001.0), 2000.0);
        assert_eq!(nice(37.0), 50.0);
        assert_eq!(nice(0.3), 0.5);
    }
}
