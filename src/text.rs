//! Durations as people write and read them: parsed from plans (`90m`,
//! `7d`) and written by every renderer.
//!
//! Depends on nothing in the crate, so any module can use it.

use std::time::Duration;

/// `3d 4h`, `2h 5m`, `42m`, `17s`: the two largest units, smaller ones
/// dropped.
pub fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, mins) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// Whole seconds as [`duration_text`] writes them: `1h 5m`.
pub fn secs_text(s: u64) -> String {
    duration_text(Duration::from_secs(s))
}

/// Parses `90m`, `24h`, `7d`, `30s`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let unit = text.chars().last()?;
    let digits = &text[..text.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let secs = match unit {
        's' => Some(n),
        'm' => n.checked_mul(60),
        'h' => n.checked_mul(3600),
        'd' => n.checked_mul(86_400),
        _ => None,
    }?;
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_their_two_largest_units() {
        assert_eq!(secs_text(0), "0s");
        assert_eq!(secs_text(17), "17s");
        assert_eq!(secs_text(42 * 60 + 5), "42m");
        assert_eq!(secs_text(2 * 3600), "2h");
        assert_eq!(secs_text(2 * 3600 + 5 * 60 + 9), "2h 5m");
        assert_eq!(secs_text(3 * 86_400 + 59), "3d");
        assert_eq!(secs_text(3 * 86_400 + 4 * 3600 + 60), "3d 4h");
    }
}
