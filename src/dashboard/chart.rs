//! The dashboard's charts as server-rendered SVG, written by hand: a horizontal bar chart
//! of open findings by severity, and a line per severity for trends. Each is a few
//! `<rect>`/`<polyline>` elements with presentation attributes (allowed by the strict
//! Content-Security-Policy, unlike `style` attributes), so a plotting crate (plotters and its
//! font handling) would add far more than it saves. Only numbers and fixed labels are
//! written into the SVG; nothing user-supplied.

use std::fmt::Write;

use stance_core::assessment::status::SeverityCounts;

use super::TrendPoint;

/// Severity names and their bar colours (worst first).
const BARS: [(&str, &str); 5] =
    [("critical", "#8b0000"), ("high", "#d9480f"), ("medium", "#e6a700"), ("low", "#2b8a3e"), ("unknown", "#868e96")];

fn values(c: &SeverityCounts) -> [u32; 5] {
    [c.critical, c.high, c.medium, c.low, c.unknown]
}

/// Open findings by severity as horizontal bars, 360×130, with an accessible title.
pub fn severity_bars(c: &SeverityCounts) -> String {
    let v = values(c);
    let max = v.iter().copied().max().unwrap_or(0).max(1);
    let mut svg = String::from(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"360\" height=\"130\" viewBox=\"0 0 360 130\" role=\"img\" \
         aria-labelledby=\"sev-title\"><title id=\"sev-title\">Open findings by severity</title>",
    );
    for (i, ((name, colour), n)) in BARS.iter().zip(v).enumerate() {
        let y = 4 + i * 25;
        let w = (f64::from(n) / f64::from(max) * 230.0).round() as u32;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{ty}\" font-size=\"12\" fill=\"#222\">{name}</text>\
             <rect x=\"70\" y=\"{y}\" width=\"{w}\" height=\"18\" fill=\"{colour}\"/>\
             <text x=\"{tx}\" y=\"{ty}\" font-size=\"12\" fill=\"#222\">{n}</text>",
            ty = y + 14,
            tx = 76 + w,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Open critical and high findings over time as two polylines, 360×120; `None` with
/// fewer than two points.
pub fn trend_lines(points: &[TrendPoint]) -> Option<String> {
    if points.len() < 2 {
        return None;
    }
    let max = points.iter().map(|(_, c)| c.critical.max(c.high)).max().unwrap_or(0).max(1);
    let step = 340.0 / (points.len() - 1) as f64;
    let mut svg = String::from(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"360\" height=\"120\" viewBox=\"0 0 360 120\" role=\"img\" \
         aria-labelledby=\"trend-title\"><title id=\"trend-title\">Open critical and high findings over time</title>",
    );
    for (pick, colour) in [(0usize, BARS[0].1), (1, BARS[1].1)] {
        let coords: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, (_, c))| {
                let n = values(c)[pick];
                format!("{:.1},{:.1}", 10.0 + i as f64 * step, 110.0 - f64::from(n) / f64::from(max) * 100.0)
            })
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            coords.join(" ")
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_count() {
        let c = SeverityCounts { critical: 1, high: 4, medium: 2, low: 0, unknown: 0, total: 7 };
        let svg = severity_bars(&c);
        assert!(svg.contains("width=\"230\" height=\"18\" fill=\"#d9480f\""), "{svg}");
        assert!(svg.contains("width=\"58\" height=\"18\" fill=\"#8b0000\""), "{svg}");
        assert!(!svg.contains("style="), "no style attributes under the CSP");
        assert!(trend_lines(&[]).is_none());
    }
}
