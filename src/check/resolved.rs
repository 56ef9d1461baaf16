//! A plan resolved against a cloud: exactly what `apply` will send.
//!
//! Built by the live checks, rendered by the dry-run diff, executed by the
//! executor, so review and execution can never disagree.

use serde::Serialize;

use crate::cloud::{
    CopyRequest, KeyFacts, PitrFacts, RecoveryPoint, RestoreRequest, Scope, TableChange, TableFacts,
};
use crate::diag::Finding;

/// Placeholder for the recovery point a copy step creates, until it exists.
pub const COPY_PLACEHOLDER: &str = "<the copy's recovery point, known once the copy completes>";

/// Placeholder for the idempotency token until a run id exists.
pub const TOKEN_PLACEHOLDER: &str = "<derived at apply from the run id and the restore id>";

/// Whether a restore can go ahead.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Disposition {
    /// Every live check passed.
    Ready,
    /// At least one live check failed; `apply` will not start it.
    Blocked {
        /// The failed checks.
        reasons: Vec<Finding>,
    },
}

/// One restore resolved against a cloud.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedRestore {
    /// Index into `Plan::restores()` and node of the dependency graph.
    pub index: usize,
    /// Restore id.
    pub id: String,
    /// Account and Region the restore runs in.
    pub target: Scope,
    /// Target table name.
    pub target_name: String,
    /// The chosen recovery point or backup; `None` for point-in-time restores.
    pub recovery_point: Option<RecoveryPoint>,
    /// PITR window of the original table, for point-in-time restores.
    pub pitr: Option<PitrFacts>,
    /// The original table, when the caller can read it.
    pub source_table: Option<TableFacts>,
    /// The key the restored table will be encrypted with (customer-managed or
    /// same-as-source), in the target Region.
    pub key: Option<KeyFacts>,
    /// The request `apply` sends (the idempotency token is
    /// [`TOKEN_PLACEHOLDER`] until a run exists).
    pub request: RestoreRequest,
    /// Settings applied once the table is ACTIVE, in order. The executor adds
    /// the `restoreplan:run` tag.
    pub changes: Vec<TableChange>,
    /// Estimated restore duration in seconds.
    pub estimated_seconds: f64,
    /// Ready or blocked.
    pub disposition: Disposition,
    /// The copy step before the restore (`copy`), when the plan has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<ResolvedCopy>,
}

/// The copy step of a restore resolved against a cloud.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ResolvedCopy {
    /// Account and Region the copy job runs in (the source's).
    pub scope: Scope,
    /// The `StartCopyJob` request `apply` sends (the idempotency token is
    /// [`TOKEN_PLACEHOLDER`] until a run exists).
    pub request: CopyRequest,
    /// Estimated copy duration in seconds.
    pub estimated_seconds: f64,
}

impl RestoreRequest {
    /// The same request with its idempotency token set (AWS Backup only).
    pub fn with_idempotency_token(&self, token: &str) -> RestoreRequest {
        let mut r = self.clone();
        if let RestoreRequest::StartRestoreJob {
            idempotency_token, ..
        } = &mut r
        {
            *idempotency_token = token.to_owned();
        }
        r
    }

    /// The same request restoring `recovery_point_arn` instead (AWS Backup
    /// only): the recovery point a copy step made.
    pub fn with_recovery_point(&self, arn: &str) -> RestoreRequest {
        let mut r = self.clone();
        if let RestoreRequest::StartRestoreJob {
            recovery_point_arn, ..
        } = &mut r
        {
            *recovery_point_arn = arn.to_owned();
        }
        r
    }
}

impl CopyRequest {
    /// The same request with its idempotency token set.
    pub fn with_idempotency_token(&self, token: &str) -> CopyRequest {
        CopyRequest {
            idempotency_token: token.to_owned(),
            ..self.clone()
        }
    }
}
