//! Small server-rendered SVG charts for the console (bars and lines over a series of
//! labelled values, and pairs of bars side by side), used by the dashboard and the
//! billing revenue summary.
//!
//! Hand-written rather than `plotters` with its SVG backend, because it is smaller and
//! fits the console better:
//! - smaller: two shapes in about 150 lines, no new dependency; plotters brings its
//!   font and text-layout stack (font lookup, measuring and rasterising glyphs) to place
//!   labels that the browser can lay out itself;
//! - styled by CSS: the SVG carries classes (`.chart-bar`, `.chart-line`, `.chart-grid`,
//!   `.chart-axis` in `app.css`), so the charts follow the console's colours and fonts;
//!   plotters writes colours and fonts into every element;
//! - CSP-safe: no `style` attributes and no script, so the strict Content-Security-Policy
//!   stays as it is;
//! - accessible: a `<title>` and `<desc>` the `<svg>` names with `aria-labelledby`, a
//!   tooltip per bar, and the numbers in a table the template shows behind a
//!   `<details>` disclosure.

use std::fmt::Write;

/// One labelled value (an hour, a week, a day).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Says which point it is in full (the bar's tooltip).
    pub label: String,
    pub value: f64,
    /// A short x-axis label at this point ("Jun 1" at midnight of an hourly series).
    /// When any point has one, the axis shows those; otherwise it spaces `label`s evenly.
    pub tick: Option<String>,
}

/// The shape to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Bars,
    Line,
}

/// A chart: what it shows, for people and for screen readers.
#[derive(Debug, Clone)]
pub struct Chart<'a> {
    /// Unique on the page (element ids derive from it).
    pub id: &'a str,
    pub title: &'a str,
    /// One sentence saying what the chart shows and its extremes.
    pub description: &'a str,
    pub shape: Shape,
    pub points: &'a [Point],
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 8.0;
/// At most this many x-axis labels, so they never overlap.
const MAX_X_LABELS: usize = 8;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A round upper bound for the y axis (1, 2 or 5 times a power of ten), at least 1.
fn nice_max(max: f64) -> f64 {
    if !(max.is_finite() && max > 1.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&v| v >= max)
        .unwrap_or(10.0 * magnitude)
}

/// A y-axis value as people read it: 1,500 or 2.5k or 3M.
fn short_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1_000_000.0 {
        format!("{}M", trim(v / 1_000_000.0))
    } else if a >= 10_000.0 {
        format!("{}k", trim(v / 1_000.0))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// The chart as an `<svg>` element. Values below zero or not finite are drawn as zero.
pub fn render(chart: &Chart<'_>) -> String {
    let id = escape(chart.id);
    let values: Vec<f64> = chart
        .points
        .iter()
        .map(|p| {
            if p.value.is_finite() {
                p.value.max(0.0)
            } else {
                0.0
            }
        })
        .collect();
    let top = nice_max(values.iter().copied().fold(0.0, f64::max));
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = values.len().max(1) as f64;
    let step = plot_w / n;
    let y = |v: f64| TOP + plot_h - v / top * plot_h;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc" id="{id}"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(chart.title),
        escape(chart.description)
    );
    // Grid lines and y labels at 0, half and the top.
    for frac in [0.0, 0.5, 1.0] {
        let v = top * frac;
        let yy = y(v);
        let _ = write!(
            svg,
            r#"<line class="chart-grid" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="chart-axis" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - 8.0,
            LEFT - 6.0,
            yy + 4.0,
            short_number(v)
        );
    }
    match chart.shape {
        Shape::Bars => {
            let bar_w = (step * 0.8).max(1.0);
            for (i, v) in values.iter().enumerate() {
                let x = LEFT + i as f64 * step + (step - bar_w) / 2.0;
                let _ = write!(
                    svg,
                    r#"<rect class="chart-bar" x="{x:.1}" y="{:.1}" width="{bar_w:.1}" height="{:.1}"><title>{}: {}</title></rect>"#,
                    y(*v),
                    TOP + plot_h - y(*v),
                    escape(&chart.points[i].label),
                    trim(*v)
                );
            }
        }
        Shape::Line => {
            let coords: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{:.1},{:.1}", LEFT + (i as f64 + 0.5) * step, y(*v)))
                .collect();
            if !coords.is_empty() {
                let _ = write!(
                    svg,
                    r#"<polyline class="chart-line" fill="none" points="{}"/>"#,
                    coords.join(" ")
                );
            }
        }
    }
    // X labels: the points' ticks when they have some, else labels evenly spaced; at
    // most MAX_X_LABELS either way.
    let ticks: Vec<(usize, &str)> = chart
        .points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.tick.as_deref().map(|t| (i, t)))
        .collect();
    let labels: Vec<(usize, &str)> = if ticks.is_empty() {
        let every = chart.points.len().div_ceil(MAX_X_LABELS).max(1);
        chart
            .points
            .iter()
            .enumerate()
            .step_by(every)
            .map(|(i, p)| (i, p.label.as_str()))
            .collect()
    } else {
        let every = ticks.len().div_ceil(MAX_X_LABELS).max(1);
        ticks.into_iter().step_by(every).collect()
    };
    for (i, text) in labels {
        let _ = write!(
            svg,
            r#"<text class="chart-axis" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + (i as f64 + 0.5) * step,
            HEIGHT - 6.0,
            escape(text)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Two values at one label (invoiced and paid in a month).
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub label: String,
    pub first: f64,
    pub second: f64,
}

/// A chart of pairs of bars side by side: the first series `.chart-bar`, the second
/// `.chart-bar-alt` (the page shows the legend).
#[derive(Debug, Clone)]
pub struct PairChart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    /// What each series is (the bars' tooltips).
    pub names: (&'a str, &'a str),
    pub pairs: &'a [Pair],
}

fn drawn(v: f64) -> f64 {
    if v.is_finite() { v.max(0.0) } else { 0.0 }
}

/// The pair chart as an `<svg>` element (same frame, grid and labels as `render`).
pub fn render_pairs(chart: &PairChart<'_>) -> String {
    let id = escape(chart.id);
    let top = nice_max(
        chart
            .pairs
            .iter()
            .flat_map(|p| [drawn(p.first), drawn(p.second)])
            .fold(0.0, f64::max),
    );
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let step = plot_w / chart.pairs.len().max(1) as f64;
    let y = |v: f64| TOP + plot_h - v / top * plot_h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc" id="{id}"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(chart.title),
        escape(chart.description)
    );
    for frac in [0.0, 0.5, 1.0] {
        let v = top * frac;
        let yy = y(v);
        let _ = write!(
            svg,
            r#"<line class="chart-grid" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="chart-axis" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - 8.0,
            LEFT - 6.0,
            yy + 4.0,
            short_number(v)
        );
    }
    let bar_w = (step * 0.4).max(1.0);
    for (i, p) in chart.pairs.iter().enumerate() {
        let x0 = LEFT + i as f64 * step + step * 0.1;
        for (k, (class, name, v)) in [
            ("chart-bar", chart.names.0, drawn(p.first)),
            ("chart-bar-alt", chart.names.1, drawn(p.second)),
        ]
        .into_iter()
        .enumerate()
        {
            let _ = write!(
                svg,
                r#"<rect class="{class}" x="{:.1}" y="{:.1}" width="{bar_w:.1}" height="{:.1}"><title>{} {}: {}</title></rect>"#,
                x0 + k as f64 * bar_w,
                y(v),
                TOP + plot_h - y(v),
                escape(&p.label),
                escape(name),
                trim(v)
            );
        }
    }
    let every = chart.pairs.len().div_ceil(MAX_X_LABELS).max(1);
    for (i, p) in chart.pairs.iter().enumerate().step_by(every) {
        let _ = write!(
            svg,
            r#"<text class="chart-axis" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + (i as f64 + 0.5) * step,
            HEIGHT - 6.0,
            escape(&p.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[f64]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                label: format!("d{i}"),
                value: *v,
                tick: None,
            })
            .collect()
    }

    #[test]
    fn bars_are_accessible_and_scaled_to_a_round_maximum() {
        let p = points(&[3.0, 7.0, 0.0]);
        let svg = render(&Chart {
            id: "hb",
            title: "Heartbeats <per hour>",
            description: "From 0 to 7",
            shape: Shape::Bars,
            points: &p,
        });
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"aria-labelledby="hb-title hb-desc""#));
        assert!(svg.contains("<title id=\"hb-title\">Heartbeats &lt;per hour&gt;</title>"));
        assert_eq!(svg.matches("<rect ").count(), 3);
        // The maximum 7 rounds up to 10: the tallest bar is 70% of the plot height.
        assert!(svg.contains(">10</text>"), "{svg}");
        assert!(svg.contains("<title>d1: 7</title>"));
        assert!(!svg.contains("style="), "the CSP forbids inline styles");
    }

    #[test]
    fn lines_and_odd_input_never_break_the_markup() {
        let p = points(&[f64::NAN, -5.0, f64::INFINITY, 2_500_000.0]);
        let svg = render(&Chart {
            id: "x\"y",
            title: "t",
            description: "d",
            shape: Shape::Line,
            points: &p,
        });
        assert!(svg.contains("<polyline"));
        assert!(svg.contains("id=\"x&quot;y\""));
        assert!(svg.contains(">5M</text>"), "{svg}");
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        let empty = render(&Chart {
            id: "e",
            title: "t",
            description: "d",
            shape: Shape::Line,
            points: &[],
        });
        assert!(!empty.contains("<polyline") && empty.ends_with("</svg>"));
    }

    #[test]
    fn many_points_get_at_most_eight_x_labels() {
        let p = points(&vec![1.0; 168]);
        let svg = render(&Chart {
            id: "w",
            title: "t",
            description: "d",
            shape: Shape::Bars,
            points: &p,
        });
        let x_labels = svg.matches("text-anchor=\"middle\"").count();
        assert!(x_labels <= MAX_X_LABELS, "{x_labels}");
        // Ticks replace the evenly spaced labels: one a day on an hourly series.
        let mut hourly = points(&vec![1.0; 48]);
        hourly[0].tick = Some("Jun 1".into());
        hourly[24].tick = Some("Jun 2".into());
        let svg = render(&Chart {
            id: "h",
            title: "t",
            description: "d",
            shape: Shape::Bars,
            points: &hourly,
        });
        assert_eq!(svg.matches("text-anchor=\"middle\"").count(), 2);
        assert!(svg.contains(">Jun 2</text>") && !svg.contains(">d1</text>"));
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(101.0), 200.0);
        assert_eq!(short_number(15_000.0), "15k");
    }
    #[test]
    fn pairs_draw_two_bars_a_label_with_their_names() {
        let pairs: Vec<Pair> = (0..12)
            .map(|i| Pair {
                label: format!("2026-{:02}", i + 1),
                first: 100.0 * i as f64,
                second: if i == 3 { f64::NAN } else { 50.0 },
            })
            .collect();
        let svg = render_pairs(&PairChart {
            id: "rev",
            title: "Invoiced and paid",
            description: "d",
            names: ("invoiced", "paid"),
            pairs: &pairs,
        });
        assert_eq!(svg.matches("class=\"chart-bar\"").count(), 12);
        assert_eq!(svg.matches("class=\"chart-bar-alt\"").count(), 12);
        assert!(
            svg.contains("<title>2026-12 invoiced: 1100</title>"),
            "{svg}"
        );
        assert!(svg.contains("<title>2026-04 paid: 0</title>"));
        assert!(
            svg.contains(">2k</text>") || svg.contains(">2000</text>"),
            "{svg}"
        );
        assert!(svg.matches("text-anchor=\"middle\"").count() <= MAX_X_LABELS);
        assert!(!svg.contains("style=") && !svg.contains("NaN"));
    }
}
