//! The plan as written: serde types that mirror the YAML one to one.
//!
//! These types define the format and generate
//! `schemas/restore-plan.schema.json` (schemars). They hold text as written;
//! checking values and applying defaults is `resolve`'s job. Never
//! `#[serde(untagged)]`: the two-shape values (`recovery_point`, `ttl`) have
//! hand-written visitors so errors stay precise.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A restore plan (format version 1).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "restoreplan restore plan")]
#[schemars(rename = "RestorePlan")]
pub struct RawPlan {
    /// Format version; always `1`.
    pub version: i64,
    /// Plan name: `^[a-z0-9][a-z0-9-]{0,62}$`. Used in tags and run ids.
    pub name: String,
    /// Free text describing the plan.
    pub description: Option<String>,
    /// Recovery objectives.
    pub objectives: Option<RawObjectives>,
    /// Where the original tables live.
    pub source: Option<RawLocation>,
    /// Where restores run and tables are created. Fields not set here or in
    /// a restore fall back to the source's.
    pub target: Option<RawTarget>,
    /// Named KMS keys, referenced by name from `encryption.key`.
    #[serde(default)]
    pub keys: BTreeMap<String, RawKey>,
    /// Settings every restore inherits unless it overrides them.
    pub defaults: Option<RawDefaults>,
    /// Concurrency and failure policy.
    pub execution: Option<RawExecution>,
    /// Where the plan's runs (journals, locks, reports) live; default
    /// `backend: local`. `--state URL` and `RESTOREPLAN_STATE` override it.
    pub state: Option<RawState>,
    /// The restores, one per table.
    pub restores: Vec<RawRestore>,
}

/// The run-state backend.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "State")]
pub struct RawState {
    /// `local` (`.restoreplan/runs/` on this machine), `s3` or `dynamodb`.
    pub backend: RawBackend,
    /// `s3`: the bucket (created by `restoreplan state init`).
    pub bucket: Option<String>,
    /// `s3`: key prefix inside the bucket, e.g. `restoreplan/payments`.
    pub prefix: Option<String>,
    /// `dynamodb`: the table (created by `restoreplan state init`).
    pub table: Option<String>,
    /// `s3`, `dynamodb`: the bucket's or table's Region.
    pub region: Option<String>,
    /// `s3`, `dynamodb`: the 12-digit account of the bucket or table, quoted;
    /// the credentials used for it must be of this account.
    pub account: Option<String>,
}

/// Run-state backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Backend")]
pub enum RawBackend {
    /// This machine's `.restoreplan/runs/`.
    Local,
    /// An S3 bucket with conditional writes.
    S3,
    /// A DynamoDB table with conditional writes.
    Dynamodb,
}

/// Recovery objectives.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Objectives")]
pub struct RawObjectives {
    /// Recovery point objective, e.g. `24h`: a chosen recovery point older than this is a validation error.
    pub rpo: Option<String>,
    /// Recovery time objective, e.g. `4h`: simulate and plan warn when the estimate exceeds it.
    pub rto: Option<String>,
}

/// An account and Region.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Location")]
pub struct RawLocation {
    /// 12-digit AWS account id, always quoted: `"111122223333"`.
    pub account: Option<String>,
    /// AWS Region, e.g. `us-east-1`.
    pub region: Option<String>,
}

/// Where restores run.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Target")]
pub struct RawTarget {
    /// 12-digit AWS account id, always quoted: `"444455556666"`.
    pub account: Option<String>,
    /// AWS Region, e.g. `us-west-2`.
    pub region: Option<String>,
    /// AWS Backup vault holding the (copied) recovery points. Without a vault,
    /// `latest` and `latest_before` pick among the table's DynamoDB backups.
    pub vault: Option<String>,
    /// IAM role ARN AWS Backup assumes for the restore; required when any
    /// restore goes through AWS Backup.
    pub role: Option<String>,
}

/// A named KMS key.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Key")]
pub struct RawKey {
    /// KMS key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`) or alias ARN (`…:alias/NAME`).
    pub arn: String,
}

/// Settings inherited by every restore: any restore key except `table`, `id`, `depends_on`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Defaults")]
pub struct RawDefaults {
    /// Target table name template; placeholders `{table}`, `{plan}`, `{date}` (UTC `YYYYMMDD`).
    pub name: Option<String>,
    /// Which recovery point to restore.
    pub recovery_point: Option<RawRecoveryPoint>,
    /// Encryption of the restored tables.
    pub encryption: Option<RawEncryption>,
    /// Global secondary indexes to restore (names, or `{name, throughput}`
    /// for an index's own provisioned capacity); default: all.
    pub indexes: Option<Vec<crate::plan::capacity::RawIndex>>,
    /// Settings re-applied once a table is ACTIVE.
    pub after_restore: Option<RawAfterRestore>,
    /// Per-field overrides of the plan's `source`.
    pub source: Option<RawLocation>,
    /// Per-field overrides of the plan's `target`.
    pub target: Option<RawTarget>,
    /// Copy the chosen recovery point into `target.vault` first.
    pub copy: Option<RawCopy>,

    // Capacity and class of the restored table; each defaults to the original's.
    /// `on-demand` or `provisioned`; default: the original's.
    pub billing_mode: Option<crate::plan::capacity::RawBillingMode>,
    /// Provisioned capacity of the table and of each kept GSI.
    pub throughput: Option<crate::plan::capacity::RawThroughput>,
    /// Most request units per second of an on-demand table (and of each kept GSI).
    pub on_demand_throughput: Option<crate::plan::capacity::RawOnDemandThroughput>,
    /// `standard` or `standard-infrequent-access`; default: the original's.
    pub table_class: Option<crate::plan::capacity::RawTableClass>,
}

/// One restore.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Restore")]
pub struct RawRestore {
    /// Original table name (or `select` instead).
    #[serde(default)]
    pub table: String,
    /// Instead of `table`: one restore per matching table of the source
    /// account and Region, each with the table's name as its id.
    pub select: Option<RawSelect>,
    /// Unique id; default: `table`.
    pub id: Option<String>,
    /// Ids of restores that must finish (with their after-restore steps) first.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Target table name or template; default `{table}`.
    pub name: Option<String>,
    /// Which recovery point to restore; default `latest`.
    pub recovery_point: Option<RawRecoveryPoint>,
    /// Encryption of the restored table; default `dynamodb-owned`.
    pub encryption: Option<RawEncryption>,
    /// Global secondary indexes to restore (names, or `{name, throughput}`
    /// for an index's own provisioned capacity); default: all.
    pub indexes: Option<Vec<crate::plan::capacity::RawIndex>>,
    /// Settings re-applied once the table is ACTIVE.
    pub after_restore: Option<RawAfterRestore>,
    /// Per-field overrides of the plan's `source`.
    pub source: Option<RawLocation>,
    /// Per-field overrides of the plan's `target`.
    pub target: Option<RawTarget>,
    /// Copy the chosen recovery point from a vault of the source account
    /// into `target.vault` first (AWS Backup `StartCopyJob`).
    pub copy: Option<RawCopy>,

    // Capacity and class of the restored table; each defaults to the original's.
    /// `on-demand` or `provisioned`; default: the original's.
    pub billing_mode: Option<crate::plan::capacity::RawBillingMode>,
    /// Provisioned capacity of the table and of each kept GSI.
    pub throughput: Option<crate::plan::capacity::RawThroughput>,
    /// Most request units per second of an on-demand table (and of each kept GSI).
    pub on_demand_throughput: Option<crate::plan::capacity::RawOnDemandThroughput>,
    /// `standard` or `standard-infrequent-access`; default: the original's.
    pub table_class: Option<crate::plan::capacity::RawTableClass>,
}

/// A table selector: which tables of the source account and Region a
/// `select:` restore stands for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Select")]
pub struct RawSelect {
    /// Shell-style globs (`*`, `?`, `[a-z]`); a table matches if any one matches.
    pub names: Option<Vec<String>>,
    /// Tags every matching table carries with exactly these values.
    pub tags: Option<BTreeMap<String, String>>,
    /// Globs taken out of the match.
    pub exclude: Option<Vec<String>>,
}

/// Execution settings.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Execution")]
pub struct RawExecution {
    /// Restores in flight at once, 1..=1000 (default 10); above 50 is a
    /// warning, since DynamoDB runs at most 50 restores per account at once.
    pub concurrency: Option<i64>,
    /// What to do when a restore fails (default `continue`).
    pub on_failure: Option<RawOnFailure>,
    /// Which engine runs the plan: `local` (default) or `step-functions`.
    pub engine: Option<crate::plan::engine::RawEngine>,
    /// For `engine: step-functions`: the state machine's role and name.
    pub step_functions: Option<crate::plan::engine::RawStepFunctions>,
}

/// Failure policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "OnFailure")]
pub enum RawOnFailure {
    /// Independent branches go on; dependents of the failed restore are skipped.
    Continue,
    /// Start nothing new; restores in flight run to completion.
    Stop,
}

/// Encryption of a restored table.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Encryption")]
pub struct RawEncryption {
    /// Key type.
    #[serde(rename = "type")]
    pub kind: RawEncryptionType,
    /// For `customer-managed`: a name from `keys`, or a KMS key or alias ARN.
    pub key: Option<String>,
}

/// Encryption key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "EncryptionType")]
pub enum RawEncryptionType {
    /// AWS-owned key (DynamoDB's default, no KMS charge).
    DynamodbOwned,
    /// The AWS-managed key `alias/aws/dynamodb` of the target account.
    DynamodbManaged,
    /// A customer-managed key; needs `key`.
    CustomerManaged,
    /// The key that encrypted the original table.
    SameAsSource,
}

/// Copy the chosen recovery point from a vault of the source account and
/// Region into `target.vault` first (AWS Backup `StartCopyJob`); the restore
/// then restores the copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Copy")]
pub struct RawCopy {
    /// The vault holding the original's recovery points, in `source.account`
    /// and `source.region`; the recovery point is chosen there.
    pub vault: Option<String>,
    /// The IAM role AWS Backup assumes for the copy (`StartCopyJob`
    /// `IamRoleArn`), a role of the source account.
    pub role: Option<String>,
}

/// Settings a restore does not carry over, re-applied once the table is ACTIVE.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "AfterRestore")]
pub struct RawAfterRestore {
    /// Enable or disable point-in-time recovery, or `copy` the original's.
    pub point_in_time_recovery: Option<crate::plan::settings::RawToggle>,
    /// Enable or disable deletion protection, or `copy` the original's.
    pub deletion_protection: Option<crate::plan::settings::RawToggle>,
    /// Tags to add; merged with the defaults' tags, the restore's winning.
    pub tags: Option<BTreeMap<String, String>>,
    /// Time to live: `{attribute: NAME}` or `copy` (copy the original table's setting).
    pub ttl: Option<RawTtl>,
    /// DynamoDB Streams view type, or `off`.
    pub stream: Option<RawStream>,
    /// Data checks after the settings; a failed check fails the restore.
    pub verify: Option<crate::plan::verify::RawVerify>,

    // Settings copied from the original table (read live).
    /// `all`: every setting the original has, as if each key said `copy`;
    /// explicit keys win.
    pub from_source: Option<crate::plan::settings::RawFromSource>,
    /// The original's tags, under the plan's `tags` (plan tags win).
    pub copy_source_tags: Option<bool>,
    /// `copy` or `off`: Application Auto Scaling scalable targets and
    /// target-tracking policies of the table and its GSIs.
    pub auto_scaling: Option<crate::plan::settings::CopyOrOff>,
    /// `copy` or `off`: the table's resource-based policy, the original's
    /// ARNs rewritten to the restored table's.
    pub resource_policy: Option<crate::plan::settings::CopyOrOff>,
    /// `copy`, `true`, `false` or `{mode: MODE}`: CloudWatch contributor
    /// insights of the table (and, with `copy`, of each GSI the original
    /// has it on, in the original's mode).
    pub contributor_insights: Option<crate::plan::settings::RawInsights>,
    /// `copy`, `off` or `{stream_arn: ARN}`: the Kinesis streaming destination.
    pub kinesis_destination: Option<crate::plan::settings::RawKinesis>,
    /// `copy` or `off`: CloudWatch alarms on the table, `TableName`
    /// dimension rewritten, names carrying the target table's name.
    pub alarms: Option<crate::plan::settings::CopyOrOff>,
}

/// Streams setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "Stream")]
pub enum RawStream {
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
    /// The original table's stream view type (off when it has none).
    Copy,
}

/// A recovery point selector as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawRecoveryPoint {
    /// `latest`.
    Latest,
    /// Any other string: a recovery point or backup ARN (checked later).
    Arn(String),
    /// `{latest_before: RFC3339}` (timestamp checked later).
    LatestBefore(String),
    /// `{point_in_time: RFC3339 | latest}` (timestamp checked later).
    PointInTime(String),
    /// `{random_within: DURATION}`: a random COMPLETED point younger than the
    /// duration (checked later).
    RandomWithin(String),
}

impl<'de> Deserialize<'de> for RawRecoveryPoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRecoveryPoint;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`latest`, a recovery point ARN, `{latest_before: TIME}`, `{point_in_time: TIME}` or `{random_within: DURATION}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(if v == "latest" {
                    RawRecoveryPoint::Latest
                } else {
                    RawRecoveryPoint::Arn(v.to_owned())
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::invalid_length(0, &self));
                };
                let value: String = map.next_value()?;
                let rp = match key.as_str() {
                    "latest_before" => RawRecoveryPoint::LatestBefore(value),
                    "point_in_time" => RawRecoveryPoint::PointInTime(value),
                    "random_within" => RawRecoveryPoint::RandomWithin(value),
                    other => {
                        return Err(de::Error::unknown_field(
                            other,
                            &["latest_before", "point_in_time", "random_within"],
                        ));
                    }
                };
                if map.next_key::<String>()?.is_some() {
                    return Err(de::Error::invalid_length(2, &self));
                }
                Ok(rp)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawRecoveryPoint {
    fn schema_name() -> Cow<'static, str> {
        "RecoveryPoint".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Which recovery point to restore: `latest`, a recovery point ARN (`arn:aws:backup:…:recovery-point:…` or a DynamoDB backup `arn:aws:dynamodb:…:table/T/backup/…`), `{latest_before: RFC3339}`, `{point_in_time: RFC3339 | latest}` for DynamoDB point-in-time recovery, or `{random_within: DURATION}` for a random COMPLETED point younger than the duration.",
            "oneOf": [
                {
                    "type": "string",
                    "description": "`latest` or a recovery point ARN."
                },
                {
                    "type": "object",
                    "description": "The newest recovery point created strictly before this RFC 3339 time.",
                    "properties": { "latest_before": { "type": "string", "description": "RFC 3339 time, e.g. `2026-11-20T00:00:00Z`." } },
                    "required": ["latest_before"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "description": "DynamoDB point-in-time recovery of the original table; stays in the source account.",
                    "properties": { "point_in_time": { "type": "string", "description": "RFC 3339 time, or `latest` for the latest restorable time." } },
                    "required": ["point_in_time"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "description": "A random COMPLETED recovery point younger than this duration (AWS Backup Restore Testing's RANDOM_WITHIN_WINDOW); `plan --out` records the draw so `apply --plan-file` restores the same point.",
                    "properties": { "random_within": { "type": "string", "description": "A duration: `90m`, `24h`, `7d`." } },
                    "required": ["random_within"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// Time to live as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawTtl {
    /// `copy`: copy the original table's setting.
    Copy,
    /// `{attribute: NAME}`.
    Attribute(String),
}

impl<'de> Deserialize<'de> for RawTtl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawTtl;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`copy` or `{attribute: NAME}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v == "copy" {
                    Ok(RawTtl::Copy)
                } else {
                    Err(de::Error::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::invalid_length(0, &self));
                };
                if key != "attribute" {
                    return Err(de::Error::unknown_field(&key, &["attribute"]));
                }
                let value: String = map.next_value()?;
                if map.next_key::<String>()?.is_some() {
                    return Err(de::Error::invalid_length(2, &self));
                }
                Ok(RawTtl::Attribute(value))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawTtl {
    fn schema_name() -> Cow<'static, str> {
        "Ttl".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Time to live: `copy` (the original table's setting) or `{attribute: NAME}`.",
            "oneOf": [
                { "type": "string", "enum": ["copy"], "description": "Copy the original table's TTL setting." },
                {
                    "type": "object",
                    "properties": { "attribute": { "type": "string", "description": "The TTL attribute name." } },
                    "required": ["attribute"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// The JSON Schema of the format, as committed in `schemas/restore-plan.schema.json`.
pub fn schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(RawPlan).to_value();
    drop_null(&mut schema);
    schema
}

/// Optional keys may be left out but not written as `null`: removes the
/// `null` alternative schemars adds for `Option` fields, so editors and
/// errors speak about the real type.
fn drop_null(v: &mut serde_json::Value) {
    use serde_json::Value;
    if let Value::Object(obj) = v {
        if let Some(Value::Array(types)) = obj.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types.remove(0);
                obj.insert("type".to_owned(), only);
            }
        }
        let nullable_any_of = match obj.get("anyOf") {
            Some(Value::Array(branches)) => {
                branches.len() == 2
                    && branches
                        .iter()
                        .any(|b| b.get("type").is_some_and(|t| t == "null"))
            }
            _ => false,
        };
        if nullable_any_of {
            if let Some(Value::Array(branches)) = obj.remove("anyOf") {
                for branch in branches {
                    if branch.get("type").is_some_and(|t| t == "null") {
                        continue;
                    }
                    if let Value::Object(inner) = branch {
                        for (k, val) in inner {
                            obj.entry(k).or_insert(val);
                        }
                    }
                }
            }
        }
        for val in obj.values_mut() {
            drop_null(val);
        }
    } else if let Value::Array(items) = v {
        for val in items {
            drop_null(val);
        }
    }
}

/// The schema as pretty JSON with a trailing newline, exactly as committed.
pub fn schema_text() -> String {
    // Serializing a `serde_json::Value` to a string cannot fail.
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}
