//! The dry-run model: everything `restoreplan plan` shows, as plain data.
//!
//! Serialised as the versioned JSON output of `plan --format json` and as the
//! saved plan file of `plan --out`; its JSON Schema is
//! `schemas/plan-output.schema.json`, generated from these types.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A timestamp as RFC 3339 in UTC with a `Z`, to the second.
pub fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Version of the JSON shape below; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// A dry-run plan: a plan resolved against a live account, restore by restore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DryRun {
    /// Version of this JSON shape ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The plan's identity and objectives.
    pub plan: PlanInfo,
    /// When the live checks ran.
    pub checked_at: DateTime<Utc>,
    /// The seed and time of the `random_within` picks, so `apply --plan-file`
    /// draws the same points; absent when no restore draws one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_draw: Option<crate::check::random::RandomDraw>,
    /// The `select:` restores and the tables each expanded to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selections: Vec<crate::plan::select::GroupView>,
    /// The identity used for each account.
    pub identities: Vec<IdentityView>,
    /// One entry per restore, in plan order.
    pub restores: Vec<RestoreView>,
    /// Findings not tied to one restore (credentials, the RTO estimate).
    pub findings: Vec<FindingView>,
    /// Predicted duration of the whole plan.
    pub estimate: Estimate,
    /// Counts for the summary line.
    pub summary: Summary,
}

/// The plan's identity and global settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanInfo {
    /// Plan name.
    pub name: String,
    /// Plan description.
    pub description: Option<String>,
    /// `objectives.rpo` in seconds.
    pub rpo_seconds: Option<u64>,
    /// `objectives.rto` in seconds.
    pub rto_seconds: Option<u64>,
    /// `execution.concurrency`.
    pub concurrency: u32,
    /// `execution.on_failure`: `continue` or `stop`.
    pub on_failure: String,
    /// SHA-256 of the resolved plan, so a saved plan knows which plan it came from.
    pub digest: String,
}

/// The identity used for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IdentityView {
    /// The account.
    pub account: String,
    /// Caller ARN, when credentials worked.
    pub arn: Option<String>,
    /// How the credentials were obtained.
    pub source: Option<String>,
    /// Why no identity could be had.
    pub error: Option<String>,
}

/// What `apply` will do with a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Every live check passed: `apply` sends the request.
    Restore,
    /// A live check failed: `apply` will not start it.
    Blocked,
}

/// A table, fully located.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TableRef {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// Table name.
    pub name: String,
    /// Table ARN.
    pub arn: String,
}

/// Where the restored data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RecoveryKind {
    /// An AWS Backup recovery point in a vault.
    AwsBackup,
    /// A DynamoDB on-demand backup.
    DynamodbBackup,
    /// DynamoDB point-in-time recovery of the original table.
    PointInTime,
    /// Not resolved (the restore is blocked).
    Unresolved,
}

/// The chosen recovery point, or point in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecoveryPointView {
    /// Where the data comes from.
    pub kind: RecoveryKind,
    /// The selector as the plan wrote it, e.g. `latest`.
    pub selector: String,
    /// Recovery point or backup ARN.
    pub arn: Option<String>,
    /// Vault name, for AWS Backup recovery points.
    pub vault: Option<String>,
    /// `COMPLETED`, …
    pub status: Option<String>,
    /// When the data was taken (for point-in-time: the time restored to).
    pub created: Option<DateTime<Utc>>,
    /// Age at check time, in seconds.
    pub age_seconds: Option<u64>,
    /// True when the age is within the RPO; `None` without an RPO or a time.
    pub within_rpo: Option<bool>,
    /// Size in bytes, when known.
    pub size_bytes: Option<u64>,
    /// Item count, when known.
    pub item_count: Option<u64>,
}

/// The exact request `apply` sends, in the AWS API's own parameter names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestView {
    /// `StartRestoreJob`, `RestoreTableFromBackup` or `RestoreTableToPointInTime`.
    pub operation: String,
    /// Service: `backup` or `dynamodb`.
    pub service: String,
    /// Request parameters as sent.
    pub parameters: serde_json::Value,
}

/// Which kind of key encrypts a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KeyKind {
    /// The AWS-owned key (DynamoDB's default).
    AwsOwned,
    /// The AWS-managed key `alias/aws/dynamodb`.
    AwsManaged,
    /// A customer-managed key.
    CustomerManaged,
    /// Not known (the original table could not be read).
    Unknown,
}

/// Encryption of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeyView {
    /// Kind of key.
    pub kind: KeyKind,
    /// Key ARN, when there is one.
    pub key_arn: Option<String>,
}

/// Encryption of the original table and of the restored one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EncryptionChange {
    /// The original table.
    pub before: KeyView,
    /// The restored table.
    pub after: KeyView,
    /// True when the restored table uses another key than the original.
    pub changed: bool,
}

/// A global secondary index of the original table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IndexView {
    /// Index name.
    pub name: String,
    /// True when the restored table keeps it.
    pub kept: bool,
}

/// A table setting that a restore does not carry over.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Setting {
    /// Time to live.
    Ttl,
    /// DynamoDB Streams.
    Stream,
    /// Point-in-time recovery.
    PointInTimeRecovery,
    /// Resource tags.
    Tags,
    /// Application Auto Scaling policies.
    AutoScaling,
    /// Deletion protection.
    DeletionProtection,
    /// The table's resource-based policy.
    ResourcePolicy,
    /// CloudWatch contributor insights.
    ContributorInsights,
    /// The Kinesis streaming destination.
    KinesisDestination,
    /// CloudWatch alarms on the table.
    Alarms,
}

impl Setting {
    /// How people call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ttl => "time to live",
            Self::Stream => "stream",
            Self::PointInTimeRecovery => "point-in-time recovery",
            Self::Tags => "tags",
            Self::AutoScaling => "auto scaling",
            Self::DeletionProtection => "deletion protection",
            Self::ResourcePolicy => "resource-based policy",
            Self::ContributorInsights => "contributor insights",
            Self::KinesisDestination => "Kinesis streaming destination",
            Self::Alarms => "alarms",
        }
    }
}

/// What happens to a setting the restore does not carry over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SettingOutcome {
    /// The plan sets it after the restore (`after_restore`).
    Reapplied,
    /// The original had it and the restored table will not: a warning.
    Lost,
    /// The original did not have it; nothing to carry over.
    NotNeeded,
    /// The original's value could not be read, so nobody knows.
    Unknown,
}

/// One setting: the original's value, the restored table's, and the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SettingView {
    /// Which setting.
    pub setting: Setting,
    /// The original table's value.
    pub before: String,
    /// The restored table's value once the after-restore steps ran.
    pub after: String,
    /// Re-applied, lost, not needed or unknown.
    pub outcome: SettingOutcome,
    /// Why, when it is not obvious.
    pub note: Option<String>,
}

/// One after-restore step, in the order the executor runs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StepView {
    /// AWS operation, e.g. `UpdateContinuousBackups`.
    pub operation: String,
    /// What it does, e.g. `point-in-time recovery on`.
    pub description: String,
}

/// How serious a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Informational.
    Note,
    /// Worth a look.
    Warning,
    /// Blocks the restore.
    Error,
}

/// A finding, as shown in a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FindingView {
    /// Stable rule code.
    pub code: String,
    /// Error, warning or note.
    pub level: Level,
    /// What is wrong.
    pub message: String,
    /// The restore it concerns.
    pub restore: Option<String>,
    /// What AWS answered.
    pub evidence: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
}

/// One restore, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RestoreView {
    /// Restore id.
    pub id: String,
    /// Restore or blocked.
    pub action: Action,
    /// Why it is blocked (the failed checks' messages).
    pub blocked_because: Vec<String>,
    /// The original table.
    pub source: TableRef,
    /// The table the restore creates.
    pub target: TableRef,
    /// The chosen recovery point.
    pub recovery_point: RecoveryPointView,
    /// The exact request `apply` sends.
    pub request: RequestView,
    /// Encryption before and after.
    pub encryption: EncryptionChange,
    /// Indexes of the original, kept or dropped; empty when unknown.
    pub indexes: Vec<IndexView>,
    /// Settings a restore does not carry over.
    pub settings: Vec<SettingView>,
    /// Steps run once the table is ACTIVE.
    pub after_restore: Vec<StepView>,
    /// Restores this one waits for.
    pub depends_on: Vec<String>,
    /// Estimated duration of the restore and its after-restore steps (and
    /// its copy step, when it has one), in seconds.
    pub estimated_seconds: u64,
    /// Findings about this restore.
    pub findings: Vec<FindingView>,
    /// The copy step (`copy:`) that runs before the restore, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyView>,

    /// Where the capacity the plan leaves to the original was read, when
    /// the plan sets capacity or class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_from: Option<crate::check::capacity::CapacitySource>,
}

/// The copy step of a restore: AWS Backup `StartCopyJob` in the source
/// account, whose recovery point the restore then restores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CopyView {
    /// Account and Region the copy job runs in (the source's).
    pub account: String,
    /// Region of the copy job.
    pub region: String,
    /// The exact `StartCopyJob` request `apply` sends.
    pub request: RequestView,
    /// Estimated duration of the copy, in seconds.
    pub estimated_seconds: u64,
}

/// The predicted RTO of the whole plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Estimate {
    /// Predicted wall time from start to the last after-restore step, in
    /// seconds, honouring dependencies and concurrency.
    pub predicted_rto_seconds: u64,
    /// The objective, if the plan sets one.
    pub rto_seconds: Option<u64>,
    /// True when the prediction meets the objective; `None` without one.
    pub within_rto: Option<bool>,
    /// Restore ids on the longest dependency chain.
    pub critical_path: Vec<String>,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Restores in the plan.
    pub restores: usize,
    /// Restores `apply` will start.
    pub to_restore: usize,
    /// Restores that are blocked.
    pub blocked: usize,
    /// Error findings.
    pub errors: usize,
    /// Warning findings (lost settings included).
    pub warnings: usize,
}

impl DryRun {
    /// Every finding, plan-level first, then by restore.
    pub fn all_findings(&self) -> impl Iterator<Item = &FindingView> {
        self.findings
            .iter()
            .chain(self.restores.iter().flat_map(|r| r.findings.iter()))
    }

    /// True when every restore can go ahead.
    pub fn is_ready(&self) -> bool {
        self.summary.blocked == 0 && self.summary.errors == 0
    }

    /// Parses a saved plan (`plan --out`), refusing other schema versions.
    pub fn from_json(text: &str) -> Result<Self, SavedPlanError> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: Option<u32>,
        }
        let v: Version = serde_json::from_str(text).map_err(SavedPlanError::NotJson)?;
        match v.schema_version {
            Some(SCHEMA_VERSION) => {}
            Some(found) => return Err(SavedPlanError::Version { found }),
            None => return Err(SavedPlanError::NotAPlan),
        }
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| SavedPlanError::Shape {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })
    }
}

/// Why a saved plan file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    /// Not JSON at all.
    #[error("read the saved plan: not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// JSON without a `schema_version`.
    #[error(
        "read the saved plan: no `schema_version`; pass a file written by `restoreplan plan --out`"
    )]
    NotAPlan,
    /// Written by another version of restoreplan.
    #[error(
        "read the saved plan: schema version {found}, this restoreplan reads version {SCHEMA_VERSION}; run `restoreplan plan --out` again"
    )]
    Version {
        /// The version in the file.
        found: u32,
    },
    /// Right version, wrong shape.
    #[error("read the saved plan: at `{path}`: {message}")]
    Shape {
        /// Path of the bad value.
        path: String,
        /// What was wrong.
        message: String,
    },
}
