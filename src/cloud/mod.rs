//! The boundary to AWS: two narrow traits and the domain types they speak.
//!
//! [`CloudRead`] has only describe/list calls; [`CloudWrite`] adds the calls
//! that change something. The dry-run path (`validate --live`, `plan`,
//! `audit`) is handed a `CloudRead` and so cannot mutate by construction.
//! Implementations: `restoreplan::aws` (the real SDK clients, pointed at the local
//! emulator by `AWS_ENDPOINT_URL` in tests) and [`sim`], the virtual-time
//! simulator that imitates it.
//! AWS SDK types never leave the adapter; this module must not do I/O itself.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::plan::capacity::{BillingMode, OnDemandThroughput, TableClass, Throughput};
use crate::plan::model::{AccountId, Location, Region};

pub mod cache;
pub mod data;
pub mod settings;
pub mod sim;
pub mod wire;

/// Where a call is made: the account whose identity is used, and the Region.
pub type Scope = Location;

/// The identity a call ran as, for evidence and error messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Account of the caller.
    pub account: String,
    /// Caller ARN (user or assumed role).
    pub arn: String,
    /// How the credentials were obtained, e.g. `ambient credentials`,
    /// `profile dr`, `role arn:aws:iam::…:role/x assumed`.
    pub source: String,
}

/// Why credentials meant for account `expected` must not be used, when
/// `GetCallerIdentity` says they are of another account: the message names
/// both accounts and the fix. `None` when they are of `expected`.
pub fn wrong_account(expected: &str, identity: &Identity) -> Option<String> {
    if identity.account == expected {
        return None;
    }
    let actual = if identity.account.is_empty() {
        "an unknown account"
    } else {
        identity.account.as_str()
    };
    Some(format!(
        "credentials for {expected} are of {actual} ({}, {}) — pass --role {expected}=arn:aws:iam::{expected}:role/NAME or --profile {expected}=PROFILE with credentials of {expected}",
        identity.arn, identity.source
    ))
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.arn, self.source)
    }
}

/// Who manages a KMS key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyManager {
    /// AWS-managed (e.g. `alias/aws/dynamodb`): never multi-Region, never shareable.
    Aws,
    /// Customer-managed.
    Customer,
}

/// Multi-Region role of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MultiRegionRole {
    /// The primary key.
    Primary,
    /// A replica of a primary key.
    Replica,
}

/// Multi-Region facts of a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiRegion {
    /// Whether this key is the primary or a replica.
    pub role: MultiRegionRole,
    /// The primary key's ARN.
    pub primary_arn: String,
    /// Replica key ARNs (every Region but the primary's).
    pub replica_arns: Vec<String>,
}

impl MultiRegion {
    /// The ARN of the related key (primary or replica) in `region`, if any.
    pub fn arn_in(&self, region: &Region) -> Option<&str> {
        std::iter::once(&self.primary_arn)
            .chain(self.replica_arns.iter())
            .map(String::as_str)
            .find(|arn| arn_region(arn) == Some(region.as_str()))
    }
}

/// What KMS says about a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFacts {
    /// The key ARN (aliases resolved).
    pub arn: String,
    /// Owning account.
    pub account: String,
    /// Region of this key.
    pub region: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, …
    pub state: String,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, …
    pub spec: String,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`, …
    pub usage: String,
    /// AWS- or customer-managed.
    pub manager: KeyManager,
    /// Multi-Region facts, for multi-Region keys.
    pub multi_region: Option<MultiRegion>,
}

/// Outcome of a side-effect-free permission probe (a KMS call with `DryRun`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProbeOutcome {
    /// The call would have succeeded.
    Allowed,
    /// The call was refused, with AWS's error code and message.
    Denied(String),
}

/// A KMS operation probed with `DryRun`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyOperation {
    /// `kms:CreateGrant`, which DynamoDB needs to use a customer key.
    CreateGrant,
    /// `kms:Decrypt`.
    Decrypt,
    /// `kms:Encrypt`.
    Encrypt,
    /// `kms:GenerateDataKey`.
    GenerateDataKey,
    /// `kms:ReEncrypt*`.
    ReEncrypt,
}

/// Where a recovery point lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RecoveryPointOrigin {
    /// An AWS Backup recovery point in a vault.
    Vault {
        /// Vault name.
        vault: String,
    },
    /// A DynamoDB on-demand backup.
    DynamoDbBackup,
}

/// A global secondary index definition, as needed for restore overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDef {
    /// Index name.
    pub name: String,
    /// `(attribute, HASH|RANGE)` pairs.
    pub key_schema: Vec<(String, String)>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection_type: String,
    /// Attributes projected for `INCLUDE`.
    pub non_key_attributes: Vec<String>,
}

/// A recovery point (AWS Backup) or backup (DynamoDB) of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryPoint {
    /// Recovery point or backup ARN.
    pub arn: String,
    /// Vault or DynamoDB backup.
    pub origin: RecoveryPointOrigin,
    /// ARN of the original table (copies keep it).
    pub resource_arn: String,
    /// `DynamoDB` for tables.
    pub resource_type: String,
    /// `COMPLETED`, `PARTIAL`, `EXPIRED`, … (DynamoDB `AVAILABLE` maps to `COMPLETED`).
    pub status: String,
    /// When it was taken.
    pub created: DateTime<Utc>,
    /// Size, when known.
    pub size_bytes: Option<u64>,
    /// Item count, when known.
    pub item_count: Option<u64>,
    /// Key that encrypted the backup/table, when known.
    pub encryption_key_arn: Option<String>,
    /// GSIs of the table at backup time, when known.
    pub indexes: Option<Vec<IndexDef>>,

    /// Capacity of the table and its GSIs at backup time, when the
    /// recovery point holds a table description (DynamoDB `DescribeBackup`
    /// `SourceTableDetails` / `SourceTableFeatureDetails`); no class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<TableCapacity>,
}

/// How a table is encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum TableEncryption {
    /// AWS-owned key.
    Owned,
    /// AWS-managed key.
    Managed {
        /// The key ARN when DynamoDB reports it.
        key_arn: Option<String>,
    },
    /// Customer-managed key.
    Customer {
        /// The key ARN.
        key_arn: String,
    },
}

/// What DynamoDB says about a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableFacts {
    /// Table ARN.
    pub arn: String,
    /// Table name.
    pub name: String,
    /// `CREATING`, `ACTIVE`, …
    pub status: String,
    /// Item count (DynamoDB updates it about every six hours).
    pub item_count: Option<u64>,
    /// Size in bytes.
    pub size_bytes: Option<u64>,
    /// Encryption at rest, as DynamoDB reports it (`KMS` with a key ARN, or none).
    pub encryption: TableEncryption,
    /// Global secondary indexes.
    pub indexes: Vec<IndexDef>,
    /// Stream view type when streams are on.
    pub stream: Option<String>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// True while a restore into this table is still running.
    pub restore_in_progress: bool,
    /// DynamoDB's `TableId`: a table deleted and created again under the
    /// same name gets a new one (`None` when not reported).
    #[serde(default)]
    pub table_id: Option<String>,
    /// When and from what DynamoDB says the table was made.
    #[serde(default)]
    pub origin: TableOrigin,
    /// Billing mode, capacity and class.
    #[serde(default)]
    pub capacity: TableCapacity,
}

/// Capacity and class of a table or index, as `DescribeTable` reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCapacity {
    /// `BillingModeSummary.BillingMode` (provisioned when DynamoDB omits it).
    pub billing_mode: Option<BillingMode>,
    /// `ProvisionedThroughput` of a provisioned table.
    pub throughput: Option<Throughput>,
    /// `OnDemandThroughput`, when a maximum is set.
    pub on_demand: Option<OnDemandThroughput>,
    /// `TableClassSummary.TableClass` (standard when DynamoDB omits it).
    pub table_class: Option<TableClass>,
    /// Each global secondary index's capacity, by name.
    #[serde(default)]
    pub indexes: BTreeMap<String, IndexCapacity>,
}

/// Capacity of a global secondary index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexCapacity {
    /// `ProvisionedThroughput` (provisioned tables).
    pub throughput: Option<Throughput>,
    /// `OnDemandThroughput`, when a maximum is set (on-demand tables).
    pub on_demand: Option<OnDemandThroughput>,
}

/// The capacity overrides of a DynamoDB restore (`RestoreTableFromBackup`,
/// `RestoreTableToPointInTime`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityOverride {
    /// `BillingModeOverride`.
    pub billing_mode: BillingMode,
    /// `ProvisionedThroughputOverride` (provisioned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Throughput>,
    /// `OnDemandThroughputOverride` (on-demand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand: Option<OnDemandThroughput>,
    /// Each index's capacity in `GlobalSecondaryIndexOverride` (the request
    /// then lists every kept index: a provisioned table's carries throughput).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub indexes: BTreeMap<String, IndexCapacity>,
}

/// Where a table came from, as `DescribeTable` reports it
/// (`CreationDateTime` and `RestoreSummary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableOrigin {
    /// `CreationDateTime`.
    pub created_at: Option<DateTime<Utc>>,
    /// `RestoreSummary.SourceBackupArn`.
    pub source_backup: Option<String>,
    /// `RestoreSummary.SourceTableArn`.
    pub source_table: Option<String>,
    /// `RestoreSummary.RestoreDateTime`.
    pub restore_time: Option<DateTime<Utc>>,
}

impl TableFacts {
    /// DynamoDB names the AWS-managed key by its ARN, like any customer key;
    /// once KMS has said who manages the key, classify the table's
    /// encryption accordingly.
    pub fn with_key_manager(mut self, manager: KeyManager) -> TableFacts {
        if let (KeyManager::Aws, TableEncryption::Customer { key_arn }) =
            (manager, &self.encryption)
        {
            self.encryption = TableEncryption::Managed {
                key_arn: Some(key_arn.clone()),
            };
        }
        self
    }
}

/// Point-in-time recovery facts of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PitrFacts {
    /// PITR enabled.
    pub enabled: bool,
    /// Earliest restorable time.
    pub earliest: Option<DateTime<Utc>>,
    /// Latest restorable time.
    pub latest: Option<DateTime<Utc>>,
}

/// Time to live facts of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtlFacts {
    /// `ENABLED`, `DISABLED`, `ENABLING`, `DISABLING`.
    pub status: String,
    /// TTL attribute, when set.
    pub attribute: Option<String>,
}

/// Status of a restore job (AWS Backup) or native restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    /// Accepted, not started.
    Pending,
    /// In progress.
    Running,
    /// Done; the table exists.
    Completed,
    /// Aborted by AWS or a user.
    Aborted,
    /// Failed.
    Failed,
}

impl JobStatus {
    /// True when the job will not change any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Aborted | Self::Failed)
    }
}

/// What AWS Backup says about a restore job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreJob {
    /// Restore job id.
    pub id: String,
    /// Status.
    pub status: JobStatus,
    /// AWS's status message (the failure cause).
    pub status_message: Option<String>,
    /// Percent done, 0–100.
    pub percent_done: Option<f64>,
    /// AWS's estimate of the whole job's duration in minutes.
    pub expected_completion_minutes: Option<i64>,
    /// ARN of the created table.
    pub created_resource_arn: Option<String>,
    /// When the job was created.
    pub created: Option<DateTime<Utc>>,
    /// When the job finished.
    pub completed: Option<DateTime<Utc>>,
}

/// Server-side encryption requested for a restored table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum SseRequest {
    /// AWS-owned key (`SSESpecificationOverride.Enabled = false`).
    Owned,
    /// AWS-managed key (`Enabled = true, SSEType = KMS`, no key).
    Managed,
    /// A customer-managed key (`Enabled = true, SSEType = KMS, KMSMasterKeyId`).
    Customer {
        /// Key ARN in the target Region.
        key_arn: String,
    },
}

/// A restore request exactly as `apply` sends it and `plan` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "operation")]
pub enum RestoreRequest {
    /// AWS Backup `StartRestoreJob`.
    StartRestoreJob {
        /// `RecoveryPointArn`.
        recovery_point_arn: String,
        /// `IamRoleArn`.
        iam_role_arn: String,
        /// `IdempotencyToken`, derived from the run and the restore id.
        idempotency_token: String,
        /// `ResourceType` (`DynamoDB`).
        resource_type: String,
        /// The restored table's name (in `Metadata`).
        target_table_name: String,
        /// The encryption of the restored table (in `Metadata`).
        sse: SseRequest,
        /// The indexes to create, when indexes are dropped (in `Metadata`).
        indexes: Option<Vec<IndexDef>>,
    },
    /// DynamoDB `RestoreTableFromBackup`.
    RestoreTableFromBackup {
        /// `BackupArn`.
        backup_arn: String,
        /// `TargetTableName`.
        target_table_name: String,
        /// `SSESpecificationOverride`.
        sse: SseRequest,
        /// `GlobalSecondaryIndexOverride`, when indexes are dropped (or
        /// capacity is overridden).
        indexes: Option<Vec<IndexDef>>,
        /// `BillingModeOverride`, `ProvisionedThroughputOverride`,
        /// `OnDemandThroughputOverride` and the indexes' capacity.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        capacity: Option<CapacityOverride>,
    },
    /// DynamoDB `RestoreTableToPointInTime`.
    RestoreTableToPointInTime {
        /// `SourceTableArn`.
        source_table_arn: String,
        /// `TargetTableName`.
        target_table_name: String,
        /// `RestoreDateTime`; `None` sends `UseLatestRestorableTime = true`.
        restore_date_time: Option<DateTime<Utc>>,
        /// `SSESpecificationOverride`.
        sse: SseRequest,
        /// `GlobalSecondaryIndexOverride`, when indexes are dropped (or
        /// capacity is overridden).
        indexes: Option<Vec<IndexDef>>,
        /// `BillingModeOverride`, `ProvisionedThroughputOverride`,
        /// `OnDemandThroughputOverride` and the indexes' capacity.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        capacity: Option<CapacityOverride>,
    },
}

impl RestoreRequest {
    /// What `DescribeTable` reports about a table this request created at
    /// `created_at` (the evidence that a table is this request's).
    pub fn origin_at(&self, created_at: DateTime<Utc>) -> TableOrigin {
        match self {
            Self::RestoreTableFromBackup { backup_arn, .. } => TableOrigin {
                created_at: Some(created_at),
                source_backup: Some(backup_arn.clone()),
                source_table: None,
                restore_time: None,
            },
            Self::RestoreTableToPointInTime {
                source_table_arn,
                restore_date_time,
                ..
            } => TableOrigin {
                created_at: Some(created_at),
                source_backup: None,
                source_table: Some(source_table_arn.clone()),
                restore_time: Some(restore_date_time.unwrap_or(created_at)),
            },
            Self::StartRestoreJob { .. } => TableOrigin {
                created_at: Some(created_at),
                ..TableOrigin::default()
            },
        }
    }

    /// The name of the table the request creates.
    pub fn target_table_name(&self) -> &str {
        match self {
            Self::StartRestoreJob {
                target_table_name, ..
            }
            | Self::RestoreTableFromBackup {
                target_table_name, ..
            }
            | Self::RestoreTableToPointInTime {
                target_table_name, ..
            } => target_table_name,
        }
    }

    /// The encryption the request asks for.
    pub fn sse(&self) -> &SseRequest {
        match self {
            Self::StartRestoreJob { sse, .. }
            | Self::RestoreTableFromBackup { sse, .. }
            | Self::RestoreTableToPointInTime { sse, .. } => sse,
        }
    }

    /// The indexes the request keeps, when it drops some (`None`: all).
    pub fn indexes(&self) -> Option<&[IndexDef]> {
        match self {
            Self::StartRestoreJob { indexes, .. }
            | Self::RestoreTableFromBackup { indexes, .. }
            | Self::RestoreTableToPointInTime { indexes, .. } => indexes.as_deref(),
        }
    }

    /// The AWS operation name.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::StartRestoreJob { .. } => "StartRestoreJob",
            Self::RestoreTableFromBackup { .. } => "RestoreTableFromBackup",
            Self::RestoreTableToPointInTime { .. } => "RestoreTableToPointInTime",
        }
    }
}

/// What starting a restore returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StartedRestore {
    /// An AWS Backup restore job; poll it with [`CloudRead::describe_restore_job`].
    Job {
        /// Restore job id.
        id: String,
    },
    /// A DynamoDB-native restore; poll the table until it is ACTIVE.
    Table {
        /// The new table's ARN.
        arn: String,
    },
}

/// An AWS Backup vault (`DescribeBackupVault`, `GetBackupVaultAccessPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultFacts {
    /// Vault name.
    pub name: String,
    /// Vault ARN.
    pub arn: String,
    /// The KMS key that encrypts the vault's recovery points (copies are
    /// re-encrypted with it).
    pub encryption_key_arn: Option<String>,
    /// The vault's access policy document, `None` when it has none.
    pub access_policy: Option<String>,
}

/// AWS Backup `StartCopyJob`, exactly as `apply` sends it and `plan` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyRequest {
    /// `SourceBackupVaultName`, in the source account and Region.
    pub source_backup_vault_name: String,
    /// `RecoveryPointArn`: the recovery point copied.
    pub recovery_point_arn: String,
    /// `DestinationBackupVaultArn`: the target vault.
    pub destination_backup_vault_arn: String,
    /// `IamRoleArn`.
    pub iam_role_arn: String,
    /// `IdempotencyToken`, derived from the run and the restore id.
    pub idempotency_token: String,
}

/// What AWS Backup says about a copy job (`DescribeCopyJob`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyJob {
    /// Copy job id.
    pub id: String,
    /// `CREATED` maps to pending, `PARTIAL` to failed.
    pub status: JobStatus,
    /// AWS's status message (the failure cause).
    pub status_message: Option<String>,
    /// The copy's recovery point in the destination vault.
    pub destination_recovery_point_arn: Option<String>,
    /// The destination vault.
    pub destination_vault_arn: Option<String>,
    /// Size copied, when known.
    pub size_bytes: Option<u64>,
    /// When the job was created.
    pub created: Option<DateTime<Utc>>,
    /// When the job finished.
    pub completed: Option<DateTime<Utc>>,
}

/// A setting changed on a restored table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "setting", rename_all = "kebab-case")]
pub enum TableChange {
    /// `UpdateContinuousBackups`.
    PointInTimeRecovery {
        /// On or off.
        enabled: bool,
    },
    /// `UpdateTable DeletionProtectionEnabled`.
    DeletionProtection {
        /// On or off.
        enabled: bool,
    },
    /// `TagResource`.
    Tags {
        /// Tags to add.
        tags: BTreeMap<String, String>,
    },
    /// `UpdateTimeToLive`.
    Ttl {
        /// Attribute.
        attribute: String,
        /// On or off.
        enabled: bool,
    },
    /// `UpdateTable StreamSpecification`; `None` turns streams off.
    Stream {
        /// Stream view type.
        view_type: Option<String>,
    },

    // Settings beyond DynamoDB's table calls (copied from the original).
    /// DynamoDB `EnableKinesisStreamingDestination`.
    KinesisDestination {
        /// The Kinesis data stream's ARN.
        stream_arn: String,
        /// `ApproximateCreationDateTimePrecision`, when the original sets it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        precision: Option<String>,
    },
    /// DynamoDB `UpdateContributorInsights` of the table or one GSI.
    ContributorInsights {
        /// `None` for the table itself.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<String>,
        /// On or off.
        enabled: bool,
        /// `ContributorInsightsMode` when switched on (`None`: AWS's default).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<String>,
    },
    /// Application Auto Scaling `RegisterScalableTarget`.
    ScalableTarget {
        /// The target, with the restored table's resource id.
        target: settings::ScalableTarget,
    },
    /// Application Auto Scaling `PutScalingPolicy` (step scaling).
    StepScalingPolicy {
        /// The policy, with the restored table's resource id.
        policy: Box<settings::StepPolicy>,
    },
    /// Application Auto Scaling `PutScalingPolicy` (target tracking).
    ScalingPolicy {
        /// The policy, with the restored table's resource id.
        policy: Box<settings::ScalingPolicy>,
    },
    /// DynamoDB `PutResourcePolicy`.
    ResourcePolicy {
        /// The policy document, ARNs naming the restored table.
        policy: String,
    },
    /// CloudWatch `PutMetricAlarm`.
    Alarm {
        /// The alarm, its `TableName` dimension naming the restored table.
        alarm: Box<settings::Alarm>,
    },
    /// `UpdateTable BillingMode`, `ProvisionedThroughput`, `OnDemandThroughput`
    /// and `GlobalSecondaryIndexUpdates` (each index's capacity).
    Capacity {
        /// Billing mode.
        billing_mode: BillingMode,
        /// Provisioned capacity of the table.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        throughput: Option<Throughput>,
        /// On-demand maximum of the table.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_demand: Option<OnDemandThroughput>,
        /// Each index's capacity.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        indexes: BTreeMap<String, IndexCapacity>,
    },
    /// `UpdateTable TableClass`.
    TableClass {
        /// Table class.
        class: TableClass,
    },
}

impl TableChange {
    /// The AWS operation that makes the change.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::PointInTimeRecovery { .. } => "UpdateContinuousBackups",
            Self::DeletionProtection { .. }
            | Self::Stream { .. }
            | Self::Capacity { .. }
            | Self::TableClass { .. } => "UpdateTable",
            Self::Tags { .. } => "TagResource",
            Self::Ttl { .. } => "UpdateTimeToLive",
            Self::KinesisDestination { .. } => "EnableKinesisStreamingDestination",
            Self::ContributorInsights { .. } => "UpdateContributorInsights",
            Self::ScalableTarget { .. } => "RegisterScalableTarget",
            Self::ScalingPolicy { .. } | Self::StepScalingPolicy { .. } => "PutScalingPolicy",
            Self::ResourcePolicy { .. } => "PutResourcePolicy",
            Self::Alarm { .. } => "PutMetricAlarm",
        }
    }

    /// True for what outlives the table it is made for (scalable targets
    /// and their policies, alarms): teardown removes these itself.
    pub fn outlives_table(&self) -> bool {
        matches!(
            self,
            Self::ScalableTarget { .. }
                | Self::ScalingPolicy { .. }
                | Self::StepScalingPolicy { .. }
                | Self::Alarm { .. }
        )
    }
}

/// Broad class of a failed call, which decides retry behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Throttled: retry with backoff.
    Throttled,
    /// 5xx, timeout or connection failure: retry with backoff.
    Transient,
    /// A quota such as 50 concurrent restores: wait for a slot.
    LimitExceeded,
    /// The resource does not exist (or is not visible to the caller).
    NotFound,
    /// The caller may not do this.
    AccessDenied,
    /// The resource exists or is busy (`ResourceInUseException`).
    Conflict,
    /// The request was rejected as invalid.
    Invalid,
    /// The credentials for the account are of another account: nothing
    /// was sent (see [`wrong_account`]).
    WrongAccount,
    /// Anything else.
    Other,
}

/// A failed AWS call, naming the operation and the identity it used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{operation} failed{}: {code}: {message}", identity.as_ref().map(|i| format!(" as {i}")).unwrap_or_default())]
pub struct CloudError {
    /// Retry class.
    pub kind: ErrorKind,
    /// AWS operation, e.g. `DescribeKey`.
    pub operation: String,
    /// AWS error code, e.g. `NotFoundException`.
    pub code: String,
    /// AWS's message.
    pub message: String,
    /// Identity that made the call, when known.
    pub identity: Option<String>,
}

impl CloudError {
    /// A new error.
    pub fn new(
        kind: ErrorKind,
        operation: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            operation: operation.into(),
            code: code.into(),
            message: message.into(),
            identity: None,
        }
    }

    /// True when retrying the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Throttled | ErrorKind::Transient)
    }
}

/// Result of a cloud call.
pub type CloudResult<T> = Result<T, CloudError>;

/// Read-only AWS calls. Nothing here may change anything in any account.
#[async_trait]
pub trait CloudRead: Send + Sync {
    /// Who the calls for `account` run as (STS `GetCallerIdentity`).
    async fn identity(&self, account: &AccountId) -> CloudResult<Identity>;

    /// KMS `DescribeKey` by key id, key ARN, alias name or alias ARN.
    async fn describe_key(&self, scope: &Scope, key: &str) -> CloudResult<KeyFacts>;

    /// KMS `GetKeyPolicy` (policy `default`); `Ok(None)` when the caller may not read it.
    async fn key_policy(&self, scope: &Scope, key_arn: &str) -> CloudResult<Option<String>>;

    /// Probes a key operation with `DryRun`, changing nothing.
    async fn probe_key(
        &self,
        scope: &Scope,
        key_arn: &str,
        operation: KeyOperation,
    ) -> CloudResult<ProbeOutcome>;

    /// AWS Backup recovery points of `resource_arn` in `vault` (newest first).
    async fn vault_recovery_points(
        &self,
        scope: &Scope,
        vault: &str,
        resource_arn: &str,
    ) -> CloudResult<Vec<RecoveryPoint>>;

    /// AWS Backup `DescribeRecoveryPoint`.
    async fn describe_recovery_point(
        &self,
        scope: &Scope,
        vault: &str,
        arn: &str,
    ) -> CloudResult<RecoveryPoint>;

    /// DynamoDB on-demand backups of `table` (newest first).
    async fn table_backups(&self, scope: &Scope, table: &str) -> CloudResult<Vec<RecoveryPoint>>;

    /// DynamoDB `DescribeBackup`.
    async fn describe_backup(&self, scope: &Scope, arn: &str) -> CloudResult<RecoveryPoint>;

    /// DynamoDB `DescribeTable`; `Ok(None)` when the table does not exist.
    async fn describe_table(&self, scope: &Scope, name: &str) -> CloudResult<Option<TableFacts>>;

    /// DynamoDB `DescribeContinuousBackups`.
    async fn describe_pitr(&self, scope: &Scope, name: &str) -> CloudResult<PitrFacts>;

    /// DynamoDB `DescribeTimeToLive`.
    async fn describe_ttl(&self, scope: &Scope, name: &str) -> CloudResult<TtlFacts>;

    /// DynamoDB `ListTagsOfResource`.
    async fn table_tags(&self, scope: &Scope, arn: &str) -> CloudResult<BTreeMap<String, String>>;

    /// AWS Backup `DescribeRestoreJob`.
    async fn describe_restore_job(&self, scope: &Scope, id: &str) -> CloudResult<RestoreJob>;

    /// DynamoDB `ListTables`, every page: the names of the tables in `scope`.
    async fn list_tables(&self, scope: &Scope) -> CloudResult<Vec<String>> {
        let _ = scope;
        Err(CloudError::new(
            ErrorKind::Other,
            "ListTables",
            "NotSupported",
            "this cloud cannot list tables",
        ))
    }

    /// Counts the items of table `name` exactly: DynamoDB `Scan` with
    /// `Select=COUNT`, at most `max_pages` pages of up to 1 MB each; past that
    /// the count is a lower bound (`complete: false`). A cloud that cannot
    /// count answers an error, and callers fall back to `ItemCount`.
    async fn count_items(
        &self,
        scope: &Scope,
        name: &str,
        max_pages: u32,
    ) -> CloudResult<ItemTally> {
        let _ = (scope, name, max_pages);
        Err(CloudError::new(
            ErrorKind::Other,
            "Scan",
            "NotSupported",
            "this cloud cannot count items",
        ))
    }

    /// What verification needs of table `name`: key schema, read capacity,
    /// size (`DescribeTable`).
    async fn data_facts(&self, scope: &Scope, name: &str) -> CloudResult<data::DataFacts> {
        let _ = (scope, name);
        Err(not_supported("DescribeTable"))
    }

    /// One page of segment `segment` of `total` of a parallel `Scan` with
    /// `Select=COUNT`, at most `limit` items, from `start`, reporting the
    /// consumed capacity.
    async fn count_page(
        &self,
        scope: &Scope,
        name: &str,
        segment: u32,
        total: u32,
        limit: u32,
        start: Option<data::ItemKey>,
    ) -> CloudResult<data::CountPage> {
        let _ = (scope, name, segment, total, limit, start);
        Err(not_supported("Scan"))
    }

    /// AWS Backup `DescribeBackupVault` and its access policy; `Ok(None)`
    /// when the vault does not exist.
    async fn describe_vault(&self, scope: &Scope, name: &str) -> CloudResult<Option<VaultFacts>> {
        let _ = (scope, name);
        Err(not_offered("DescribeBackupVault"))
    }

    /// AWS Backup `DescribeCopyJob`.
    async fn describe_copy_job(&self, scope: &Scope, id: &str) -> CloudResult<CopyJob> {
        let _ = (scope, id);
        Err(not_offered("DescribeCopyJob"))
    }

    // The settings beyond the table (see [`settings`]).
    /// Application Auto Scaling `DescribeScalableTargets` and
    /// `DescribeScalingPolicies` of these resource ids (`table/T`,
    /// `table/T/index/I`).
    async fn scaling(
        &self,
        scope: &Scope,
        resource_ids: &[String],
    ) -> CloudResult<settings::Scaling> {
        let _ = (scope, resource_ids);
        Err(not_supported("DescribeScalableTargets"))
    }

    /// DynamoDB `GetResourcePolicy`; `Ok(None)` when the table has none.
    async fn resource_policy(&self, scope: &Scope, arn: &str) -> CloudResult<Option<String>> {
        let _ = (scope, arn);
        Err(not_supported("GetResourcePolicy"))
    }

    /// DynamoDB `DescribeContributorInsights` of table `name` and each of `indexes`.
    async fn contributor_insights(
        &self,
        scope: &Scope,
        name: &str,
        indexes: &[String],
    ) -> CloudResult<Vec<settings::Insights>> {
        let _ = (scope, name, indexes);
        Err(not_supported("DescribeContributorInsights"))
    }

    /// DynamoDB `DescribeKinesisStreamingDestination`.
    async fn kinesis_destinations(
        &self,
        scope: &Scope,
        name: &str,
    ) -> CloudResult<Vec<settings::KinesisDestination>> {
        let _ = (scope, name);
        Err(not_supported("DescribeKinesisStreamingDestination"))
    }

    /// CloudWatch `DescribeAlarms`, every page: the metric alarms whose
    /// `TableName` dimension is `table`.
    async fn table_alarms(&self, scope: &Scope, table: &str) -> CloudResult<Vec<settings::Alarm>> {
        let _ = (scope, table);
        Err(not_supported("DescribeAlarms"))
    }

    /// CloudWatch `DescribeAlarms` by name and `ListTagsForResource`: the
    /// tags of alarm `name`, `Ok(None)` when there is no such alarm.
    async fn alarm_tags(
        &self,
        scope: &Scope,
        name: &str,
    ) -> CloudResult<Option<BTreeMap<String, String>>> {
        let _ = (scope, name);
        Err(not_supported("DescribeAlarms"))
    }

    /// The credentials, Region and endpoint a verification command gets to
    /// act in `scope`'s account as this process does there, once the
    /// credentials are shown to be of that account.
    async fn command_access(&self, scope: &Scope) -> CloudResult<data::CommandAccess> {
        let _ = scope;
        Err(CloudError::new(
            ErrorKind::Other,
            "GetCredentials",
            "NotSupported",
            "this cloud has no credentials to hand to a command",
        ))
    }

    /// `GetItem` of `key` (strongly consistent, key attributes only).
    async fn get_item(
        &self,
        scope: &Scope,
        name: &str,
        key: &data::ItemKey,
    ) -> CloudResult<data::ItemLookup> {
        let _ = (scope, name, key);
        Err(not_supported("GetItem"))
    }
}

fn not_offered(operation: &str) -> CloudError {
    CloudError::new(
        ErrorKind::Other,
        operation,
        "NotSupported",
        format!("this cloud does not offer {operation}"),
    )
}

fn not_supported(operation: &str) -> CloudError {
    CloudError::new(
        ErrorKind::Other,
        operation,
        "NotSupported",
        "this cloud cannot read table data",
    )
}

/// Items counted by [`CloudRead::count_items`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ItemTally {
    /// Items seen.
    pub counted: u64,
    /// True when the whole table was scanned, so `counted` is exact.
    pub complete: bool,
    /// Scan pages read.
    pub pages: u32,
}

/// Calls that change something. Only `apply` and `teardown` hold one.
#[async_trait]
pub trait CloudWrite: CloudRead {
    /// Sends a restore request.
    async fn start_restore(
        &self,
        scope: &Scope,
        request: &RestoreRequest,
    ) -> CloudResult<StartedRestore>;

    /// Changes a setting on a table.
    async fn change_table(
        &self,
        scope: &Scope,
        name: &str,
        change: &TableChange,
    ) -> CloudResult<()>;

    /// Deletes a table (teardown only; callers prove the run created it).
    async fn delete_table(&self, scope: &Scope, name: &str) -> CloudResult<()>;

    /// AWS Backup `StartCopyJob`, in the source account; returns the copy job id.
    async fn start_copy(&self, scope: &Scope, request: &CopyRequest) -> CloudResult<String> {
        let _ = (scope, request);
        Err(not_offered("StartCopyJob"))
    }

    /// AWS Backup `DeleteRecoveryPoint` (teardown only; callers prove the
    /// run copied it).
    async fn delete_recovery_point(
        &self,
        scope: &Scope,
        vault: &str,
        arn: &str,
    ) -> CloudResult<()> {
        let _ = (scope, vault, arn);
        Err(not_offered("DeleteRecoveryPoint"))
    }

    /// Removes what `change` created and what outlives its table
    /// ([`TableChange::outlives_table`]): `DeregisterScalableTarget` (its
    /// policies go with it), `DeleteAlarms`. Teardown only; callers prove
    /// the run created it. Anything else: nothing to do.
    async fn remove_setting(&self, scope: &Scope, change: &TableChange) -> CloudResult<()> {
        let _ = (scope, change);
        Ok(())
    }

    /// AWS Backup `PutRestoreValidationResult`: the verdict of the checks
    /// of restore job `job_id`.
    async fn put_restore_validation(
        &self,
        scope: &Scope,
        job_id: &str,
        status: data::ValidationStatus,
        message: &str,
    ) -> CloudResult<()> {
        let _ = (scope, job_id, status, message);
        Err(CloudError::new(
            ErrorKind::Other,
            "PutRestoreValidationResult",
            "NotSupported",
            "this cloud cannot take validation results",
        ))
    }
}

/// The Region part of an ARN (`arn:aws:SERVICE:REGION:ACCOUNT:…`).
pub fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|s| !s.is_empty())
}

/// The account part of an ARN.
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|s| !s.is_empty())
}
