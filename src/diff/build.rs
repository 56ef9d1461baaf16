//! Building the dry-run model from a plan and its live report. Pure.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::model::{
    Action, DryRun, EncryptionChange, Estimate, FindingView, IdentityView, IndexView, KeyKind,
    KeyView, Level, PlanInfo, RecoveryKind, RecoveryPointView, RequestView, RestoreView,
    SCHEMA_VERSION, Setting, SettingOutcome, SettingView, StepView, Summary, TableRef,
};
use super::predict::{AFTER_RESTORE_STEP_SECONDS, predict, verified_timing};
use super::source::SourceSettings;
use crate::check::live::LiveReport;
use crate::check::request::kept_indexes;
use crate::check::resolved::{Disposition, ResolvedRestore};
use crate::cloud::{
    IndexDef, RecoveryPointOrigin, RestoreRequest, SseRequest, TableChange, TableEncryption,
};
use crate::diag::{Finding, Severity};
use crate::plan::model::{OnFailure, Plan, RecoveryPointSelector, Restore, TtlSetting};
use crate::text::duration_text;

/// Rule codes of findings the dry run adds to the live checks'.
pub mod codes {
    /// A setting of the original table is neither carried over nor re-applied.
    pub const SETTING_LOST: &str = "restoreplan::plan::setting_lost";
    /// `indexes` names an index the original table does not have (reported
    /// by the live checks, so `apply` sees it too).
    pub const UNKNOWN_INDEX: &str = crate::check::live::codes::UNKNOWN_INDEX;
    /// The predicted RTO exceeds `objectives.rto`.
    pub const RTO_EXCEEDED: &str = "restoreplan::plan::rto_exceeded";
}

/// Builds the dry-run model of `plan` from its live report and the original
/// tables' settings (`sources`, by restore id; see
/// [`super::source::read_source_settings`]; missing entries show as unknown).
pub fn build(
    plan: &Plan,
    report: &LiveReport,
    sources: &BTreeMap<String, SourceSettings>,
) -> DryRun {
    let now = report.checked_at;
    let header = plan.header();
    let rpo = header.objectives.rpo.map(|d| d.as_secs());
    let rto = header.objectives.rto.map(|d| d.as_secs());
    let unknown = SourceSettings::default();

    // Each restore's resolution by id (the first one, should an id repeat).
    let mut resolved: BTreeMap<&str, &ResolvedRestore> = BTreeMap::new();
    for rr in &report.resolved {
        resolved.entry(rr.id.as_str()).or_insert(rr);
    }
    let mut restores = Vec::with_capacity(plan.restores().len());
    for restore in plan.restores() {
        let Some(&rr) = resolved.get(restore.id.as_str()) else {
            continue;
        };
        let source = sources.get(&restore.id).unwrap_or(&unknown);
        restores.push(restore_view(restore, rr, report, source, now, rpo));
    }

    // What the executor will be given: each restore's estimate, and its
    // after-restore steps once ACTIVE.
    let timings: Vec<_> = plan
        .restores()
        .iter()
        .map(|r| {
            resolved
                .get(r.id.as_str())
                .map_or_else(Default::default, |rr| {
                    let bytes = rr
                        .recovery_point
                        .as_ref()
                        .and_then(|rp| rp.size_bytes)
                        .or_else(|| rr.source_table.as_ref().and_then(|t| t.size_bytes))
                        .unwrap_or(0);
                    let verify = r
                        .after_restore
                        .verify
                        .as_ref()
                        .map_or(0.0, |v| crate::duration::verify_seconds(v, bytes));
                    crate::diff::predict::with_copy(
                        verified_timing(rr.estimated_seconds, rr.changes.len(), verify),
                        rr.copy.as_ref().map_or(0.0, |c| c.estimated_seconds),
                    )
                })
        })
        .collect();
    let prediction = predict(plan, &timings);
    let estimate = Estimate {
        predicted_rto_seconds: prediction.makespan.ceil() as u64,
        rto_seconds: rto,
        within_rto: rto.map(|o| prediction.makespan <= o as f64),
        critical_path: prediction
            .critical_path
            .iter()
            .map(|&i| plan.restores()[i].id.clone())
            .collect(),
    };

    let mut findings: Vec<FindingView> = report
        .findings
        .iter()
        .filter(|f| f.restore.is_none())
        .map(finding_view)
        .collect();
    if !restores.is_empty() {
        findings.push(FindingView {
            code: crate::plan::rules::IDENTITY_POLICIES.to_owned(),
            level: Level::Note,
            message: "IAM identity policies (of users, groups and roles) that name an original table's ARN are not copied: they do not cover the restored tables".to_owned(),
            restore: None,
            evidence: None,
            help: Some(
                "add the restored tables' ARNs to the IAM policies the applications in the target account use; the tables' own resource-based policies are copied with `resource_policy: copy`"
                    .to_owned(),
            ),
        });
    }
    if let (Some(o), Some(false)) = (rto, estimate.within_rto) {
        findings.push(FindingView {
            code: codes::RTO_EXCEEDED.to_owned(),
            level: Level::Warning,
            message: format!(
                "the predicted RTO of {} exceeds the objective of {}",
                duration_text(std::time::Duration::from_secs(estimate.predicted_rto_seconds)),
                duration_text(std::time::Duration::from_secs(o))
            ),
            restore: None,
            evidence: Some(format!(
                "critical path: {}",
                estimate.critical_path.join(" -> ")
            )),
            help: Some(
                "raise `execution.concurrency`, drop dependencies that are not needed, or raise `objectives.rto`"
                    .to_owned(),
            ),
        });
    }

    let mut dry = DryRun {
        schema_version: SCHEMA_VERSION,
        plan: PlanInfo {
            name: header.name.clone(),
            description: header.description.clone(),
            rpo_seconds: rpo,
            rto_seconds: rto,
            concurrency: header.execution.concurrency,
            on_failure: match header.execution.on_failure {
                OnFailure::Continue => "continue".to_owned(),
                OnFailure::Stop => "stop".to_owned(),
            },
            digest: plan_digest(plan),
        },
        checked_at: now,
        random_draw: report.draw.clone(),
        selections: Vec::new(),
        identities: report
            .identities
            .iter()
            .map(|i| match &i.identity {
                Ok(id) => IdentityView {
                    account: i.account.clone(),
                    arn: Some(id.arn.clone()),
                    source: Some(id.source.clone()),
                    error: None,
                },
                Err(e) => IdentityView {
                    account: i.account.clone(),
                    arn: None,
                    source: None,
                    error: Some(e.clone()),
                },
            })
            .collect(),
        restores,
        findings,
        estimate,
        summary: Summary {
            restores: 0,
            to_restore: 0,
            blocked: 0,
            errors: 0,
            warnings: 0,
        },
    };
    dry.summary = summarise(&dry);
    dry
}

fn summarise(dry: &DryRun) -> Summary {
    let count = |level| dry.all_findings().filter(|f| f.level == level).count();
    Summary {
        restores: dry.restores.len(),
        to_restore: dry
            .restores
            .iter()
            .filter(|r| r.action == Action::Restore)
            .count(),
        blocked: dry
            .restores
            .iter()
            .filter(|r| r.action == Action::Blocked)
            .count(),
        errors: count(Level::Error),
        warnings: count(Level::Warning),
    }
}

/// SHA-256 of the resolved plan (header and restores), hex.
pub fn plan_digest(plan: &Plan) -> String {
    // Serialising these plain data types cannot fail: no maps with non-string
    // keys, no custom serialisers that error.
    let bytes = serde_json::to_vec(&(plan.header(), plan.restores())).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

fn finding_view(f: &Finding) -> FindingView {
    FindingView {
        code: f.code.to_owned(),
        level: match f.severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
            Severity::Note => Level::Note,
        },
        message: f.message.clone(),
        restore: f.restore.clone(),
        evidence: f.evidence.clone(),
        help: f.help.clone(),
    }
}

fn table_ref(account: &str, region: &str, name: &str, arn: String) -> TableRef {
    TableRef {
        account: account.to_owned(),
        region: region.to_owned(),
        name: name.to_owned(),
        arn,
    }
}

fn restore_view(
    restore: &Restore,
    rr: &ResolvedRestore,
    report: &LiveReport,
    source: &SourceSettings,
    now: DateTime<Utc>,
    rpo: Option<u64>,
) -> RestoreView {
    let mut findings: Vec<FindingView> = report
        .findings
        .iter()
        .filter(|f| f.restore.as_deref() == Some(restore.id.as_str()))
        .map(finding_view)
        .collect();
    let (action, blocked_because) = match &rr.disposition {
        Disposition::Ready => (Action::Restore, Vec::new()),
        Disposition::Blocked { reasons } => (
            Action::Blocked,
            reasons.iter().map(|f| f.message.clone()).collect(),
        ),
    };

    let available: Option<&[IndexDef]> = rr
        .recovery_point
        .as_ref()
        .and_then(|rp| rp.indexes.as_deref())
        .or_else(|| rr.source_table.as_ref().map(|t| t.indexes.as_slice()));
    let indexes = index_views(restore, available);
    let settings = settings(restore, rr, source);
    for s in settings
        .iter()
        .filter(|s| s.outcome == SettingOutcome::Lost)
    {
        findings.push(lost_finding(restore, s));
    }
    let after_restore = rr.changes.iter().map(step_view).collect();
    let encryption = encryption_change(rr);

    RestoreView {
        id: restore.id.clone(),
        action,
        blocked_because,
        source: table_ref(
            restore.source.account.as_str(),
            restore.source.region.as_str(),
            &restore.table,
            restore.source_table_arn(),
        ),
        target: table_ref(
            rr.target.account.as_str(),
            rr.target.region.as_str(),
            &rr.target_name,
            restore.target_table_arn(),
        ),
        recovery_point: recovery_point_view(restore, rr, now, rpo),
        request: request_view(&rr.request),
        encryption,
        indexes,
        settings,
        after_restore,
        depends_on: restore.depends_on.clone(),
        estimated_seconds: (rr.estimated_seconds
            + rr.copy.as_ref().map_or(0.0, |c| c.estimated_seconds)
            + AFTER_RESTORE_STEP_SECONDS * rr.changes.len() as f64)
            .ceil() as u64,
        findings,
        copy: rr.copy.as_ref().map(copy_view),
        capacity_from: crate::check::capacity::original_capacity(
            &restore.capacity,
            rr.source_table.as_ref(),
            rr.recovery_point.as_ref(),
        )
        .map(|(from, _)| from),
    }
}

/// A copy step as `plan` shows it.
fn copy_view(c: &crate::check::resolved::ResolvedCopy) -> super::model::CopyView {
    super::model::CopyView {
        account: c.scope.account.to_string(),
        region: c.scope.region.to_string(),
        request: copy_request_view(&c.request),
        estimated_seconds: c.estimated_seconds.ceil() as u64,
    }
}

/// `StartCopyJob` in the AWS API's own parameter names, as the adapter sends it.
pub fn copy_request_view(r: &crate::cloud::CopyRequest) -> RequestView {
    RequestView {
        operation: "StartCopyJob".to_owned(),
        service: "backup".to_owned(),
        parameters: serde_json::json!({
            "RecoveryPointArn": r.recovery_point_arn,
            "SourceBackupVaultName": r.source_backup_vault_name,
            "DestinationBackupVaultArn": r.destination_backup_vault_arn,
            "IamRoleArn": r.iam_role_arn,
            "IdempotencyToken": r.idempotency_token,
        }),
    }
}

/// The plan's recovery point selector, as a reader would say it.
pub fn selector_text(selector: &RecoveryPointSelector) -> String {
    match selector {
        RecoveryPointSelector::Latest => "latest".to_owned(),
        RecoveryPointSelector::LatestBefore { before } => {
            format!("latest before {}", super::model::time_text(*before))
        }
        RecoveryPointSelector::BackupArn { arn }
        | RecoveryPointSelector::DynamoDbBackupArn { arn } => arn.clone(),
        RecoveryPointSelector::PointInTime { at: Some(at) } => {
            format!("point in time {}", super::model::time_text(*at))
        }
        RecoveryPointSelector::PointInTime { at: None } => {
            "point in time: latest restorable".to_owned()
        }
        RecoveryPointSelector::RandomWithin { window } => {
            format!("random within {}", duration_text(*window))
        }
    }
}

fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> u64 {
    (now - then).num_seconds().max(0) as u64
}

fn recovery_point_view(
    restore: &Restore,
    rr: &ResolvedRestore,
    now: DateTime<Utc>,
    rpo: Option<u64>,
) -> RecoveryPointView {
    let selector = selector_text(&restore.recovery_point);
    if let Some(rp) = &rr.recovery_point {
        let (kind, vault) = match &rp.origin {
            RecoveryPointOrigin::Vault { vault } => (RecoveryKind::AwsBackup, Some(vault.clone())),
            RecoveryPointOrigin::DynamoDbBackup => (RecoveryKind::DynamodbBackup, None),
        };
        let age_seconds = age(now, rp.created);
        return RecoveryPointView {
            kind,
            selector,
            arn: Some(rp.arn.clone()),
            vault,
            status: Some(rp.status.clone()),
            created: Some(rp.created),
            age_seconds: Some(age_seconds),
            within_rpo: rpo.map(|o| age_seconds <= o),
            size_bytes: rp.size_bytes,
            item_count: rp.item_count,
        };
    }
    if let RecoveryPointSelector::PointInTime { at } = &restore.recovery_point
        && let Some(pitr) = &rr.pitr
        && pitr.enabled
    {
        let when = at.or(pitr.latest);
        let age_seconds = when.map(|w| age(now, w));
        return RecoveryPointView {
            kind: RecoveryKind::PointInTime,
            selector,
            arn: None,
            vault: None,
            status: None,
            created: when,
            age_seconds,
            within_rpo: rpo.zip(age_seconds).map(|(o, a)| a <= o),
            size_bytes: rr.source_table.as_ref().and_then(|t| t.size_bytes),
            item_count: rr.source_table.as_ref().and_then(|t| t.item_count),
        };
    }
    RecoveryPointView {
        kind: RecoveryKind::Unresolved,
        selector,
        arn: None,
        vault: None,
        status: None,
        created: None,
        age_seconds: None,
        within_rpo: None,
        size_bytes: None,
        item_count: None,
    }
}

fn sse_json(sse: &SseRequest) -> serde_json::Value {
    match sse {
        SseRequest::Owned => serde_json::json!({ "Enabled": false }),
        SseRequest::Managed => serde_json::json!({ "Enabled": true, "SSEType": "KMS" }),
        SseRequest::Customer { key_arn } => {
            serde_json::json!({ "Enabled": true, "SSEType": "KMS", "KMSMasterKeyId": key_arn })
        }
    }
}

fn gsi_json(indexes: &[IndexDef]) -> serde_json::Value {
    indexes
        .iter()
        .map(|ix| {
            let mut projection = serde_json::Map::new();
            projection.insert("ProjectionType".into(), ix.projection_type.clone().into());
            if !ix.non_key_attributes.is_empty() {
                projection.insert(
                    "NonKeyAttributes".into(),
                    ix.non_key_attributes.clone().into(),
                );
            }
            serde_json::json!({
                "IndexName": ix.name,
                "KeySchema": ix.key_schema.iter()
                    .map(|(a, t)| serde_json::json!({ "AttributeName": a, "KeyType": t }))
                    .collect::<Vec<_>>(),
                "Projection": projection,
            })
        })
        .collect()
}

fn throughput_json(t: &crate::plan::capacity::Throughput) -> serde_json::Value {
    serde_json::json!({ "ReadCapacityUnits": t.read, "WriteCapacityUnits": t.write })
}

fn on_demand_json(t: &crate::plan::capacity::OnDemandThroughput) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    if let Some(v) = t.max_read {
        m.insert("MaxReadRequestUnits".into(), v.into());
    }
    if let Some(v) = t.max_write {
        m.insert("MaxWriteRequestUnits".into(), v.into());
    }
    m.into()
}

/// Adds a DynamoDB restore's capacity overrides to its parameters, each
/// index's capacity inside its `GlobalSecondaryIndexOverride` entry.
fn capacity_json(p: &mut serde_json::Value, capacity: Option<&crate::cloud::CapacityOverride>) {
    let Some(c) = capacity else {
        return;
    };
    p["BillingModeOverride"] = c.billing_mode.aws_name().into();
    if let Some(t) = &c.throughput {
        p["ProvisionedThroughputOverride"] = throughput_json(t);
    }
    if let Some(t) = &c.on_demand {
        p["OnDemandThroughputOverride"] = on_demand_json(t);
    }
    if let Some(list) = p
        .get_mut("GlobalSecondaryIndexOverride")
        .and_then(|v| v.as_array_mut())
    {
        for entry in list {
            let name = entry["IndexName"].as_str().unwrap_or_default().to_owned();
            if let Some(ix) = c.indexes.get(&name) {
                if let Some(t) = &ix.throughput {
                    entry["ProvisionedThroughput"] = throughput_json(t);
                }
                if let Some(t) = &ix.on_demand {
                    entry["OnDemandThroughput"] = on_demand_json(t);
                }
            }
        }
    }
}

/// The request in the AWS API's own parameter names, as the adapter sends it.
pub fn request_view(request: &RestoreRequest) -> RequestView {
    let (service, parameters) = match request {
        RestoreRequest::StartRestoreJob {
            recovery_point_arn,
            iam_role_arn,
            idempotency_token,
            resource_type,
            target_table_name,
            sse,
            indexes,
        } => (
            "backup",
            serde_json::json!({
                "RecoveryPointArn": recovery_point_arn,
                "IamRoleArn": iam_role_arn,
                "IdempotencyToken": idempotency_token,
                "ResourceType": resource_type,
                "Metadata": crate::cloud::wire::start_restore_job_metadata(
                    target_table_name,
                    sse,
                    indexes.as_deref(),
                ),
            }),
        ),
        RestoreRequest::RestoreTableFromBackup {
            backup_arn,
            target_table_name,
            sse,
            indexes,
            capacity,
        } => {
            let mut p = serde_json::json!({
                "BackupArn": backup_arn,
                "TargetTableName": target_table_name,
                "SSESpecificationOverride": sse_json(sse),
            });
            if let Some(ix) = indexes {
                p["GlobalSecondaryIndexOverride"] = gsi_json(ix);
            }
            capacity_json(&mut p, capacity.as_ref());
            ("dynamodb", p)
        }
        RestoreRequest::RestoreTableToPointInTime {
            source_table_arn,
            target_table_name,
            restore_date_time,
            sse,
            indexes,
            capacity,
        } => {
            let mut p = serde_json::json!({
                "SourceTableArn": source_table_arn,
                "TargetTableName": target_table_name,
            });
            match restore_date_time {
                Some(t) => p["RestoreDateTime"] = super::model::time_text(*t).into(),
                None => p["UseLatestRestorableTime"] = true.into(),
            }
            p["SSESpecificationOverride"] = sse_json(sse);
            if let Some(ix) = indexes {
                p["GlobalSecondaryIndexOverride"] = gsi_json(ix);
            }
            capacity_json(&mut p, capacity.as_ref());
            ("dynamodb", p)
        }
    };
    RequestView {
        operation: request.operation().to_owned(),
        service: service.to_owned(),
        parameters,
    }
}

/// The key a request asks for.
fn requested_key(request: &RestoreRequest) -> KeyView {
    match request.sse().clone() {
        SseRequest::Owned => KeyView {
            kind: KeyKind::AwsOwned,
            key_arn: None,
        },
        SseRequest::Managed => KeyView {
            kind: KeyKind::AwsManaged,
            key_arn: None,
        },
        SseRequest::Customer { key_arn } => KeyView {
            kind: KeyKind::CustomerManaged,
            key_arn: Some(key_arn),
        },
    }
}

fn encryption_change(rr: &ResolvedRestore) -> EncryptionChange {
    let before = match rr.source_table.as_ref().map(|t| &t.encryption) {
        Some(TableEncryption::Owned) => KeyView {
            kind: KeyKind::AwsOwned,
            key_arn: None,
        },
        Some(TableEncryption::Managed { key_arn }) => KeyView {
            kind: KeyKind::AwsManaged,
            key_arn: key_arn.clone(),
        },
        Some(TableEncryption::Customer { key_arn }) => KeyView {
            kind: KeyKind::CustomerManaged,
            key_arn: Some(key_arn.clone()),
        },
        None => KeyView {
            kind: KeyKind::Unknown,
            key_arn: rr
                .recovery_point
                .as_ref()
                .and_then(|rp| rp.encryption_key_arn.clone()),
        },
    };
    let after = requested_key(&rr.request);
    let changed = match (before.kind, after.kind) {
        (KeyKind::Unknown, _) => false,
        (KeyKind::CustomerManaged, KeyKind::CustomerManaged) => {
            // A replica of the original multi-Region key is the same key.
            let same_family = rr
                .key
                .as_ref()
                .and_then(|k| k.multi_region.as_ref())
                .is_some_and(|mr| {
                    before.key_arn.as_deref().is_some_and(|b| {
                        b == mr.primary_arn || mr.replica_arns.iter().any(|r| r == b)
                    })
                });
            !same_family && before.key_arn != after.key_arn
        }
        (b, a) => b != a,
    };
    EncryptionChange {
        before,
        after,
        changed,
    }
}

fn index_views(restore: &Restore, available: Option<&[IndexDef]>) -> Vec<IndexView> {
    let Some(available) = available else {
        return Vec::new();
    };
    let kept = kept_indexes(restore, Some(available));
    available
        .iter()
        .map(|ix| IndexView {
            name: ix.name.clone(),
            kept: kept
                .as_ref()
                .is_none_or(|k| k.iter().any(|x| x.name == ix.name)),
        })
        .collect()
}

fn on_off(b: bool) -> String {
    if b { "on" } else { "off" }.to_owned()
}

fn outcome(had_it: Option<bool>, managed: bool) -> SettingOutcome {
    match (managed, had_it) {
        (true, _) => SettingOutcome::Reapplied,
        (false, Some(true)) => SettingOutcome::Lost,
        (false, Some(false)) => SettingOutcome::NotNeeded,
        (false, None) => SettingOutcome::Unknown,
    }
}

const NOT_READ: &str = "unknown";

fn settings(restore: &Restore, rr: &ResolvedRestore, source: &SourceSettings) -> Vec<SettingView> {
    let mut out = Vec::new();
    let table = rr.source_table.as_ref();

    // Time to live.
    let ttl_after = rr.changes.iter().find_map(|c| match c {
        TableChange::Ttl { attribute, enabled } => Some((attribute.clone(), *enabled)),
        _ => None,
    });
    let ttl_before = source.ttl_attribute.clone();
    out.push(SettingView {
        setting: Setting::Ttl,
        before: match &ttl_before {
            Some(Some(a)) => format!("on ({a})"),
            Some(None) => "off".to_owned(),
            None => NOT_READ.to_owned(),
        },
        after: match &ttl_after {
            Some((a, true)) => format!("on ({a})"),
            _ => "off".to_owned(),
        },
        outcome: outcome(
            ttl_before.as_ref().map(Option::is_some),
            ttl_after.is_some(),
        ),
        note: match (&restore.after_restore.ttl, &ttl_after) {
            (Some(TtlSetting::Copy), None) => {
                Some("`ttl: copy`, and the original has no TTL to copy".to_owned())
            }
            _ => None,
        },
    });

    // Streams.
    let stream_after = rr.changes.iter().find_map(|c| match c {
        TableChange::Stream { view_type } => Some(view_type.clone()),
        _ => None,
    });
    let stream_before = table.map(|t| t.stream.clone());
    out.push(SettingView {
        setting: Setting::Stream,
        before: match &stream_before {
            Some(Some(v)) => v.clone(),
            Some(None) => "off".to_owned(),
            None => NOT_READ.to_owned(),
        },
        after: stream_after
            .clone()
            .flatten()
            .unwrap_or_else(|| "off".to_owned()),
        outcome: outcome(
            stream_before.as_ref().map(Option::is_some),
            stream_after.is_some(),
        ),
        note: None,
    });

    // Point-in-time recovery.
    let pitr_after = rr.changes.iter().find_map(|c| match c {
        TableChange::PointInTimeRecovery { enabled } => Some(*enabled),
        _ => None,
    });
    let pitr_before = source
        .point_in_time_recovery
        .or(rr.pitr.as_ref().map(|p| p.enabled));
    out.push(SettingView {
        setting: Setting::PointInTimeRecovery,
        before: pitr_before.map_or_else(|| NOT_READ.to_owned(), on_off),
        after: on_off(pitr_after.unwrap_or(false)),
        outcome: outcome(pitr_before, pitr_after.is_some()),
        note: None,
    });

    // Tags: the original's user tags (AWS reserves `aws:`) must all be re-applied.
    let tags_after: BTreeMap<String, String> = rr
        .changes
        .iter()
        .find_map(|c| match c {
            TableChange::Tags { tags } => Some(tags.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let tags_before: Option<BTreeMap<String, String>> = source.tags.as_ref().map(|t| {
        t.iter()
            .filter(|(k, _)| !k.starts_with("aws:"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
    let missing: Vec<String> = tags_before
        .iter()
        .flatten()
        .filter(|(k, _)| !tags_after.contains_key(*k))
        .map(|(k, _)| k.clone())
        .collect();
    let tag_text = |t: &BTreeMap<String, String>| {
        if t.is_empty() {
            "none".to_owned()
        } else {
            t.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    out.push(SettingView {
        setting: Setting::Tags,
        before: tags_before
            .as_ref()
            .map_or_else(|| NOT_READ.to_owned(), tag_text),
        after: tag_text(&tags_after),
        outcome: match &tags_before {
            None => SettingOutcome::Unknown,
            Some(_) if !missing.is_empty() => SettingOutcome::Lost,
            Some(b) if b.is_empty() => SettingOutcome::NotNeeded,
            Some(_) => SettingOutcome::Reapplied,
        },
        note: (!missing.is_empty()).then(|| format!("missing: {}", missing.join(", "))),
    });

    // The settings beyond the table: read from the original for `plan`.
    out.extend(beyond_table(restore, rr, source.original.as_ref()));

    // Deletion protection.
    let dp_after = rr.changes.iter().find_map(|c| match c {
        TableChange::DeletionProtection { enabled } => Some(*enabled),
        _ => None,
    });
    let dp_before = table.map(|t| t.deletion_protection);
    out.push(SettingView {
        setting: Setting::DeletionProtection,
        before: dp_before.map_or_else(|| NOT_READ.to_owned(), on_off),
        after: on_off(dp_after.unwrap_or(false)),
        outcome: outcome(dp_before, dp_after.is_some()),
        note: None,
    });
    out
}

/// Rows of the settings that live beside the table (auto scaling, the
/// resource policy, contributor insights, Kinesis, alarms): the original's
/// (`None`: not read) beside what the after-restore steps create.
fn beyond_table(
    restore: &Restore,
    rr: &ResolvedRestore,
    original: Option<&crate::check::changes::Original>,
) -> Vec<SettingView> {
    use crate::check::changes::is_scaling_alarm;
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    let outcome = |before: Option<usize>, after: usize| match before {
        None => SettingOutcome::Unknown,
        Some(0) => SettingOutcome::NotNeeded,
        Some(n) if after >= n => SettingOutcome::Reapplied,
        Some(_) => SettingOutcome::Lost,
    };
    let target_text = |rid: &str, dim: &str, min: i32, max: i32| {
        let what = dim
            .rsplit(':')
            .next()
            .unwrap_or(dim)
            .replace("CapacityUnits", "");
        let on = match rid.split_once("/index/") {
            Some((_, ix)) => format!("index {ix}"),
            None => "table".to_owned(),
        };
        format!("{on} {} {min}–{max}", what.to_ascii_lowercase())
    };
    let mut out = Vec::new();

    // Auto scaling.
    let before = original.and_then(|o| o.scaling.as_ref());
    let after: Vec<String> = rr
        .changes
        .iter()
        .filter_map(|c| match c {
            TableChange::ScalableTarget { target: t } => Some(target_text(
                &t.resource_id,
                &t.dimension,
                t.min_capacity,
                t.max_capacity,
            )),
            _ => None,
        })
        .collect();
    let policies_after = rr
        .changes
        .iter()
        .filter(|c| matches!(c, TableChange::ScalingPolicy { .. }))
        .count();
    out.push(SettingView {
        setting: Setting::AutoScaling,
        before: before.map_or_else(
            || NOT_READ.to_owned(),
            |s| {
                list(
                    s.targets
                        .iter()
                        .map(|t| {
                            target_text(
                                &t.resource_id,
                                &t.dimension,
                                t.min_capacity,
                                t.max_capacity,
                            )
                        })
                        .collect(),
                )
            },
        ),
        after: list(after.clone()),
        outcome: outcome(before.map(|s| s.targets.len()), after.len()),
        note: before.and_then(|s| {
            let mut notes = Vec::new();
            if !s.policies.is_empty() {
                notes.push(format!(
                    "{} target-tracking {} ({} re-created)",
                    s.policies.len(),
                    if s.policies.len() == 1 {
                        "policy"
                    } else {
                        "policies"
                    },
                    policies_after
                ));
            }
            if !s.step_policies.is_empty() {
                let steps_after: Vec<&str> = rr
                    .changes
                    .iter()
                    .filter_map(|c| match c {
                        TableChange::StepScalingPolicy { policy } => Some(policy.name.as_str()),
                        _ => None,
                    })
                    .collect();
                notes.push(format!(
                    "step scaling {} {} ({} re-created, with the alarms that drive them)",
                    if s.step_policies.len() == 1 {
                        "policy"
                    } else {
                        "policies"
                    },
                    s.step_policies
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    steps_after.len()
                ));
            }
            if !s.other_policies.is_empty() {
                notes.push(format!(
                    "not copied (neither target tracking nor step scaling): {}",
                    s.other_policies.join(", ")
                ));
            }
            (!notes.is_empty()).then(|| notes.join("; "))
        }),
    });

    // The resource-based policy.
    let before = original.and_then(|o| o.resource_policy.as_ref());
    let after = rr
        .changes
        .iter()
        .any(|c| matches!(c, TableChange::ResourcePolicy { .. }));
    out.push(SettingView {
        setting: Setting::ResourcePolicy,
        before: match before {
            None => NOT_READ.to_owned(),
            Some(Some(_)) => "present".to_owned(),
            Some(None) => "none".to_owned(),
        },
        after: if after {
            "copied, ARNs of the restored table".to_owned()
        } else {
            "none".to_owned()
        },
        outcome: outcome(before.map(|p| usize::from(p.is_some())), usize::from(after)),
        note: None,
    });

    // Contributor insights.
    // The mode is named when it is not AWS's default.
    let insights_text = |index: &Option<String>, mode: Option<&str>| {
        let mode = match mode {
            Some(m) if m != "ACCESSED_AND_THROTTLED_KEYS" => format!(" {m}"),
            _ => String::new(),
        };
        match index {
            Some(ix) => format!("index {ix}{mode}"),
            None => format!("table{mode}"),
        }
    };
    let before = original.and_then(|o| o.insights.as_ref());
    let after: Vec<String> = rr
        .changes
        .iter()
        .filter_map(|c| match c {
            TableChange::ContributorInsights {
                index,
                enabled: true,
                mode,
            } => Some(insights_text(index, mode.as_deref())),
            _ => None,
        })
        .collect();
    let on: Option<Vec<String>> = before.map(|v| {
        v.iter()
            .filter(|i| i.enabled)
            .map(|i| insights_text(&i.index, i.mode.as_deref()))
            .collect()
    });
    out.push(SettingView {
        setting: Setting::ContributorInsights,
        before: on.clone().map_or_else(
            || NOT_READ.to_owned(),
            |v| {
                if v.is_empty() {
                    "off".to_owned()
                } else {
                    format!("on ({})", v.join(", "))
                }
            },
        ),
        after: if after.is_empty() {
            "off".to_owned()
        } else {
            format!("on ({})", after.join(", "))
        },
        outcome: outcome(on.as_ref().map(Vec::len), after.len()),
        note: None,
    });

    // The Kinesis streaming destination.
    let before: Option<Vec<String>> = original.and_then(|o| o.kinesis.as_ref()).map(|v| {
        v.iter()
            .filter(|d| d.is_on())
            .map(|d| d.stream_arn.clone())
            .collect()
    });
    let after: Vec<String> = rr
        .changes
        .iter()
        .filter_map(|c| match c {
            TableChange::KinesisDestination { stream_arn, .. } => Some(stream_arn.clone()),
            _ => None,
        })
        .collect();
    out.push(SettingView {
        setting: Setting::KinesisDestination,
        before: before.clone().map_or_else(|| NOT_READ.to_owned(), list),
        after: list(after.clone()),
        outcome: outcome(before.as_ref().map(Vec::len), after.len()),
        note: (!after.is_empty() && restore.source != restore.target.location).then(|| {
            "the stream of the same name in the restored table's account and Region".to_owned()
        }),
    });

    // Alarms (those auto scaling makes for itself come back with its policies).
    let before: Option<Vec<String>> = original.and_then(|o| o.alarms.as_ref()).map(|v| {
        v.iter()
            .filter(|a| !is_scaling_alarm(&a.name))
            .map(|a| a.name.clone())
            .collect()
    });
    let after: Vec<String> = rr
        .changes
        .iter()
        .filter_map(|c| match c {
            TableChange::Alarm { alarm } => Some(alarm.name.clone()),
            _ => None,
        })
        .collect();
    out.push(SettingView {
        setting: Setting::Alarms,
        before: before.clone().map_or_else(|| NOT_READ.to_owned(), list),
        after: list(after.clone()),
        outcome: outcome(before.as_ref().map(Vec::len), after.len()),
        note: None,
    });
    out
}

fn lost_finding(restore: &Restore, s: &SettingView) -> FindingView {
    let fix = match s.setting {
        Setting::Ttl => "add `after_restore: { ttl: copy }`".to_owned(),
        Setting::Stream => {
            let v = s.before.to_ascii_lowercase().replace('_', "-");
            format!("add `after_restore: {{ stream: {v} }}`")
        }
        Setting::PointInTimeRecovery => {
            "add `after_restore: { point_in_time_recovery: true }`".to_owned()
        }
        Setting::Tags => {
            "add `after_restore: { copy_source_tags: true }` or the missing tags under `after_restore.tags`".to_owned()
        }
        Setting::DeletionProtection => {
            "add `after_restore: { deletion_protection: true }`".to_owned()
        }
        Setting::AutoScaling => "add `after_restore: { auto_scaling: copy }`".to_owned(),
        Setting::ResourcePolicy => "add `after_restore: { resource_policy: copy }`".to_owned(),
        Setting::ContributorInsights => {
            "add `after_restore: { contributor_insights: copy }`".to_owned()
        }
        Setting::KinesisDestination => {
            "add `after_restore: { kinesis_destination: copy }`".to_owned()
        }
        Setting::Alarms => "add `after_restore: { alarms: copy }`".to_owned(),
    };
    FindingView {
        code: codes::SETTING_LOST.to_owned(),
        level: Level::Warning,
        message: format!(
            "restore `{}`: {} of the original ({}) would be lost: the restore does not carry it over and the plan does not re-apply it",
            restore.id,
            s.setting.label(),
            s.before
        ),
        restore: Some(restore.id.clone()),
        evidence: s.note.clone(),
        help: Some(format!(
            "{fix} (`from_source: all` brings back every setting), or accept the difference"
        )),
    }
}

fn step_view(change: &TableChange) -> StepView {
    let (operation, description) = match change {
        TableChange::PointInTimeRecovery { enabled } => (
            "UpdateContinuousBackups",
            format!("point-in-time recovery {}", on_off(*enabled)),
        ),
        TableChange::DeletionProtection { enabled } => (
            "UpdateTable",
            format!("deletion protection {}", on_off(*enabled)),
        ),
        TableChange::Tags { tags } => (
            "TagResource",
            format!(
                "tags {}",
                tags.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        TableChange::Ttl { attribute, enabled } => (
            "UpdateTimeToLive",
            format!("time to live {} (`{attribute}`)", on_off(*enabled)),
        ),
        TableChange::Stream { view_type } => (
            "UpdateTable",
            match view_type {
                Some(v) => format!("stream {v}"),
                None => "stream off".to_owned(),
            },
        ),
        TableChange::KinesisDestination { stream_arn, .. } => (
            "EnableKinesisStreamingDestination",
            format!("Kinesis streaming destination {stream_arn}"),
        ),
        TableChange::ContributorInsights {
            index,
            enabled,
            mode,
        } => ("UpdateContributorInsights", {
            let mode = match mode.as_deref().filter(|_| *enabled) {
                Some(m) => format!(" ({m})"),
                None => String::new(),
            };
            match index {
                Some(ix) => format!(
                    "contributor insights {}{mode} on index `{ix}`",
                    on_off(*enabled)
                ),
                None => format!("contributor insights {}{mode}", on_off(*enabled)),
            }
        }),
        TableChange::ScalableTarget { target } => (
            "RegisterScalableTarget",
            format!(
                "scalable target {} {} min {} max {}",
                target.resource_id, target.dimension, target.min_capacity, target.max_capacity
            ),
        ),
        TableChange::ScalingPolicy { policy } => (
            "PutScalingPolicy",
            format!(
                "target tracking `{}` on {} {}: {}%{}",
                policy.name,
                policy.resource_id,
                policy.dimension,
                policy.target_value,
                policy
                    .predefined_metric
                    .as_deref()
                    .map(|m| format!(" of {m}"))
                    .unwrap_or_default()
            ),
        ),
        TableChange::StepScalingPolicy { policy } => (
            "PutScalingPolicy",
            format!(
                "step scaling `{}` on {} {}: {} step{}{}",
                policy.name,
                policy.resource_id,
                policy.dimension,
                policy.steps.len(),
                if policy.steps.len() == 1 { "" } else { "s" },
                policy
                    .adjustment_type
                    .as_deref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default()
            ),
        ),
        TableChange::ResourcePolicy { policy } => (
            "PutResourcePolicy",
            format!(
                "resource-based policy ({} bytes, ARNs of the restored table)",
                policy.len()
            ),
        ),
        TableChange::Alarm { alarm } => (
            "PutMetricAlarm",
            format!(
                "alarm `{}`: {} {} {} {} ({} x {} s)",
                alarm.name,
                alarm.metric,
                alarm
                    .statistic
                    .as_deref()
                    .or(alarm.extended_statistic.as_deref())
                    .unwrap_or("?"),
                alarm.comparison,
                alarm.threshold,
                alarm.evaluation_periods,
                alarm.period
            ),
        ),
        TableChange::Capacity {
            billing_mode,
            throughput,
            on_demand,
            indexes,
        } => ("UpdateTable", {
            let mut d = format!("billing mode {}", billing_mode.aws_name());
            if let Some(t) = throughput {
                d.push_str(&format!(", throughput {}/{}", t.read, t.write));
            }
            if on_demand.is_some() {
                d.push_str(&format!(
                    ", on-demand maximum {}",
                    crate::check::capacity::show_on_demand(*on_demand)
                ));
            }
            for (name, ix) in indexes {
                if let Some(t) = ix.throughput {
                    d.push_str(&format!(", index {name} {}/{}", t.read, t.write));
                }
                if ix.on_demand.is_some() {
                    d.push_str(&format!(
                        ", index {name} on-demand maximum {}",
                        crate::check::capacity::show_on_demand(ix.on_demand)
                    ));
                }
            }
            d
        }),
        TableChange::TableClass { class } => {
            ("UpdateTable", format!("table class {}", class.aws_name()))
        }
    };
    StepView {
        operation: operation.to_owned(),
        description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::fixtures;
    use crate::diff::model::KeyKind;

    fn dry() -> DryRun {
        let plan = fixtures::plan();
        build(&plan, &fixtures::report(&plan), &fixtures::sources())
    }

    fn restore<'a>(d: &'a DryRun, id: &str) -> &'a RestoreView {
        d.restores
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no restore {id}"))
    }

    #[test]
    fn actions_follow_the_dispositions() {
        let d = dry();
        assert_eq!(restore(&d, "accounts").action, Action::Restore);
        let ledger = restore(&d, "ledger");
        assert_eq!(ledger.action, Action::Blocked);
        assert!(ledger.blocked_because[0].contains("older than the RPO"));
        assert_eq!(d.summary.to_restore, 1);
        assert_eq!(d.summary.blocked, 2);
        assert_eq!(d.summary.errors, 2);
        assert!(!d.is_ready());
    }

    #[test]
    fn start_restore_job_shows_the_metadata_as_sent() {
        let d = dry();
        let r = restore(&d, "accounts");
        assert_eq!(r.request.operation, "StartRestoreJob");
        assert_eq!(r.request.service, "backup");
        let p = &r.request.parameters;
        // The map the adapter sends, from the typed request: the target,
        // the customer key and the kept index.
        let plan = fixtures::plan();
        let report = fixtures::report(&plan);
        let RestoreRequest::StartRestoreJob {
            target_table_name,
            sse,
            indexes,
            ..
        } = &report.resolved[0].request
        else {
            panic!("accounts restores through AWS Backup");
        };
        assert_eq!(target_table_name, "accounts-dr");
        assert_eq!(
            sse,
            &SseRequest::Customer {
                key_arn: fixtures::KEY.to_owned()
            }
        );
        assert_eq!(
            indexes.as_ref().map(|v| v.len()),
            Some(1),
            "by-date is dropped"
        );
        let sent = crate::cloud::wire::start_restore_job_metadata(
            target_table_name,
            sse,
            indexes.as_deref(),
        );
        assert_eq!(p["Metadata"], serde_json::json!(sent));
        assert_eq!(p["ResourceType"], "DynamoDB");
        assert!(
            p["RecoveryPointArn"]
                .as_str()
                .is_some_and(|a| a.ends_with("000000000001"))
        );
        // Only the kept index is sent, in GetRecoveryPointRestoreMetadata's shape.
        let ix: serde_json::Value =
            serde_json::from_str(p["Metadata"]["secondaryIndices"].as_str().unwrap_or("null"))
                .unwrap_or_default();
        assert_eq!(ix.as_array().map(Vec::len), Some(1));
        assert_eq!(ix[0]["indexName"], "by-email");
    }

    #[test]
    fn point_in_time_requests_use_the_latest_restorable_time() {
        let d = dry();
        let r = restore(&d, "audit-pitr");
        assert_eq!(r.request.operation, "RestoreTableToPointInTime");
        assert_eq!(r.request.parameters["UseLatestRestorableTime"], true);
        assert_eq!(
            r.request.parameters["SSESpecificationOverride"],
            serde_json::json!({"Enabled": false})
        );
        assert_eq!(r.recovery_point.kind, RecoveryKind::PointInTime);
        assert_eq!(r.recovery_point.age_seconds, Some(300));
        assert_eq!(r.recovery_point.within_rpo, Some(true));
    }

    #[test]
    fn recovery_point_age_is_judged_against_the_rpo() {
        let d = dry();
        let acc = &restore(&d, "accounts").recovery_point;
        assert_eq!(acc.age_seconds, Some(3 * 3600));
        assert_eq!(acc.within_rpo, Some(true));
        assert_eq!(acc.vault.as_deref(), Some("payments-dr"));
        let led = &restore(&d, "ledger").recovery_point;
        assert_eq!(led.within_rpo, Some(false));
    }

    #[test]
    fn encryption_before_and_after() {
        let d = dry();
        let acc = &restore(&d, "accounts").encryption;
        assert_eq!(acc.before.kind, KeyKind::AwsOwned);
        assert_eq!(acc.after.kind, KeyKind::CustomerManaged);
        assert!(acc.changed);
        // The replica of the original multi-Region key is the same key.
        let led = &restore(&d, "ledger").encryption;
        assert_eq!(led.after.kind, KeyKind::CustomerManaged);
        assert!(!led.changed, "{led:?}");
        // AWS-managed before, AWS-owned after.
        let aud = &restore(&d, "audit-pitr").encryption;
        assert_eq!(aud.before.kind, KeyKind::AwsManaged);
        assert_eq!(aud.after.kind, KeyKind::AwsOwned);
        assert!(aud.changed);
    }

    #[test]
    fn indexes_not_named_are_dropped() {
        let d = dry();
        let ix = &restore(&d, "accounts").indexes;
        assert_eq!(
            ix.iter()
                .map(|i| (i.name.as_str(), i.kept))
                .collect::<Vec<_>>(),
            vec![("by-email", true), ("by-date", false)]
        );
    }

    #[test]
    fn settings_are_reapplied_lost_or_unknown() {
        let d = dry();
        let get = |id: &str, s: Setting| {
            restore(&d, id)
                .settings
                .iter()
                .find(|v| v.setting == s)
                .cloned()
                .unwrap_or_else(|| panic!("no {s:?} on {id}"))
        };
        assert_eq!(
            get("accounts", Setting::PointInTimeRecovery).outcome,
            SettingOutcome::Reapplied
        );
        // `team` is not in after_restore.tags; the `aws:` tag cannot be set anyway.
        let tags = get("accounts", Setting::Tags);
        assert_eq!(tags.outcome, SettingOutcome::Lost);
        assert_eq!(tags.note.as_deref(), Some("missing: team"));
        assert_eq!(get("ledger", Setting::Stream).outcome, SettingOutcome::Lost);
        assert_eq!(get("ledger", Setting::Stream).before, "NEW_AND_OLD_IMAGES");
        assert_eq!(get("ledger", Setting::Ttl).outcome, SettingOutcome::Lost);
        assert_eq!(
            get("ledger", Setting::Tags).outcome,
            SettingOutcome::NotNeeded
        );
        assert_eq!(
            get("audit-pitr", Setting::Stream).outcome,
            SettingOutcome::Reapplied
        );
        assert_eq!(get("audit-pitr", Setting::Stream).after, "NEW_IMAGE");
        // PITR of a point-in-time source is known from the live check.
        assert_eq!(get("audit-pitr", Setting::PointInTimeRecovery).before, "on");
        assert_eq!(
            get("audit-pitr", Setting::Tags).outcome,
            SettingOutcome::Unknown
        );
        assert_eq!(
            get("audit-pitr", Setting::AutoScaling).outcome,
            SettingOutcome::Unknown
        );
        assert_eq!(
            get("accounts", Setting::DeletionProtection).outcome,
            SettingOutcome::Reapplied
        );
    }

    #[test]
    fn lost_settings_are_warnings_with_a_fix() {
        let d = dry();
        let lost: Vec<&FindingView> = restore(&d, "ledger")
            .findings
            .iter()
            .filter(|f| f.code == codes::SETTING_LOST)
            .collect();
        assert_eq!(lost.len(), 2, "{lost:?}");
        assert!(lost.iter().all(|f| f.level == Level::Warning));
        assert!(lost.iter().any(|f| {
            f.help
                .as_deref()
                .is_some_and(|h| h.contains("stream: new-and-old-images"))
        }));
        // accounts loses its tag and the five settings beyond the table
        // (but not auto scaling's own alarm, which comes back with it).
        let accounts: Vec<&str> = restore(&d, "accounts")
            .findings
            .iter()
            .filter(|f| f.code == codes::SETTING_LOST)
            .filter_map(|f| f.help.as_deref())
            .collect();
        assert_eq!(accounts.len(), 6, "{accounts:?}");
        for key in [
            "copy_source_tags: true",
            "auto_scaling: copy",
            "resource_policy: copy",
            "contributor_insights: copy",
            "kinesis_destination: copy",
            "alarms: copy",
        ] {
            assert!(
                accounts.iter().any(|h| h.contains(key)),
                "{key}: {accounts:?}"
            );
        }
        assert_eq!(d.summary.warnings, 8);
        // IAM identity policies: said once for the plan.
        assert_eq!(
            d.findings
                .iter()
                .filter(|f| f.code == crate::plan::rules::IDENTITY_POLICIES)
                .count(),
            1
        );
    }

    #[test]
    fn after_restore_steps_follow_the_changes() {
        let d = dry();
        let steps: Vec<&str> = restore(&d, "audit-pitr")
            .after_restore
            .iter()
            .map(|s| s.operation.as_str())
            .collect();
        assert_eq!(
            steps,
            vec![
                "TagResource",
                "UpdateContinuousBackups",
                "UpdateTable",
                "UpdateTable"
            ]
        );
    }

    #[test]
    fn estimate_follows_the_dependency_chain() {
        let d = dry();
        // accounts -> ledger is the longest chain: 1325 + 3 steps, 1330 + 3 steps.
        assert_eq!(d.estimate.critical_path, vec!["accounts", "ledger"]);
        assert_eq!(d.estimate.predicted_rto_seconds, 1_325 + 90 + 1_330 + 90);
        assert_eq!(d.estimate.within_rto, Some(true));
    }

    #[test]
    fn unknown_indexes_are_reported_with_a_suggestion() {
        let mut plan_restores = fixtures::plan().restores().to_vec();
        plan_restores[0].indexes = Some(vec!["by-emial".to_owned()]);
        let plan =
            Plan::seal(fixtures::header(10), plan_restores).unwrap_or_else(|f| panic!("{f:?}"));
        // The live checks report it (so `apply` sees it); the dry run shows it once.
        let mut report = fixtures::report(&plan);
        report.findings.push(
            Finding::warning(
                codes::UNKNOWN_INDEX,
                "restore `accounts`: `indexes` names `by-emial`, which table `accounts` does not have",
            )
            .restore("accounts")
            .help("did you mean `by-email`?"),
        );
        let d = build(&plan, &report, &BTreeMap::new());
        let found: Vec<_> = restore(&d, "accounts")
            .findings
            .iter()
            .filter(|f| f.code == codes::UNKNOWN_INDEX)
            .cloned()
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].help.as_deref(), Some("did you mean `by-email`?"));
    }

    #[test]
    fn the_digest_changes_with_the_plan() {
        let a = fixtures::plan();
        let mut rs = a.restores().to_vec();
        rs[0].target_name = "accounts-other".to_owned();
        let b = Plan::seal(fixtures::header(10), rs).unwrap_or_else(|f| panic!("{f:?}"));
        assert_eq!(plan_digest(&a), plan_digest(&fixtures::plan()));
        assert_ne!(plan_digest(&a), plan_digest(&b));
    }

    #[test]
    fn saved_plans_round_trip_and_refuse_other_versions() {
        let d = dry();
        // As `plan --format json` writes it (`report::json::dry_run`).
        let text = serde_json::to_string_pretty(&d).expect("a dry run serializes");
        assert_eq!(DryRun::from_json(&text).ok(), Some(d));
        let other = text.replacen("\"schema_version\": 1", "\"schema_version\": 2", 1);
        assert!(matches!(
            DryRun::from_json(&other),
            Err(super::super::model::SavedPlanError::Version { found: 2 })
        ));
        assert!(matches!(
            DryRun::from_json("{}"),
            Err(super::super::model::SavedPlanError::NotAPlan)
        ));
        let broken = text.replacen("\"action\": \"restore\"", "\"action\": \"explode\"", 1);
        let e = DryRun::from_json(&broken)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("restores[0].action"), "{e}");
    }
}
