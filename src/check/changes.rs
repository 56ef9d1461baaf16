//! The requests a restore makes once its table is ACTIVE, in the order they
//! are sent. Pure.
//!
//! [`planned`] is the one place the list is built: the live checks (`plan`,
//! `apply`) and the offline resolution (`simulate`) both call it, and the
//! executor only adds the run's tag with [`for_run`], so review, simulation
//! and execution send the same calls in the same order.

use std::collections::BTreeMap;

use crate::cloud::TableChange;
use crate::cloud::settings::{
    Alarm, Insights, KinesisDestination, Scaling, alarm_name, rewrite_policy, rewrite_resource_id,
};
use crate::plan::model::{
    AfterRestore, CopyOrOff, Copyable, KinesisSetting, StreamSetting, TtlSetting,
};

/// Tag naming the plan on every table a run creates.
pub const PLAN_TAG: &str = "restoreplan:plan";
/// Tag naming the run on every table a run creates.
pub const RUN_TAG: &str = "restoreplan:run";

/// The original table as the live stage read it, for the keys that say
/// `copy`, and the names that rewriting needs. A `None` field was not read
/// (or could not be): a `copy` of it adds no step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Original {
    /// The original table's name.
    pub table: String,
    /// The original table's ARN.
    pub table_arn: String,
    /// The restored table's name.
    pub target_table: String,
    /// The restored table's ARN.
    pub target_arn: String,
    /// `:REGION:ACCOUNT:` of the original and of the restored table, for
    /// rewriting the ARNs of resources beside it (alarm actions, streams).
    pub moves: Option<(String, String)>,
    /// The GSIs the restored table keeps (`None`: all of the original's).
    pub kept_indexes: Option<Vec<String>>,
    /// Point-in-time recovery.
    pub point_in_time_recovery: Option<bool>,
    /// Deletion protection.
    pub deletion_protection: Option<bool>,
    /// Stream view type (`Some(None)`: streams off).
    pub stream: Option<Option<String>>,
    /// TTL attribute (`Some(None)`: TTL off).
    pub ttl: Option<Option<String>>,
    /// Tags.
    pub tags: Option<BTreeMap<String, String>>,
    /// Auto scaling of the table and its GSIs.
    pub scaling: Option<Scaling>,
    /// Resource-based policy (`Some(None)`: none).
    pub resource_policy: Option<Option<String>>,
    /// Contributor insights of the table and its GSIs.
    pub insights: Option<Vec<Insights>>,
    /// Kinesis streaming destinations.
    pub kinesis: Option<Vec<KinesisDestination>>,
    /// CloudWatch alarms on the table.
    pub alarms: Option<Vec<Alarm>>,
}

impl Original {
    fn keeps(&self, index: &str) -> bool {
        self.kept_indexes
            .as_ref()
            .is_none_or(|k| k.iter().any(|i| i == index))
    }

    /// An ARN of the original's account and Region as the same ARN in the
    /// restored table's.
    pub fn moved(&self, arn: &str) -> String {
        match &self.moves {
            Some((from, to)) => arn.replacen(from.as_str(), to, 1),
            None => arn.to_owned(),
        }
    }

    /// The index a resource id (`table/T/index/I`) or an alarm names, if any.
    fn index_of_resource(resource_id: &str) -> Option<&str> {
        resource_id.split_once("/index/").map(|(_, ix)| ix)
    }
}

/// Alarms CloudWatch creates for target-tracking policies (`TargetTracking-…`):
/// `PutScalingPolicy` creates them again for the restored table.
pub fn is_scaling_alarm(name: &str) -> bool {
    name.starts_with("TargetTracking-")
}

/// The settings applied after the restore of a table of plan `plan`, in
/// order: the tags first (the original's when `copy_source_tags`, under the
/// plan's, with [`PLAN_TAG`]; teardown can then recognise the table as early
/// as possible), then point-in-time recovery, time to live, the stream, the
/// Kinesis destination, contributor insights, auto scaling (targets, then
/// policies), the resource policy, alarms, and deletion protection last (so
/// a failed step before it leaves a table teardown can still delete).
///
/// Keys that say `copy` take the value from `original`; one the live stage
/// could not read, or that the original does not have, adds no step.
pub fn planned(plan: &str, after: &AfterRestore, original: &Original) -> Vec<TableChange> {
    let mut changes = Vec::new();
    let mut tags = BTreeMap::new();
    if after.copy_source_tags {
        tags.extend(
            original
                .tags
                .iter()
                .flatten()
                .filter(|(k, _)| !k.starts_with("aws:") && !k.starts_with("restoreplan:"))
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    tags.extend(after.tags.clone());
    tags.insert(PLAN_TAG.to_owned(), plan.to_owned());
    changes.push(TableChange::Tags { tags });
    let pitr = match after.point_in_time_recovery {
        Some(Copyable::Set(v)) => Some(v),
        Some(Copyable::Copy) => original.point_in_time_recovery.filter(|on| *on),
        None => None,
    };
    if let Some(enabled) = pitr {
        changes.push(TableChange::PointInTimeRecovery { enabled });
    }
    let ttl = match &after.ttl {
        Some(TtlSetting::Attribute { attribute }) => Some(attribute.as_str()),
        Some(TtlSetting::Copy) => original.ttl.as_ref().and_then(|t| t.as_deref()),
        None => None,
    };
    if let Some(attribute) = ttl {
        changes.push(TableChange::Ttl {
            attribute: attribute.to_owned(),
            enabled: true,
        });
    }
    match after.stream {
        Some(StreamSetting::Copy) => {
            if let Some(Some(view)) = &original.stream {
                changes.push(TableChange::Stream {
                    view_type: Some(view.clone()),
                });
            }
        }
        Some(stream) => changes.push(TableChange::Stream {
            view_type: stream.view_type().map(str::to_owned),
        }),
        None => {}
    }
    match &after.kinesis_destination {
        Some(KinesisSetting::Stream { stream_arn }) => {
            changes.push(TableChange::KinesisDestination {
                stream_arn: stream_arn.clone(),
                precision: None,
            });
        }
        Some(KinesisSetting::Copy) => {
            for d in original.kinesis.iter().flatten().filter(|d| d.is_on()) {
                changes.push(TableChange::KinesisDestination {
                    stream_arn: original.moved(&d.stream_arn),
                    precision: d.precision.clone(),
                });
            }
        }
        Some(KinesisSetting::Off) | None => {}
    }
    match after.contributor_insights {
        Some(Copyable::Set(true)) => changes.push(TableChange::ContributorInsights {
            index: None,
            enabled: true,
            mode: after
                .contributor_insights_mode
                .map(|m| m.aws_name().to_owned()),
        }),
        Some(Copyable::Copy) => {
            for i in original.insights.iter().flatten().filter(|i| i.enabled) {
                if i.index.as_deref().is_none_or(|ix| original.keeps(ix)) {
                    changes.push(TableChange::ContributorInsights {
                        index: i.index.clone(),
                        enabled: true,
                        mode: i.mode.clone(),
                    });
                }
            }
        }
        Some(Copyable::Set(false)) | None => {}
    }
    if after.auto_scaling == Some(CopyOrOff::Copy) {
        let scaling = original.scaling.clone().unwrap_or_default();
        let kept = |rid: &str| Original::index_of_resource(rid).is_none_or(|ix| original.keeps(ix));
        for t in scaling.targets.iter().filter(|t| kept(&t.resource_id)) {
            if let Some(resource_id) =
                rewrite_resource_id(&t.resource_id, &original.table, &original.target_table)
            {
                let mut target = t.clone();
                target.resource_id = resource_id;
                changes.push(TableChange::ScalableTarget { target });
            }
        }
        for p in scaling.policies.iter().filter(|p| kept(&p.resource_id)) {
            if let Some(resource_id) =
                rewrite_resource_id(&p.resource_id, &original.table, &original.target_table)
            {
                let mut policy = p.clone();
                policy.resource_id = resource_id;
                policy.name = p.name.replace(&original.table, &original.target_table);
                changes.push(TableChange::ScalingPolicy {
                    policy: Box::new(policy),
                });
            }
        }
        for p in scaling
            .step_policies
            .iter()
            .filter(|p| kept(&p.resource_id))
        {
            if let Some(resource_id) =
                rewrite_resource_id(&p.resource_id, &original.table, &original.target_table)
            {
                let mut policy = p.clone();
                policy.resource_id = resource_id;
                policy.name = p.name.replace(&original.table, &original.target_table);
                policy.arn.clear();
                changes.push(TableChange::StepScalingPolicy {
                    policy: Box::new(policy),
                });
            }
        }
    }
    // The restored table's step policies, by the original policy's ARN: an
    // alarm action naming one names the copy instead.
    let step_actions: Vec<(String, String)> = changes
        .iter()
        .filter_map(|c| match c {
            TableChange::StepScalingPolicy { policy } => Some(policy),
            _ => None,
        })
        .filter_map(|copy| {
            let scaling = original.scaling.as_ref()?;
            let from = scaling.step_policies.iter().find(|p| {
                rewrite_resource_id(&p.resource_id, &original.table, &original.target_table)
                    .as_deref()
                    == Some(copy.resource_id.as_str())
                    && p.name.replace(&original.table, &original.target_table) == copy.name
            })?;
            Some((
                from.arn.clone(),
                crate::cloud::settings::step_policy_action(&copy.resource_id, &copy.name),
            ))
        })
        .filter(|(arn, _)| !arn.is_empty())
        .collect();
    let drives_a_step_policy = |a: &crate::cloud::settings::Alarm| {
        a.alarm_actions
            .iter()
            .chain(&a.ok_actions)
            .chain(&a.insufficient_data_actions)
            .any(|arn| step_actions.iter().any(|(from, _)| from == arn))
    };
    if after.resource_policy == Some(CopyOrOff::Copy) {
        if let Some(Some(policy)) = &original.resource_policy {
            changes.push(TableChange::ResourcePolicy {
                policy: rewrite_policy(policy, &original.table_arn, &original.target_arn),
            });
        }
    }
    let all_alarms = after.alarms == Some(CopyOrOff::Copy);
    if all_alarms || !step_actions.is_empty() {
        for a in original.alarms.iter().flatten() {
            if is_scaling_alarm(&a.name) || !(all_alarms || drives_a_step_policy(a)) {
                continue;
            }
            let dropped_index = a
                .dimensions
                .iter()
                .any(|(n, v)| n == "GlobalSecondaryIndexName" && !original.keeps(v));
            if dropped_index || a.table_name() != Some(original.table.as_str()) {
                continue;
            }
            let mut alarm = a.clone();
            alarm.name = alarm_name(&a.name, &original.table, &original.target_table);
            for (n, v) in &mut alarm.dimensions {
                if n == "TableName" {
                    v.clone_from(&original.target_table);
                }
            }
            for arn in alarm
                .alarm_actions
                .iter_mut()
                .chain(alarm.ok_actions.iter_mut())
                .chain(alarm.insufficient_data_actions.iter_mut())
            {
                *arn = match step_actions.iter().find(|(from, _)| from == arn) {
                    Some((_, to)) => to.clone(),
                    None => original.moved(arn),
                };
            }
            alarm.tags.clear();
            changes.push(TableChange::Alarm {
                alarm: Box::new(alarm),
            });
        }
    }
    let dp = match after.deletion_protection {
        Some(Copyable::Set(v)) => Some(v),
        Some(Copyable::Copy) => original.deletion_protection.filter(|on| *on),
        None => None,
    };
    if let Some(enabled) = dp {
        changes.push(TableChange::DeletionProtection { enabled });
    }
    changes
}

/// `changes` with the capacity and class changes (`UpdateTable`, see
/// [`crate::check::capacity`]) placed right after the leading tags: before
/// deletion protection, and first among the table's updates, so the
/// capacity the plan asks for is in place as early as possible.
pub fn with_capacity(
    mut changes: Vec<TableChange>,
    capacity: Vec<TableChange>,
) -> Vec<TableChange> {
    let at = usize::from(matches!(changes.first(), Some(TableChange::Tags { .. })));
    changes.splice(at..at, capacity);
    changes
}

/// The planned settings as run `run_id` of plan `plan` sends them: the run
/// tags ([`PLAN_TAG`], [`RUN_TAG`]) ride in the leading `TagResource` call
/// (a new one first when the list has none there); nothing else changes,
/// so the order stays the planned one. The run tags win on a clash.
pub fn for_run(planned: &[TableChange], plan: &str, run_id: &str) -> Vec<TableChange> {
    let run_tags = [
        (PLAN_TAG.to_owned(), plan.to_owned()),
        (RUN_TAG.to_owned(), run_id.to_owned()),
    ];
    let mut all = planned.to_vec();
    // Alarms carry the run tags too: teardown deletes only alarms tagged
    // with its run.
    for c in &mut all {
        if let TableChange::Alarm { alarm } = c {
            alarm.tags.extend(run_tags.clone());
        }
    }
    match all.first_mut() {
        Some(TableChange::Tags { tags }) => tags.extend(run_tags),
        _ => all.insert(
            0,
            TableChange::Tags {
                tags: BTreeMap::from(run_tags),
            },
        ),
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_setting() -> AfterRestore {
        AfterRestore {
            point_in_time_recovery: Some(Copyable::Set(true)),
            deletion_protection: Some(Copyable::Set(true)),
            tags: BTreeMap::from([("team".to_owned(), "payments".to_owned())]),
            ttl: Some(TtlSetting::Attribute {
                attribute: "expires".to_owned(),
            }),
            stream: Some(StreamSetting::NewImage),
            ..AfterRestore::default()
        }
    }

    fn kinds(changes: &[TableChange]) -> Vec<&'static str> {
        changes
            .iter()
            .map(|c| match c {
                TableChange::Tags { .. } => "tags",
                TableChange::PointInTimeRecovery { .. } => "pitr",
                TableChange::Ttl { .. } => "ttl",
                TableChange::Stream { .. } => "stream",
                TableChange::DeletionProtection { .. } => "deletion-protection",
                TableChange::KinesisDestination { .. } => "kinesis",
                TableChange::ContributorInsights { .. } => "insights",
                TableChange::ScalableTarget { .. } => "scalable-target",
                TableChange::ScalingPolicy { .. } => "scaling-policy",
                TableChange::StepScalingPolicy { .. } => "step-scaling-policy",
                TableChange::ResourcePolicy { .. } => "resource-policy",
                TableChange::Alarm { .. } => "alarm",
                TableChange::Capacity { .. } => "capacity",
                TableChange::TableClass { .. } => "table-class",
            })
            .collect()
    }

    #[test]
    fn tags_come_first_and_deletion_protection_last() {
        let c = planned("p", &every_setting(), &Original::default());
        assert_eq!(
            kinds(&c),
            ["tags", "pitr", "ttl", "stream", "deletion-protection"]
        );
        assert!(
            matches!(&c[0], TableChange::Tags { tags } if tags[PLAN_TAG] == "p" && tags["team"] == "payments")
        );
    }

    #[test]
    fn ttl_copy_follows_the_original_table() {
        let after = AfterRestore {
            ttl: Some(TtlSetting::Copy),
            ..AfterRestore::default()
        };
        assert_eq!(kinds(&planned("p", &after, &Original::default())), ["tags"]);
        let original = Original {
            ttl: Some(Some("expires_at".to_owned())),
            ..Original::default()
        };
        let c = planned("p", &after, &original);
        assert!(
            matches!(&c[1], TableChange::Ttl { attribute, enabled: true } if attribute == "expires_at")
        );
    }

    #[test]
    fn capacity_changes_follow_the_tags() {
        use crate::plan::capacity::TableClass;
        let class = vec![TableChange::TableClass {
            class: TableClass::StandardInfrequentAccess,
        }];
        let c = with_capacity(planned("p", &every_setting(), &Original::default()), class);
        assert_eq!(
            kinds(&c),
            [
                "tags",
                "table-class",
                "pitr",
                "ttl",
                "stream",
                "deletion-protection"
            ]
        );
    }

    #[test]
    fn the_run_adds_its_tag_to_the_first_call_and_keeps_the_order() {
        let p = planned("p", &every_setting(), &Original::default());
        let run = for_run(&p, "p", "run-1");
        assert_eq!(kinds(&run), kinds(&p));
        assert!(
            matches!(&run[0], TableChange::Tags { tags } if tags[RUN_TAG] == "run-1" && tags[PLAN_TAG] == "p" && tags["team"] == "payments")
        );
        let bare = for_run(
            &[TableChange::PointInTimeRecovery { enabled: true }],
            "p",
            "r",
        );
        assert_eq!(kinds(&bare), ["tags", "pitr"]);
    }
    fn original_with_everything() -> Original {
        use crate::cloud::settings::{ScalableTarget, ScalingPolicy};
        let alarm = |name: &str, dims: &[(&str, &str)]| Alarm {
            name: name.to_owned(),
            description: None,
            namespace: "AWS/DynamoDB".to_owned(),
            metric: "ReadThrottleEvents".to_owned(),
            dimensions: dims
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            statistic: Some("Sum".to_owned()),
            extended_statistic: None,
            period: 60,
            evaluation_periods: 1,
            datapoints_to_alarm: None,
            threshold: 1.0,
            comparison: "GreaterThanThreshold".to_owned(),
            treat_missing_data: None,
            unit: None,
            actions_enabled: true,
            alarm_actions: vec!["arn:aws:sns:us-east-1:111122223333:oncall".to_owned()],
            ok_actions: Vec::new(),
            insufficient_data_actions: Vec::new(),
            tags: BTreeMap::new(),
        };
        let target = |rid: &str| ScalableTarget {
            resource_id: rid.to_owned(),
            dimension: "dynamodb:table:ReadCapacityUnits".to_owned(),
            min_capacity: 5,
            max_capacity: 50,
        };
        Original {
            table: "orders".to_owned(),
            table_arn: "arn:aws:dynamodb:us-east-1:111122223333:table/orders".to_owned(),
            target_table: "orders-dr".to_owned(),
            target_arn: "arn:aws:dynamodb:us-west-2:444455556666:table/orders-dr".to_owned(),
            moves: Some((
                ":us-east-1:111122223333:".to_owned(),
                ":us-west-2:444455556666:".to_owned(),
            )),
            kept_indexes: Some(vec!["by-user".to_owned()]),
            point_in_time_recovery: Some(true),
            deletion_protection: Some(true),
            stream: Some(Some("NEW_IMAGE".to_owned())),
            ttl: Some(Some("expires".to_owned())),
            tags: Some(BTreeMap::from([
                ("team".to_owned(), "payments".to_owned()),
                ("purpose".to_owned(), "prod".to_owned()),
                ("aws:cloudformation:stack-name".to_owned(), "s".to_owned()),
            ])),
            scaling: Some(Scaling {
                targets: vec![
                    target("table/orders"),
                    target("table/orders/index/by-user"),
                    target("table/orders/index/dropped"),
                ],
                policies: vec![ScalingPolicy {
                    name: "orders-read".to_owned(),
                    resource_id: "table/orders".to_owned(),
                    dimension: "dynamodb:table:ReadCapacityUnits".to_owned(),
                    target_value: 70.0,
                    predefined_metric: None,
                    scale_in_cooldown: None,
                    scale_out_cooldown: None,
                    disable_scale_in: None,
                }],
                other_policies: Vec::new(),
                step_policies: Vec::new(),
            }),
            resource_policy: Some(Some(
                r#"{"Resource":"arn:aws:dynamodb:us-east-1:111122223333:table/orders"}"#.to_owned(),
            )),
            insights: Some(vec![Insights {
                index: None,
                enabled: true,
                mode: None,
            }]),
            kinesis: Some(vec![KinesisDestination {
                stream_arn: "arn:aws:kinesis:us-east-1:111122223333:stream/s".to_owned(),
                status: "ACTIVE".to_owned(),
                precision: None,
            }]),
            alarms: Some(vec![
                alarm("orders-throttles", &[("TableName", "orders")]),
                alarm(
                    "TargetTracking-table/orders-AlarmHigh-1",
                    &[("TableName", "orders")],
                ),
                alarm(
                    "dropped-index",
                    &[
                        ("TableName", "orders"),
                        ("GlobalSecondaryIndexName", "dropped"),
                    ],
                ),
            ]),
        }
    }

    fn from_source_all() -> AfterRestore {
        AfterRestore {
            point_in_time_recovery: Some(Copyable::Copy),
            deletion_protection: Some(Copyable::Copy),
            tags: BTreeMap::from([("purpose".to_owned(), "dr".to_owned())]),
            ttl: Some(TtlSetting::Copy),
            stream: Some(StreamSetting::Copy),
            copy_source_tags: true,
            auto_scaling: Some(CopyOrOff::Copy),
            resource_policy: Some(CopyOrOff::Copy),
            contributor_insights: Some(Copyable::Copy),
            kinesis_destination: Some(KinesisSetting::Copy),
            alarms: Some(CopyOrOff::Copy),
            ..AfterRestore::default()
        }
    }

    #[test]
    fn step_policies_come_with_the_alarms_that_drive_them() {
        use crate::cloud::settings::{StepAdjustment, StepPolicy, parse_step_policy_action};
        let mut original = original_with_everything();
        let arn = "arn:aws:autoscaling:us-east-1:111122223333:scalingPolicy:1234:resource/dynamodb/table/orders:policyName/orders-steps";
        if let Some(s) = &mut original.scaling {
            s.step_policies.push(StepPolicy {
                name: "orders-steps".to_owned(),
                resource_id: "table/orders".to_owned(),
                dimension: "dynamodb:table:ReadCapacityUnits".to_owned(),
                arn: arn.to_owned(),
                adjustment_type: Some("ChangeInCapacity".to_owned()),
                steps: vec![StepAdjustment {
                    lower: Some(0.0),
                    upper: None,
                    adjustment: 5,
                }],
                min_adjustment_magnitude: None,
                cooldown: Some(60),
                metric_aggregation_type: Some("Average".to_owned()),
            });
        }
        if let Some(alarms) = &mut original.alarms {
            let mut driver = alarms[0].clone();
            driver.name = "orders-read-high".to_owned();
            driver.alarm_actions = vec![arn.to_owned()];
            alarms.push(driver);
        }
        // `auto_scaling: copy` alone: the policy, and only the alarm driving it.
        let after = AfterRestore {
            auto_scaling: Some(CopyOrOff::Copy),
            ..AfterRestore::default()
        };
        let c = planned("p", &after, &original);
        assert_eq!(
            kinds(&c),
            [
                "tags",
                "scalable-target",
                "scalable-target",
                "scaling-policy",
                "step-scaling-policy",
                "alarm"
            ]
        );
        assert!(matches!(&c[4], TableChange::StepScalingPolicy { policy }
            if policy.resource_id == "table/orders-dr" && policy.name == "orders-dr-steps" && policy.arn.is_empty()));
        let TableChange::Alarm { alarm } = &c[5] else {
            panic!("{c:?}");
        };
        assert_eq!(alarm.name, "orders-dr-read-high");
        assert_eq!(alarm.table_name(), Some("orders-dr"));
        assert_eq!(
            parse_step_policy_action(&alarm.alarm_actions[0]),
            Some(("table/orders-dr".to_owned(), "orders-dr-steps".to_owned()))
        );
        // With `alarms: copy` too, each alarm once; the driver's action still
        // names the restored table's policy.
        let c = planned("p", &from_source_all(), &original);
        let alarms: Vec<&str> = c
            .iter()
            .filter_map(|c| match c {
                TableChange::Alarm { alarm } => Some(alarm.name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(alarms, ["orders-dr-throttles", "orders-dr-read-high"]);
    }

    #[test]
    fn copies_take_the_original_with_names_and_arns_rewritten() {
        let c = planned("p", &from_source_all(), &original_with_everything());
        assert_eq!(
            kinds(&c),
            [
                "tags",
                "pitr",
                "ttl",
                "stream",
                "kinesis",
                "insights",
                "scalable-target",
                "scalable-target",
                "scaling-policy",
                "resource-policy",
                "alarm",
                "deletion-protection"
            ]
        );
        // The plan's tags win; AWS's are never copied.
        assert!(matches!(&c[0], TableChange::Tags { tags }
            if tags["purpose"] == "dr" && tags["team"] == "payments" && !tags.contains_key("aws:cloudformation:stack-name")));
        assert!(
            matches!(&c[4], TableChange::KinesisDestination { stream_arn, .. }
            if stream_arn == "arn:aws:kinesis:us-west-2:444455556666:stream/s")
        );
        // The dropped index's target is not re-created.
        assert!(matches!(&c[7], TableChange::ScalableTarget { target }
            if target.resource_id == "table/orders-dr/index/by-user"));
        assert!(matches!(&c[8], TableChange::ScalingPolicy { policy }
            if policy.resource_id == "table/orders-dr" && policy.name == "orders-dr-read"));
        assert!(matches!(&c[9], TableChange::ResourcePolicy { policy }
            if policy.contains("us-west-2:444455556666:table/orders-dr") && !policy.contains("111122223333")));
        // Auto scaling's own alarms come back with its policies; one on a
        // dropped index does not come back.
        assert!(matches!(&c[10], TableChange::Alarm { alarm }
            if alarm.name == "orders-dr-throttles"
                && alarm.dimensions == [("TableName".to_owned(), "orders-dr".to_owned())]
                && alarm.alarm_actions == ["arn:aws:sns:us-west-2:444455556666:oncall"]));
    }

    #[test]
    fn explicit_values_win_and_nothing_read_adds_nothing() {
        let mut after = from_source_all();
        after.point_in_time_recovery = Some(Copyable::Set(false));
        after.alarms = Some(CopyOrOff::Off);
        after.kinesis_destination = Some(KinesisSetting::Off);
        let c = planned("p", &after, &original_with_everything());
        assert!(matches!(
            &c[1],
            TableChange::PointInTimeRecovery { enabled: false }
        ));
        assert!(!kinds(&c).contains(&"alarm") && !kinds(&c).contains(&"kinesis"));
        // Nothing read of the original: the copies add no step.
        assert_eq!(
            kinds(&planned("p", &from_source_all(), &Original::default())),
            ["tags"]
        );
    }

    #[test]
    fn alarms_carry_the_run_tags() {
        let c = planned("p", &from_source_all(), &original_with_everything());
        let run = for_run(&c, "p", "run-1");
        assert!(
            run.iter().any(
                |c| matches!(c, TableChange::Alarm { alarm } if alarm.tags[RUN_TAG] == "run-1")
            )
        );
    }
}
