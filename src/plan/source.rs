//! Plan source text: a bounded, UTF-8-checked read and line/column lookup.
//!
//! Owns the first line of defence against hostile input (size cap, invalid
//! UTF-8). Must not parse YAML.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::diag::{Finding, Span};
use crate::plan::rules;

/// The largest plan file accepted, in bytes. A 10,000-restore plan is about
/// 1.5 MiB, so 8 MiB leaves ample room while keeping memory bounded.
pub const MAX_PLAN_BYTES: u64 = 8 * 1024 * 1024;

/// A plan file's name and text, kept for rendering findings later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    name: String,
    text: Arc<str>,
}

impl SourceFile {
    /// A source named `name` (usually the path as the user typed it).
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    /// The name shown in diagnostics.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The full text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text as a shared string, cheap to clone into a renderer.
    pub fn shared_text(&self) -> Arc<str> {
        Arc::clone(&self.text)
    }

    /// 1-based line and column (in characters) of a byte offset; offsets past
    /// the end or inside a character are clamped.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    /// 1-based line and column of a span's start.
    pub fn position(&self, span: Span) -> (usize, usize) {
        self.line_col(span.offset)
    }
}

/// Why bytes could not become a [`SourceFile`]: the finding to report and
/// the source to render it against.
#[derive(Debug, Clone)]
pub struct Refused {
    /// What to render the finding against (lossy text when not UTF-8).
    pub source: SourceFile,
    /// The finding.
    pub finding: Finding,
}

/// Why a plan file could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The operating system refused.
    Io(std::io::Error),
    /// The file is over [`MAX_PLAN_BYTES`]; the size when known.
    TooLarge(Option<u64>),
}

/// Reads at most [`MAX_PLAN_BYTES`] + 1 bytes from `path`, so a huge file or
/// an endless device is refused without being read whole.
/// `-` reads standard input.
pub(crate) fn read_bounded(path: &Path) -> Result<Vec<u8>, ReadError> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_PLAN_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(ReadError::Io)?;
        if buf.len() as u64 > MAX_PLAN_BYTES {
            return Err(ReadError::TooLarge(None));
        }
        return Ok(buf);
    }
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    if let Ok(meta) = file.metadata() {
        if meta.is_dir() {
            return Err(ReadError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "is a directory",
            )));
        }
        if meta.is_file() && meta.len() > MAX_PLAN_BYTES {
            return Err(ReadError::TooLarge(Some(meta.len())));
        }
    }
    let mut buf = Vec::new();
    file.take(MAX_PLAN_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(ReadError::Io)?;
    if buf.len() as u64 > MAX_PLAN_BYTES {
        return Err(ReadError::TooLarge(None));
    }
    Ok(buf)
}

/// The finding for a file over the size cap.
pub(crate) fn too_large_finding(len: Option<u64>) -> Finding {
    let size = match len {
        Some(n) => format!("{n} bytes"),
        None => format!("more than {MAX_PLAN_BYTES} bytes"),
    };
    Finding::error(
        rules::INPUT_TOO_LARGE,
        format!("the file is too large to be a plan ({size}; the limit is {MAX_PLAN_BYTES} bytes)"),
    )
    .help("check that this is the plan file; split a plan this large into several plans")
}

/// Checks that `bytes` are UTF-8 and wraps them as a [`SourceFile`].
pub fn decode(name: &str, bytes: Vec<u8>) -> Result<SourceFile, Box<Refused>> {
    if bytes.len() as u64 > MAX_PLAN_BYTES {
        return Err(Box::new(Refused {
            source: SourceFile::new(name, ""),
            finding: too_large_finding(Some(bytes.len() as u64)),
        }));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            // The lossy text has the same bytes up to `at`, so the span is valid in it.
            let source = SourceFile::new(name, lossy);
            let (line, col) = source.line_col(at);
            let finding = Finding::error(
                rules::INPUT_NOT_UTF8,
                format!("the file is not valid UTF-8 (invalid byte at offset {at}, line {line}, column {col})"),
            )
            .at(Some(Span::new(at, 0)))
            .label("invalid UTF-8 here")
            .help("save the plan as UTF-8 text; binary files are not plans");
            Err(Box::new(Refused { source, finding }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let s = SourceFile::new("p", "ab\ncé d\n");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(3), (2, 1));
        // `é` is two bytes; the space after it is the third character.
        assert_eq!(s.line_col(6), (2, 3));
        assert_eq!(s.line_col(999), (3, 1));
    }

    #[test]
    fn invalid_utf8_names_the_offset() {
        let err = decode("p", b"ok: 1\n\xff\xfe".to_vec()).unwrap_err();
        assert_eq!(err.finding.code, rules::INPUT_NOT_UTF8);
        assert_eq!(err.finding.span, Some(Span::new(6, 0)));
        assert!(
            err.finding.message.contains("offset 6"),
            "{}",
            err.finding.message
        );
    }
}
