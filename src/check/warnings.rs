//! Which warnings change what is restored: the one place that says so.
//!
//! `validate` and `plan` show every warning and succeed. `apply` refuses to
//! start while a warning that [changes the result](Effect::ChangesResult)
//! stands, unless its code is accepted with `--accept-warnings CODE…`;
//! informational warnings are shown and do not stop it. A warning code not
//! listed in [`WARNINGS`] counts as changing the result, so a new warning
//! can never slip through `apply` unnoticed.

use crate::check::live::codes;
use crate::diag::{Finding, Severity};
use crate::plan::rules;

/// What a warning means for the tables `apply` would create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// The restored table would differ from what the plan says (other data,
    /// other indexes, another key, a setting not copied): an error at apply
    /// unless accepted.
    ChangesResult,
    /// Nothing about the restored tables changes; shown, never blocking.
    Informational,
}

/// One warning code and what it means at apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarningClass {
    /// The rule code.
    pub code: &'static str,
    /// Whether it changes what is restored.
    pub effect: Effect,
    /// Why, in one line (documentation and messages).
    pub why: &'static str,
}

/// Every warning restoreplan emits (static and live), classified.
pub const WARNINGS: &[WarningClass] = &[
    WarningClass {
        code: codes::RP_OTHER_TABLE,
        effect: Effect::ChangesResult,
        why: "the restored table would hold another table's data",
    },
    WarningClass {
        code: codes::UNKNOWN_INDEX,
        effect: Effect::ChangesResult,
        why: "an index the plan keeps does not exist, so it would not be restored",
    },
    WarningClass {
        code: codes::SOURCE_UNREADABLE,
        effect: Effect::ChangesResult,
        why: "`same-as-source` or `ttl: copy` cannot be honoured, so the key or TTL may differ from the original's",
    },
    WarningClass {
        code: rules::SETTING_LOST,
        effect: Effect::Informational,
        why: "a setting the plan does not mention is not carried over; the table is as the plan says",
    },
    WarningClass {
        code: rules::RTO_EXCEEDED,
        effect: Effect::Informational,
        why: "a prediction about time, not about the restored tables",
    },
    WarningClass {
        code: rules::CONCURRENCY_ABOVE_QUOTA,
        effect: Effect::Informational,
        why: "the executor never runs more than 50 restores per account anyway",
    },
];

/// What `code` means at apply; unclassified codes change the result.
pub fn effect(code: &str) -> Effect {
    WARNINGS
        .iter()
        .find(|w| w.code == code)
        .map_or(Effect::ChangesResult, |w| w.effect)
}

/// The code `given` names, written in full (`restoreplan::recovery_point::other_table`)
/// or without the `restoreplan::` prefix; `None` when it is no warning's code.
pub fn parse_code(given: &str) -> Option<&'static str> {
    let given = given.trim();
    let full = if given.starts_with("restoreplan::") {
        given.to_owned()
    } else {
        format!("restoreplan::{given}")
    };
    WARNINGS.iter().map(|w| w.code).find(|c| *c == full)
}

/// The warnings of a plan, sorted for `apply`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gate {
    /// Warnings that change the result and were not accepted: apply refuses.
    pub blocking: Vec<Finding>,
    /// Warnings that change the result, accepted with `--accept-warnings`.
    pub accepted: Vec<Finding>,
    /// Warnings that change nothing.
    pub informational: Vec<Finding>,
}

impl Gate {
    /// True when nothing stops apply.
    pub fn passed(&self) -> bool {
        self.blocking.is_empty()
    }

    /// The distinct codes of the blocking warnings, in order of appearance.
    pub fn blocking_codes(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for f in &self.blocking {
            if !out.contains(&f.code) {
                out.push(f.code);
            }
        }
        out
    }
}

/// A warning `apply` was told to accept, as the journal and the run report
/// record it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AcceptedWarning {
    /// The rule code.
    pub code: String,
    /// The restore it is about, when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<String>,
    /// The warning's message.
    pub message: String,
}

impl AcceptedWarning {
    /// The record of an accepted finding.
    pub fn of(f: &Finding) -> Self {
        Self {
            code: f.code.to_owned(),
            restore: f.restore.clone(),
            message: f.message.clone(),
        }
    }
}

/// Sorts the warnings among `findings` (errors and notes are ignored) by
/// their effect, with the codes in `accepted` (full codes) let through.
pub fn gate(findings: &[Finding], accepted: &[&str]) -> Gate {
    let mut g = Gate::default();
    for f in findings.iter().filter(|f| f.severity == Severity::Warning) {
        match effect(f.code) {
            Effect::Informational => g.informational.push(f.clone()),
            Effect::ChangesResult if accepted.contains(&f.code) => g.accepted.push(f.clone()),
            Effect::ChangesResult => g.blocking.push(f.clone()),
        }
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_that_change_the_result_block_unless_accepted() {
        let other =
            Finding::warning(codes::RP_OTHER_TABLE, "restore `a`: other table").restore("a");
        let index = Finding::warning(codes::UNKNOWN_INDEX, "restore `a`: no index").restore("a");
        let lost = Finding::warning(rules::SETTING_LOST, "restore `a`: TTL lost").restore("a");
        let quota = Finding::warning(rules::CONCURRENCY_ABOVE_QUOTA, "above 50");
        let error = Finding::error(codes::TARGET_EXISTS, "exists");
        let all = [
            other.clone(),
            index.clone(),
            quota.clone(),
            lost.clone(),
            error,
        ];
        let g = gate(&all, &[]);
        assert_eq!(g.blocking, vec![other.clone(), index.clone()]);
        assert_eq!(g.informational, vec![quota.clone(), lost.clone()]);
        assert!(!g.passed());
        assert_eq!(
            g.blocking_codes(),
            vec![codes::RP_OTHER_TABLE, codes::UNKNOWN_INDEX]
        );
        let g = gate(&all, &[codes::RP_OTHER_TABLE]);
        assert_eq!(g.blocking, vec![index.clone()]);
        assert_eq!(g.accepted, vec![other.clone()]);
        let g = gate(&all, &[codes::RP_OTHER_TABLE, codes::UNKNOWN_INDEX]);
        assert!(g.passed());
        assert_eq!(g.accepted.len(), 2);
    }

    #[test]
    fn an_unclassified_warning_changes_the_result() {
        assert_eq!(effect("restoreplan::something::new"), Effect::ChangesResult);
        assert_eq!(
            effect(rules::CONCURRENCY_ABOVE_QUOTA),
            Effect::Informational
        );
    }

    #[test]
    fn codes_are_accepted_with_or_without_the_prefix() {
        assert_eq!(
            parse_code("recovery_point::other_table"),
            Some(codes::RP_OTHER_TABLE)
        );
        assert_eq!(
            parse_code("restoreplan::plan::unknown_index"),
            Some(codes::UNKNOWN_INDEX)
        );
        assert_eq!(parse_code("restoreplan::target::exists"), None);
        assert_eq!(parse_code("other_table"), None);
    }

    /// Every classified warning is registered as a warning.
    #[test]
    fn every_classified_warning_is_a_registered_warning() {
        for w in WARNINGS {
            let rule =
                rules::find(w.code).unwrap_or_else(|| panic!("{} is not registered", w.code));
            assert_eq!(rule.severity, Severity::Warning, "{}", w.code);
        }
    }

    /// Every `Finding::warning(CODE, …)` in the sources names a classified code.
    #[test]
    fn every_warning_the_code_emits_is_classified() {
        let sources = [
            include_str!("live/mod.rs"),
            include_str!("live/resolve.rs"),
            include_str!("live/rules.rs"),
            include_str!("../plan/resolve.rs"),
            include_str!("../plan/schema.rs"),
            include_str!("../graph.rs"),
        ];
        let constants: &[(&str, &str)] = &[
            ("RP_OTHER_TABLE", codes::RP_OTHER_TABLE),
            ("UNKNOWN_INDEX", codes::UNKNOWN_INDEX),
            ("SOURCE_UNREADABLE", codes::SOURCE_UNREADABLE),
            ("CONCURRENCY_ABOVE_QUOTA", rules::CONCURRENCY_ABOVE_QUOTA),
        ];
        let mut seen = 0;
        for text in sources {
            for (_, rest) in text
                .match_indices("Finding::warning(")
                .map(|(i, m)| text.split_at(i + m.len()))
            {
                let name: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                if name.is_empty() || name == "code" {
                    continue;
                }
                let last = name.rsplit("::").next().unwrap_or(&name);
                let code = constants
                    .iter()
                    .find(|(n, _)| *n == last)
                    .map(|(_, c)| *c)
                    .unwrap_or_else(|| panic!("warning `{name}` is not classified in WARNINGS"));
                assert!(
                    WARNINGS.iter().any(|w| w.code == code),
                    "{code} is not in WARNINGS"
                );
                seen += 1;
            }
        }
        assert!(seen >= 4, "found only {seen} warnings in the sources");
        // The dry run's own warnings.
        for code in [
            rules::SETTING_LOST,
            codes::UNKNOWN_INDEX,
            rules::RTO_EXCEEDED,
        ] {
            assert!(
                WARNINGS.iter().any(|w| w.code == code),
                "{code} is not in WARNINGS"
            );
        }
        let build = include_str!("../diff/build.rs");
        let declared = build.matches("pub const ").count();
        assert_eq!(
            declared, 3,
            "a new dry-run code must be classified in WARNINGS"
        );
    }

    /// docs/rules.md lists every classified warning with its effect.
    #[test]
    fn the_rule_reference_lists_every_classification() {
        let doc = include_str!("../../docs/rules.md");
        for w in WARNINGS {
            let effect = match w.effect {
                Effect::ChangesResult => "changes the result",
                Effect::Informational => "informational",
            };
            let row = format!("| `{}` | {effect} |", w.code);
            assert!(doc.contains(&row), "docs/rules.md lacks the row `{row}`");
        }
    }
}
