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
