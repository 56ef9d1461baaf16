//! The resolved, checked plan: what every stage after loading consumes.
//!
//! A [`Plan`] can only be built by [`Plan::seal`], which checks the
//! dependency graph; the loader builds the [`Restore`]s from YAML and then
//! seals them. Everything after loading (live checks, the dry-run diff, the
//! executor, the simulator) takes a `&Plan`, never raw YAML.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::diag::{Finding, Span};
use crate::graph::{DependencyGraph, GraphNode};
pub use crate::plan::settings::{CopyOrOff, Copyable, KinesisSetting};

pub use super::ids::{AccountId, Region};

/// An account and Region pair: where a table lives or a call is made.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    /// The account.
    pub account: AccountId,
    /// The Region.
    pub region: Region,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account, self.region)
    }
}

/// The plan's recovery objectives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Objectives {
    /// A chosen recovery point older than this is a validation error.
    #[serde(with = "opt_secs")]
    pub rpo: Option<Duration>,
    /// The recovery time objective the estimate and the measured run are held to.
    #[serde(with = "opt_secs")]
    pub rto: Option<Duration>,
}

/// What the executor does when a restore fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnFailure {
    /// Independent branches go on; only dependents of the failed restore are skipped.
    #[default]
    Continue,
    /// Start nothing new; restores in flight run to completion.
    Stop,
}

/// Execution settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Execution {
    /// Restores in flight at once (1..=1000); the executor also never runs
    /// more than [`Execution::PER_ACCOUNT_RESTORE_LIMIT`] per target account.
    pub concurrency: u32,
    /// Failure policy.
    pub on_failure: OnFailure,
    /// The engine that runs the plan (`execution.engine`).
    pub engine: crate::plan::engine::Engine,
}

impl Execution {
    /// DynamoDB's quota of concurrent restores per account.
    pub const PER_ACCOUNT_RESTORE_LIMIT: u32 = 50;
}

impl Default for Execution {
    fn default() -> Self {
        Self {
            concurrency: 10,
            on_failure: OnFailure::Continue,
            engine: crate::plan::engine::Engine::Local,
        }
    }
}

/// Where a restore runs and what it needs there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// Account and Region where the restore runs and the table is created.
    pub location: Location,
    /// AWS Backup vault holding the recovery points, if any.
    pub vault: Option<String>,
    /// IAM role AWS Backup assumes for the restore.
    pub role: Option<String>,
}

/// How the recovery point of a restore is chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RecoveryPointSelector {
    /// The newest COMPLETED recovery point (vault) or backup (no vault).
    Latest,
    /// The newest COMPLETED recovery point created strictly before `before`.
    LatestBefore {
        /// Upper bound, exclusive.
        before: DateTime<Utc>,
    },
    /// An AWS Backup recovery point ARN (`arn:aws:backup:…:recovery-point:…`).
    BackupArn {
        /// The ARN.
        arn: String,
    },
    /// A DynamoDB on-demand backup ARN (`arn:aws:dynamodb:…:table/T/backup/…`).
    DynamoDbBackupArn {
        /// The ARN.
        arn: String,
    },
    /// A COMPLETED recovery point created within `window` before the draw,
    /// chosen at random but reproducibly (see `check::random`).
    RandomWithin {
        /// How far back the window reaches.
        #[serde(with = "secs")]
        window: Duration,
    },
    /// DynamoDB point-in-time recovery of the original table.
    PointInTime {
        /// `None` means the latest restorable time.
        at: Option<DateTime<Utc>>,
    },
}

/// A reference to a KMS key as written in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRef {
    /// The name under `keys:` when the plan used one.
    pub name: Option<String>,
    /// A key ARN or alias ARN.
    pub arn: String,
}

/// How the restored table is encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Encryption {
    /// AWS-owned key (DynamoDB's default).
    DynamodbOwned,
    /// The AWS-managed key `alias/aws/dynamodb` of the target account.
    DynamodbManaged,
    /// A customer-managed key.
    CustomerManaged {
        /// The key.
        key: KeyRef,
    },
    /// The key that encrypted the original table.
    SameAsSource,
}

/// Time to live setting re-applied after the restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TtlSetting {
    /// Enable TTL on this attribute.
    Attribute {
        /// Attribute name.
        attribute: String,
    },
    /// Copy the original table's TTL setting.
    Copy,
}

/// DynamoDB Streams setting re-applied after the restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StreamSetting {
    /// Streams disabled.
    Off,
    /// `NEW_IMAGE`.
    NewImage,
    /// `OLD_IMAGE`.
    OldImage,
    /// `NEW_AND_OLD_IMAGES`.
    NewAndOldImages,
    /// `KEYS_ONLY`.
    KeysOnly,
    /// The original table's view type, read live (off when it has none).
    Copy,
}

impl StreamSetting {
    /// The DynamoDB `StreamViewType`, or `None` for [`StreamSetting::Off`]
    /// (and for [`StreamSetting::Copy`], which only the live stage resolves).
    pub fn view_type(self) -> Option<&'static str> {
        match self {
            Self::Off | Self::Copy => None,
            Self::NewImage => Some("NEW_IMAGE"),
            Self::OldImage => Some("OLD_IMAGE"),
            Self::NewAndOldImages => Some("NEW_AND_OLD_IMAGES"),
            Self::KeysOnly => Some("KEYS_ONLY"),
        }
    }
}

/// Settings a restore does not carry over, re-applied once the table is ACTIVE.
/// `None` means "not managed by the plan" (the restored table keeps AWS's default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AfterRestore {
    /// Point-in-time recovery on, off, or as the original has it.
    pub point_in_time_recovery: Option<Copyable<bool>>,
    /// Deletion protection on, off, or as the original has it.
    pub deletion_protection: Option<Copyable<bool>>,
    /// Tags to add (the executor also adds `restoreplan:plan` and `restoreplan:run`).
    pub tags: BTreeMap<String, String>,
    /// Time to live.
    pub ttl: Option<TtlSetting>,
    /// DynamoDB Streams.
    pub stream: Option<StreamSetting>,
    /// Data checks after the settings (`after_restore.verify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<crate::plan::verify::Verify>,

    // Settings copied from the original table (`from_source: all` is
    // resolved into these: every key no layer set says `copy`).
    /// Add the original's tags under `tags` (the plan's win).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub copy_source_tags: bool,
    /// Auto scaling (scalable targets and target-tracking policies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_scaling: Option<CopyOrOff>,
    /// The table's resource-based policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<CopyOrOff>,
    /// Contributor insights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contributor_insights: Option<Copyable<bool>>,
    /// The Kinesis streaming destination.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kinesis_destination: Option<KinesisSetting>,
    /// CloudWatch alarms on the table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarms: Option<CopyOrOff>,

    /// The mode `contributor_insights: {mode: …}` turns it on in (`None`:
    /// AWS's default, or the original's with `copy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contributor_insights_mode: Option<crate::plan::settings::InsightsMode>,
}

/// `copy`: the recovery point is chosen in a vault of the source account
/// and Region and copied into `target.vault` (AWS Backup `StartCopyJob`)
/// before the restore, which then restores the copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyStep {
    /// The vault holding the original's recovery points, in the source account and Region.
    pub vault: String,
    /// `StartCopyJob` `IamRoleArn`, a role of the source account.
    pub role: String,
}

/// Source positions of a restore's fields, for diagnostics from later stages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RestoreSpans {
    /// The whole `restores[i]` entry.
    pub entry: Option<Span>,
    /// `table`.
    pub table: Option<Span>,
    /// `id`, when written.
    pub id: Option<Span>,
    /// `name` (or the default it came from).
    pub name: Option<Span>,
    /// `recovery_point` (or the default it came from).
    pub recovery_point: Option<Span>,
    /// `encryption` (or the default it came from).
    pub encryption: Option<Span>,
    /// The key reference inside `encryption`, or the `keys.NAME.arn` it names.
    pub key: Option<Span>,
    /// Each `depends_on` item, in order.
    pub depends_on: Vec<Span>,
    /// `copy` (or the default it came from).
    pub copy: Option<Span>,
    /// Each `after_restore.verify.keys` entry, in order (where the layer
    /// that set them wrote it).
    pub verify_keys: Vec<Option<Span>>,
}

impl GraphNode for Restore {
    fn id(&self) -> &str {
        &self.id
    }
    fn depends_on(&self) -> &[String] {
        &self.depends_on
    }
    fn entry_span(&self) -> Option<Span> {
        self.spans.entry
    }
    fn dependency_span(&self, k: usize) -> Option<Span> {
        self.spans.depends_on.get(k).copied()
    }
}

/// A restore as far as the graph is concerned, for checking the
/// dependencies of a plan whose restores could not all be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRef {
    /// The restore's id.
    pub id: String,
    /// Ids it depends on.
    pub depends_on: Vec<String>,
    /// Source positions.
    pub spans: RestoreSpans,
}

impl GraphNode for NodeRef {
    fn id(&self) -> &str {
        &self.id
    }
    fn depends_on(&self) -> &[String] {
        &self.depends_on
    }
    fn entry_span(&self) -> Option<Span> {
        self.spans.entry
    }
    fn dependency_span(&self, k: usize) -> Option<Span> {
        self.spans.depends_on.get(k).copied()
    }
}

/// One fully resolved restore: defaults applied, templates expanded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Restore {
    /// Unique id (default: the table name).
    pub id: String,
    /// Original table name.
    pub table: String,
    /// Where the original table lives.
    pub source: Location,
    /// Where the restore runs.
    pub target: Target,
    /// Target table name, templates expanded.
    pub target_name: String,
    /// Recovery point selector.
    pub recovery_point: RecoveryPointSelector,
    /// Encryption of the restored table.
    pub encryption: Encryption,
    /// GSIs to keep; `None` keeps all.
    pub indexes: Option<Vec<String>>,
    /// Settings re-applied after the restore.
    pub after_restore: AfterRestore,
    /// Capacity and class of the restored table (each unset key: the original's).
    #[serde(skip_serializing_if = "crate::plan::capacity::Capacity::is_unset")]
    pub capacity: crate::plan::capacity::Capacity,
    /// Ids this restore waits for.
    pub depends_on: Vec<String>,
    /// Source positions.
    #[serde(skip)]
    pub spans: RestoreSpans,
    /// The copy step before the restore (`copy`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyStep>,
}

impl Restore {
    /// ARN of the original table, which AWS Backup copies keep as their resource ARN.
    pub fn source_table_arn(&self) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{}",
            self.source.region, self.source.account, self.table
        )
    }

    /// ARN the restored table will have.
    pub fn target_table_arn(&self) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{}",
            self.target.location.region, self.target.location.account, self.target_name
        )
    }

    /// True when the restore crosses Regions.
    pub fn is_cross_region(&self) -> bool {
        self.source.region != self.target.location.region
    }

    /// True when the restore crosses accounts.
    pub fn is_cross_account(&self) -> bool {
        self.source.account != self.target.location.account
    }
}

/// The plan's identity and global settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanHeader {
    /// `^[a-z0-9][a-z0-9-]{0,62}$`; used in tags and run ids.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// RPO and RTO.
    pub objectives: Objectives,
    /// Concurrency and failure policy.
    pub execution: Execution,
    /// Named keys from `keys:`.
    pub keys: BTreeMap<String, KeyRef>,
    /// Where runs live (`state:`). Not part of what the plan restores: a
    /// run moved to another backend is the same plan.
    #[serde(skip)]
    pub state: crate::plan::state::StateBackend,
}

/// A validated plan: resolved restores plus their acyclic dependency graph.
///
/// Only [`Plan::seal`] builds one, so holding a `Plan` proves the graph is
/// a DAG whose edges all name existing restores.
#[derive(Debug, Clone)]
pub struct Plan {
    header: PlanHeader,
    restores: Vec<Restore>,
    graph: DependencyGraph,
}

impl Plan {
    /// Checks the dependency graph of resolved restores and seals the plan.
    /// Returns every graph finding (unknown ids, self-dependencies, cycles)
    /// when the graph is not a DAG.
    pub fn seal(header: PlanHeader, restores: Vec<Restore>) -> Result<Self, Vec<Finding>> {
        let graph = DependencyGraph::build(&restores)?;
        Ok(Self {
            header,
            restores,
            graph,
        })
    }

    /// Identity and global settings.
    pub fn header(&self) -> &PlanHeader {
        &self.header
    }

    /// The plan's name.
    pub fn name(&self) -> &str {
        &self.header.name
    }

    /// Restores, in file order; a restore's index is its node in [`Plan::graph`].
    pub fn restores(&self) -> &[Restore] {
        &self.restores
    }

    /// The dependency graph.
    pub fn graph(&self) -> &DependencyGraph {
        &self.graph
    }
}

mod secs {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}

mod opt_secs {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs()),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(AccountId::parse("012345678901").is_some());
        assert!(AccountId::parse("12345678901").is_none());
        assert!(AccountId::parse("12345678901a").is_none());
    }

    #[test]
    fn regions_are_shaped_like_regions() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-3",
        ] {
            assert!(Region::parse(ok).is_some(), "{ok}");
        }
        for bad in ["us-east", "US-east-1", "useast1", "us--1", ""] {
            assert!(Region::parse(bad).is_none(), "{bad}");
        }
    }
}
