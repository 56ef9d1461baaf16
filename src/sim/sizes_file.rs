//! The finding of a sizes file (`simulate --sizes`) that does not parse,
//! pointing at the entry that is not a size: what `validate` reports for it.

use crate::diag::{Finding, Span};
use crate::plan::SourceFile;

/// Rule code of a sizes file that does not parse.
pub const SIZES_INVALID: &str = crate::plan::rules::SIZES_INVALID;

/// The error finding for `source`, a sizes file whose parse failed with
/// `message` (`` `orders`: … `` names the entry, which the span points at).
pub fn invalid(source: &SourceFile, message: &str) -> Finding {
    Finding::error(SIZES_INVALID, format!("sizes file: {message}"))
        .at(entry_span(source, message))
        .label("not a size")
        .help(
            "write `table: SIZE` lines, SIZE in bytes or with a unit \
             (KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. `orders: 120GiB`",
        )
}

/// The entry a sizes-file error names (`` `orders`: … ``), when it is found.
fn entry_span(source: &SourceFile, message: &str) -> Option<Span> {
    let name = message.strip_prefix('`')?.split('`').next()?;
    let text = source.text();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix(name)
            && rest.trim_start().starts_with(':')
        {
            return Some(Span::new(offset, line.trim_end().len()));
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_finding_points_at_the_entry_it_names() {
        let source = SourceFile::new("s.sizes.yaml", "orders: 1GiB\nusers: lots\n");
        let f = invalid(&source, "`users`: `lots` is not a size");
        assert_eq!(f.code, SIZES_INVALID);
        assert_eq!(f.span, Some(Span::new(13, 11)));
        assert!(invalid(&source, "not YAML").span.is_none());
    }
}
