//! Throughput and p99 against concurrency, one line per scenario, as a
//! self-contained SVG: two panels, concurrency on a log₂ axis and the
//! figures on log₁₀ axes, since healthz and login differ by 100×.

use std::fmt::Write as _;

use crate::scenarios::{Scenario, ScenarioResult};

const PANEL_W: f64 = 420.0;
const PANEL_H: f64 = 280.0;
const MARGIN_L: f64 = 70.0;
const MARGIN_T: f64 = 40.0;
const MARGIN_B: f64 = 50.0;
const COLOURS: [&str; 5] = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#b279a2"];

struct Series<'a> {
    name: &'static str,
    colour: &'a str,
    points: Vec<(usize, f64, f64)>,
}

/// `None` unless some scenario ran at two or more concurrencies.
pub fn plot(results: &[ScenarioResult]) -> Option<String> {
    let series: Vec<Series> = Scenario::ALL
        .iter()
        .zip(COLOURS)
        .map(|(s, colour)| Series {
            name: s.name(),
            colour,
            points: results
                .iter()
                .filter(|r| r.scenario == s.name())
                .map(|r| (r.concurrency, r.headline_per_sec, r.headline_p99_ms))
                .collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    let mut levels: Vec<usize> = results.iter().map(|r| r.concurrency).collect();
    levels.sort_unstable();
    levels.dedup();
    if levels.len() < 2 {
        return None;
    }
    let width = 2.0 * (PANEL_W + MARGIN_L) + 160.0;
    let height = PANEL_H + MARGIN_T + MARGIN_B;
    let mut svg = String::new();
    // `write!` into a String cannot fail.
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    panel(
        &mut svg,
        MARGIN_L,
        "throughput, req/s (logins/s for login)",
        &series,
        &levels,
        |p| p.1,
    );
    panel(
        &mut svg,
        2.0 * MARGIN_L + PANEL_W,
        "p99 latency, ms",
        &series,
        &levels,
        |p| p.2,
    );
    let legend_x = 2.0 * (MARGIN_L + PANEL_W) + 20.0;
    for (i, s) in series.iter().enumerate() {
        let y = MARGIN_T + 10.0 + 20.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{legend_x}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="3"/><text x="{}" y="{}">{}</text>"#,
            legend_x + 20.0,
            s.colour,
            legend_x + 26.0,
            y + 4.0,
            s.name
        );
    }
    svg.push_str("</svg>\n");
    Some(svg)
}

fn panel(
    svg: &mut String,
    left: f64,
    title: &str,
    series: &[Series],
    levels: &[usize],
    value: impl Fn(&(usize, f64, f64)) -> f64,
) {
    let top = MARGIN_T;
    let bottom = top + PANEL_H;
    let values: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(&value))
        .filter(|v| *v > 0.0)
        .collect();
    let (lowest, highest) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let (bottom_decade, top_decade) = if values.is_empty() {
        (0, 1)
    } else {
        let lo = lowest.log10().floor() as i32;
        (lo, (highest.log10().ceil() as i32).max(lo + 1))
    };
    let (lo, hi) = (
        (levels.first().copied().unwrap_or(1).max(1) as f64).log2(),
        (levels.last().copied().unwrap_or(2).max(1) as f64).log2(),
    );
    let span = (hi - lo).max(1e-9);
    let x = |c: usize| left + (((c.max(1) as f64).log2() - lo) / span) * PANEL_W;
    let decades = f64::from(top_decade - bottom_decade);
    let y = |v: f64| {
        let v = v.max(10f64.powi(bottom_decade));
        bottom - (v.log10() - f64::from(bottom_decade)) / decades * PANEL_H
    };

    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle" font-weight="bold">{title}</text>"#,
        left + PANEL_W / 2.0,
        top - 15.0
    );
    let _ = writeln!(
        svg,
        r##"<rect x="{left}" y="{top}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#888"/>"##
    );
    for decade in bottom_decade..=top_decade {
        let v = 10f64.powi(decade);
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" y1="{0:.1}" x2="{1}" y2="{0:.1}" stroke="#ddd"/><text x="{2}" y="{3:.1}" text-anchor="end">{4}</text>"##,
            y(v),
            left + PANEL_W,
            left - 6.0,
            y(v) + 4.0,
            short(v)
        );
    }
    for &c in levels {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{c}</text>"#,
            x(c),
            bottom + 18.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">concurrent clients</text>"#,
        left + PANEL_W / 2.0,
        bottom + 38.0
    );
    for s in series {
        let points: Vec<String> = s
            .points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.0), y(value(p))))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
            points.join(" "),
            s.colour
        );
        for p in &s.points {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#,
                x(p.0),
                y(value(p)),
                s.colour
            );
        }
    }
}

fn short(v: f64) -> String {
    if v >= 1000.0 {
        format!("{}k", v / 1000.0)
    } else if v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn decade_labels_are_short() {
        assert_eq!(short(100_000.0), "100k");
        assert_eq!(short(1000.0), "1k");
        assert_eq!(short(10.0), "10");
        assert_eq!(short(0.1), "0.1");
    }
}
