//! Step scaling policies (Application Auto Scaling `StepScaling`) copied
//! with `auto_scaling: copy`, with the CloudWatch alarm that drives each,
//! through the real binary against the emulator, read back through the
//! AWS APIs; teardown removes them.

use aws_sdk_applicationautoscaling as aas;
use aws_sdk_cloudwatch as cw;

use crate::apply::{World, events, fast, run_id};
use crate::support::settings::Extra;

const TIME_SCALE: &str = "0.002";

pub async fn step_policies(x: &Extra, resource_id: &str) -> Vec<aas::types::ScalingPolicy> {
    x.scaling
        .describe_scaling_policies()
        .service_namespace(aas::types::ServiceNamespace::Dynamodb)
        .resource_id(resource_id)
        .send()
        .await
        .expect("DescribeScalingPolicies")
        .scaling_policies()
        .iter()
        .filter(|p| p.policy_type() == &aas::types::PolicyType::StepScaling)
        .cloned()
        .collect()
}

pub async fn metric_alarm(x: &Extra, name: &str) -> Option<cw::types::MetricAlarm> {
    x.cloudwatch
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .expect("DescribeAlarms")
        .metric_alarms()
        .first()
        .cloned()
}

/// Table `orders` (backed up into `dr`) with a step scaling policy on its
/// read capacity, the alarm `orders-read-high` that drives it and the
/// alarm `orders-other` that drives nothing; the policy's ARN.
pub async fn orders_with_a_step_policy(w: &World) -> (Extra, String) {
    let arn = w.aws.table("orders", None, 2).await;
    let x = Extra::of(&w.aws);
    let dimension = aas::types::ScalableDimension::DynamoDbTableReadCapacityUnits;
    x.scaling
        .register_scalable_target()
        .service_namespace(aas::types::ServiceNamespace::Dynamodb)
        .resource_id("table/orders")
        .scalable_dimension(dimension.clone())
        .min_capacity(5)
        .max_capacity(100)
        .send()
        .await
        .expect("RegisterScalableTarget");
    let policy_arn = x
        .scaling
        .put_scaling_policy()
        .policy_name("orders-read-steps")
        .service_namespace(aas::types::ServiceNamespace::Dynamodb)
        .resource_id("table/orders")
        .scalable_dimension(dimension)
        .policy_type(aas::types::PolicyType::StepScaling)
        .step_scaling_policy_configuration(
            aas::types::StepScalingPolicyConfiguration::builder()
                .adjustment_type(aas::types::AdjustmentType::ChangeInCapacity)
                .step_adjustments(
                    aas::types::StepAdjustment::builder()
                        .metric_interval_lower_bound(0.0)
                        .metric_interval_upper_bound(50.0)
                        .scaling_adjustment(5)
                        .build()
                        .expect("a step"),
                )
                .step_adjustments(
                    aas::types::StepAdjustment::builder()
                        .metric_interval_lower_bound(50.0)
                        .scaling_adjustment(20)
                        .build()
                        .expect("a step"),
                )
                .cooldown(120)
                .metric_aggregation_type(aas::types::MetricAggregationType::Average)
                .build(),
        )
        .send()
        .await
        .expect("PutScalingPolicy")
        .policy_arn()
        .to_owned();
    // The alarm that drives the policy, and one that does not (left behind:
    // the plan does not copy alarms).
    for (name, actions) in [
        ("orders-read-high", vec![policy_arn.clone()]),
        ("orders-other", Vec::new()),
    ] {
        x.cloudwatch
            .put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/DynamoDB")
            .metric_name("ConsumedReadCapacityUnits")
            .dimensions(
                cw::types::Dimension::builder()
                    .name("TableName")
                    .value("orders")
                    .build(),
            )
            .statistic(cw::types::Statistic::Sum)
            .period(60)
            .evaluation_periods(1)
            .threshold(100.0)
            .comparison_operator(cw::types::ComparisonOperator::GreaterThanThreshold)
            .set_alarm_actions(Some(actions))
            .send()
            .await
            .expect("PutMetricAlarm");
    }
    w.aws.backup("dr", &arn).await;
    (x, policy_arn)
}

#[tokio::test(flavor = "multi_thread")]
async fn step_scaling_policies_come_back_with_the_alarms_that_drive_them() {
    let w = World::new(fast(), TIME_SCALE).await;
    let (x, policy_arn) = orders_with_a_step_policy(&w).await;
    let mut plan = w.header("steps", 1, None);
    plan.push_str("  - table: orders\n    after_restore: { auto_scaling: copy }\n");
    w.write("plan.yaml", &plan);

    // `plan` names the step policy and shows its call and its alarm's.
    let text = w.run(&["plan", "plan.yaml"], 0).stdout;
    assert!(
        text.contains(
            "step scaling policy orders-read-steps (1 re-created, with the alarms that drive them)"
        ),
        "{text}"
    );
    assert!(
        text.contains("step scaling `orders-dr-read-steps` on table/orders-dr dynamodb:table:ReadCapacityUnits: 2 steps (ChangeInCapacity) (PutScalingPolicy)"),
        "{text}"
    );
    assert!(text.contains("orders-dr-read-high"), "{text}");
    assert!(!text.contains("orders-dr-other"), "{text}");

    let applied = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    let run = run_id(&events(&applied));
    let copied = step_policies(&x, "table/orders-dr").await;
    assert_eq!(copied.len(), 1, "{copied:?}");
    let p = &copied[0];
    assert_eq!(p.policy_name(), "orders-dr-read-steps");
    let original = &step_policies(&x, "table/orders").await[0];
    assert_eq!(
        p.step_scaling_policy_configuration(),
        original.step_scaling_policy_configuration()
    );
    let alarm = metric_alarm(&x, "orders-dr-read-high")
        .await
        .expect("the driving alarm, copied");
    assert_eq!(alarm.alarm_actions(), [p.policy_arn().to_owned()]);
    assert_ne!(p.policy_arn(), policy_arn);
    assert_eq!(
        alarm
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap_or_default(), d.value().unwrap_or_default()))
            .collect::<Vec<_>>(),
        [("TableName", "orders-dr")]
    );
    assert_eq!(alarm.threshold(), Some(100.0));
    assert!(metric_alarm(&x, "orders-dr-other").await.is_none());

    // Teardown removes the copies; the original keeps its own.
    let down = w.run(&["teardown", &run, "--yes"], 0);
    assert!(
        down.stdout
            .contains("removed for orders-dr: DeleteAlarms orders-dr-read-high"),
        "{}",
        down.stdout
    );
    assert!(step_policies(&x, "table/orders-dr").await.is_empty());
    assert!(metric_alarm(&x, "orders-dr-read-high").await.is_none());
    assert_eq!(step_policies(&x, "table/orders").await.len(), 1);
    assert!(metric_alarm(&x, "orders-read-high").await.is_some());
}
