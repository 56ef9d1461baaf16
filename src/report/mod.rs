//! Renderers: pure functions from the models of [`crate::diag`],
//! [`crate::diff`], [`crate::sim`] and [`crate::exec`] to text for people,
//! JSON for tools and annotations for CI.
//!
//! Besides the dry run: the dependency graph ([`graph`]: text, DOT,
//! Mermaid), a simulation ([`simulate`]), the runs list ([`runs`]) and what
//! `apply` shows before it asks ([`apply`]).
//!
//! Findings render through [`findings`] (miette, JSON, GitHub annotations).
//! The dry run, plan diff and audit have one model each and several
//! renderers: human text ([`text`], terraform-like
//! `+ ~ ! -` markers, optional colour), JSON ([`json`], versioned, with its
//! schema generated from the model types), Markdown sized for a
//! pull-request comment ([`markdown`]) and a self-contained HTML audit
//! report ([`html`]). Renderers must not compute anything the model does not
//! hold, talk to a cloud, read the clock or write files; callers decide
//! where the text goes.

pub mod apply;
pub mod findings;
pub mod github;
pub mod graph;
pub mod html;
pub mod json;
pub mod markdown;
pub mod runs;
pub mod simulate;
pub mod simulate_sfn;
pub mod text;

pub use crate::diff::model::time_text;
use crate::diff::model::{KeyKind, KeyView, RecoveryKind, RecoveryPointView, SettingOutcome};

/// Rendering options shared by the human renderers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// Use ANSI colours.
    pub color: bool,
}

/// `1.5 GiB`, `320 KiB`, `12 B`.
pub fn bytes_text(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `1,234,567`.
pub fn count_text(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub use crate::text::secs_text;

/// A key as a reviewer reads it.
pub fn key_text(k: &KeyView) -> String {
    match (k.kind, &k.key_arn) {
        (KeyKind::AwsOwned, _) => "AWS-owned key".to_owned(),
        (KeyKind::AwsManaged, _) => "AWS-managed key (alias/aws/dynamodb)".to_owned(),
        (KeyKind::CustomerManaged, Some(arn)) => format!("customer-managed key {arn}"),
        (KeyKind::CustomerManaged, None) => "customer-managed key".to_owned(),
        (KeyKind::Unknown, Some(arn)) => format!("key {arn}"),
        (KeyKind::Unknown, None) => "unknown key".to_owned(),
    }
}

/// A short name of a key kind.
pub fn key_kind_text(k: KeyKind) -> &'static str {
    match k {
        KeyKind::AwsOwned => "AWS-owned",
        KeyKind::AwsManaged => "AWS-managed",
        KeyKind::CustomerManaged => "customer-managed",
        KeyKind::Unknown => "unknown",
    }
}

/// Where the data comes from, in words.
pub fn recovery_kind_text(rp: &RecoveryPointView) -> String {
    let kind = recovery_source_text(rp);
    match rp.selector.strip_prefix("random ") {
        Some(window) if rp.arn.is_some() => format!("{kind}, drawn at random {window}"),
        _ => kind,
    }
}

fn recovery_source_text(rp: &RecoveryPointView) -> String {
    match rp.kind {
        RecoveryKind::AwsBackup => match &rp.vault {
            Some(v) => format!("AWS Backup, vault {v}"),
            None => "AWS Backup".to_owned(),
        },
        RecoveryKind::DynamodbBackup => "DynamoDB backup".to_owned(),
        RecoveryKind::PointInTime => "point-in-time recovery".to_owned(),
        RecoveryKind::Unresolved => "not resolved".to_owned(),
    }
}

/// Age and size of a recovery point: `2h old (RPO 24h: ok), 1.2 MiB, 1,000 items`.
pub fn recovery_facts(rp: &RecoveryPointView, rpo: Option<u64>) -> String {
    let mut parts = Vec::new();
    if let Some(t) = rp.created {
        parts.push(match rp.kind {
            RecoveryKind::PointInTime => format!("restores to {}", time_text(t)),
            _ => format!("taken {}", time_text(t)),
        });
    }
    if let Some(age) = rp.age_seconds {
        let verdict = match (rp.within_rpo, rpo) {
            (Some(true), Some(o)) => format!(" (within RPO {})", secs_text(o)),
            (Some(false), Some(o)) => format!(" (OLDER than RPO {})", secs_text(o)),
            _ => String::new(),
        };
        parts.push(format!("{} old{verdict}", secs_text(age)));
    }
    if let Some(b) = rp.size_bytes {
        parts.push(bytes_text(b));
    }
    if let Some(n) = rp.item_count {
        parts.push(format!("{} items", count_text(n)));
    }
    parts.join(", ")
}

/// An outcome in words.
pub fn outcome_text(o: SettingOutcome) -> &'static str {
    match o {
        SettingOutcome::Reapplied => "re-applied by the plan",
        SettingOutcome::Lost => "LOST: not carried over, not re-applied",
        SettingOutcome::NotNeeded => "nothing to carry over",
        SettingOutcome::Unknown => "original not read",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_counts_read_well() {
        assert_eq!(bytes_text(12), "12 B");
        assert_eq!(bytes_text(1536), "1.5 KiB");
        assert_eq!(bytes_text(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(count_text(0), "0");
        assert_eq!(count_text(999), "999");
        assert_eq!(count_text(1000), "1,000");
        assert_eq!(count_text(1234567), "1,234,567");
    }
}

#[cfg(test)]
mod snapshot_tests;
