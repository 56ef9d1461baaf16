//! What a worker lane of the state machine needs to run one restore: the
//! exact SDK parameters of its restore request and of each after-restore
//! change, in the shape Step Functions passes them to AWS SDK integrations.
//! Pure.
//!
//! The matches on [`RestoreRequest`] and [`TableChange`] are exhaustive: a
//! new kind of request or change does not compile until it is mapped here
//! (and so gets its task state, its IAM actions and its seed entry).

use serde_json::{Map, Value, json};

use crate::cloud::wire::start_restore_job_metadata;
use crate::cloud::{
    CapacityOverride, CopyRequest, IndexDef, RestoreRequest, SseRequest, TableChange,
};
use crate::plan::capacity::{OnDemandThroughput, Throughput};

/// The optional parameters of calls whose shape varies, and the letter
/// each adds to the call's kind.
const OPTIONAL: &[(&str, char)] = &[
    ("RestoreDateTime", 'T'),
    ("UseLatestRestorableTime", 'L'),
    ("GlobalSecondaryIndexOverride", 'G'),
    ("BillingModeOverride", 'B'),
    ("ProvisionedThroughputOverride", 'P'),
    ("OnDemandThroughputOverride", 'O'),
    ("ProvisionedThroughput", 'P'),
    ("OnDemandThroughput", 'O'),
    ("GlobalSecondaryIndexUpdates", 'G'),
];

/// `op`, then the letters of the optional parameters `params` has.
fn kind_of(op: &str, params: &Map<String, Value>) -> String {
    let letters: String = OPTIONAL
        .iter()
        .filter(|(k, _)| params.contains_key(*k))
        .map(|(_, c)| *c)
        .collect();
    if letters.is_empty() {
        op.to_owned()
    } else {
        format!("{op} {letters}")
    }
}

fn throughput(t: &Throughput) -> Value {
    json!({"ReadCapacityUnits": t.read, "WriteCapacityUnits": t.write})
}

fn on_demand(o: &OnDemandThroughput) -> Value {
    let mut v = Map::new();
    if let Some(r) = o.max_read {
        v.insert("MaxReadRequestUnits".into(), json!(r));
    }
    if let Some(w) = o.max_write {
        v.insert("MaxWriteRequestUnits".into(), json!(w));
    }
    Value::Object(v)
}

/// The capacity overrides of a DynamoDB restore, as `apply` sends them.
fn capacity_override(params: &mut Map<String, Value>, capacity: Option<&CapacityOverride>) {
    let Some(c) = capacity else { return };
    params.insert(
        "BillingModeOverride".into(),
        json!(c.billing_mode.aws_name()),
    );
    if let Some(t) = &c.throughput {
        params.insert("ProvisionedThroughputOverride".into(), throughput(t));
    }
    if let Some(o) = &c.on_demand {
        params.insert("OnDemandThroughputOverride".into(), on_demand(o));
    }
}

/// A restore request as one Step Functions task sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskCall {
    /// The state machine's name for this shape of call (one task state per
    /// kind the plan uses): the operation, and for calls whose optional
    /// parameters vary, a letter for each one it sends.
    pub kind: String,
    /// The AWS SDK integration, e.g. `backup:startRestoreJob`.
    pub action: &'static str,
    /// The IAM action it needs, e.g. `backup:StartRestoreJob`.
    pub iam_action: &'static str,
    /// The exact request parameters (PascalCase, as AWS names them).
    pub params: Map<String, Value>,
}

impl TaskCall {
    /// The parameter names of this call, in order: the task state passes
    /// each from the restore's entry.
    pub fn keys(&self) -> Vec<String> {
        self.params.keys().cloned().collect()
    }
}

fn sse_override(sse: &SseRequest) -> Value {
    match sse {
        SseRequest::Owned => json!({"Enabled": false}),
        SseRequest::Managed => json!({"Enabled": true, "SSEType": "KMS"}),
        SseRequest::Customer { key_arn } => {
            json!({"Enabled": true, "SSEType": "KMS", "KMSMasterKeyId": key_arn})
        }
    }
}

fn gsi_override(indexes: &[IndexDef], capacity: Option<&CapacityOverride>) -> Value {
    Value::Array(
        indexes
            .iter()
            .map(|ix| {
                let mut projection = json!({"ProjectionType": ix.projection_type});
                if !ix.non_key_attributes.is_empty() {
                    projection["NonKeyAttributes"] = json!(ix.non_key_attributes);
                }
                let mut v = json!({
                    "IndexName": ix.name,
                    "KeySchema": ix.key_schema.iter()
                        .map(|(a, t)| json!({"AttributeName": a, "KeyType": t}))
                        .collect::<Vec<_>>(),
                    "Projection": projection,
                });
                if let Some(own) = capacity.and_then(|c| c.indexes.get(&ix.name)) {
                    if let Some(t) = &own.throughput {
                        v["ProvisionedThroughput"] = throughput(t);
                    }
                    if let Some(o) = &own.on_demand {
                        v["OnDemandThroughput"] = on_demand(o);
                    }
                }
                v
            })
            .collect(),
    )
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The task call of `request`, with its idempotency token set.
pub fn restore_call(request: &RestoreRequest) -> TaskCall {
    match request {
        RestoreRequest::StartRestoreJob {
            recovery_point_arn,
            iam_role_arn,
            idempotency_token,
            resource_type,
            target_table_name,
            sse,
            indexes,
        } => TaskCall {
            kind: "StartRestoreJob".to_owned(),
            action: "backup:startRestoreJob",
            iam_action: "backup:StartRestoreJob",
            params: object(json!({
                "RecoveryPointArn": recovery_point_arn,
                "IamRoleArn": iam_role_arn,
                "IdempotencyToken": idempotency_token,
                "ResourceType": resource_type,
                "Metadata": start_restore_job_metadata(target_table_name, sse, indexes.as_deref()),
            })),
        },
        RestoreRequest::RestoreTableFromBackup {
            backup_arn,
            target_table_name,
            sse,
            indexes,
            capacity,
        } => {
            let mut params = object(json!({
                "BackupArn": backup_arn,
                "TargetTableName": target_table_name,
                "SSESpecificationOverride": sse_override(sse),
            }));
            if let Some(ix) = indexes {
                params.insert(
                    "GlobalSecondaryIndexOverride".into(),
                    gsi_override(ix, capacity.as_ref()),
                );
            }
            capacity_override(&mut params, capacity.as_ref());
            TaskCall {
                kind: kind_of("RestoreTableFromBackup", &params),
                action: "dynamodb:restoreTableFromBackup",
                iam_action: "dynamodb:RestoreTableFromBackup",
                params,
            }
        }
        RestoreRequest::RestoreTableToPointInTime {
            source_table_arn,
            target_table_name,
            restore_date_time,
            sse,
            indexes,
            capacity,
        } => {
            let mut params = object(json!({
                "SourceTableArn": source_table_arn,
                "TargetTableName": target_table_name,
                "SSESpecificationOverride": sse_override(sse),
            }));
            match restore_date_time {
                Some(t) => params.insert(
                    "RestoreDateTime".into(),
                    json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                ),
                None => params.insert("UseLatestRestorableTime".into(), json!(true)),
            };
            if let Some(ix) = indexes {
                params.insert(
                    "GlobalSecondaryIndexOverride".into(),
                    gsi_override(ix, capacity.as_ref()),
                );
            }
            capacity_override(&mut params, capacity.as_ref());
            TaskCall {
                kind: kind_of("RestoreTableToPointInTime", &params),
                action: "dynamodb:restoreTableToPointInTime",
                iam_action: "dynamodb:RestoreTableToPointInTime",
                params,
            }
        }
    }
}

/// The kind of a step scaling policy's `PutScalingPolicy`: its state
/// records the policy's `PolicyARN`.
pub const STEP_POLICY_KIND: &str = "PutStepScalingPolicy";

/// The kind of a `PutMetricAlarm` whose actions name a step scaling policy
/// of the restored table: its state reads each such policy's ARN first.
pub const RESOLVED_ALARM_KIND: &str = "PutMetricAlarm P";

/// An alarm's action lists, in the order a resolved alarm's `actions` holds
/// them.
pub const ACTION_LISTS: [&str; 3] = ["AlarmActions", "OKActions", "InsufficientDataActions"];

/// The name (within a restore) under which a step policy's ARN is recorded.
pub fn policy_ref(resource_id: &str, name: &str) -> String {
    format!("{resource_id}#{name}")
}

/// An alarm's three action lists as the machine resolves them, when any
/// action names a step policy of the restored table: each action
/// `{"arn": ARN}` as written, or `{"policy": REF}` for the policy's ARN
/// recorded under [`policy_ref`]. `None` when no action names one.
fn alarm_actions(alarm: &crate::cloud::settings::Alarm) -> Option<Value> {
    use crate::cloud::settings::parse_step_policy_action;
    let lists = [
        &alarm.alarm_actions,
        &alarm.ok_actions,
        &alarm.insufficient_data_actions,
    ];
    let any = lists
        .iter()
        .flat_map(|l| l.iter())
        .any(|a| parse_step_policy_action(a).is_some());
    any.then(|| {
        Value::Array(
            lists
                .iter()
                .map(|l| {
                    Value::Array(
                        l.iter()
                            .map(|a| match parse_step_policy_action(a) {
                                Some((rid, name)) => json!({"policy": policy_ref(&rid, &name)}),
                                None => json!({"arn": a}),
                            })
                            .collect(),
                    )
                })
                .collect(),
        )
    })
}

/// What a setting's entry carries besides its parameters: a step policy's
/// `ref` (where its ARN is recorded), a resolved alarm's `actions`.
pub fn change_refs(change: &TableChange) -> Option<(&'static str, Value)> {
    match change {
        TableChange::StepScalingPolicy { policy } => {
            Some(("ref", json!(policy_ref(&policy.resource_id, &policy.name))))
        }
        TableChange::Alarm { alarm } => alarm_actions(alarm).map(|a| ("actions", a)),
        _ => None,
    }
}

/// The task call of a copy step's `StartCopyJob`, with its idempotency
/// token set: the parameters `apply` sends (`AwsCloud::start_copy`).
pub fn copy_call(request: &CopyRequest) -> TaskCall {
    TaskCall {
        kind: "StartCopyJob".to_owned(),
        action: "backup:startCopyJob",
        iam_action: "backup:StartCopyJob",
        params: object(json!({
            "RecoveryPointArn": request.recovery_point_arn,
            "SourceBackupVaultName": request.source_backup_vault_name,
            "DestinationBackupVaultArn": request.destination_backup_vault_arn,
            "IamRoleArn": request.iam_role_arn,
            "IdempotencyToken": request.idempotency_token,
        })),
    }
}

/// The task call of one after-restore `change` of table `name` (ARN
/// `arn`).
pub fn change_call(change: &TableChange, name: &str, arn: &str) -> TaskCall {
    match change {
        TableChange::Tags { tags } => TaskCall {
            kind: "TagResource".to_owned(),
            action: "dynamodb:tagResource",
            iam_action: "dynamodb:TagResource",
            params: object(json!({
                "ResourceArn": arn,
                "Tags": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
            })),
        },
        TableChange::PointInTimeRecovery { enabled } => TaskCall {
            kind: "UpdateContinuousBackups".to_owned(),
            action: "dynamodb:updateContinuousBackups",
            iam_action: "dynamodb:UpdateContinuousBackups",
            params: object(json!({
                "TableName": name,
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": enabled},
            })),
        },
        TableChange::Ttl { attribute, enabled } => TaskCall {
            kind: "UpdateTimeToLive".to_owned(),
            action: "dynamodb:updateTimeToLive",
            iam_action: "dynamodb:UpdateTimeToLive",
            params: object(json!({
                "TableName": name,
                "TimeToLiveSpecification": {"AttributeName": attribute, "Enabled": enabled},
            })),
        },
        TableChange::Stream { view_type } => {
            let spec = match view_type {
                Some(v) => json!({"StreamEnabled": true, "StreamViewType": v}),
                None => json!({"StreamEnabled": false}),
            };
            TaskCall {
                kind: "UpdateTableStream".to_owned(),
                action: "dynamodb:updateTable",
                iam_action: "dynamodb:UpdateTable",
                params: object(json!({"TableName": name, "StreamSpecification": spec})),
            }
        }
        TableChange::KinesisDestination {
            stream_arn,
            precision,
        } => {
            let mut params = object(json!({"TableName": name, "StreamArn": stream_arn}));
            if let Some(p) = precision {
                params.insert(
                    "EnableKinesisStreamingConfiguration".into(),
                    json!({"ApproximateCreationDateTimePrecision": p}),
                );
            }
            TaskCall {
                kind: "EnableKinesisStreamingDestination".to_owned(),
                action: "dynamodb:enableKinesisStreamingDestination",
                iam_action: "dynamodb:EnableKinesisStreamingDestination",
                params,
            }
        }
        TableChange::ContributorInsights {
            index,
            enabled,
            mode,
        } => {
            let mut params = object(json!({
                "TableName": name,
                "ContributorInsightsAction": if *enabled { "ENABLE" } else { "DISABLE" },
            }));
            if let Some(ix) = index {
                params.insert("IndexName".into(), json!(ix));
            }
            if let Some(m) = mode.as_ref().filter(|_| *enabled) {
                params.insert("ContributorInsightsMode".into(), json!(m));
            }
            TaskCall {
                kind: "UpdateContributorInsights".to_owned(),
                action: "dynamodb:updateContributorInsights",
                iam_action: "dynamodb:UpdateContributorInsights",
                params,
            }
        }
        TableChange::ScalableTarget { target } => TaskCall {
            kind: "RegisterScalableTarget".to_owned(),
            action: "applicationautoscaling:registerScalableTarget",
            iam_action: "application-autoscaling:RegisterScalableTarget",
            params: object(json!({
                "ServiceNamespace": "dynamodb",
                "ResourceId": target.resource_id,
                "ScalableDimension": target.dimension,
                "MinCapacity": target.min_capacity,
                "MaxCapacity": target.max_capacity,
            })),
        },
        TableChange::ScalingPolicy { policy } => {
            let mut config = json!({"TargetValue": policy.target_value});
            if let Some(m) = &policy.predefined_metric {
                config["PredefinedMetricSpecification"] = json!({"PredefinedMetricType": m});
            }
            if let Some(v) = policy.scale_in_cooldown {
                config["ScaleInCooldown"] = json!(v);
            }
            if let Some(v) = policy.scale_out_cooldown {
                config["ScaleOutCooldown"] = json!(v);
            }
            if let Some(v) = policy.disable_scale_in {
                config["DisableScaleIn"] = json!(v);
            }
            TaskCall {
                kind: "PutScalingPolicy".to_owned(),
                action: "applicationautoscaling:putScalingPolicy",
                iam_action: "application-autoscaling:PutScalingPolicy",
                params: object(json!({
                    "PolicyName": policy.name,
                    "ServiceNamespace": "dynamodb",
                    "ResourceId": policy.resource_id,
                    "ScalableDimension": policy.dimension,
                    "PolicyType": "TargetTrackingScaling",
                    "TargetTrackingScalingPolicyConfiguration": config,
                })),
            }
        }
        TableChange::StepScalingPolicy { policy } => {
            let mut config = json!({
                "StepAdjustments": policy.steps.iter().map(|st| {
                    let mut step = json!({"ScalingAdjustment": st.adjustment});
                    if let Some(v) = st.lower {
                        step["MetricIntervalLowerBound"] = json!(v);
                    }
                    if let Some(v) = st.upper {
                        step["MetricIntervalUpperBound"] = json!(v);
                    }
                    step
                }).collect::<Vec<_>>(),
            });
            for (key, value) in [
                ("AdjustmentType", &policy.adjustment_type),
                ("MetricAggregationType", &policy.metric_aggregation_type),
            ] {
                if let Some(v) = value {
                    config[key] = json!(v);
                }
            }
            for (key, value) in [
                ("MinAdjustmentMagnitude", policy.min_adjustment_magnitude),
                ("Cooldown", policy.cooldown),
            ] {
                if let Some(v) = value {
                    config[key] = json!(v);
                }
            }
            // Its own kind: the state records the PolicyARN AWS gives it,
            // which the alarms that drive it name.
            TaskCall {
                kind: STEP_POLICY_KIND.to_owned(),
                action: "applicationautoscaling:putScalingPolicy",
                iam_action: "application-autoscaling:PutScalingPolicy",
                params: object(json!({
                    "PolicyName": policy.name,
                    "ServiceNamespace": "dynamodb",
                    "ResourceId": policy.resource_id,
                    "ScalableDimension": policy.dimension,
                    "PolicyType": "StepScaling",
                    "StepScalingPolicyConfiguration": config,
                })),
            }
        }
        TableChange::ResourcePolicy { policy } => TaskCall {
            kind: "PutResourcePolicy".to_owned(),
            action: "dynamodb:putResourcePolicy",
            iam_action: "dynamodb:PutResourcePolicy",
            params: object(json!({"ResourceArn": arn, "Policy": policy})),
        },
        TableChange::Alarm { alarm } => {
            let mut params = object(json!({
                "AlarmName": alarm.name,
                "Namespace": alarm.namespace,
                "MetricName": alarm.metric,
                "Dimensions": alarm.dimensions.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect::<Vec<_>>(),
                "Period": alarm.period,
                "EvaluationPeriods": alarm.evaluation_periods,
                "Threshold": alarm.threshold,
                "ComparisonOperator": alarm.comparison,
                "ActionsEnabled": alarm.actions_enabled,
                "AlarmActions": alarm.alarm_actions,
                "OKActions": alarm.ok_actions,
                "InsufficientDataActions": alarm.insufficient_data_actions,
                "Tags": alarm.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
            }));
            for (key, value) in [
                ("AlarmDescription", &alarm.description),
                ("Statistic", &alarm.statistic),
                ("ExtendedStatistic", &alarm.extended_statistic),
                ("TreatMissingData", &alarm.treat_missing_data),
                ("Unit", &alarm.unit),
            ] {
                if let Some(v) = value {
                    params.insert(key.into(), json!(v));
                }
            }
            if let Some(v) = alarm.datapoints_to_alarm {
                params.insert("DatapointsToAlarm".into(), json!(v));
            }
            // Actions naming a step policy of the restored table take its
            // ARN from the state that created it (see [`change_refs`]).
            if alarm_actions(alarm).is_some() {
                for key in ACTION_LISTS {
                    params.remove(key);
                }
                return TaskCall {
                    kind: RESOLVED_ALARM_KIND.to_owned(),
                    action: "cloudwatch:putMetricAlarm",
                    iam_action: "cloudwatch:PutMetricAlarm",
                    params,
                };
            }
            TaskCall {
                kind: "PutMetricAlarm".to_owned(),
                action: "cloudwatch:putMetricAlarm",
                iam_action: "cloudwatch:PutMetricAlarm",
                params,
            }
        }
        TableChange::Capacity {
            billing_mode,
            throughput: table_throughput,
            on_demand: table_on_demand,
            indexes,
        } => {
            let mut params =
                object(json!({"TableName": name, "BillingMode": billing_mode.aws_name()}));
            if let Some(t) = table_throughput {
                params.insert("ProvisionedThroughput".into(), throughput(t));
            }
            if let Some(o) = table_on_demand {
                params.insert("OnDemandThroughput".into(), on_demand(o));
            }
            let updates: Vec<Value> = indexes
                .iter()
                .filter(|(_, c)| c.throughput.is_some() || c.on_demand.is_some())
                .map(|(ix, c)| {
                    let mut u = json!({"IndexName": ix});
                    if let Some(t) = &c.throughput {
                        u["ProvisionedThroughput"] = throughput(t);
                    }
                    if let Some(o) = &c.on_demand {
                        u["OnDemandThroughput"] = on_demand(o);
                    }
                    json!({"Update": u})
                })
                .collect();
            if !updates.is_empty() {
                params.insert("GlobalSecondaryIndexUpdates".into(), Value::Array(updates));
            }
            TaskCall {
                kind: kind_of("UpdateTableCapacity", &params),
                action: "dynamodb:updateTable",
                iam_action: "dynamodb:UpdateTable",
                params,
            }
        }
        TableChange::TableClass { class } => TaskCall {
            kind: "UpdateTableClass".to_owned(),
            action: "dynamodb:updateTable",
            iam_action: "dynamodb:UpdateTable",
            params: object(json!({"TableName": name, "TableClass": class.aws_name()})),
        },
        TableChange::DeletionProtection { enabled } => TaskCall {
            kind: "UpdateTableDeletionProtection".to_owned(),
            action: "dynamodb:updateTable",
            iam_action: "dynamodb:UpdateTable",
            params: object(json!({"TableName": name, "DeletionProtectionEnabled": enabled})),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn backup_jobs_send_the_metadata_apply_sends() {
        let call = restore_call(&RestoreRequest::StartRestoreJob {
            recovery_point_arn: "arn:rp".into(),
            iam_role_arn: "arn:role".into(),
            idempotency_token: "tok".into(),
            resource_type: "DynamoDB".into(),
            target_table_name: "orders-dr".into(),
            sse: SseRequest::Owned,
            indexes: None,
        });
        assert_eq!(call.kind, "StartRestoreJob");
        assert_eq!(call.params["IdempotencyToken"], "tok");
        assert_eq!(call.params["Metadata"]["targetTableName"], "orders-dr");
        assert_eq!(call.params["Metadata"]["encryptionType"], "Default");
        assert_eq!(call.params["Metadata"]["kmsMasterKeyArn"], "Not Applicable");
    }

    #[test]
    fn each_shape_of_native_restore_has_its_own_kind() {
        let pitr = |at: Option<chrono::DateTime<chrono::Utc>>, ix: Option<Vec<IndexDef>>| {
            restore_call(&RestoreRequest::RestoreTableToPointInTime {
                source_table_arn: "arn:t".into(),
                target_table_name: "t2".into(),
                restore_date_time: at,
                sse: SseRequest::Managed,
                indexes: ix,
                capacity: None,
            })
        };
        let at = Some(chrono::DateTime::UNIX_EPOCH);
        assert_eq!(pitr(None, None).kind, "RestoreTableToPointInTime L");
        assert_eq!(pitr(None, None).params["UseLatestRestorableTime"], true);
        assert_eq!(
            pitr(at, None).params["RestoreDateTime"],
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(pitr(at, Some(vec![])).kind, "RestoreTableToPointInTime TG");
        assert_eq!(
            pitr(at, None).params["SSESpecificationOverride"]["SSEType"],
            "KMS"
        );
    }

    #[test]
    fn changes_name_the_table_or_its_arn() {
        let tags = change_call(
            &TableChange::Tags {
                tags: BTreeMap::from([("a".to_owned(), "b".to_owned())]),
            },
            "t",
            "arn:t",
        );
        assert_eq!(tags.params["ResourceArn"], "arn:t");
        assert_eq!(tags.params["Tags"][0]["Key"], "a");
        let off = change_call(&TableChange::Stream { view_type: None }, "t", "arn:t");
        assert_eq!(
            off.params["StreamSpecification"],
            json!({"StreamEnabled": false})
        );
    }

    #[test]
    fn capacity_and_class_are_sent_as_apply_sends_them() {
        use crate::cloud::IndexCapacity;
        use crate::plan::capacity::{BillingMode, TableClass};
        let change = TableChange::Capacity {
            billing_mode: BillingMode::Provisioned,
            throughput: Some(Throughput {
                read: 100,
                write: 50,
            }),
            on_demand: None,
            indexes: BTreeMap::from([(
                "by-user".to_owned(),
                IndexCapacity {
                    throughput: Some(Throughput { read: 10, write: 5 }),
                    on_demand: None,
                },
            )]),
        };
        let call = change_call(&change, "t", "arn:t");
        assert_eq!(call.kind, "UpdateTableCapacity PG");
        assert_eq!(call.params["BillingMode"], "PROVISIONED");
        assert_eq!(
            call.params["ProvisionedThroughput"]["ReadCapacityUnits"],
            100
        );
        assert_eq!(
            call.params["GlobalSecondaryIndexUpdates"][0]["Update"]["ProvisionedThroughput"]["WriteCapacityUnits"],
            5
        );
        let class = change_call(
            &TableChange::TableClass {
                class: TableClass::StandardInfrequentAccess,
            },
            "t",
            "arn:t",
        );
        assert_eq!(class.params["TableClass"], "STANDARD_INFREQUENT_ACCESS");
        let restore = restore_call(&RestoreRequest::RestoreTableFromBackup {
            backup_arn: "arn:b".into(),
            target_table_name: "t".into(),
            sse: SseRequest::Owned,
            indexes: None,
            capacity: Some(CapacityOverride {
                billing_mode: BillingMode::OnDemand,
                throughput: None,
                on_demand: Some(OnDemandThroughput {
                    max_read: Some(4000),
                    max_write: None,
                }),
                indexes: BTreeMap::new(),
            }),
        });
        assert_eq!(restore.kind, "RestoreTableFromBackup BO");
        assert_eq!(restore.params["BillingModeOverride"], "PAY_PER_REQUEST");
        assert_eq!(
            restore.params["OnDemandThroughputOverride"],
            json!({"MaxReadRequestUnits": 4000})
        );
    }
}
