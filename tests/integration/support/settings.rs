//! Seeding and reading back the settings a restore drops, through the real
//! AWS APIs of the emulator: auto scaling, alarms, resource policies,
//! contributor insights, Kinesis streaming destinations.

use std::collections::BTreeMap;

use aws_sdk_applicationautoscaling as aas;
use aws_sdk_cloudwatch as cw;

use super::aws::Aws;
use super::emulator::Emulator;

/// Application Auto Scaling and CloudWatch clients beside [`Aws`]'s.
pub struct Extra {
    /// Application Auto Scaling.
    pub scaling: aas::Client,
    /// CloudWatch.
    pub cloudwatch: cw::Client,
}

impl Extra {
    /// The clients, with `aws`'s configuration (account and Region).
    pub fn of(aws: &Aws) -> Extra {
        Extra {
            scaling: aas::Client::new(&aws.conf),
            cloudwatch: cw::Client::new(&aws.conf),
        }
    }
}

/// Registers a scalable target on `resource_id` (`table/T` or
/// `table/T/index/I`) for `dimension` and a target-tracking policy on it.
pub async fn auto_scale(x: &Extra, resource_id: &str, dimension: &str, metric: &str, target: f64) {
    x.scaling
        .register_scalable_target()
        .service_namespace(aas::types::ServiceNamespace::Dynamodb)
        .resource_id(resource_id)
        .scalable_dimension(dimension.into())
        .min_capacity(5)
        .max_capacity(50)
        .send()
        .await
        .expect("RegisterScalableTarget");
    x.scaling
        .put_scaling_policy()
        .policy_name(format!("{}-{}", resource_id.replace('/', "-"), metric))
        .service_namespace(aas::types::ServiceNamespace::Dynamodb)
        .resource_id(resource_id)
        .scalable_dimension(dimension.into())
        .policy_type(aas::types::PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            aas::types::TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(target)
                .predefined_metric_specification(
                    aas::types::PredefinedMetricSpecification::builder()
                        .predefined_metric_type(metric.into())
                        .build()
                        .expect("a metric"),
                )
                .scale_in_cooldown(60)
                .scale_out_cooldown(60)
                .build()
                .expect("a configuration"),
        )
        .send()
        .await
        .expect("PutScalingPolicy");
}

/// Scalable targets (resource id, dimension, min, max) and policies
/// (resource id, dimension, target value, metric) of `resource_ids`.
pub async fn scaling_of(
    x: &Extra,
    resource_ids: &[String],
) -> (
    Vec<(String, String, i32, i32)>,
    Vec<(String, String, f64, String)>,
) {
    let targets = x
        .scaling
        .describe_scalable_targets()
        .service_namespace(aas::types::ServiceNamespace::Dynamodb)
        .set_resource_ids(Some(resource_ids.to_vec()))
        .send()
        .await
        .expect("DescribeScalableTargets");
    let mut t: Vec<_> = targets
        .scalable_targets()
        .iter()
        .map(|t| {
            (
                t.resource_id().to_owned(),
                t.scalable_dimension().as_str().to_owned(),
                t.min_capacity(),
                t.max_capacity(),
            )
        })
        .collect();
    t.sort();
    let mut p = Vec::new();
    for rid in resource_ids {
        let out = x
            .scaling
            .describe_scaling_policies()
            .service_namespace(aas::types::ServiceNamespace::Dynamodb)
            .resource_id(rid)
            .send()
            .await
            .expect("DescribeScalingPolicies");
        for policy in out
            .scaling_policies()
            .iter()
            .filter(|p| p.resource_id() == rid)
        {
            let cfg = policy
                .target_tracking_scaling_policy_configuration()
                .expect("target tracking");
            p.push((
                policy.resource_id().to_owned(),
                policy.scalable_dimension().as_str().to_owned(),
                cfg.target_value(),
                cfg.predefined_metric_specification()
                    .map(|m| m.predefined_metric_type().as_str().to_owned())
                    .unwrap_or_default(),
            ));
        }
    }
    p.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    (t, p)
}

/// Puts a metric alarm on `metric` of `table` (extra dimensions after TableName).
pub async fn alarm(x: &Extra, name: &str, table: &str, metric: &str, extra: &[(&str, &str)]) {
    let mut req = x
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/DynamoDB")
        .metric_name(metric)
        .dimensions(
            cw::types::Dimension::builder()
                .name("TableName")
                .value(table)
                .build(),
        )
        .statistic(cw::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(2)
        .threshold(5.0)
        .comparison_operator(cw::types::ComparisonOperator::GreaterThanOrEqualToThreshold)
        .treat_missing_data("notBreaching");
    for (n, v) in extra {
        req = req.dimensions(cw::types::Dimension::builder().name(*n).value(*v).build());
    }
    req.send().await.expect("PutMetricAlarm");
}

/// Every metric alarm here as (name, dimensions, metric, threshold,
/// evaluation periods), by name.
pub async fn alarms(x: &Extra) -> BTreeMap<String, (Vec<(String, String)>, String, f64, i32)> {
    let out = x
        .cloudwatch
        .describe_alarms()
        .send()
        .await
        .expect("DescribeAlarms");
    out.metric_alarms()
        .iter()
        .map(|a| {
            (
                a.alarm_name().unwrap_or_default().to_owned(),
                (
                    a.dimensions()
                        .iter()
                        .map(|d| {
                            (
                                d.name().unwrap_or_default().to_owned(),
                                d.value().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect(),
                    a.metric_name().unwrap_or_default().to_owned(),
                    a.threshold().unwrap_or_default(),
                    a.evaluation_periods().unwrap_or_default(),
                ),
            )
        })
        .collect()
}

/// Creates Kinesis data stream `name` in `aws`'s account and Region (the
/// tests have no Kinesis SDK: one JSON call) and returns its ARN.
pub fn kinesis_stream(em: &Emulator, aws: &Aws, name: &str) -> String {
    use std::io::{Read, Write};
    let host = em
        .endpoint
        .strip_prefix("http://")
        .expect("the emulator speaks http");
    let body = format!("{{\"StreamName\":\"{name}\",\"ShardCount\":1}}");
    let mut s = std::net::TcpStream::connect(host).expect("connect to the emulator");
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: Kinesis_20131202.CreateStream\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20261201/{region}/kinesis/aws4_request, SignedHeaders=host, Signature=0\r\n\
         x-moto-account-id: {account}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n{body}",
        region = aws.region,
        account = aws.account,
        len = body.len()
    )
    .expect("send CreateStream");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read the answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "CreateStream: {answer}");
    format!(
        "arn:aws:kinesis:{}:{}:stream/{name}",
        aws.region, aws.account
    )
}
