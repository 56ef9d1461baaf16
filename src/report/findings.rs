//! Rendering of [`Finding`]s against their [`SourceFile`]: miette graphical
//! diagnostics, JSON with a `schema_version`, and GitHub workflow annotations.
//!
//! Static and live checks share these renderers, so they take findings and a
//! source and nothing plan-specific.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};
use serde_json::{Value, json};

use crate::diag::{self, Finding, Severity, Span};
use crate::plan::SourceFile;

/// Version of the JSON findings document; bumped on incompatible changes.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// How human output looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanStyle {
    /// ANSI colours and terminal hyperlinks.
    pub color: bool,
    /// Wrap width in columns.
    pub width: usize,
}

impl Default for HumanStyle {
    fn default() -> Self {
        Self {
            color: false,
            width: 100,
        }
    }
}

/// A finding bound to its source, as a miette diagnostic.
struct Rendered<'a> {
    finding: &'a Finding,
    source: Excerpt,
    span: Option<Span>,
    help: Option<String>,
}

/// Longest span underlined in an excerpt; a longer one (a 5 MB scalar) is
/// shown by its start.
const MAX_SPAN_BYTES: usize = 120;
/// A source line longer than this is shown as a window around the span.
const LONG_LINE_BYTES: usize = 160;

/// The source of an excerpt: the file, or, when the line at the span (or a
/// line around it) is too long to show, a window of that line around the
/// span, marked with `…` where it was cut.
struct Excerpt {
    source: NamedSource<Arc<str>>,
    window: Option<Window>,
}

struct Window {
    name: String,
    /// The shown text: `…`, the window's bytes, `…`.
    data: String,
    /// The file offset `data` stands for at its first byte.
    offset: usize,
    /// 0-based line and column of the span.
    line: usize,
    column: usize,
}

impl Excerpt {
    fn new(name: &str, text: Arc<str>, span: Option<Span>, width: usize) -> Self {
        let window = span.and_then(|s| Window::around(name, &text, s, width));
        Self {
            source: NamedSource::new(name, text).with_language("yaml"),
            window,
        }
    }
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl Window {
    fn around(name: &str, text: &str, span: Span, width: usize) -> Option<Window> {
        let bytes = text.as_bytes();
        let line_start = text[..span.offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[span.offset..]
            .find('\n')
            .map_or(text.len(), |i| span.offset + i);
        let prev_long = line_start > 0 && {
            let prev_start = text[..line_start - 1].rfind('\n').map_or(0, |i| i + 1);
            line_start - 1 - prev_start > LONG_LINE_BYTES
        };
        let next_long = line_end < text.len() && {
            let rest = &text[line_end + 1..];
            rest.find('\n').unwrap_or(rest.len()) > LONG_LINE_BYTES
        };
        if line_end - line_start <= LONG_LINE_BYTES && !prev_long && !next_long {
            return None;
        }
        // Room for the line number gutter and the `…` marks.
        let room = width.saturating_sub(16).max(40);
        let span_end = (span.offset + span.len).min(line_end);
        let before = room / 3;
        let start = floor_boundary(text, span.offset.saturating_sub(before).max(line_start));
        let end = floor_boundary(text, (start + room).max(span_end).min(line_end));
        let _ = bytes;
        let cut_left = start > line_start && start >= 3;
        let mut data = String::new();
        if cut_left {
            data.push('…');
        }
        data.push_str(&text[start..end]);
        if end < line_end {
            data.push('…');
        }
        let line = text[..span.offset].matches('\n').count();
        let column = text[line_start..span.offset].chars().count();
        Some(Window {
            name: name.to_owned(),
            data,
            offset: if cut_left {
                start - '…'.len_utf8()
            } else {
                start
            },
            line,
            column,
        })
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        match &self.window {
            Some(w) => Ok(Box::new(miette::MietteSpanContents::new_named(
                w.name.clone(),
                w.data.as_bytes(),
                (w.offset, w.data.len()).into(),
                w.line,
                if context_lines_before == 0 {
                    w.column
                } else {
                    0
                },
                1,
            ))),
            None => self
                .source
                .read_span(span, context_lines_before, context_lines_after),
        }
    }
}

impl<'a> Rendered<'a> {
    fn new(finding: &'a Finding, source: &SourceFile, width: usize) -> Self {
        let len = source.text().len();
        // A span from another version of the file must not make rendering
        // fail; a long one is shown by its start, on its first line.
        let text = source.text();
        let span = finding.span.filter(|s| s.offset <= len).map(|s| {
            let mut end = (s.offset + s.len).min(len).min(s.offset + MAX_SPAN_BYTES);
            if let Some(nl) = text[s.offset..floor_boundary(text, end)].find('\n') {
                end = s.offset + nl;
            }
            let end = floor_boundary(text, end).max(s.offset);
            Span::new(s.offset, end - s.offset)
        });
        let help = match (&finding.help, &finding.evidence) {
            (Some(h), Some(e)) => Some(format!("{h}\nevidence: {e}")),
            (Some(h), None) => Some(h.clone()),
            (None, Some(e)) => Some(format!("evidence: {e}")),
            (None, None) => None,
        };
        // Control characters from a hostile file must not reach the terminal;
        // each is one byte and is replaced by one byte, so spans stay valid.
        let text: Arc<str> = match sanitize(source.text()) {
            std::borrow::Cow::Borrowed(_) => source.shared_text(),
            std::borrow::Cow::Owned(clean) => clean.into(),
        };
        Self {
            finding,
            source: Excerpt::new(source.name(), text, span, width),
            span,
            help,
        }
    }
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.finding, f)
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&sanitize(&self.finding.message))
    }
}

/// Replaces ASCII control characters other than tab and line breaks with `?`.
fn sanitize(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_ascii_control() && !matches!(c, '\n' | '\r' | '\t');
    if text.contains(bad) {
        std::borrow::Cow::Owned(text.chars().map(|c| if bad(c) { '?' } else { c }).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

impl std::error::Error for Rendered<'_> {}

impl Diagnostic for Rendered<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.finding.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.finding.url()))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.span.map(|_| &self.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        let label = LabeledSpan::new_with_span(self.finding.label.clone(), span);
        Some(Box::new(std::iter::once(label)))
    }
}

/// Renders findings as miette graphical diagnostics, one after another.
pub fn render_human(findings: &[Finding], source: &SourceFile, style: HumanStyle) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        // No terminal hyperlinks: the rule reference is a path in the
        // source tree, which a user of the binary cannot open.
        .with_links(false)
        // Never split names such as `bad-name` at their hyphens.
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
        .with_break_words(false)
        .without_syntax_highlighting();
    let (findings, omitted) = diag::capped(findings);
    let mut out = String::new();
    for f in &findings {
        let diag = Rendered::new(f, source, style.width);
        if handler.render_report(&mut out, &diag).is_err() {
            // Fall back to one plain line rather than losing the finding.
            out.push_str(&plain_line(f, source));
        }
        out.push('\n');
    }
    for (code, n) in omitted {
        out.push_str(&format!(
            "  note: {n} more {code} finding{} in {} not shown\n\n",
            if n == 1 { "" } else { "s" },
            source.name()
        ));
    }
    out
}

/// One line per finding: `file:line:col: severity[code]: message`.
pub fn plain_line(f: &Finding, source: &SourceFile) -> String {
    let pos = match f.span {
        Some(s) => {
            let (l, c) = source.position(s);
            format!("{}:{l}:{c}", source.name())
        }
        None => source.name().to_owned(),
    };
    format!(
        "{pos}: {}[{}]: {}\n",
        severity_word(f.severity),
        f.code,
        f.message
    )
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// The JSON object of one file's findings (without `schema_version`; wrap
/// files with [`json_document`]).
pub fn json_file(findings: &[Finding], source: &SourceFile) -> Value {
    let (shown, omitted) = diag::capped(findings);
    let items: Vec<Value> = shown.iter().map(|f| json_finding(f, source)).collect();
    let errors = findings.iter().filter(|f| f.is_error()).count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let mut file = json!({
        "file": source.name(),
        "valid": errors == 0,
        "errors": errors,
        "warnings": warnings,
        "findings": items,
    });
    // Findings past the cap of their rule are counted, not listed.
    if !omitted.is_empty()
        && let Some(obj) = file.as_object_mut()
    {
        let list: Vec<Value> = omitted
            .iter()
            .map(|(code, count)| json!({"code": code, "count": count}))
            .collect();
        obj.insert("omitted".into(), json!(list));
    }
    file
}

/// The JSON entry of an input that could not be checked at all (missing,
/// unreadable, or its live checks could not start): never valid, one error,
/// and the reason in `unreadable`.
pub fn json_unchecked(file: &str, why: &str) -> Value {
    json!({
        "file": file,
        "valid": false,
        "errors": 1,
        "warnings": 0,
        "unreadable": why,
        "findings": [],
    })
}

/// One finding as JSON, with 1-based line and column added to the span.
pub fn json_finding(f: &Finding, source: &SourceFile) -> Value {
    let mut v = json!({
        "code": f.code,
        "severity": f.severity,
        "message": f.message,
        "url": f.url(),
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(r) = &f.restore {
            obj.insert("restore".into(), json!(r));
        }
        if let Some(s) = f.span {
            let (line, column) = source.position(s);
            obj.insert(
                "span".into(),
                json!({"offset": s.offset, "length": s.len, "line": line, "column": column}),
            );
        }
        for (k, val) in [
            ("label", &f.label),
            ("help", &f.help),
            ("evidence", &f.evidence),
        ] {
            if let Some(val) = val {
                obj.insert(k.into(), json!(val));
            }
        }
    }
    v
}

/// The full JSON document for several files.
pub fn json_document(files: Vec<Value>) -> Value {
    let valid = files.iter().all(|f| f["valid"] == Value::Bool(true));
    json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "valid": valid,
        "files": files,
    })
}

/// GitHub workflow annotations: `::error file=…,line=…,col=…,title=…::message`.
pub fn render_github(findings: &[Finding], source: &SourceFile) -> String {
    let (findings, omitted) = diag::capped(findings);
    let mut out = String::new();
    for f in &findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut props = format!("file={}", escape_property(source.name()));
        if let Some(s) = f.span {
            let (line, col) = source.position(s);
            props.push_str(&format!(",line={line},col={col}"));
        }
        props.push_str(&format!(",title={}", escape_property(f.code)));
        let mut message = f.message.clone();
        if let Some(h) = &f.help {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        if let Some(e) = &f.evidence {
            message.push_str("\nevidence: ");
            message.push_str(e);
        }
        out.push_str(&format!("::{level} {props}::{}\n", escape_data(&message)));
    }
    for (code, n) in omitted {
        out.push_str(&format!(
            "::notice file={},title={}::{n} more finding{} of this rule not shown\n",
            escape_property(source.name()),
            escape_property(code),
            if n == 1 { "" } else { "s" }
        ));
    }
    out
}

/// Escapes a workflow command's message (GitHub's `escapeData`).
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property (GitHub's `escapeProperty`).
pub(crate) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Vec<Finding>, SourceFile) {
        let source = SourceFile::new("plan.yaml", "version: 1\nname: x\n");
        let f = Finding::error("restoreplan::test::rule", "something is wrong, really")
            .restore("orders")
            .at(Some(Span::new(11, 4)))
            .label("here")
            .help("fix it")
            .evidence("kms:DescribeKey said NotFound");
        (vec![f], source)
    }

    #[test]
    fn github_annotations_escape_and_locate() {
        let (f, s) = sample();
        let out = render_github(&f, &s);
        assert_eq!(
            out,
            "::error file=plan.yaml,line=2,col=1,title=restoreplan%3A%3Atest%3A%3Arule::something is wrong, really%0Ahelp: fix it%0Aevidence: kms:DescribeKey said NotFound\n"
        );
    }

    #[test]
    fn human_output_shows_position_help_and_evidence() {
        let (f, s) = sample();
        let out = render_human(&f, &s, HumanStyle::default());
        assert!(out.contains("plan.yaml:2:1"), "{out}");
        assert!(out.contains("help: fix it"), "{out}");
        assert!(
            out.contains("evidence: kms:DescribeKey said NotFound"),
            "{out}"
        );
        assert!(!out.contains('\u{1b}'), "no colour when disabled: {out}");
    }

    #[test]
    fn json_has_line_and_column() {
        let (f, s) = sample();
        let doc = json_document(vec![json_file(&f, &s)]);
        assert_eq!(doc["schema_version"], 1);
        assert_eq!(doc["files"][0]["findings"][0]["span"]["line"], 2);
        assert_eq!(doc["files"][0]["findings"][0]["restore"], "orders");
        assert_eq!(doc["valid"], false);
    }
}
