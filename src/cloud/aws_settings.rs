//! The AWS adapter's calls for the settings beyond the table: Application
//! Auto Scaling, CloudWatch alarms, DynamoDB resource policies, contributor
//! insights and Kinesis streaming destinations.

use std::collections::BTreeMap;

use aws_sdk_applicationautoscaling as aas;
use aws_sdk_cloudwatch as cw;
use aws_sdk_dynamodb as ddb;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::Clients;
use crate::cloud::settings::{
    Alarm, Insights, KinesisDestination, ScalableTarget, Scaling, ScalingPolicy, StepAdjustment,
    StepPolicy,
};
use crate::cloud::{CloudError, CloudResult, ErrorKind, TableChange};

const DYNAMODB: aas::types::ServiceNamespace = aas::types::ServiceNamespace::Dynamodb;

fn invalid(op: &str, e: aws_smithy_types::error::operation::BuildError) -> CloudError {
    CloudError::new(ErrorKind::Invalid, op, "InvalidRequest", e.to_string())
}

pub(super) async fn scaling(c: &Clients, resource_ids: &[String]) -> CloudResult<Scaling> {
    let mut out = Scaling::default();
    let mut next: Option<String> = None;
    loop {
        let page = c
            .autoscaling
            .describe_scalable_targets()
            .service_namespace(DYNAMODB)
            .set_resource_ids(Some(resource_ids.to_vec()))
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| c.fail("DescribeScalableTargets", e))?;
        for t in page.scalable_targets() {
            out.targets.push(ScalableTarget {
                resource_id: t.resource_id().to_owned(),
                dimension: t.scalable_dimension().as_str().to_owned(),
                min_capacity: t.min_capacity(),
                max_capacity: t.max_capacity(),
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_owned()),
            _ => break,
        }
    }
    for rid in resource_ids {
        let mut next: Option<String> = None;
        loop {
            let page = c
                .autoscaling
                .describe_scaling_policies()
                .service_namespace(DYNAMODB)
                .resource_id(rid)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| c.fail("DescribeScalingPolicies", e))?;
            // Only this resource's (a prefix match would also list its indexes').
            for p in page
                .scaling_policies()
                .iter()
                .filter(|p| p.resource_id() == rid)
            {
                let tracking = p.target_tracking_scaling_policy_configuration();
                match (p.policy_type(), tracking) {
                    (aas::types::PolicyType::TargetTrackingScaling, Some(cfg)) => {
                        out.policies.push(ScalingPolicy {
                            name: p.policy_name().to_owned(),
                            resource_id: p.resource_id().to_owned(),
                            dimension: p.scalable_dimension().as_str().to_owned(),
                            target_value: cfg.target_value(),
                            predefined_metric: cfg
                                .predefined_metric_specification()
                                .map(|m| m.predefined_metric_type().as_str().to_owned()),
                            scale_in_cooldown: cfg.scale_in_cooldown(),
                            scale_out_cooldown: cfg.scale_out_cooldown(),
                            disable_scale_in: cfg.disable_scale_in(),
                        });
                    }
                    (aas::types::PolicyType::StepScaling, _) => {
                        let Some(cfg) = p.step_scaling_policy_configuration() else {
                            out.other_policies.push(p.policy_name().to_owned());
                            continue;
                        };
                        out.step_policies.push(StepPolicy {
                            name: p.policy_name().to_owned(),
                            resource_id: p.resource_id().to_owned(),
                            dimension: p.scalable_dimension().as_str().to_owned(),
                            arn: p.policy_arn().to_owned(),
                            adjustment_type: cfg.adjustment_type().map(|t| t.as_str().to_owned()),
                            steps: cfg
                                .step_adjustments()
                                .iter()
                                .map(|s| StepAdjustment {
                                    lower: s.metric_interval_lower_bound(),
                                    upper: s.metric_interval_upper_bound(),
                                    adjustment: s.scaling_adjustment(),
                                })
                                .collect(),
                            min_adjustment_magnitude: cfg.min_adjustment_magnitude(),
                            cooldown: cfg.cooldown(),
                            metric_aggregation_type: cfg
                                .metric_aggregation_type()
                                .map(|t| t.as_str().to_owned()),
                        });
                    }
                    _ => out.other_policies.push(p.policy_name().to_owned()),
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_owned()),
                _ => break,
            }
        }
    }
    Ok(out)
}

pub(super) async fn resource_policy(c: &Clients, arn: &str) -> CloudResult<Option<String>> {
    match c
        .dynamodb
        .get_resource_policy()
        .resource_arn(arn)
        .send()
        .await
    {
        Ok(out) => Ok(out.policy().map(str::to_owned)),
        Err(e) if e.code() == Some("PolicyNotFoundException") => Ok(None),
        Err(e) => Err(c.fail("GetResourcePolicy", e)),
    }
}

pub(super) async fn contributor_insights(
    c: &Clients,
    name: &str,
    indexes: &[String],
) -> CloudResult<Vec<Insights>> {
    let mut out = Vec::new();
    for index in std::iter::once(None).chain(indexes.iter().map(Some)) {
        let got = c
            .dynamodb
            .describe_contributor_insights()
            .table_name(name)
            .set_index_name(index.cloned())
            .send()
            .await
            .map_err(|e| c.fail("DescribeContributorInsights", e))?;
        out.push(Insights {
            index: index.cloned(),
            enabled: matches!(
                got.contributor_insights_status(),
                Some(
                    ddb::types::ContributorInsightsStatus::Enabled
                        | ddb::types::ContributorInsightsStatus::Enabling
                )
            ),
            mode: got
                .contributor_insights_mode()
                .map(|m| m.as_str().to_owned()),
        });
    }
    Ok(out)
}

pub(super) async fn kinesis_destinations(
    c: &Clients,
    name: &str,
) -> CloudResult<Vec<KinesisDestination>> {
    let out = c
        .dynamodb
        .describe_kinesis_streaming_destination()
        .table_name(name)
        .send()
        .await
        .map_err(|e| c.fail("DescribeKinesisStreamingDestination", e))?;
    Ok(out
        .kinesis_data_stream_destinations()
        .iter()
        .map(|d| KinesisDestination {
            stream_arn: d.stream_arn().unwrap_or_default().to_owned(),
            status: d
                .destination_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            precision: d
                .approximate_creation_date_time_precision()
                .map(|p| p.as_str().to_owned()),
        })
        .collect())
}

fn alarm_of(a: &cw::types::MetricAlarm) -> Alarm {
    Alarm {
        name: a.alarm_name().unwrap_or_default().to_owned(),
        description: a.alarm_description().map(str::to_owned),
        namespace: a.namespace().unwrap_or_default().to_owned(),
        metric: a.metric_name().unwrap_or_default().to_owned(),
        dimensions: a
            .dimensions()
            .iter()
            .map(|d| {
                (
                    d.name().unwrap_or_default().to_owned(),
                    d.value().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        statistic: a.statistic().map(|s| s.as_str().to_owned()),
        extended_statistic: a.extended_statistic().map(str::to_owned),
        period: a.period().unwrap_or(60),
        evaluation_periods: a.evaluation_periods().unwrap_or(1),
        datapoints_to_alarm: a.datapoints_to_alarm(),
        threshold: a.threshold().unwrap_or_default(),
        comparison: a
            .comparison_operator()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        treat_missing_data: a.treat_missing_data().map(str::to_owned),
        unit: a.unit().map(|u| u.as_str().to_owned()),
        actions_enabled: a.actions_enabled().unwrap_or(true),
        alarm_actions: a.alarm_actions().to_vec(),
        ok_actions: a.ok_actions().to_vec(),
        insufficient_data_actions: a.insufficient_data_actions().to_vec(),
        tags: BTreeMap::new(),
    }
}

pub(super) async fn table_alarms(c: &Clients, table: &str) -> CloudResult<Vec<Alarm>> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = c
            .cloudwatch
            .describe_alarms()
            .alarm_types(cw::types::AlarmType::MetricAlarm)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| c.fail("DescribeAlarms", e))?;
        for a in page.metric_alarms() {
            let alarm = alarm_of(a);
            if alarm.namespace == "AWS/DynamoDB" && alarm.table_name() == Some(table) {
                out.push(alarm);
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_owned()),
            _ => break,
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub(super) async fn alarm_tags(
    c: &Clients,
    name: &str,
) -> CloudResult<Option<BTreeMap<String, String>>> {
    let page = c
        .cloudwatch
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .map_err(|e| c.fail("DescribeAlarms", e))?;
    let Some(arn) = page
        .metric_alarms()
        .iter()
        .find(|a| a.alarm_name() == Some(name))
        .and_then(|a| a.alarm_arn())
    else {
        return Ok(None);
    };
    let tags = c
        .cloudwatch
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| c.fail("ListTagsForResource", e))?;
    Ok(Some(
        tags.tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
    ))
}

/// Applies one of the settings beyond the table's own DynamoDB calls;
/// `Ok(false)` when `change` is not one of them.
pub(super) async fn apply(
    c: &Clients,
    table_arn: &str,
    name: &str,
    change: &TableChange,
) -> CloudResult<bool> {
    match change {
        TableChange::KinesisDestination {
            stream_arn,
            precision,
        } => {
            let config = precision.as_deref().map(|p| {
                ddb::types::EnableKinesisStreamingConfiguration::builder()
                    .approximate_creation_date_time_precision(p.into())
                    .build()
            });
            c.dynamodb
                .enable_kinesis_streaming_destination()
                .table_name(name)
                .stream_arn(stream_arn)
                .set_enable_kinesis_streaming_configuration(config)
                .send()
                .await
                .map_err(|e| c.fail("EnableKinesisStreamingDestination", e))?;
        }
        TableChange::ContributorInsights {
            index,
            enabled,
            mode,
        } => {
            let action = if *enabled {
                ddb::types::ContributorInsightsAction::Enable
            } else {
                ddb::types::ContributorInsightsAction::Disable
            };
            c.dynamodb
                .update_contributor_insights()
                .table_name(name)
                .set_index_name(index.clone())
                .contributor_insights_action(action)
                .set_contributor_insights_mode(
                    mode.as_deref()
                        .filter(|_| *enabled)
                        .map(ddb::types::ContributorInsightsMode::from),
                )
                .send()
                .await
                .map_err(|e| c.fail("UpdateContributorInsights", e))?;
        }
        TableChange::ScalableTarget { target } => {
            c.autoscaling
                .register_scalable_target()
                .service_namespace(DYNAMODB)
                .resource_id(&target.resource_id)
                .scalable_dimension(target.dimension.as_str().into())
                .min_capacity(target.min_capacity)
                .max_capacity(target.max_capacity)
                .send()
                .await
                .map_err(|e| c.fail("RegisterScalableTarget", e))?;
        }
        TableChange::ScalingPolicy { policy } => {
            let metric = policy
                .predefined_metric
                .as_deref()
                .map(|m| {
                    aas::types::PredefinedMetricSpecification::builder()
                        .predefined_metric_type(m.into())
                        .build()
                })
                .transpose()
                .map_err(|e| invalid("PutScalingPolicy", e))?;
            let config = aas::types::TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(policy.target_value)
                .set_predefined_metric_specification(metric)
                .set_scale_in_cooldown(policy.scale_in_cooldown)
                .set_scale_out_cooldown(policy.scale_out_cooldown)
                .set_disable_scale_in(policy.disable_scale_in)
                .build()
                .map_err(|e| invalid("PutScalingPolicy", e))?;
            c.autoscaling
                .put_scaling_policy()
                .policy_name(&policy.name)
                .service_namespace(DYNAMODB)
                .resource_id(&policy.resource_id)
                .scalable_dimension(policy.dimension.as_str().into())
                .policy_type(aas::types::PolicyType::TargetTrackingScaling)
                .target_tracking_scaling_policy_configuration(config)
                .send()
                .await
                .map_err(|e| c.fail("PutScalingPolicy", e))?;
        }
        TableChange::StepScalingPolicy { policy } => {
            let steps = policy
                .steps
                .iter()
                .map(|st| {
                    aas::types::StepAdjustment::builder()
                        .set_metric_interval_lower_bound(st.lower)
                        .set_metric_interval_upper_bound(st.upper)
                        .scaling_adjustment(st.adjustment)
                        .build()
                        .map_err(|e| invalid("PutScalingPolicy", e))
                })
                .collect::<CloudResult<Vec<_>>>()?;
            let config = aas::types::StepScalingPolicyConfiguration::builder()
                .set_adjustment_type(policy.adjustment_type.as_deref().map(Into::into))
                .set_step_adjustments(Some(steps))
                .set_min_adjustment_magnitude(policy.min_adjustment_magnitude)
                .set_cooldown(policy.cooldown)
                .set_metric_aggregation_type(
                    policy.metric_aggregation_type.as_deref().map(Into::into),
                )
                .build();
            c.autoscaling
                .put_scaling_policy()
                .policy_name(&policy.name)
                .service_namespace(DYNAMODB)
                .resource_id(&policy.resource_id)
                .scalable_dimension(policy.dimension.as_str().into())
                .policy_type(aas::types::PolicyType::StepScaling)
                .step_scaling_policy_configuration(config)
                .send()
                .await
                .map_err(|e| c.fail("PutScalingPolicy", e))?;
        }
        TableChange::ResourcePolicy { policy } => {
            c.dynamodb
                .put_resource_policy()
                .resource_arn(table_arn)
                .policy(policy)
                .send()
                .await
                .map_err(|e| c.fail("PutResourcePolicy", e))?;
        }
        TableChange::Alarm { alarm } => {
            // Actions naming a step scaling policy of the restored table get
            // the ARN AWS gave it.
            let mut actions = [
                alarm.alarm_actions.clone(),
                alarm.ok_actions.clone(),
                alarm.insufficient_data_actions.clone(),
            ];
            for action in actions.iter_mut().flatten() {
                if let Some((rid, name)) = crate::cloud::settings::parse_step_policy_action(action)
                {
                    *action = step_policy_arn(c, &rid, &name).await?;
                }
            }
            let [alarm_actions, ok_actions, insufficient_data_actions] = actions;
            let dimensions = alarm
                .dimensions
                .iter()
                .map(|(n, v)| cw::types::Dimension::builder().name(n).value(v).build())
                .collect();
            let tags = alarm
                .tags
                .iter()
                .map(|(k, v)| cw::types::Tag::builder().key(k).value(v).build())
                .collect();
            c.cloudwatch
                .put_metric_alarm()
                .alarm_name(&alarm.name)
                .set_alarm_description(alarm.description.clone())
                .namespace(&alarm.namespace)
                .metric_name(&alarm.metric)
                .set_dimensions(Some(dimensions))
                .set_statistic(alarm.statistic.as_deref().map(Into::into))
                .set_extended_statistic(alarm.extended_statistic.clone())
                .period(alarm.period)
                .evaluation_periods(alarm.evaluation_periods)
                .set_datapoints_to_alarm(alarm.datapoints_to_alarm)
                .threshold(alarm.threshold)
                .comparison_operator(alarm.comparison.as_str().into())
                .set_treat_missing_data(alarm.treat_missing_data.clone())
                .set_unit(alarm.unit.as_deref().map(Into::into))
                .actions_enabled(alarm.actions_enabled)
                .set_alarm_actions(Some(alarm_actions))
                .set_ok_actions(Some(ok_actions))
                .set_insufficient_data_actions(Some(insufficient_data_actions))
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| c.fail("PutMetricAlarm", e))?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The ARN of step scaling policy `name` on `resource_id`, which AWS gives
/// it when it is created (`DescribeScalingPolicies`).
async fn step_policy_arn(c: &Clients, resource_id: &str, name: &str) -> CloudResult<String> {
    let out = c
        .autoscaling
        .describe_scaling_policies()
        .service_namespace(DYNAMODB)
        .resource_id(resource_id)
        .policy_names(name)
        .send()
        .await
        .map_err(|e| c.fail("DescribeScalingPolicies", e))?;
    out.scaling_policies()
        .iter()
        .find(|p| p.policy_name() == name && p.resource_id() == resource_id)
        .map(|p| p.policy_arn().to_owned())
        .ok_or_else(|| {
            CloudError::new(
                ErrorKind::NotFound,
                "DescribeScalingPolicies",
                "ObjectNotFoundException",
                format!("no step scaling policy `{name}` on {resource_id} for the alarm's action"),
            )
        })
}

/// Removes what `change` created, for what outlives its table.
pub(super) async fn remove(c: &Clients, change: &TableChange) -> CloudResult<()> {
    match change {
        TableChange::ScalableTarget { target } => {
            match c
                .autoscaling
                .deregister_scalable_target()
                .service_namespace(DYNAMODB)
                .resource_id(&target.resource_id)
                .scalable_dimension(target.dimension.as_str().into())
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if e.code() == Some("ObjectNotFoundException") => Ok(()),
                Err(e) => Err(c.fail("DeregisterScalableTarget", e)),
            }
        }
        TableChange::Alarm { alarm } => {
            c.cloudwatch
                .delete_alarms()
                .alarm_names(&alarm.name)
                .send()
                .await
                .map_err(|e| c.fail("DeleteAlarms", e))?;
            Ok(())
        }
        _ => Ok(()),
    }
}
