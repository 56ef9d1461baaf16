//! Human text: terraform-like markers (`+` restore, `!` blocked or warning,
//! `~` changed, `-` dropped or lost), optional colour, a summary line.

use std::fmt::Write as _;

use owo_colors::OwoColorize;

use super::{Style, key_text, outcome_text, recovery_facts, recovery_kind_text, secs_text};
use crate::diff::audit::{AuditReport, CheckStatus};
use crate::diff::model::{Action, DryRun, FindingView, Level, RestoreView, SettingOutcome};
use crate::diff::plans::{Change, PlanDiff};

#[derive(Clone, Copy)]
enum Tone {
    Add,
    Change,
    Remove,
    Warn,
    Dim,
    Bold,
}

struct Painter(Style);

impl Painter {
    fn paint(&self, tone: Tone, s: &str) -> String {
        if !self.0.color {
            return s.to_owned();
        }
        match tone {
            Tone::Add => s.green().to_string(),
            Tone::Change => s.yellow().to_string(),
            Tone::Remove => s.red().to_string(),
            Tone::Warn => s.magenta().to_string(),
            Tone::Dim => s.dimmed().to_string(),
            Tone::Bold => s.bold().to_string(),
        }
    }
}

fn indent_json(v: &serde_json::Value, pad: &str) -> String {
    let pretty = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    pretty
        .lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn finding_lines(out: &mut String, p: &Painter, f: &FindingView, pad: &str) {
    let (word, tone) = match f.level {
        Level::Error => ("error", Tone::Remove),
        Level::Warning => ("warning", Tone::Warn),
        Level::Note => ("note", Tone::Dim),
    };
    let _ = writeln!(
        out,
        "{pad}{}[{}] {}",
        p.paint(tone, word),
        f.code,
        f.message
    );
    if let Some(e) = &f.evidence {
        let _ = writeln!(out, "{pad}  evidence: {e}");
    }
    if let Some(h) = &f.help {
        let _ = writeln!(out, "{pad}  help: {h}");
    }
}

fn restore_block(out: &mut String, p: &Painter, dry: &DryRun, r: &RestoreView) {
    let head = match r.action {
        Action::Restore => p.paint(Tone::Add, &format!("+ restore {}", r.id)),
        Action::Blocked => p.paint(Tone::Remove, &format!("! blocked {}", r.id)),
    };
    let _ = writeln!(out, "{}", p.paint(Tone::Bold, &head));
    let _ = writeln!(
        out,
        "    {}/{} {} -> {}/{} {}",
        r.source.account,
        r.source.region,
        r.source.name,
        r.target.account,
        r.target.region,
        r.target.name
    );
    for why in &r.blocked_because {
        let _ = writeln!(out, "  {} {why}", p.paint(Tone::Remove, "!"));
    }
    let rp = &r.recovery_point;
    let _ = writeln!(
        out,
        "    recovery point: {} ({})",
        rp.arn.as_deref().unwrap_or(&rp.selector),
        recovery_kind_text(rp)
    );
    let facts = recovery_facts(rp, dry.plan.rpo_seconds);
    if !facts.is_empty() {
        let marker = if rp.within_rpo == Some(false) {
            p.paint(Tone::Remove, "!")
        } else {
            " ".to_owned()
        };
        let _ = writeln!(out, "  {marker}   {facts}");
    }
    if let Some(c) = &r.copy {
        let _ = writeln!(
            out,
            "    copy first: {} {} in {}/{} (about {})",
            c.request.service,
            c.request.operation,
            c.account,
            c.region,
            crate::text::duration_text(std::time::Duration::from_secs(c.estimated_seconds))
        );
        let _ = writeln!(out, "{}", indent_json(&c.request.parameters, "      "));
    }
    let _ = writeln!(
        out,
        "    request: {} {}",
        r.request.service, r.request.operation
    );
    let _ = writeln!(out, "{}", indent_json(&r.request.parameters, "      "));
    if let Some(from) = r.capacity_from {
        let _ = writeln!(out, "    capacity of the original from {}", from.describe());
    }
    let e = &r.encryption;
    if e.changed {
        let _ = writeln!(
            out,
            "  {} encryption: {} -> {}",
            p.paint(Tone::Change, "~"),
            key_text(&e.before),
            key_text(&e.after)
        );
    } else {
        let _ = writeln!(out, "    encryption: {} (unchanged)", key_text(&e.after));
    }
    for ix in &r.indexes {
        if ix.kept {
            let _ = writeln!(out, "    index {}: kept", ix.name);
        } else {
            let _ = writeln!(
                out,
                "  {} index {}: dropped",
                p.paint(Tone::Remove, "-"),
                ix.name
            );
        }
    }
    for s in &r.settings {
        let marker = match s.outcome {
            SettingOutcome::Reapplied if s.before != s.after => p.paint(Tone::Change, "~"),
            SettingOutcome::Lost => p.paint(Tone::Remove, "-"),
            _ => " ".to_owned(),
        };
        let note = s
            .note
            .as_deref()
            .map(|n| format!("; {n}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {marker} {}: {} -> {} ({}{note})",
            s.setting.label(),
            s.before,
            s.after,
            outcome_text(s.outcome)
        );
    }
    if !r.after_restore.is_empty() {
        let _ = writeln!(out, "    after restore:");
        for (i, step) in r.after_restore.iter().enumerate() {
            let _ = writeln!(
                out,
                "      {}. {} ({})",
                i + 1,
                step.description,
                step.operation
            );
        }
    }
    if !r.depends_on.is_empty() {
        let _ = writeln!(out, "    depends on: {}", r.depends_on.join(", "));
    }
    let _ = writeln!(out, "    estimated: {}", secs_text(r.estimated_seconds));
}

/// The summary line: `Plan: 3 to restore, 1 blocked, 2 warnings. Predicted RTO …`.
pub fn summary_line(dry: &DryRun) -> String {
    let s = &dry.summary;
    let e = &dry.estimate;
    let objective = match (e.rto_seconds, e.within_rto) {
        (Some(o), Some(true)) => format!(" (objective {}: met)", secs_text(o)),
        (Some(o), _) => format!(" (objective {}: EXCEEDED)", secs_text(o)),
        (None, _) => " (no objective)".to_owned(),
    };
    format!(
        "Plan: {} to restore, {} blocked, {} errors, {} warnings. Predicted RTO {}{objective}.",
        s.to_restore,
        s.blocked,
        s.errors,
        s.warnings,
        secs_text(e.predicted_rto_seconds)
    )
}

/// The dry run as terminal text.
pub fn dry_run(dry: &DryRun, style: Style) -> String {
    let p = Painter(style);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} (checked {})",
        p.paint(Tone::Bold, &format!("restoreplan plan: {}", dry.plan.name)),
        super::time_text(dry.checked_at)
    );
    for line in crate::plan::select::groups_text(&dry.selections).lines() {
        let _ = writeln!(out, "  {line}");
    }
    if let Some(d) = &dry.random_draw {
        let _ = writeln!(
            out,
            "  random points drawn with seed {} at {} (`apply --plan-file` of the saved plan draws the same)",
            d.seed,
            super::time_text(d.at)
        );
    }
    for i in &dry.identities {
        match (&i.arn, &i.error) {
            (Some(arn), _) => {
                let _ = writeln!(
                    out,
                    "  account {}: {arn} ({})",
                    i.account,
                    i.source.as_deref().unwrap_or("unknown source")
                );
            }
            (None, e) => {
                let _ = writeln!(
                    out,
                    "  account {}: {} {}",
                    i.account,
                    p.paint(Tone::Remove, "no credentials:"),
                    e.as_deref().unwrap_or("")
                );
            }
        }
    }
    out.push('\n');
    for r in &dry.restores {
        restore_block(&mut out, &p, dry, r);
        out.push('\n');
    }
    let findings: Vec<&FindingView> = dry.all_findings().collect();
    if !findings.is_empty() {
        let _ = writeln!(out, "{}", p.paint(Tone::Bold, "Findings:"));
        for f in findings {
            finding_lines(&mut out, &p, f, "  ");
        }
        out.push('\n');
    }
    if !dry.estimate.critical_path.is_empty() {
        let _ = writeln!(
            out,
            "Critical path: {}",
            dry.estimate.critical_path.join(" -> ")
        );
    }
    let line = summary_line(dry);
    let tone = if dry.is_ready() {
        Tone::Add
    } else {
        Tone::Remove
    };
    let _ = writeln!(out, "{}", p.paint(tone, &line));
    out
}

/// The plan-to-plan diff as terminal text.
pub fn plan_diff(d: &PlanDiff, old_label: &str, new_label: &str, style: Style) -> String {
    let p = Painter(style);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        p.paint(
            Tone::Bold,
            &format!("restoreplan diff {old_label} {new_label}")
        )
    );
    if d.is_empty() {
        let _ = writeln!(
            out,
            "No changes: both plans restore the same {} tables the same way.",
            d.unchanged
        );
        return out;
    }
    if !d.plan.is_empty() {
        let _ = writeln!(out, "\n{}", p.paint(Tone::Change, "~ plan"));
        for f in &d.plan {
            field_lines(&mut out, &p, f);
        }
    }
    if !d.selectors.is_empty() {
        out.push('\n');
        for c in &d.selectors {
            let tone = match (&c.old, &c.new) {
                (None, Some(_)) => Tone::Add,
                (Some(_), None) => Tone::Remove,
                _ => Tone::Change,
            };
            let _ = writeln!(out, "{}", p.paint(tone, &c.text()));
        }
    }
    for r in &d.restores {
        let head = match r.change {
            Change::Added => p.paint(Tone::Add, &format!("+ restore {}", r.id)),
            Change::Removed => p.paint(Tone::Remove, &format!("- restore {}", r.id)),
            Change::Changed => p.paint(Tone::Change, &format!("~ restore {}", r.id)),
        };
        let _ = writeln!(out, "\n{head}  ({})", r.summary);
        for f in &r.fields {
            field_lines(&mut out, &p, f);
        }
    }
    let _ = writeln!(
        out,
        "\nDiff: {} added, {} removed, {} changed, {} unchanged; {} plan-wide changes{}.",
        d.count(Change::Added),
        d.count(Change::Removed),
        d.count(Change::Changed),
        d.unchanged,
        d.plan.len(),
        match d.selectors.len() {
            0 => String::new(),
            1 => "; 1 selector change".to_owned(),
            n => format!("; {n} selector changes"),
        }
    );
    out
}

fn field_lines(out: &mut String, p: &Painter, f: &crate::diff::plans::FieldChange) {
    match (&f.old, &f.new) {
        (Some(o), Some(n)) => {
            let _ = writeln!(
                out,
                "    {} {}: {o} -> {n}",
                p.paint(Tone::Change, "~"),
                f.field
            );
        }
        (None, Some(n)) => {
            let _ = writeln!(out, "    {} {}: {n}", p.paint(Tone::Add, "+"), f.field);
        }
        (Some(o), None) => {
            let _ = writeln!(out, "    {} {}: {o}", p.paint(Tone::Remove, "-"), f.field);
        }
        (None, None) => {}
    }
}

/// The audit as terminal text: one line per check, failures with their reasons.
pub fn audit(a: &AuditReport, style: Style) -> String {
    let p = Painter(style);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} (checked {})",
        p.paint(Tone::Bold, &format!("restoreplan audit: {}", a.plan.name)),
        super::time_text(a.checked_at)
    );
    for line in crate::plan::select::groups_text(&a.dry_run.selections).lines() {
        let _ = writeln!(out, "  {line}");
    }
    for c in &a.checks {
        let mark = match c.status {
            CheckStatus::Pass => p.paint(Tone::Add, "pass"),
            CheckStatus::Warn => p.paint(Tone::Warn, "warn"),
            CheckStatus::Skip => p.paint(Tone::Dim, "skip"),
            CheckStatus::Fail => p.paint(Tone::Remove, "FAIL"),
        };
        let who = c.restore.as_deref().unwrap_or("plan");
        let _ = writeln!(out, "  {mark}  {who}: {}", c.check);
        if c.status != CheckStatus::Pass {
            for m in &c.messages {
                let _ = writeln!(out, "          {m}");
            }
        }
    }
    let s = &a.summary;
    let line = format!(
        "Audit: {} checks, {} passed ({} with warnings), {} skipped, {} failed.",
        s.checks, s.passed, s.warned, s.skipped, s.failed
    );
    let _ = writeln!(
        out,
        "{}",
        p.paint(if a.passed { Tone::Add } else { Tone::Remove }, &line)
    );
    out
}
