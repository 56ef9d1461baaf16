//! The table settings a restore drops beyond the table itself: auto
//! scaling, the resource-based policy, contributor insights, the Kinesis
//! streaming destination and CloudWatch alarms, as the cloud adapters read
//! and write them. Pure data; no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An Application Auto Scaling scalable target of a table or GSI
/// (`ServiceNamespace` `dynamodb`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScalableTarget {
    /// `table/NAME` or `table/NAME/index/INDEX`.
    pub resource_id: String,
    /// `dynamodb:table:ReadCapacityUnits`, `dynamodb:index:WriteCapacityUnits`, ….
    pub dimension: String,
    /// `MinCapacity`.
    pub min_capacity: i32,
    /// `MaxCapacity`.
    pub max_capacity: i32,
}

/// A target-tracking scaling policy (`PolicyType` `TargetTrackingScaling`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingPolicy {
    /// `PolicyName`.
    pub name: String,
    /// `table/NAME` or `table/NAME/index/INDEX`.
    pub resource_id: String,
    /// The scalable dimension.
    pub dimension: String,
    /// `TargetValue` (percent utilization).
    pub target_value: f64,
    /// `PredefinedMetricType`, e.g. `DynamoDBReadCapacityUtilization`.
    pub predefined_metric: Option<String>,
    /// `ScaleInCooldown` in seconds.
    pub scale_in_cooldown: Option<i32>,
    /// `ScaleOutCooldown` in seconds.
    pub scale_out_cooldown: Option<i32>,
    /// `DisableScaleIn`.
    pub disable_scale_in: Option<bool>,
}

impl Eq for ScalingPolicy {}

/// Auto scaling of a table and its GSIs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scaling {
    /// Scalable targets.
    pub targets: Vec<ScalableTarget>,
    /// Target-tracking policies (other policy types are not copied).
    pub policies: Vec<ScalingPolicy>,
    /// Names of policies of another type, which are not copied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_policies: Vec<String>,

    /// Step scaling policies (`PolicyType` `StepScaling`), driven by
    /// CloudWatch alarms whose actions name them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub step_policies: Vec<StepPolicy>,
}

/// One step of a step scaling policy (`StepAdjustment`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepAdjustment {
    /// `MetricIntervalLowerBound`.
    pub lower: Option<f64>,
    /// `MetricIntervalUpperBound`.
    pub upper: Option<f64>,
    /// `ScalingAdjustment`.
    pub adjustment: i32,
}

/// A step scaling policy (`PolicyType` `StepScaling`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepPolicy {
    /// `PolicyName`.
    pub name: String,
    /// `table/NAME` or `table/NAME/index/INDEX`.
    pub resource_id: String,
    /// The scalable dimension.
    pub dimension: String,
    /// `PolicyARN` of the original's policy (what its alarms' actions name);
    /// empty for a policy still to be created.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub arn: String,
    /// `AdjustmentType`: `ChangeInCapacity`, `PercentChangeInCapacity`, `ExactCapacity`.
    pub adjustment_type: Option<String>,
    /// `StepAdjustments`.
    pub steps: Vec<StepAdjustment>,
    /// `MinAdjustmentMagnitude`.
    pub min_adjustment_magnitude: Option<i32>,
    /// `Cooldown` in seconds.
    pub cooldown: Option<i32>,
    /// `MetricAggregationType`: `Average`, `Minimum`, `Maximum`.
    pub metric_aggregation_type: Option<String>,
}

impl Eq for StepPolicy {}

/// An alarm action that names a step scaling policy of the restored table,
/// whose ARN AWS assigns when the policy is created: the adapter looks it up
/// (`DescribeScalingPolicies`) before it sends the alarm.
pub const STEP_POLICY_ACTION: &str = "restoreplan:step-scaling-policy:";

/// The alarm action standing for step policy `name` on `resource_id`.
pub fn step_policy_action(resource_id: &str, name: &str) -> String {
    format!(
        "{STEP_POLICY_ACTION}{}",
        serde_json::json!([resource_id, name])
    )
}

/// `(resource id, policy name)` of an action made by [`step_policy_action`].
pub fn parse_step_policy_action(action: &str) -> Option<(String, String)> {
    let rest = action.strip_prefix(STEP_POLICY_ACTION)?;
    serde_json::from_str::<(String, String)>(rest).ok()
}

/// A CloudWatch metric alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    /// `AlarmName`.
    pub name: String,
    /// `AlarmDescription`.
    pub description: Option<String>,
    /// `Namespace`, e.g. `AWS/DynamoDB`.
    pub namespace: String,
    /// `MetricName`.
    pub metric: String,
    /// `Dimensions` as (name, value), in order.
    pub dimensions: Vec<(String, String)>,
    /// `Statistic`.
    pub statistic: Option<String>,
    /// `ExtendedStatistic`.
    pub extended_statistic: Option<String>,
    /// `Period` in seconds.
    pub period: i32,
    /// `EvaluationPeriods`.
    pub evaluation_periods: i32,
    /// `DatapointsToAlarm`.
    pub datapoints_to_alarm: Option<i32>,
    /// `Threshold`.
    pub threshold: f64,
    /// `ComparisonOperator`.
    pub comparison: String,
    /// `TreatMissingData`.
    pub treat_missing_data: Option<String>,
    /// `Unit`.
    pub unit: Option<String>,
    /// `ActionsEnabled`.
    pub actions_enabled: bool,
    /// `AlarmActions`.
    pub alarm_actions: Vec<String>,
    /// `OKActions`.
    pub ok_actions: Vec<String>,
    /// `InsufficientDataActions`.
    pub insufficient_data_actions: Vec<String>,
    /// `Tags` sent with `PutMetricAlarm` (the run's; AWS keeps them only
    /// when the call creates the alarm).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl Eq for Alarm {}

impl Alarm {
    /// The value of its `TableName` dimension, if any.
    pub fn table_name(&self) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(n, _)| n == "TableName")
            .map(|(_, v)| v.as_str())
    }
}

/// Contributor insights of a table or one of its GSIs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Insights {
    /// `None` for the table itself.
    pub index: Option<String>,
    /// `ENABLED` or `ENABLING`.
    pub enabled: bool,
    /// `ContributorInsightsMode`, when reported.
    pub mode: Option<String>,
}

/// A Kinesis streaming destination of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KinesisDestination {
    /// The Kinesis data stream's ARN.
    pub stream_arn: String,
    /// `ACTIVE`, `ENABLING`, `DISABLED`, ….
    pub status: String,
    /// `ApproximateCreationDateTimePrecision`, when reported.
    pub precision: Option<String>,
}

impl KinesisDestination {
    /// True when the destination delivers (or is about to).
    pub fn is_on(&self) -> bool {
        matches!(self.status.as_str(), "ACTIVE" | "ENABLING" | "UPDATING")
    }
}

/// The Application Auto Scaling resource ids of table `table` and of each
/// of `indexes`.
pub fn resource_ids(table: &str, indexes: &[String]) -> Vec<String> {
    std::iter::once(format!("table/{table}"))
        .chain(indexes.iter().map(|ix| format!("table/{table}/index/{ix}")))
        .collect()
}

/// `resource_id` (`table/FROM…`) of table `from` as the same resource of
/// table `to`; `None` when it is not of `from`.
pub fn rewrite_resource_id(resource_id: &str, from: &str, to: &str) -> Option<String> {
    let rest = resource_id.strip_prefix("table/")?.strip_prefix(from)?;
    (rest.is_empty() || rest.starts_with('/')).then(|| format!("table/{to}{rest}"))
}

/// A policy document of table `from_arn` as the same document of table
/// `to_arn`: the table ARN, and every ARN under it (`/index/…`,
/// `/stream/…`, `/backup/…`, `/export/…`), rewritten; ARNs of other tables
/// (even ones whose names start with the same letters) stay.
pub fn rewrite_policy(policy: &str, from_arn: &str, to_arn: &str) -> String {
    let mut out = String::with_capacity(policy.len());
    let mut rest = policy;
    while let Some(at) = rest.find(from_arn) {
        let after = &rest[at + from_arn.len()..];
        let ends = after
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')));
        out.push_str(&rest[..at]);
        out.push_str(if ends { to_arn } else { from_arn });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The name of the copy of alarm `name` of table `from` on table `to`: the
/// original's name with the table name replaced, or `to` put in front when
/// the name does not contain `from`.
pub fn alarm_name(name: &str, from: &str, to: &str) -> String {
    if from == to {
        return name.to_owned();
    }
    if name.contains(from) {
        name.replace(from, to)
    } else {
        format!("{to}-{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_name_the_table_and_its_indexes() {
        assert_eq!(
            resource_ids("t", &["by-user".to_owned()]),
            ["table/t", "table/t/index/by-user"]
        );
        assert_eq!(
            rewrite_resource_id("table/orders/index/by-user", "orders", "orders-dr").as_deref(),
            Some("table/orders-dr/index/by-user")
        );
        assert_eq!(rewrite_resource_id("table/orders-x", "orders", "o"), None);
    }

    #[test]
    fn policies_get_the_restored_tables_arns_only() {
        let from = "arn:aws:dynamodb:us-east-1:111122223333:table/orders";
        let to = "arn:aws:dynamodb:us-west-2:444455556666:table/orders-dr";
        let doc = format!(
            r#"{{"Resource":["{from}","{from}/index/*","{from}-archive","{from}/stream/*"]}}"#
        );
        assert_eq!(
            rewrite_policy(&doc, from, to),
            format!(r#"{{"Resource":["{to}","{to}/index/*","{from}-archive","{to}/stream/*"]}}"#)
        );
    }

    #[test]
    fn alarm_names_carry_the_target_table() {
        assert_eq!(
            alarm_name("orders-throttles", "orders", "orders-dr"),
            "orders-dr-throttles"
        );
        assert_eq!(
            alarm_name("high-latency", "orders", "orders-dr"),
            "orders-dr-high-latency"
        );
        assert_eq!(alarm_name("orders-x", "orders", "orders"), "orders-x");
    }
}
