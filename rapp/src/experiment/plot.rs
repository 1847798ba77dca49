//! SVG box plots of experiment results (whiskers at min and max, box at the quartiles, a line
//! at the median, a dot at the mean) — one box per label ([`box_plot`]) or several side by
//! side per group with a legend ([`GroupedBoxPlot`]) — written without a plotting library so
//! the figures can be produced on any machine; [`svg_to_png`] rasterises an SVG with resvg
//! (text in the system's fonts). Plots of one experiment live with it (the SLA timeline's in
//! [`super::sla_timeline`]).

use std::fmt::Write as _;

use super::stats::Summary;

/// One box: a label under it and its summary.
#[derive(Debug, Clone)]
pub struct BoxSeries {
    /// Label on the x axis.
    pub label: String,
    /// The box.
    pub summary: Summary,
}

/// Renders a box plot as a standalone SVG document.
pub fn box_plot(title: &str, y_label: &str, series: &[BoxSeries]) -> String {
    let (w, h) = (120.0 + 70.0 * series.len().max(1) as f64, 420.0);
    let (left, right, top, bottom) = (70.0, 20.0, 40.0, 60.0);
    let lo = series
        .iter()
        .map(|s| s.summary.min)
        .fold(f64::INFINITY, f64::min);
    let hi = series
        .iter()
        .map(|s| s.summary.max)
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        let pad = ((hi - lo) * 0.05).max(0.5);
        ((lo - pad).min(0.0f64.max(lo - pad)), hi + pad)
    } else {
        (0.0, 1.0)
    };
    let plot_h = h - top - bottom;
    let y = |v: f64| top + plot_h * (1.0 - (v - lo) / (hi - lo));
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(
        svg,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        w / 2.0,
        escape(title)
    );
    // Y axis with 6 ticks.
    let _ = write!(
        svg,
        r#"<line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="black"/>"#,
        h - bottom
    );
    for i in 0..=5 {
        let v = lo + (hi - lo) * f64::from(i) / 5.0;
        grid_line(&mut svg, (left, w - right), y(v), v, 1);
    }
    axis_label(&mut svg, top + plot_h / 2.0, y_label);
    for (i, s) in series.iter().enumerate() {
        let cx = left + 50.0 + 70.0 * i as f64;
        let m = &s.summary;
        let _ = write!(
            svg,
            r##"<g><line x1="{cx}" y1="{}" x2="{cx}" y2="{}" stroke="black"/><rect x="{}" y="{}" width="36" height="{}" fill="#9ecae1" stroke="black"/><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#08306b" stroke-width="2"/><circle cx="{cx}" cy="{}" r="3" fill="#d62728"/><text x="{cx}" y="{}" text-anchor="middle">{}</text><title>{}: median {:.2}, mean {:.2}, n {}</title></g>"##,
            y(m.max),
            y(m.min),
            cx - 18.0,
            y(m.q3),
            (y(m.q1) - y(m.q3)).max(1.0),
            cx - 18.0,
            y(m.median),
            cx + 18.0,
            y(m.median),
            y(m.mean),
            h - bottom + 18.0,
            escape(&s.label),
            escape(&s.label),
            m.median,
            m.mean,
            m.n
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// One group of a grouped box plot: a label under it and one box per series, side by side.
#[derive(Debug, Clone)]
pub struct BoxGroup {
    /// Label on the x axis, under the group.
    pub label: String,
    /// One summary per series, in the order of [`GroupedBoxPlot::series`].
    pub boxes: Vec<Summary>,
}

/// A box plot with several boxes per group (e.g. each agent's decisions per pair), a legend
/// naming the series, and an optional dashed reference line.
#[derive(Debug, Clone)]
pub struct GroupedBoxPlot<'a> {
    /// Title.
    pub title: &'a str,
    /// Second line under the title ("" for none).
    pub subtitle: &'a str,
    /// Y axis label.
    pub y_label: &'a str,
    /// Series names, one colour each, in the legend.
    pub series: &'a [&'a str],
    /// The groups, left to right.
    pub groups: &'a [BoxGroup],
    /// A horizontal dashed line at this value, with its label.
    pub reference: Option<(f64, &'a str)>,
}

/// Box fill colours of the series of a grouped box plot, in turn.
const SERIES_FILLS: [&str; 4] = ["#9ecae1", "#fdae6b", "#a1d99b", "#bcbddc"];

impl GroupedBoxPlot<'_> {
    /// Renders the plot as a standalone SVG document.
    pub fn svg(&self) -> String {
        let k = self.series.len().max(1) as f64;
        let (box_w, gap) = (22.0, 4.0);
        let group_w = k * (box_w + gap) + 26.0;
        let (left, right, top, bottom) = (70.0, 20.0, 76.0, 60.0);
        let w = (left + right + group_w * self.groups.len().max(1) as f64).max(560.0);
        let h = 460.0;
        let values = self
            .groups
            .iter()
            .flat_map(|g| g.boxes.iter().flat_map(|b| [b.min, b.max]))
            .chain(self.reference.map(|(v, _)| v));
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let (lo, hi) = if lo.is_finite() && hi.is_finite() {
            (lo, hi.max(lo + 1.0))
        } else {
            (0.0, 1.0)
        };
        // Ticks at round numbers: a 1, 2 or 5 step giving about 5 intervals.
        let raw = (hi - lo) / 5.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let tick = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * magnitude)
            .find(|&t| t >= raw)
            .unwrap_or(10.0 * magnitude);
        let (lo, hi) = ((lo / tick).floor() * tick, (hi / tick).ceil() * tick);
        let plot_h = h - top - bottom;
        let y = |v: f64| top + plot_h * (1.0 - (v - lo) / (hi - lo));
        let mut svg = String::new();
        let _ = write!(
            svg,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="{}" y="22" text-anchor="middle" font-size="15">{}</text><text x="{}" y="40" text-anchor="middle" fill="#555">{}</text>"##,
            w / 2.0,
            escape(self.title),
            w / 2.0,
            escape(self.subtitle)
        );
        // Legend under the titles.
        let mut lx = left;
        for (i, name) in self.series.iter().enumerate() {
            let _ = write!(
                svg,
                r#"<rect x="{lx}" y="50" width="14" height="12" fill="{}" stroke="black"/><text x="{}" y="60">{}</text>"#,
                SERIES_FILLS[i % SERIES_FILLS.len()],
                lx + 19.0,
                escape(name)
            );
            lx += 40.0 + 7.0 * name.chars().count() as f64;
        }
        if let Some((_, label)) = self.reference {
            let _ = write!(
                svg,
                r##"<line x1="{lx}" y1="56" x2="{}" y2="56" stroke="#555" stroke-dasharray="6,4"/><text x="{}" y="60">{}</text>"##,
                lx + 22.0,
                lx + 27.0,
                escape(label)
            );
        }
        let _ = write!(
            svg,
            r#"<line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="black"/>"#,
            h - bottom
        );
        let ticks = ((hi - lo) / tick).round() as u32;
        let decimals = (-tick.log10().floor()).max(0.0) as usize;
        for i in 0..=ticks {
            let v = lo + tick * f64::from(i);
            grid_line(&mut svg, (left, w - right), y(v), v, decimals);
        }
        axis_label(&mut svg, top + plot_h / 2.0, self.y_label);
        if let Some((v, _)) = self.reference {
            let _ = write!(
                svg,
                r##"<line x1="{left}" y1="{yy}" x2="{}" y2="{yy}" stroke="#555" stroke-dasharray="6,4"/>"##,
                w - right,
                yy = y(v)
            );
        }
        for (gi, group) in self.groups.iter().enumerate() {
            let g_left = left + 13.0 + group_w * gi as f64;
            for (bi, m) in group.boxes.iter().enumerate() {
                let cx = g_left + gap / 2.0 + box_w / 2.0 + (box_w + gap) * bi as f64;
                let name = self.series.get(bi).copied().unwrap_or("");
                let _ = write!(
                    svg,
                    r##"<g><line x1="{cx}" y1="{}" x2="{cx}" y2="{}" stroke="black"/><rect x="{}" y="{}" width="{box_w}" height="{}" fill="{}" stroke="black"/><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#08306b" stroke-width="2"/><circle cx="{cx}" cy="{}" r="2.5" fill="#d62728"/><title>{} {}: median {:.2}, mean {:.2}, q1 {:.2}, q3 {:.2}, n {}</title></g>"##,
                    y(m.max),
                    y(m.min),
                    cx - box_w / 2.0,
                    y(m.q3),
                    (y(m.q1) - y(m.q3)).max(1.0),
                    SERIES_FILLS[bi % SERIES_FILLS.len()],
                    cx - box_w / 2.0,
                    y(m.median),
                    cx + box_w / 2.0,
                    y(m.median),
                    y(m.mean),
                    escape(&group.label),
                    escape(name),
                    m.median,
                    m.mean,
                    m.q1,
                    m.q3,
                    m.n
                );
            }
            let _ = write!(
                svg,
                r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
                g_left + (group_w - 26.0) / 2.0,
                h - bottom + 18.0,
                escape(&group.label)
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

/// Why an SVG could not be rasterised.
#[derive(Debug, thiserror::Error)]
#[error("cannot render the SVG to PNG: {0}")]
pub struct RenderError(String);

/// Rasterises an SVG document to PNG bytes (at its own size), with the system's fonts.
pub fn svg_to_png(svg: &str) -> Result<Vec<u8>, RenderError> {
    use resvg::{tiny_skia, usvg};
    let mut options = usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| RenderError(e.to_string()))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| RenderError("empty image".into()))?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| RenderError(e.to_string()))
}

/// A horizontal grid line across `x` (left, right) at height `yy`, labelled `v` on the left.
fn grid_line(svg: &mut String, x: (f64, f64), yy: f64, v: f64, decimals: usize) {
    let _ = write!(
        svg,
        r##"<line x1="{}" y1="{yy}" x2="{}" y2="{yy}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{v:.decimals$}</text>"##,
        x.0,
        x.1,
        x.0 - 6.0,
        yy + 4.0,
    );
}

/// The y axis's label, rotated, centred at height `mid`.
fn axis_label(svg: &mut String, mid: f64, label: &str) {
    let _ = write!(
        svg,
        r#"<text transform="translate(18,{mid}) rotate(-90)" text-anchor="middle">{}</text>"#,
        escape(label)
    );
}

/// `text` with `&`, `<` and `>` escaped for SVG text and attributes.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::super::stats::summarize;
    use super::*;

    #[test]
    fn one_box_per_series_with_labels_and_valid_structure() {
        let series = vec![
            BoxSeries {
                label: "N-N".into(),
                summary: summarize(&[50.0, 60.0, 70.0]).unwrap(),
            },
            BoxSeries {
                label: "T<T".into(),
                summary: summarize(&[10.0, 90.0]).unwrap(),
            },
        ];
        let svg = box_plot("Final values", "Mbps", &series);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<rect x=").count(), 2);
        assert!(svg.contains(">N-N<") && svg.contains("T&lt;T"));
        assert_eq!(svg.matches('<').count(), svg.matches('>').count());
    }

    #[test]
    fn grouped_plot_has_one_box_per_series_per_group_and_a_legend() {
        let s = |v: &[f64]| summarize(v).unwrap();
        let groups = vec![
            BoxGroup {
                label: "N-N".into(),
                boxes: vec![s(&[40.0, 50.0]), s(&[55.0, 60.0])],
            },
            BoxGroup {
                label: "T<T".into(),
                boxes: vec![s(&[10.0, 12.0]), s(&[88.0, 90.0])],
            },
            BoxGroup {
                label: "V-T".into(),
                boxes: vec![s(&[70.0]), s(&[95.0])],
            },
        ];
        let plot = GroupedBoxPlot {
            title: "Decisions",
            subtitle: "backend x",
            y_label: "Mbps",
            series: &["cost agent", "QoS agent"],
            groups: &groups,
            reference: Some((50.0, "fair middle 50 Mbps")),
        };
        let svg = plot.svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // 3 groups x 2 series boxes, plus 2 legend swatches (14 px wide).
        assert_eq!(svg.matches("<rect x=").count(), 3 * 2 + 2, "{svg}");
        assert_eq!(svg.matches(r#"width="14""#).count(), 2);
        assert_eq!(svg.matches(r##"fill="#9ecae1""##).count(), 3 + 1);
        assert_eq!(svg.matches(r##"fill="#fdae6b""##).count(), 3 + 1);
        assert!(svg.contains(">cost agent<") && svg.contains(">QoS agent<"));
        assert!(svg.contains("T&lt;T") && svg.contains("fair middle 50 Mbps"));
        assert!(svg.contains("V-T QoS agent: median 95.00"), "{svg}");
        assert_eq!(svg.matches('<').count(), svg.matches('>').count());
        // The reference line and its legend entry.
        assert_eq!(svg.matches("stroke-dasharray=\"6,4\"").count(), 2);
        assert_eq!(&svg_to_png(&svg).unwrap()[1..4], b"PNG");
    }

    #[test]
    fn svg_renders_to_png() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="red"/><text x="2" y="14">Hi</text></svg>"#;
        let png = svg_to_png(svg).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert!(svg_to_png("not svg").is_err());
    }
}
