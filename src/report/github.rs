//! GitHub workflow annotations of a dry run: an error at the line of each
//! blocked restore, a warning for each finding or lost setting, a notice at
//! the line of each restore `apply` will start, saying what it creates.
//!
//! GitHub shows few annotations per step and cuts long ones, so each
//! annotation is one short paragraph.

use std::collections::BTreeMap;

use crate::diag::{MAX_TEXT_CHARS, shorten};
use crate::diff::model::{Action, DryRun, Level, SettingOutcome};
use crate::report::findings::{escape_data, escape_property};

/// Annotations of `dry` for the plan file `file`; `lines` gives each
/// restore's 1-based line and column in that file.
pub fn dry_run(dry: &DryRun, file: &str, lines: &BTreeMap<String, (usize, usize)>) -> String {
    let mut out = String::new();
    let file = escape_property(file);
    let mut emit = |level: &str, at: Option<(usize, usize)>, title: &str, message: &str| {
        let at = at
            .map(|(l, c)| format!(",line={l},col={c}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "::{level} file={file}{at},title={}::{}\n",
            escape_property(title),
            escape_data(&shorten(message, MAX_TEXT_CHARS))
        ));
    };
    for f in &dry.findings {
        let level = match f.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "notice",
        };
        emit(level, None, &f.code, &f.message);
    }
    for r in &dry.restores {
        let at = lines.get(&r.id).copied();
        let target = format!(
            "{} in {}/{}",
            r.target.name, r.target.account, r.target.region
        );
        match r.action {
            Action::Blocked => emit(
                "error",
                at,
                &format!("blocked: {}", r.id),
                &format!(
                    "restore `{}` is blocked; apply will not start it: {}",
                    r.id,
                    r.blocked_because.join("; ")
                ),
            ),
            Action::Restore => {
                let mut what = format!(
                    "restore `{}` creates {target} with {}",
                    r.id, r.request.operation
                );
                if r.encryption.changed {
                    what.push_str("; the encryption key changes");
                }
                let lost: Vec<String> = r
                    .settings
                    .iter()
                    .filter(|s| s.outcome == SettingOutcome::Lost)
                    .map(|s| format!("{:?}", s.setting).to_lowercase())
                    .collect();
                if !lost.is_empty() {
                    what.push_str(&format!("; not carried over: {}", lost.join(", ")));
                }
                emit("notice", at, &format!("restore: {}", r.id), &what);
            }
        }
        for f in r.findings.iter().filter(|f| f.level != Level::Error) {
            emit("warning", at, &f.code, &f.message);
        }
    }
    out
}
