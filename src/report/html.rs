//! The audit as one self-contained HTML page: inline CSS, no scripts, no
//! fonts or images from the network, so it opens anywhere, offline, and can
//! be attached to a change record as it is.

use std::fmt::Write as _;

use super::{key_text, recovery_facts, recovery_kind_text, secs_text};
use crate::diff::audit::{AuditReport, CheckStatus};
use crate::diff::model::Action;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
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

const CSS: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
pre{background:#f6f8fa;padding:.75rem;overflow:auto}
.pass{color:#1a7f37;font-weight:600}.warn{color:#9a6700;font-weight:600}.fail{color:#cf222e;font-weight:600}.skip{color:#57606a}
.banner{padding:.75rem 1rem;border-radius:6px;font-weight:600}.banner.pass{background:#dafbe1}.banner.fail{background:#ffebe9}
dl{display:grid;grid-template-columns:max-content auto;gap:.25rem 1rem}dt{font-weight:600}";

/// The audit as a standalone HTML document.
pub fn audit(a: &AuditReport) -> String {
    let mut out = String::new();
    let title = format!("restoreplan dry-run audit: {}", a.plan.name);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    let (class, verdict) = if a.passed {
        ("pass", "PASS")
    } else {
        ("fail", "FAIL")
    };
    let _ = writeln!(
        out,
        "<p class=\"banner {class}\">{verdict}: {} checks, {} passed ({} with warnings), {} skipped, {} failed</p>",
        a.summary.checks, a.summary.passed, a.summary.warned, a.summary.skipped, a.summary.failed
    );
    let _ = writeln!(out, "<dl>");
    let mut dl = |k: &str, v: String| {
        let _ = writeln!(out, "<dt>{}</dt><dd>{v}</dd>", escape(k));
    };
    dl("Plan", format!("<code>{}</code>", escape(&a.plan.name)));
    if let Some(d) = &a.plan.description {
        dl("Description", escape(d));
    }
    dl(
        "Plan digest",
        format!("<code>{}</code>", escape(&a.plan.digest)),
    );
    dl("Checked at", escape(&super::time_text(a.checked_at)));
    dl(
        "Report written at",
        escape(&super::time_text(a.generated_at)),
    );
    dl(
        "Objectives",
        escape(&format!(
            "RPO {}, RTO {}",
            a.plan
                .rpo_seconds
                .map(secs_text)
                .unwrap_or_else(|| "not set".into()),
            a.plan
                .rto_seconds
                .map(secs_text)
                .unwrap_or_else(|| "not set".into())
        )),
    );
    for i in &a.identities {
        let v = match (&i.arn, &i.error) {
            (Some(arn), _) => format!(
                "<code>{}</code> ({})",
                escape(arn),
                escape(i.source.as_deref().unwrap_or("unknown source"))
            ),
            (None, e) => format!(
                "<span class=\"fail\">no identity</span>: {}",
                escape(e.as_deref().unwrap_or(""))
            ),
        };
        dl(&format!("Account {}", i.account), v);
    }
    let _ = writeln!(out, "</dl>");

    let _ = writeln!(
        out,
        "<h2>Checks</h2>\n<table>\n<thead><tr><th>Status</th><th>Restore</th><th>Check</th><th>Evidence</th></tr></thead>\n<tbody>"
    );
    for c in &a.checks {
        let (class, word) = match c.status {
            CheckStatus::Pass => ("pass", "pass"),
            CheckStatus::Warn => ("warn", "warn"),
            CheckStatus::Skip => ("skip", "skip"),
            CheckStatus::Fail => ("fail", "FAIL"),
        };
        let mut cells: Vec<String> = c
            .messages
            .iter()
            .map(|m| format!("<strong>{}</strong>", escape(m)))
            .collect();
        cells.extend(c.evidence.iter().map(|e| escape(e)));
        cells.extend(
            c.help
                .iter()
                .map(|h| format!("<em>fix:</em> {}", escape(h))),
        );
        cells.extend(
            c.rules
                .iter()
                .map(|r| format!("<code>{}</code>", escape(r))),
        );
        let _ = writeln!(
            out,
            "<tr><td class=\"{class}\">{word}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(c.restore.as_deref().unwrap_or("plan")),
            escape(&c.check),
            cells.join("<br>")
        );
    }
    let _ = writeln!(out, "</tbody>\n</table>");

    let dry = &a.dry_run;
    let _ = writeln!(out, "<h2>Restores</h2>");
    for r in &dry.restores {
        let state = match r.action {
            Action::Restore => "<span class=\"pass\">restore</span>",
            Action::Blocked => "<span class=\"fail\">blocked</span>",
        };
        let _ = writeln!(
            out,
            "<details open>\n<summary>{state} <code>{}</code>: {} &rarr; {}</summary>\n<dl>",
            escape(&r.id),
            escape(&r.source.arn),
            escape(&r.target.arn)
        );
        let rp = &r.recovery_point;
        let _ = writeln!(
            out,
            "<dt>Recovery point</dt><dd><code>{}</code> ({})<br>{}</dd>",
            escape(rp.arn.as_deref().unwrap_or(&rp.selector)),
            escape(&recovery_kind_text(rp)),
            escape(&recovery_facts(rp, dry.plan.rpo_seconds))
        );
        let _ = writeln!(
            out,
            "<dt>Encryption</dt><dd>{} &rarr; {}</dd>",
            escape(&key_text(&r.encryption.before)),
            escape(&key_text(&r.encryption.after))
        );
        let _ = writeln!(
            out,
            "<dt>Estimated</dt><dd>{}</dd>\n</dl>",
            escape(&secs_text(r.estimated_seconds))
        );
        let _ = writeln!(
            out,
            "<p>Request <code>{}</code>:</p>\n<pre>{}</pre>\n</details>",
            escape(&r.request.operation),
            escape(&serde_json::to_string_pretty(&r.request.parameters).unwrap_or_default())
        );
    }
    let _ = writeln!(out, "</body>\n</html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
