//! SVG box plots of experiment results (whiskers at min and max, box at the quartiles, a line
//! at the median, a dot at the mean), written without a plotting library so the figures can
//! be produced on any machine.

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
        let _ = write!(
            svg,
            r##"<line x1="{}" y1="{yy}" x2="{}" y2="{yy}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{v:.1}</text>"##,
            left,
            w - right,
            left - 6.0,
            y(v) + 4.0,
            yy = y(v)
        );
    }
    let _ = write!(
        svg,
        r#"<text transform="translate(18,{}) rotate(-90)" text-anchor="middle">{}</text>"#,
        top + plot_h / 2.0,
        escape(y_label)
    );
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

fn escape(text: &str) -> String {
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
}
