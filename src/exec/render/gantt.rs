//! Gantt charts of a run or a simulation, as SVG and as a self-contained
//! HTML page. Pure string building: no I/O.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::hms;

/// How a bar ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarKind {
    /// Completed.
    Completed,
    /// Failed.
    Failed,
    /// Skipped (never drawn: it never ran).
    Skipped,
    /// Not finished.
    Pending,
}

/// One restore on the chart, in seconds from the start of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Restore id.
    pub label: String,
    /// Start.
    pub start: f64,
    /// When the table became ACTIVE (the rest is settings and verification).
    pub active: Option<f64>,
    /// When its verification began (from there to the end: verification).
    pub verify: Option<f64>,
    /// End.
    pub end: f64,
    /// Outcome.
    pub kind: BarKind,
}

/// What to draw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chart {
    /// Title above the chart.
    pub title: String,
    /// Bars, drawn top to bottom in order of start.
    pub bars: Vec<Bar>,
    /// Labels of the restores on the critical path (drawn outlined).
    pub critical: BTreeSet<String>,
    /// The RTO objective in seconds (a vertical line).
    pub objective: Option<f64>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A tick interval giving about eight ticks over `span` seconds.
fn tick(span: f64) -> f64 {
    const STEPS: [f64; 12] = [
        60.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0, 43200.0, 86400.0,
        172800.0,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| span / s <= 10.0)
        .unwrap_or(span / 8.0)
}

/// Renders the chart as a standalone SVG document.
pub fn svg(chart: &Chart) -> String {
    // Skipped restores never ran; they keep a row (a mark where they were
    // given up) so the chart accounts for every restore.
    let mut bars: Vec<&Bar> = chart.bars.iter().collect();
    bars.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.label.cmp(&b.label)));
    let dense = bars.len() > 200;
    let row = if dense { 4.0 } else { 18.0 };
    let label_w = if dense {
        10.0
    } else {
        (bars
            .iter()
            .map(|b| b.label.chars().count())
            .max()
            .unwrap_or(4) as f64
            * 7.0
            + 16.0)
            .min(320.0)
    };
    let plot_w = 960.0;
    let top = 48.0;
    let ran = bars.iter().map(|b| b.end).fold(0.0, f64::max).max(1.0);
    // Scale to the run; stretch to the objective only when it is near, or
    // a short run against a long objective is all slivers.
    let span = match chart.objective {
        Some(o) if o <= ran * 1.5 => ran.max(o),
        _ => ran,
    };
    let x = |t: f64| label_w + t.max(0.0) / span * plot_w;
    let height = top + row * bars.len() as f64 + 40.0;
    let width = label_w + plot_w + 20.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r##"<rect width="100%" height="100%" fill="#ffffff"/><text x="8" y="20" font-size="14" font-weight="bold">{}</text>"##,
        esc(&chart.title)
    );
    let step = tick(span);
    let mut t = 0.0;
    let bottom = top + row * bars.len() as f64;
    while t <= span + 1e-9 {
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{top0:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#e5e7eb"/><text x="{x:.1}" y="{ty:.1}" text-anchor="middle" fill="#6b7280">{label}</text>"##,
            x = x(t),
            top0 = top - 6.0,
            ty = top - 10.0,
            label = hms(t)
        );
        t += step;
    }
    for (k, b) in bars.iter().enumerate() {
        let y = top + row * k as f64;
        let h = (row - if dense { 1.0 } else { 4.0 }).max(1.0);
        let (fill, light) = match b.kind {
            BarKind::Completed => ("#2563eb", "#93c5fd"),
            BarKind::Failed => ("#dc2626", "#fca5a5"),
            BarKind::Pending => ("#9ca3af", "#d1d5db"),
            BarKind::Skipped => ("#e5e7eb", "#e5e7eb"),
        };
        let active = b.active.unwrap_or(b.end).min(b.end);
        let critical = chart.critical.contains(&b.label);
        let stroke = if critical {
            r##" stroke="#f59e0b" stroke-width="2""##
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r#"<g><title>{title}: start +{start}, active +{act}, end +{end}</title><rect x="{x0:.1}" y="{y:.1}" width="{w0:.1}" height="{h:.1}" fill="{fill}"{stroke}/><rect x="{x1:.1}" y="{y:.1}" width="{w1:.1}" height="{h:.1}" fill="{light}"/>"#,
            title = esc(&b.label),
            start = hms(b.start),
            act = hms(active),
            end = hms(b.end),
            x0 = x(b.start),
            // A short bar stays visible.
            w0 = (x(active) - x(b.start)).max(if b.kind == BarKind::Skipped { 2.0 } else { 3.0 }),
            x1 = x(active),
            w1 = (x(b.end) - x(active)).max(0.0),
        );
        if let Some(v) = b.verify.map(|v| v.clamp(active, b.end)) {
            let vfill = if b.kind == BarKind::Failed {
                "#7f1d1d"
            } else {
                "#0d9488"
            };
            let _ = writeln!(
                s,
                r#"<rect x="{xv:.1}" y="{y:.1}" width="{wv:.1}" height="{h:.1}" fill="{vfill}"><title>{title}: verification +{from} to +{end}</title></rect>"#,
                title = esc(&b.label),
                from = hms(v),
                end = hms(b.end),
                xv = x(v),
                wv = (x(b.end) - x(v)).max(2.0),
            );
        }
        if !dense {
            let _ = writeln!(
                s,
                r#"<text x="{lx:.1}" y="{ty:.1}" text-anchor="end">{label}</text>"#,
                lx = label_w - 6.0,
                ty = y + h - 3.0,
                label = esc(&b.label)
            );
            if b.kind == BarKind::Skipped {
                let _ = writeln!(
                    s,
                    r##"<text x="{lx:.1}" y="{ty:.1}" fill="#6b7280">skipped</text>"##,
                    lx = x(b.start) + 6.0,
                    ty = y + h - 3.0,
                );
            }
        }
        s.push_str("</g>\n");
    }
    if let Some(obj) = chart.objective.filter(|&o| o > span) {
        let _ = writeln!(
            s,
            r##"<text x="{x:.1}" y="{ty:.1}" fill="#16a34a" text-anchor="end">RTO {label} (beyond the chart, which ends at {end})</text>"##,
            x = x(span),
            ty = bottom + 16.0,
            label = hms(obj),
            end = hms(span)
        );
    }
    if let Some(obj) = chart.objective.filter(|&o| o <= span) {
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#16a34a" stroke-width="2" stroke-dasharray="6 4"/><text x="{x:.1}" y="{ty:.1}" fill="#16a34a" text-anchor="end">RTO {label}</text>"##,
            x = x(obj),
            y0 = top - 6.0,
            ty = bottom + 16.0,
            label = hms(obj)
        );
    }
    let legend = if bars.iter().any(|b| b.verify.is_some()) {
        "dark: restoring · light: settings · teal: verification · outlined: critical path · red: failed"
    } else {
        "dark: restoring · light: settings and verification · outlined: critical path · red: failed"
    };
    let _ = writeln!(
        s,
        r##"<text x="8" y="{y:.1}" fill="#6b7280">{legend}</text>"##,
        y = height - 8.0
    );
    s.push_str("</svg>\n");
    s
}

/// A self-contained HTML page: title, a preformatted summary, the chart,
/// and any extra HTML (e.g. a what-if table).
pub fn html(chart: &Chart, summary: &str, extra_html: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;color:#111827}}pre{{background:#f9fafb;padding:12px;overflow:auto}}table{{border-collapse:collapse}}td,th{{border:1px solid #e5e7eb;padding:4px 10px;text-align:right}}</style>
</head><body>
<h1>{title}</h1>
<pre>{summary}</pre>
{extra}
<div style="overflow:auto">{svg}</div>
</body></html>
"#,
        title = esc(&chart.title),
        summary = esc(summary),
        extra = extra_html,
        svg = svg(chart)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_draws_every_bar_that_ran_and_escapes_labels() {
        let chart = Chart {
            title: "run <1>".to_owned(),
            bars: vec![
                Bar {
                    label: "a&b".to_owned(),
                    start: 0.0,
                    active: Some(100.0),
                    verify: None,
                    end: 120.0,
                    kind: BarKind::Completed,
                },
                Bar {
                    label: "c".to_owned(),
                    start: 120.0,
                    active: None,
                    verify: None,
                    end: 200.0,
                    kind: BarKind::Failed,
                },
                Bar {
                    label: "d".to_owned(),
                    start: 0.0,
                    active: None,
                    verify: None,
                    end: 0.0,
                    kind: BarKind::Skipped,
                },
            ],
            critical: BTreeSet::from(["a&b".to_owned()]),
            objective: Some(300.0),
        };
        let s = svg(&chart);
        assert!(s.starts_with("<svg"));
        assert!(s.contains("run &lt;1&gt;"));
        assert!(s.contains("a&amp;b"));
        assert!(s.contains("#dc2626"), "failed bar is red");
        assert!(
            s.contains(">d<") && s.contains(">skipped<"),
            "skipped restores keep a row"
        );
        assert!(s.contains("RTO 0:05:00"));
        assert_eq!(s.matches("<g>").count(), 3);
        let page = html(&chart, "summary & more", "");
        assert!(page.contains("summary &amp; more") && page.contains("<svg"));
    }

    #[test]
    fn a_short_run_is_not_squeezed_against_a_long_objective() {
        let chart = Chart {
            title: "short".to_owned(),
            bars: vec![Bar {
                label: "a".to_owned(),
                start: 0.0,
                active: Some(60.0),
                verify: None,
                end: 90.0,
                kind: BarKind::Completed,
            }],
            critical: BTreeSet::new(),
            objective: Some(4.0 * 3600.0),
        };
        let s = svg(&chart);
        assert!(
            s.contains("RTO 4:00:00 (beyond the chart, which ends at 0:01:30)"),
            "{s}"
        );
        // The bar spans most of the plot, not 90/14400 of it.
        let w: f64 = s
            .split("width=\"")
            .nth(3)
            .and_then(|r| r.split('"').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        assert!(w > 500.0, "first bar segment is {w} px wide");
    }
}
