//! A plan resolved against a cloud: exactly what `apply` will send.
//!
//! Built by the live checks, rendered by the dry-run diff, executed by the
//! executor, so review and execution can never disagree.

use serde::Serialize;

use crate::cloud::{
    KeyFacts, PitrFacts, RecoveryPoint, RestoreRequest, Scope, TableChange, TableFacts,
};
use crate::diag::Finding;

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
}
