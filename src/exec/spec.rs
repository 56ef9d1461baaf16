//! What the executor runs: one [`RestoreSpec`] per restore, derived from a
//! [`ResolvedRestore`] and stored in the run's journal so a resumed run sends
//! exactly what the first attempt planned to send.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::check::changes;
use crate::check::request::build_request;
use crate::check::resolved::{Disposition, ResolvedCopy, ResolvedRestore};
use crate::cloud::{
    RecoveryPoint, RecoveryPointOrigin, RestoreRequest, Scope, SseRequest, TableChange,
};
use crate::duration::DurationModel;
use crate::plan::model::{Encryption, RecoveryPointSelector, Restore};

pub use crate::check::changes::{PLAN_TAG, RUN_TAG};
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
    /// The plan's data checks (`after_restore.verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<crate::plan::verify::Verify>,
    /// Billing mode, capacity and class the table must have once its
    /// changes are applied, when the plan sets any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<crate::check::capacity::Expected>,
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
    /// The copy step before the restore (`copy`): the `StartCopyJob`
    /// request (the idempotency token is set per run) and where it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<ResolvedCopy>,
}

impl RestoreSpec {
    /// The spec for a resolved restore.
    pub fn from_resolved(r: &ResolvedRestore) -> Self {
        let sse = r.request.sse().clone();
        let planned_indexes = r
            .request
            .indexes()
            .map(|v| v.iter().map(|ix| ix.name.clone()).collect());
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
                sse: Some(sse),
                indexes,
                item_count: r.recovery_point.as_ref().and_then(|rp| rp.item_count),
                recovery_point_bytes: r.recovery_point.as_ref().and_then(|rp| rp.size_bytes),
                data: None,
                capacity: crate::check::capacity::expected(&r.request, &r.changes),
            },
            blocked,
            copy: r.copy.clone(),
        }
    }

    /// The spec of `restore` (of plan `plan`) resolved without AWS, for
    /// simulation: a recovery point synthesized with `bytes` (only its size
    /// matters for timing), the request and the after-restore settings
    /// built as for a live plan (`ttl: copy` adds no step: the original
    /// table is not read), the estimate from `model`, and of the data
    /// checks only the paced item count (`verify.items`).
    pub fn offline(
        plan: &str,
        restore: &Restore,
        bytes: u64,
        model: &DurationModel,
        now: DateTime<Utc>,
    ) -> Self {
        let rp =
            synthesize_recovery_point(&crate::check::request::lookup_view(restore), bytes, now);
        let copy =
            crate::check::request::build_copy_request(restore, rp.as_ref(), None).map(|request| {
                ResolvedCopy {
                    scope: restore.source.clone(),
                    request,
                    estimated_seconds: model.copy_estimate(bytes),
                }
            });
        let key_arn = match &restore.encryption {
            Encryption::CustomerManaged { key } => Some(key.arn.as_str()),
            _ => None,
        };
        let mut spec = Self {
            id: restore.id.clone(),
            target: restore.target.location.clone(),
            target_name: restore.target_name.clone(),
            request: build_request(restore, rp.as_ref(), key_arn, None),
            changes: changes::planned(plan, &restore.after_restore, &changes::Original::default()),
            estimated_seconds: 0.0,
            expect: Expectations {
                // The simulated table is counted (in virtual time, paced as
                // a real one); keys and commands need the real data.
                data: restore.after_restore.verify.as_ref().and_then(|v| {
                    v.items.map(|_| crate::plan::verify::Verify {
                        // Simulated tables hold no real items: count, never judge.
                        items: Some(Default::default()),
                        keys: Vec::new(),
                        command: None,
                        ..v.clone()
                    })
                }),
                ..Expectations::default()
            },
            blocked: None,
            copy,
        };
        // Offline the original is unknown: the capacity the plan names is
        // sent as written (a capacity only the original could supply is left out).
        if let Ok((request, changes)) = crate::check::capacity::apply(
            &restore.capacity,
            spec.request.clone(),
            spec.changes.clone(),
            None,
            rp.as_ref().and_then(|rp| rp.indexes.as_deref()),
        ) {
            spec.request = request;
            spec.changes = changes;
        }
        spec.estimated_seconds = model.estimate(bytes, spec.is_native());
        spec
    }

    /// `(recovery point copied, target table name)` of each spec with a
    /// copy step, for [`crate::cloud::sim::SimCloud::with_copies`].
    pub fn copies(specs: &[RestoreSpec]) -> Vec<(String, String)> {
        specs
            .iter()
            .filter_map(|s| {
                let c = s.copy.as_ref()?;
                Some((c.request.recovery_point_arn.clone(), s.target_name.clone()))
            })
            .collect()
    }

    /// Estimated seconds from the start of the restore's first step (its
    /// copy, if any) until its table is ACTIVE: what the scheduler orders
    /// the critical path by.
    pub fn estimated_total_seconds(&self) -> f64 {
        self.estimated_seconds.max(0.0)
            + self
                .copy
                .as_ref()
                .map_or(0.0, |c| c.estimated_seconds.max(0.0))
    }

    /// True when the restore goes through DynamoDB itself (the table appears
    /// at once and is polled with `DescribeTable`).
    pub fn is_native(&self) -> bool {
        !matches!(self.request, RestoreRequest::StartRestoreJob { .. })
    }

    /// The settings to apply after the restore, as run `run_id` of plan
    /// `plan` sends them: the planned list with the run tags in its leading
    /// `TagResource` call (see [`crate::check::changes::for_run`]).
    pub fn changes_for_run(&self, plan: &str, run_id: &str) -> Vec<TableChange> {
        changes::for_run(&self.changes, plan, run_id)
    }
}

/// A synthesized recovery point for `restore` (`None` for point-in-time restores).
pub fn synthesize_recovery_point(
    restore: &Restore,
    bytes: u64,
    now: DateTime<Utc>,
) -> Option<RecoveryPoint> {
    let (arn, origin) = match &restore.recovery_point {
        RecoveryPointSelector::PointInTime { .. } => return None,
        RecoveryPointSelector::DynamoDbBackupArn { arn } => {
            (arn.clone(), RecoveryPointOrigin::DynamoDbBackup)
        }
        RecoveryPointSelector::BackupArn { arn } => (
            arn.clone(),
            RecoveryPointOrigin::Vault {
                vault: restore.target.vault.clone().unwrap_or_default(),
            },
        ),
        RecoveryPointSelector::Latest
        | RecoveryPointSelector::LatestBefore { .. }
        | RecoveryPointSelector::RandomWithin { .. } => match &restore.target.vault {
            Some(vault) => (
                format!(
                    "arn:aws:backup:{}:{}:recovery-point:simulated-{}",
                    restore.target.location.region, restore.target.location.account, restore.id
                ),
                RecoveryPointOrigin::Vault {
                    vault: vault.clone(),
                },
            ),
            None => (
                format!("{}/backup/simulated", restore.source_table_arn()),
                RecoveryPointOrigin::DynamoDbBackup,
            ),
        },
    };
    Some(RecoveryPoint {
        arn,
        origin,
        resource_arn: restore.source_table_arn(),
        resource_type: "DynamoDB".to_owned(),
        status: "COMPLETED".to_owned(),
        created: now,
        size_bytes: Some(bytes),
        item_count: None,
        encryption_key_arn: None,
        indexes: None,
        capacity: None,
    })
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

/// The `IdempotencyToken` of the copy step of attempt `attempt` of a
/// restore: derived from the run and restore ids like the restore's token,
/// kept apart from it, so a resumed run's `StartCopyJob` returns the copy
/// job it started before.
pub fn copy_token(run_id: &str, restore_id: &str, attempt: u32) -> String {
    attempt_token(&format!("{run_id}\0copy"), restore_id, attempt)
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
        let c = copy_token("run-1", "accounts", 0);
        assert_eq!(c, copy_token("run-1", "accounts", 0));
        assert_ne!(c, a);
        assert_ne!(c, copy_token("run-1", "accounts", 1));
        assert!(c.len() <= 64);
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
