//! Markdown for pull-request comments: a summary table, then collapsible
//! per-restore details. Kept under GitHub's comment limit: when the details
//! would not fit, only those of the restores that are blocked or have
//! findings are kept (or, when even those do not fit, a list of the
//! findings), and the comment says so.

use std::fmt::Write as _;

use super::{key_kind_text, key_text, outcome_text, recovery_facts, recovery_kind_text, secs_text};
use crate::diff::audit::{AuditReport, CheckStatus};
use crate::diff::model::{Action, DryRun, FindingView, Level, RestoreView, SettingOutcome};
use crate::diff::plans::{Change, PlanDiff};

/// GitHub refuses comments over 65,536 characters; stay well below.
pub const COMMENT_LIMIT: usize = 60_000;

/// Escapes text for a table cell or inline use.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'"))
}

fn short_arn(arn: &str) -> String {
    // The last path segment identifies a recovery point or key well enough for a table.
    let tail = arn.rsplit([':', '/']).next().unwrap_or(arn);
    if tail.len() > 24 {
        format!("…{}", &tail[tail.len() - 12..])
    } else {
        tail.to_owned()
    }
}

fn level_icon(l: Level) -> &'static str {
    match l {
        Level::Error => "⛔",
        Level::Warning => "⚠️",
        Level::Note => "ℹ️",
    }
}

fn findings_list(out: &mut String, fs: &[&FindingView]) {
    for f in fs {
        let _ = writeln!(
            out,
            "- {} {} ({})",
            level_icon(f.level),
            cell(&f.message),
            code(&f.code)
        );
        if let Some(e) = &f.evidence {
            let _ = writeln!(out, "  - evidence: {}", cell(e));
        }
        if let Some(h) = &f.help {
            let _ = writeln!(out, "  - help: {}", cell(h));
        }
    }
}

fn details(out: &mut String, dry: &DryRun, r: &RestoreView) {
    let icon = match r.action {
        Action::Restore => "➕",
        Action::Blocked => "⛔",
    };
    let _ = writeln!(
        out,
        "<details><summary>{icon} <code>{}</code>: {} → {}</summary>\n",
        r.id, r.source.arn, r.target.arn
    );
    for why in &r.blocked_because {
        let _ = writeln!(out, "- ⛔ blocked: {}", cell(why));
    }
    if !r.blocked_because.is_empty() {
        // End the list: a line right after it would continue its last item.
        out.push('\n');
    }
    let rp = &r.recovery_point;
    let _ = writeln!(
        out,
        "**Recovery point** ({}): {}  ",
        recovery_kind_text(rp),
        code(rp.arn.as_deref().unwrap_or(&rp.selector))
    );
    let facts = recovery_facts(rp, dry.plan.rpo_seconds);
    if !facts.is_empty() {
        let _ = writeln!(out, "{facts}");
    }
    if let Some(c) = &r.copy {
        let _ = writeln!(
            out,
            "\n**Copy first** `{}` ({}, in {}/{}, about {}):\n\n```json\n{}\n```",
            c.request.operation,
            c.request.service,
            c.account,
            c.region,
            crate::text::duration_text(std::time::Duration::from_secs(c.estimated_seconds)),
            serde_json::to_string_pretty(&c.request.parameters).unwrap_or_default()
        );
    }
    let _ = writeln!(
        out,
        "\n**Request** `{}` ({}):\n\n```json\n{}\n```\n",
        r.request.operation,
        r.request.service,
        serde_json::to_string_pretty(&r.request.parameters).unwrap_or_default()
    );
    if let Some(from) = r.capacity_from {
        let _ = writeln!(out, "Capacity of the original from {}.\n", from.describe());
    }
    let _ = writeln!(out, "| | Setting | Original | Restored | Outcome |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    let e = &r.encryption;
    let _ = writeln!(
        out,
        "| {} | encryption | {} | {} | {} |",
        if e.changed { "~" } else { "" },
        cell(&key_text(&e.before)),
        cell(&key_text(&e.after)),
        if e.changed { "changed" } else { "unchanged" }
    );
    for ix in &r.indexes {
        let _ = writeln!(
            out,
            "| {} | index `{}` | present | {} | {} |",
            if ix.kept { "" } else { "-" },
            cell(&ix.name),
            if ix.kept { "present" } else { "absent" },
            if ix.kept { "kept" } else { "dropped" }
        );
    }
    for s in &r.settings {
        let mark = match s.outcome {
            SettingOutcome::Lost => "⚠️",
            SettingOutcome::Reapplied if s.before != s.after => "~",
            _ => "",
        };
        let _ = writeln!(
            out,
            "| {mark} | {} | {} | {} | {}{} |",
            s.setting.label(),
            cell(&s.before),
            cell(&s.after),
            outcome_text(s.outcome),
            s.note
                .as_deref()
                .map(|n| format!(": {}", cell(n)))
                .unwrap_or_default()
        );
    }
    if !r.after_restore.is_empty() {
        let _ = writeln!(out, "\n**After restore:**\n");
        for (i, s) in r.after_restore.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. {} (`{}`)",
                i + 1,
                cell(&s.description),
                s.operation
            );
        }
    }
    let _ = writeln!(
        out,
        "\n**Depends on:** {} · **Estimated:** {}",
        if r.depends_on.is_empty() {
            "nothing".to_owned()
        } else {
            r.depends_on
                .iter()
                .map(|d| code(d))
                .collect::<Vec<_>>()
                .join(", ")
        },
        secs_text(r.estimated_seconds)
    );
    let fs: Vec<&FindingView> = r.findings.iter().collect();
    if !fs.is_empty() {
        let _ = writeln!(out, "\n**Findings:**\n");
        findings_list(out, &fs);
    }
    let _ = writeln!(out, "\n</details>\n");
}

fn head(dry: &DryRun, max_rows: usize) -> String {
    let mut out = String::new();
    let s = &dry.summary;
    let e = &dry.estimate;
    let _ = writeln!(out, "### restoreplan plan: `{}`\n", dry.plan.name);
    let verdict = if dry.is_ready() { "✅" } else { "⛔" };
    let objective = match (e.rto_seconds, e.within_rto) {
        (Some(o), Some(true)) => format!(" (objective {} ✅)", secs_text(o)),
        (Some(o), _) => format!(" (objective {} ⚠️ exceeded)", secs_text(o)),
        (None, _) => " (no objective)".to_owned(),
    };
    let _ = writeln!(
        out,
        "{verdict} **{} to restore, {} blocked** · {} errors · {} warnings · predicted RTO **{}**{objective}\n",
        s.to_restore,
        s.blocked,
        s.errors,
        s.warnings,
        secs_text(e.predicted_rto_seconds)
    );
    let _ = writeln!(
        out,
        "| | Restore | Source → target | Recovery point | Age | Encryption | Est. |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for r in dry.restores.iter().take(max_rows) {
        let icon = match r.action {
            Action::Restore => "➕",
            Action::Blocked => "⛔",
        };
        let rp = &r.recovery_point;
        let age = match (rp.age_seconds, rp.within_rpo) {
            (Some(a), Some(false)) => format!("{} ⛔", secs_text(a)),
            (Some(a), _) => secs_text(a),
            (None, _) => "–".to_owned(),
        };
        let enc = if r.encryption.changed {
            format!(
                "{} → {}",
                key_kind_text(r.encryption.before.kind),
                key_kind_text(r.encryption.after.kind)
            )
        } else {
            key_kind_text(r.encryption.after.kind).to_owned()
        };
        let _ = writeln!(
            out,
            "| {icon} | `{}` | `{}/{}/{}` → `{}/{}/{}` | {} | {age} | {enc} | {} |",
            cell(&r.id),
            r.source.account,
            r.source.region,
            cell(&r.source.name),
            r.target.account,
            r.target.region,
            cell(&r.target.name),
            match rp.arn.as_deref() {
                Some(a) => format!("{} {}", recovery_kind_text(rp), code(&short_arn(a))),
                None => recovery_kind_text(rp).to_owned(),
            },
            secs_text(r.estimated_seconds)
        );
    }
    if dry.restores.len() > max_rows {
        let _ = writeln!(
            out,
            "| | … | {} more restores: see `restoreplan plan --format json` | | | | |",
            dry.restores.len() - max_rows
        );
    }
    out.push('\n');
    let plan_level: Vec<&FindingView> = dry.findings.iter().collect();
    if !plan_level.is_empty() {
        findings_list(&mut out, &plan_level);
        out.push('\n');
    }
    out
}

/// The dry run as a pull-request comment.
pub fn dry_run(dry: &DryRun) -> String {
    // Leave room for the plan-wide findings, the note and the footer.
    let budget = COMMENT_LIMIT - 8_000;
    let mut rows = dry.restores.len();
    let mut out = head(dry, rows);
    while out.len() > budget && rows > 0 {
        let per_row = out.len() / (rows + 8);
        let over = (out.len() - budget) / per_row.max(1) + 1;
        rows = rows.saturating_sub(over);
        out = head(dry, rows);
    }
    selections(&mut out, &dry.selections);
    let mut body = String::new();
    for r in &dry.restores {
        details(&mut body, dry, r);
    }
    let foot = format!(
        "<sub>checked {} · critical path {}</sub>\n",
        super::time_text(dry.checked_at),
        if dry.estimate.critical_path.is_empty() {
            "–".to_owned()
        } else {
            dry.estimate.critical_path.join(" → ")
        }
    );
    if out.len() + body.len() + foot.len() <= COMMENT_LIMIT {
        out.push_str(&body);
        out.push_str(&foot);
        return out;
    }
    // Too long for a comment: keep what a reviewer must act on, the blocked
    // restores and those with findings, and leave out the clean ones.
    let needs_attention: Vec<&RestoreView> = dry
        .restores
        .iter()
        .filter(|r| r.action == Action::Blocked || !r.findings.is_empty())
        .collect();
    let mut attention = String::new();
    for r in &needs_attention {
        details(&mut attention, dry, r);
    }
    let left_out = dry.restores.len() - needs_attention.len();
    let note = format!(
        "_Details of the {left_out} restores without findings are left out to fit a comment; run `restoreplan plan --format json` for all of them._\n\n"
    );
    if !needs_attention.is_empty()
        && out.len() + note.len() + attention.len() + foot.len() <= COMMENT_LIMIT
    {
        out.push_str(&note);
        out.push_str(&attention);
    } else {
        let _ = writeln!(
            out,
            "_Per-restore details are left out to fit a comment; run `restoreplan plan --format json` for all of them._\n"
        );
        // Still name every problem, as far as the comment allows.
        let mut list = String::new();
        let mut shown = 0;
        let findings: Vec<&FindingView> = dry
            .restores
            .iter()
            .flat_map(|r| r.findings.iter())
            .collect();
        for f in &findings {
            let mut one = String::new();
            findings_list(&mut one, &[f]);
            if out.len() + list.len() + one.len() + foot.len() + 200 > COMMENT_LIMIT {
                break;
            }
            list.push_str(&one);
            shown += 1;
        }
        if !list.is_empty() {
            let _ = writeln!(out, "**Findings:**\n");
            out.push_str(&list);
            if shown < findings.len() {
                let _ = writeln!(out, "- … and {} more", findings.len() - shown);
            }
            out.push('\n');
        }
    }
    out.push_str(&foot);
    out
}

/// The plan-to-plan diff as a pull-request comment.
pub fn plan_diff(d: &PlanDiff, old_label: &str, new_label: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### restoreplan diff: `{}` → `{}`\n",
        cell(old_label),
        cell(new_label)
    );
    if d.is_empty() {
        let _ = writeln!(
            out,
            "No changes: both versions restore the same {} tables the same way.",
            d.unchanged
        );
        return out;
    }
    let _ = writeln!(
        out,
        "**{} added, {} removed, {} changed**, {} unchanged; {} plan-wide changes.\n",
        d.count(Change::Added),
        d.count(Change::Removed),
        d.count(Change::Changed),
        d.unchanged,
        d.plan.len()
    );
    let row = |out: &mut String, f: &crate::diff::plans::FieldChange| {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            code(&f.field),
            f.old
                .as_deref()
                .map(|v| code(&cell(v)))
                .unwrap_or_else(|| "–".into()),
            f.new
                .as_deref()
                .map(|v| code(&cell(v)))
                .unwrap_or_else(|| "–".into())
        );
    };
    if !d.selectors.is_empty() {
        let _ = writeln!(out, "#### Selectors\n");
        for c in &d.selectors {
            let _ = writeln!(out, "- `{}`", cell(&c.text()));
        }
        out.push('\n');
    }
    if !d.plan.is_empty() {
        let _ = writeln!(out, "#### Plan\n\n| Field | Old | New |\n|---|---|---|");
        for f in &d.plan {
            row(&mut out, f);
        }
        out.push('\n');
    }
    if !d.restores.is_empty() {
        let _ = writeln!(out, "| | Restore | Target | Fields |\n|---|---|---|---|");
        for r in &d.restores {
            let icon = match r.change {
                Change::Added => "➕ added",
                Change::Removed => "➖ removed",
                Change::Changed => "✏️ changed",
            };
            let mut fields: Vec<&str> = r.fields.iter().map(|f| f.field.as_str()).collect();
            fields.dedup();
            let _ = writeln!(
                out,
                "| {icon} | `{}` | {} | {} |",
                cell(&r.id),
                code(&cell(&r.summary)),
                if r.change == Change::Changed {
                    fields.join(", ")
                } else {
                    "–".to_owned()
                }
            );
        }
        out.push('\n');
        for r in d.restores.iter().filter(|r| r.change == Change::Changed) {
            let _ = writeln!(
                out,
                "<details><summary>✏️ <code>{}</code></summary>\n\n| Field | Old | New |\n|---|---|---|",
                r.id
            );
            for f in &r.fields {
                row(&mut out, f);
            }
            let _ = writeln!(out, "\n</details>\n");
        }
    }
    out
}

/// The audit as Markdown.
pub fn audit(a: &AuditReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# restoreplan dry-run audit: `{}`\n", a.plan.name);
    let _ = writeln!(
        out,
        "**Result: {}** · {} checks · {} passed ({} with warnings) · {} skipped · {} failed\n",
        if a.passed { "PASS ✅" } else { "FAIL ⛔" },
        a.summary.checks,
        a.summary.passed,
        a.summary.warned,
        a.summary.skipped,
        a.summary.failed
    );
    let _ = writeln!(out, "- Checked at: {}", super::time_text(a.checked_at));
    let _ = writeln!(
        out,
        "- Report written at: {}",
        super::time_text(a.generated_at)
    );
    let _ = writeln!(out, "- Plan digest: `{}`", a.plan.digest);
    for line in crate::plan::select::groups_text(&a.dry_run.selections).lines() {
        let _ = writeln!(out, "- {line}");
    }
    for i in &a.identities {
        let who = match (&i.arn, &i.error) {
            (Some(arn), _) => format!("{} ({})", code(arn), i.source.as_deref().unwrap_or("?")),
            (None, e) => format!("no identity: {}", e.as_deref().unwrap_or("?")),
        };
        let _ = writeln!(out, "- Account `{}`: {who}", i.account);
    }
    let _ = writeln!(
        out,
        "\n| Status | Restore | Check | Evidence |\n|---|---|---|---|"
    );
    for c in &a.checks {
        let status = match c.status {
            CheckStatus::Pass => "✅ pass",
            CheckStatus::Warn => "⚠️ warn",
            CheckStatus::Skip => "⏭️ skip",
            CheckStatus::Fail => "⛔ fail",
        };
        let mut ev: Vec<String> = c.messages.iter().map(|m| cell(m)).collect();
        ev.extend(c.evidence.iter().map(|e| cell(e)));
        ev.extend(c.help.iter().map(|h| format!("fix: {}", cell(h))));
        let _ = writeln!(
            out,
            "| {status} | {} | {} | {} |",
            c.restore
                .as_deref()
                .map(code)
                .unwrap_or_else(|| "plan".into()),
            c.check,
            ev.join("<br>")
        );
    }
    out
}

/// The `select:` restores and what each expanded to.
fn selections(out: &mut String, groups: &[crate::plan::select::GroupView]) {
    if groups.is_empty() {
        return;
    }
    out.push_str("**Selectors**\n\n");
    for g in groups {
        let _ = writeln!(
            out,
            "- `{}` (line {}: {}, in {}): {} table{}: {}",
            g.id,
            g.line,
            g.selector,
            g.source,
            g.restores.len(),
            if g.restores.len() == 1 { "" } else { "s" },
            g.restores
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for o in &g.overridden {
            let _ = writeln!(
                out,
                "  - `{}` also matches; restored by its own restore `{}`",
                o.table, o.restore
            );
        }
    }
    out.push('\n');
}
