//! Findings: the one shape every check reports in, static or live.
//!
//! A [`Finding`] names the rule (a stable code such as
//! `restoreplan::graph::cycle`), the restore it concerns, where in the file
//! it points, the evidence (what AWS answered, for live checks) and the fix.
//! Rendering (miette, JSON, GitHub annotations) lives in the renderers; this
//! module owns only the data and must not print.

use serde::Serialize;

/// A byte range in the plan file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    /// Byte offset of the first byte.
    pub offset: usize,
    /// Length in bytes (0 for a point).
    pub len: usize,
}

impl Span {
    /// A span from `offset` of `len` bytes.
    pub fn new(offset: usize, len: usize) -> Self {
        Self { offset, len }
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.offset, s.len).into()
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Note,
    /// Worth a look; does not fail validation.
    Warning,
    /// Blocks the plan (exit status 1).
    Error,
}

/// One problem found in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable rule code, e.g. `restoreplan::kms::not_multi_region`.
    pub code: &'static str,
    /// Error, warning or note.
    pub severity: Severity,
    /// What is wrong, as a lowercase fragment naming the restore where relevant.
    pub message: String,
    /// The restore id it concerns, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore: Option<String>,
    /// Where in the file it points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// Text shown at the span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// What AWS answered (live checks): the call, the identity used, the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

impl Finding {
    /// An error with a code and message; add the rest with the builder methods.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message)
    }

    /// A warning with a code and message.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message)
    }

    fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            code,
            severity,
            message: message.into(),
            restore: None,
            span: None,
            label: None,
            help: None,
            evidence: None,
        }
    }

    /// Names the restore this finding concerns.
    pub fn restore(mut self, id: impl Into<String>) -> Self {
        self.restore = Some(id.into());
        self
    }

    /// Points the finding at a span, when one is known.
    pub fn at(mut self, span: Option<Span>) -> Self {
        if span.is_some() {
            self.span = span;
        }
        self
    }

    /// Text shown at the span.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// How to fix it.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// What AWS answered.
    pub fn evidence(mut self, evidence: impl Into<String>) -> Self {
        self.evidence = Some(evidence.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Documentation address of the rule.
    pub fn url(&self) -> String {
        rule_url(self.code)
    }
}

/// Where a rule code is documented (`docs/rules.md`, one anchor per code).
pub fn rule_url(code: &str) -> String {
    let anchor: String = code
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("docs/rules.md#{anchor}")
}

/// Longest quoted value (between backticks) a message shows in full.
pub const MAX_QUOTED_CHARS: usize = 80;
/// Longest message, label, help or evidence text shown in full.
pub const MAX_TEXT_CHARS: usize = 600;
/// Most findings of one rule shown per file; the rest are counted.
pub const MAX_FINDINGS_PER_RULE: usize = 10;

/// Shortens text for display: a backtick-quoted value longer than
/// [`MAX_QUOTED_CHARS`] keeps its start and end around `…` and says how long
/// it was, and the whole text stops after `max_chars` characters. Garbage
/// input (a 5 MB line, say) must not be echoed back whole.
pub fn shorten(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    let quoted_long = text
        .split('`')
        .skip(1)
        .step_by(2)
        .any(|q| q.chars().count() > MAX_QUOTED_CHARS);
    if !quoted_long && text.chars().count() <= max_chars {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::new();
    let mut parts = text.split('`').peekable();
    let mut inside = false;
    while let Some(part) = parts.next() {
        if inside && parts.peek().is_some() {
            out.push('`');
            let n = part.chars().count();
            if n > MAX_QUOTED_CHARS {
                let head: String = part.chars().take(MAX_QUOTED_CHARS - 12).collect();
                let tail: String = part.chars().skip(n - 8).collect();
                out.push_str(&format!("{head}…{tail}` ({n} characters)"));
            } else {
                out.push_str(part);
                out.push('`');
            }
        } else {
            if inside {
                out.push('`');
            }
            out.push_str(part);
        }
        inside = !inside;
    }
    let n = out.chars().count();
    if n > max_chars {
        let cut: String = out.chars().take(max_chars.saturating_sub(1)).collect();
        out = format!("{cut}… ({n} characters in all)");
    }
    std::borrow::Cow::Owned(out)
}

/// A finding with every text shortened for display (see [`shorten`]).
pub fn shortened(f: &Finding) -> Finding {
    let short = |s: &str| shorten(s, MAX_TEXT_CHARS).into_owned();
    Finding {
        message: short(&f.message),
        label: f.label.as_deref().map(short),
        help: f.help.as_deref().map(short),
        evidence: f.evidence.as_deref().map(short),
        restore: f
            .restore
            .as_deref()
            .map(|r| shorten(r, MAX_QUOTED_CHARS).into_owned()),
        ..f.clone()
    }
}

/// At most [`MAX_FINDINGS_PER_RULE`] findings of each rule, shortened for
/// display, in their order; and how many of each rule were left out.
pub fn capped(findings: &[Finding]) -> (Vec<Finding>, Vec<(&'static str, usize)>) {
    let mut seen: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let mut kept = Vec::new();
    for f in findings {
        let n = seen.entry(f.code).or_default();
        *n += 1;
        if *n <= MAX_FINDINGS_PER_RULE {
            kept.push(shortened(f));
        }
    }
    let mut omitted = Vec::new();
    let mut done = std::collections::BTreeSet::new();
    for f in findings {
        let n = seen[f.code];
        if n > MAX_FINDINGS_PER_RULE && done.insert(f.code) {
            omitted.push((f.code, n - MAX_FINDINGS_PER_RULE));
        }
    }
    (kept, omitted)
}

/// Merges findings that say the same thing about several restores (the same
/// rule, place and evidence, e.g. one missing key shared by twenty restores)
/// into one that names them all, for human eyes. Order is kept.
pub fn coalesce(findings: &[Finding]) -> Vec<Finding> {
    // The message with its own restore's name taken out: findings merge only
    // when they say exactly the same thing of each restore.
    fn gist(f: &Finding) -> String {
        match &f.restore {
            Some(id) => f
                .message
                .replacen(&format!("restore `{id}`"), "restore `…`", 1),
            None => f.message.clone(),
        }
    }
    let mut out: Vec<(Finding, Vec<String>)> = Vec::new();
    for f in findings {
        let same = out.iter_mut().find(|(g, _)| {
            g.code == f.code
                && g.span == f.span
                && g.evidence == f.evidence
                && g.help == f.help
                && gist(g) == gist(f)
        });
        match (same, &f.restore) {
            (Some((_, ids)), Some(id)) => {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
            (Some(_), None) => {}
            _ => out.push((f.clone(), f.restore.iter().cloned().collect())),
        }
    }
    out.into_iter()
        .map(|(mut f, ids)| {
            if ids.len() > 1 {
                let first = format!("restore `{}`", ids[0]);
                let listed = if ids.len() <= 4 {
                    let quoted: Vec<String> = ids.iter().map(|i| format!("`{i}`")).collect();
                    format!(
                        "restores {} and {}",
                        quoted[..quoted.len() - 1].join(", "),
                        quoted[quoted.len() - 1]
                    )
                } else {
                    format!(
                        "restores `{}`, `{}` and {} more",
                        ids[0],
                        ids[1],
                        ids.len() - 2
                    )
                };
                f.message = f.message.replacen(&first, &listed, 1);
            }
            f
        })
        .collect()
}

#[cfg(test)]
mod coalesce_tests {
    use super::*;

    #[test]
    fn the_same_finding_for_several_restores_is_shown_once() {
        let f = |id: &str| {
            Finding::error(
                "restoreplan::kms::key_not_found",
                format!("restore `{id}`: key not found"),
            )
            .restore(id)
            .evidence("NotFoundException")
        };
        let other =
            Finding::error("restoreplan::target::exists", "restore `c`: exists").restore("c");
        let merged = coalesce(&[f("a"), f("b"), other.clone(), f("d")]);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            merged[0].message,
            "restores `a`, `b` and `d`: key not found"
        );
        assert_eq!(merged[1], other);
        // The same rule, place, evidence and help, but another message: not merged.
        let managed = Finding::error(
            "restoreplan::kms::not_shareable",
            "restore `m`: the original table uses the AWS-managed key",
        )
        .restore("m")
        .evidence("NotFoundException");
        let owned = Finding::error(
            "restoreplan::kms::not_shareable",
            "restore `o`: the original table uses the AWS-owned key",
        )
        .restore("o")
        .evidence("NotFoundException");
        assert_eq!(coalesce(&[managed.clone(), owned.clone()]).len(), 2);
        let many: Vec<Finding> = (0..6).map(|i| f(&format!("t{i}"))).collect();
        assert_eq!(
            coalesce(&many)[0].message,
            "restores `t0`, `t1` and 4 more: key not found"
        );
    }
}

#[cfg(test)]
mod shorten_tests {
    use super::*;

    #[test]
    fn long_quoted_values_keep_their_ends_and_length() {
        let value = "x".repeat(5000) + "END";
        let message = format!("the plan must be a mapping, not the string `{value}`");
        let short = shorten(&message, MAX_TEXT_CHARS);
        assert!(short.len() < 200, "{short}");
        assert!(short.contains("xEND` (5003 characters)"), "{short}");
        assert!(short.starts_with("the plan must be a mapping, not the string `xxx"));
        assert_eq!(shorten("a `short` one", 600), "a `short` one");
        assert_eq!(shorten("odd ` backtick", 600), "odd ` backtick");
    }

    #[test]
    fn long_text_is_cut_with_its_length() {
        let long = "y".repeat(1000);
        let short = shorten(&long, 100);
        assert!(short.ends_with("… (1000 characters in all)"), "{short}");
    }

    #[test]
    fn each_rule_is_capped_and_counted() {
        let many: Vec<Finding> = (0..25)
            .map(|i| Finding::error("restoreplan::a", format!("a{i}")))
            .chain([Finding::error("restoreplan::b", "b")])
            .collect();
        let (kept, omitted) = capped(&many);
        assert_eq!(kept.len(), MAX_FINDINGS_PER_RULE + 1);
        assert_eq!(omitted, vec![("restoreplan::a", 15)]);
    }
}
