//! What the executor runs: one [`RestoreSpec`] per restore, derived from a
//! [`ResolvedRestore`] and stored in the run's journal so a resumed run sends
//! exactly what the first attempt planned to send.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::check::resolved::{Disposition, ResolvedRestore};
use crate::cloud::{RestoreRequest, Scope, SseRequest, TableChange};

/// Tag naming the plan on every table a run creates.
pub const PLAN_TAG: &str = "restoreplan:plan";
/// Tag naming the run on every table a run creates.
pub const RUN_TAG: &str = "restoreplan:run";
/// Tag `restoreplan promote` puts on a table that became production; its
/// value is when. Teardown never deletes a table that carries it.
pub const PROMOTED_TAG: &str = "restoreplan:promoted";

/// What verification expects of a restored table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Expectations {
    /// The encryption the request asked for.
    pub sse: Option<SseRequest>,
    /// The global secondary indexes the table must have, by name, when known.
    pub indexes: Option<Vec<String>>,
    /// The item count of the recovery point, when known (approximate: see
    /// [`crate::exec::count`]).
    pub item_count: Option<u64>,
    /// The recovery point's size in bytes, when known (decides whether the
    /// restored table is small enough to count exactly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_bytes: Option<u64>,
}

/// One restore as the executor runs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreSpec {
    /// Restore id.
    pub id: String,
    /// Account and Region the restore runs in.
    pub target: Scope,
    /// Target table name.
    pub target_name: String,
    /// The request to send (the idempotency token is set per run).
    pub request: RestoreRequest,
    /// Settings applied once the table is ACTIVE, in order (the run tags are
    /// added by the executor).
    pub changes: Vec<TableChange>,
    /// Estimated duration in seconds (critical-path priority, polling).
    pub estimated_seconds: f64,
    /// What verification checks.
    pub expect: Expectations,
    /// Why the restore may not start, when the live checks blocked it.
    pub blocked: Option<String>,
}

impl RestoreSpec {
    /// The spec for a resolved restore.
    pub fn from_resolved(r: &ResolvedRestore) -> Self {
        let sse = match &r.request {
            RestoreRequest::RestoreTableFromBackup { sse, .. }
            | RestoreRequest::RestoreTableToPointInTime { sse, .. } => Some(sse.clone()),
            RestoreRequest::StartRestoreJob { metadata, .. } => sse_from_metadata(metadata),
        };
        let planned_indexes = match &r.request {
            RestoreRequest::RestoreTableFromBackup { indexes, .. }
            | RestoreRequest::RestoreTableToPointInTime { indexes, .. } => indexes
                .as_ref()
                .map(|v| v.iter().map(|ix| ix.name.clone()).collect()),
            RestoreRequest::StartRestoreJob { metadata, .. } => metadata
                .get("secondaryIndices")
                .and_then(|s| serde_json::from_str::<Vec<serde_json::Value>>(s).ok())
                .map(|v| {
                    v.iter()
                        .filter_map(|ix| ix.get("indexName")?.as_str().map(str::to_owned))
                        .collect()
                }),
        };
        // Without an override the table keeps every index of its recovery
        // point (or of the original table for point-in-time restores).
        let indexes = planned_indexes.or_else(|| {
            r.recovery_point
                .as_ref()
                .and_then(|rp| rp.indexes.as_ref())
                .or(r.source_table.as_ref().map(|t| &t.indexes))
                .map(|v| v.iter().map(|ix| ix.name.clone()).collect())
        });
        let blocked = match &r.disposition {
            Disposition::Ready => None,
            Disposition::Blocked { reasons } => Some(
                reasons
                    .iter()
                    .map(|f| f.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        };
        Self {
            id: r.id.clone(),
            target: r.target.clone(),
            target_name: r.target_name.clone(),
            request: r.request.clone(),
            changes: r.changes.clone(),
            estimated_seconds: r.estimated_seconds,
            expect: Expectations {
                sse,
                indexes,
                item_count: r.recovery_point.as_ref().and_then(|rp| rp.item_count),
                recovery_point_bytes: r.recovery_point.as_ref().and_then(|rp| rp.size_bytes),
            },
            blocked,
        }
    }

    /// True when the restore goes through DynamoDB itself (the table appears
    /// at once and is polled with `DescribeTable`).
    pub fn is_native(&self) -> bool {
        !matches!(self.request, RestoreRequest::StartRestoreJob { .. })
    }

    /// The settings to apply after the restore: the tags first (so that
    /// teardown can recognise the table as early as possible), then the
    /// plan's other settings. The plan's tags ride in the same `TagResource`
    /// call as the run tags, which win on a clash.
    pub fn changes_for_run(&self, plan: &str, run_id: &str) -> Vec<TableChange> {
        let mut tags = BTreeMap::new();
        let mut rest = Vec::with_capacity(self.changes.len());
        for change in &self.changes {
            match change {
                TableChange::Tags { tags: planned } => tags.extend(planned.clone()),
                other => rest.push(other.clone()),
            }
        }
        tags.insert(PLAN_TAG.to_owned(), plan.to_owned());
        tags.insert(RUN_TAG.to_owned(), run_id.to_owned());
        let mut all = vec![TableChange::Tags { tags }];
        all.extend(rest);
        all
    }
}

/// The SSE a `StartRestoreJob` metadata map asks for.
fn sse_from_metadata(metadata: &BTreeMap<String, String>) -> Option<SseRequest> {
    match metadata.get("encryptionType").map(String::as_str) {
        Some("Default") => Some(SseRequest::Owned),
        Some("KMS") => match metadata.get("kmsMasterKeyArn") {
            Some(arn) if arn != crate::check::request::NOT_APPLICABLE => {
                Some(SseRequest::Customer {
                    key_arn: arn.clone(),
                })
            }
            _ => Some(SseRequest::Managed),
        },
        _ => None,
    }
}

/// The `IdempotencyToken` of a restore in a run: the SHA-256 of both ids in
/// hex (64 characters, AWS Backup's limit), so every attempt of the same
/// restore in the same run sends the same token and AWS starts one job.
pub fn idempotency_token(run_id: &str, restore_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"restoreplan/v1\0");
    h.update(run_id.as_bytes());
    h.update(b"\0");
    h.update(restore_id.as_bytes());
    hex::encode(h.finalize())
}

/// The idempotency token of attempt `attempt` of a restore: attempt 0 is
/// [`idempotency_token`]; every retry (`--retry-failed`) gets a new one, so
/// AWS starts a new job instead of returning the failed one.
pub fn attempt_token(run_id: &str, restore_id: &str, attempt: u32) -> String {
    if attempt == 0 {
        idempotency_token(run_id, restore_id)
    } else {
        idempotency_token(&format!("{run_id}\0retry-{attempt}"), restore_id)
    }
}

/// A new run id: the plan name, the UTC start time and a random suffix,
/// e.g. `payments-dr-20261124T063200Z-3fa9`.
pub fn new_run_id(plan: &str, at: DateTime<Utc>) -> String {
    let suffix: u16 = rand::random();
    format!("{plan}-{}-{suffix:04x}", at.format("%Y%m%dT%H%M%SZ"))
}

/// True when `s` is shaped like a run id (safe as a directory name).
pub fn is_valid_run_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'T' || b == b'Z'
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_distinct_and_short() {
        let a = idempotency_token("run-1", "accounts");
        assert_eq!(a, idempotency_token("run-1", "accounts"));
        assert_ne!(a, idempotency_token("run-2", "accounts"));
        assert_ne!(a, idempotency_token("run-1", "ledger"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(idempotency_token("ab", "c"), idempotency_token("a", "bc"));
        assert!(a.len() <= 64);
    }

    #[test]
    fn run_ids_are_valid_directory_names() {
        let at = DateTime::parse_from_rfc3339("2026-11-24T06:32:00Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default();
        let id = new_run_id("payments-dr", at);
        assert!(id.starts_with("payments-dr-20261124T063200Z-"), "{id}");
        assert!(is_valid_run_id(&id));
        assert!(!is_valid_run_id("../etc"));
        assert!(!is_valid_run_id(""));
    }
}
