"""The settings a restore drops, as restoreplan reads and re-applies them: contributor insights, Kinesis
destinations, auto scaling, alarms, resource policies; and DynamoDB backups restored across Regions."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from conftest import DEFAULT_ACCOUNT, OTHER_ACCOUNT, OTHER_REGION, REGION, make_table, wait_for


def test_contributor_insights_mode_is_kept_and_switched(emulator, uid):
    ddb = emulator.client("dynamodb")
    name = uid("cimode")
    make_table(ddb, name)
    ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE",
                                    ContributorInsightsMode="THROTTLED_KEYS")
    table = ddb.describe_contributor_insights(TableName=name)
    assert (table["ContributorInsightsStatus"], table["ContributorInsightsMode"]) == ("ENABLED", "THROTTLED_KEYS")
    # Only the throttled-key rules (partition and sort key).
    assert sorted(r.split("-")[1] for r in table["ContributorInsightsRuleList"]) == ["PKT", "SKT"]
    listed = ddb.list_contributor_insights(TableName=name)["ContributorInsightsSummaries"]
    assert [s["ContributorInsightsMode"] for s in listed] == ["THROTTLED_KEYS"]
    # ENABLE again with the other mode switches it.
    answer = ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE",
                                             ContributorInsightsMode="ACCESSED_AND_THROTTLED_KEYS")
    assert answer["ContributorInsightsMode"] == "ACCESSED_AND_THROTTLED_KEYS"
    table = ddb.describe_contributor_insights(TableName=name)
    assert table["ContributorInsightsMode"] == "ACCESSED_AND_THROTTLED_KEYS"
    assert len(table["ContributorInsightsRuleList"]) == 4
    with pytest.raises(ClientError) as err:
        ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE",
                                        ContributorInsightsMode="ALL_KEYS")
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_contributor_insights(emulator, uid):
    ddb = emulator.client("dynamodb")
    name = uid("ci")
    make_table(ddb, name, gsis=["by-user"])
    assert ddb.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == "DISABLED"
    answer = ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    assert answer["ContributorInsightsStatus"] == "ENABLING" and answer["TableName"] == name
    ddb.update_contributor_insights(TableName=name, IndexName="by-user", ContributorInsightsAction="ENABLE",
                                    ContributorInsightsMode="THROTTLED_KEYS")
    table = ddb.describe_contributor_insights(TableName=name)
    assert table["ContributorInsightsStatus"] == "ENABLED"
    assert table["ContributorInsightsMode"] == "ACCESSED_AND_THROTTLED_KEYS"
    assert len(table["ContributorInsightsRuleList"]) == 4  # partition and sort key, accessed and throttled
    assert all(name in rule for rule in table["ContributorInsightsRuleList"])
    index = ddb.describe_contributor_insights(TableName=name, IndexName="by-user")
    assert (index["IndexName"], index["ContributorInsightsStatus"], index["ContributorInsightsMode"]) == (
        "by-user", "ENABLED", "THROTTLED_KEYS")
    listed = ddb.list_contributor_insights(TableName=name)["ContributorInsightsSummaries"]
    assert {(s["TableName"], s.get("IndexName"), s["ContributorInsightsStatus"]) for s in listed} == {
        (name, None, "ENABLED"), (name, "by-user", "ENABLED")}
    everywhere = ddb.list_contributor_insights()["ContributorInsightsSummaries"]
    assert {s.get("IndexName") for s in everywhere if s["TableName"] == name} == {None, "by-user"}

    assert ddb.update_contributor_insights(TableName=name, IndexName="by-user",
                                           ContributorInsightsAction="DISABLE")["ContributorInsightsStatus"] == "DISABLING"
    assert ddb.describe_contributor_insights(TableName=name, IndexName="by-user")["ContributorInsightsStatus"] == "DISABLED"
    for args, code in [
        ({"TableName": uid("none"), "ContributorInsightsAction": "ENABLE"}, "ResourceNotFoundException"),
        ({"TableName": name, "IndexName": "nope", "ContributorInsightsAction": "ENABLE"}, "ResourceNotFoundException"),
        ({"TableName": name, "ContributorInsightsAction": "TOGGLE"}, "ValidationException"),
    ]:
        with pytest.raises(ClientError) as err:
            ddb.update_contributor_insights(**args)
        assert err.value.response["Error"]["Code"] == code
    # The setting lives on the table: a table created again under the name starts without it.
    ddb.delete_table(TableName=name)
    make_table(ddb, name, items=0)
    assert ddb.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == "DISABLED"


def test_kinesis_streaming_destination(emulator, uid):
    ddb, kinesis = emulator.client("dynamodb"), emulator.client("kinesis")
    name, stream = uid("kin"), uid("stream")
    make_table(ddb, name, items=0)
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    assert ddb.describe_kinesis_streaming_destination(TableName=name)["KinesisDataStreamDestinations"] == []
    enabled = ddb.enable_kinesis_streaming_destination(
        TableName=name, StreamArn=stream_arn,
        EnableKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"})
    assert (enabled["DestinationStatus"], enabled["StreamArn"]) == ("ENABLING", stream_arn)
    (dest,) = ddb.describe_kinesis_streaming_destination(TableName=name)["KinesisDataStreamDestinations"]
    assert dest == {"StreamArn": stream_arn, "DestinationStatus": "ACTIVE",
                    "ApproximateCreationDateTimePrecision": "MICROSECOND"}
    with pytest.raises(ClientError) as err:
        ddb.enable_kinesis_streaming_destination(TableName=name, StreamArn=stream_arn)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    missing = stream_arn.replace(stream, uid("missing"))
    with pytest.raises(ClientError) as err:
        ddb.enable_kinesis_streaming_destination(TableName=name, StreamArn=missing)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert ddb.disable_kinesis_streaming_destination(TableName=name, StreamArn=stream_arn)["DestinationStatus"] == "DISABLING"
    (dest,) = ddb.describe_kinesis_streaming_destination(TableName=name)["KinesisDataStreamDestinations"]
    assert dest["DestinationStatus"] == "DISABLED"
    with pytest.raises(ClientError) as err:
        ddb.disable_kinesis_streaming_destination(TableName=name, StreamArn=stream_arn)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_auto_scaling_alarms_and_resource_policy(emulator, uid):
    """moto's Application Auto Scaling, CloudWatch alarms and DynamoDB resource policies, through the emulator."""
    creds = emulator.assume(OTHER_ACCOUNT)
    ddb = emulator.client("dynamodb", credentials=creds)
    scaling = emulator.client("application-autoscaling", credentials=creds)
    cloudwatch = emulator.client("cloudwatch", credentials=creds)
    name = uid("scaled")
    ddb.create_table(TableName=name, BillingMode="PROVISIONED",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    arn = f"arn:aws:dynamodb:{REGION}:{OTHER_ACCOUNT}:table/{name}"

    scaling.register_scalable_target(ServiceNamespace="dynamodb", ResourceId=f"table/{name}",
                                     ScalableDimension="dynamodb:table:ReadCapacityUnits", MinCapacity=5, MaxCapacity=50)
    scaling.put_scaling_policy(
        PolicyName=f"{name}-read", ServiceNamespace="dynamodb", ResourceId=f"table/{name}",
        ScalableDimension="dynamodb:table:ReadCapacityUnits", PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}})
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=[f"table/{name}"])["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (5, 50)
    (policy,) = scaling.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=f"table/{name}")["ScalingPolicies"]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 70.0
    # Another account sees none of it.
    assert emulator.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="dynamodb", ResourceIds=[f"table/{name}"])["ScalableTargets"] == []

    cloudwatch.put_metric_alarm(
        AlarmName=f"{name}-throttles", Namespace="AWS/DynamoDB", MetricName="ReadThrottleEvents",
        Dimensions=[{"Name": "TableName", "Value": name}], Statistic="Sum", Period=60, EvaluationPeriods=1,
        Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[f"{name}-throttles"])["MetricAlarms"]
    assert alarm["Dimensions"] == [{"Name": "TableName", "Value": name}]
    assert alarm["AlarmArn"].split(":")[4] == OTHER_ACCOUNT
    by_metric = cloudwatch.describe_alarms_for_metric(MetricName="ReadThrottleEvents", Namespace="AWS/DynamoDB",
                                                      Dimensions=[{"Name": "TableName", "Value": name}])["MetricAlarms"]
    assert [a["AlarmName"] for a in by_metric] == [f"{name}-throttles"]
    # Alarms of other tables on the same metric are not this table's.
    cloudwatch.put_metric_alarm(
        AlarmName=f"{name}-other", Namespace="AWS/DynamoDB", MetricName="ReadThrottleEvents",
        Dimensions=[{"Name": "TableName", "Value": f"{name}-other"}], Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold")
    by_metric = cloudwatch.describe_alarms_for_metric(MetricName="ReadThrottleEvents", Namespace="AWS/DynamoDB",
                                                      Dimensions=[{"Name": "TableName", "Value": name}],
                                                      Statistic="Sum", Period=60)["MetricAlarms"]
    assert [a["AlarmName"] for a in by_metric] == [f"{name}-throttles"]
    assert cloudwatch.describe_alarms_for_metric(MetricName="ReadThrottleEvents", Namespace="AWS/DynamoDB",
                                                 Dimensions=[{"Name": "TableName", "Value": name}],
                                                 Period=300)["MetricAlarms"] == []

    document = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"},
        "Action": "dynamodb:GetItem", "Resource": arn}]})
    revision = ddb.put_resource_policy(ResourceArn=arn, Policy=document)["RevisionId"]
    got = ddb.get_resource_policy(ResourceArn=arn)
    assert json.loads(got["Policy"]) == json.loads(document) and got["RevisionId"] == revision


def test_restore_dynamodb_backup_in_another_region(emulator, uid):
    east, west = emulator.client("dynamodb"), emulator.client("dynamodb", OTHER_REGION)
    name, target = uid("orders"), uid("orders-west")
    make_table(east, name, gsis=["by-user"])
    backup_arn = east.create_backup(TableName=name, BackupName="nightly")["BackupDetails"]["BackupArn"]
    # A cross-Region restore must say how to encrypt the new table.
    with pytest.raises(ClientError) as err:
        west.restore_table_from_backup(TargetTableName=target, BackupArn=backup_arn)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    key = emulator.client("kms", OTHER_REGION).create_key()["KeyMetadata"]["Arn"]
    restored = west.restore_table_from_backup(
        TargetTableName=target, BackupArn=backup_arn,
        SSESpecificationOverride={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})["TableDescription"]
    assert restored["TableArn"] == f"arn:aws:dynamodb:{OTHER_REGION}:{DEFAULT_ACCOUNT}:table/{target}"
    assert restored["RestoreSummary"]["SourceBackupArn"] == backup_arn
    table = wait_for(lambda: (lambda t: t if t["TableStatus"] == "ACTIVE" else None)(
        west.describe_table(TableName=target)["Table"]))
    assert table["SSEDescription"]["KMSMasterKeyArn"] == key
    assert table["ItemCount"] == 3 and [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by-user"]
    # The key must be in the target Region.
    east_key = emulator.client("kms").create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as err:
        west.restore_table_from_backup(TargetTableName=uid("x"), BackupArn=backup_arn,
                                       SSESpecificationOverride={"Enabled": True, "KMSMasterKeyId": east_key})
    assert err.value.response["Error"]["Code"] == "ValidationException"
    # Another account cannot restore it at all.
    with pytest.raises(ClientError) as err:
        emulator.client("dynamodb", OTHER_REGION, credentials=emulator.assume()).restore_table_from_backup(
            TargetTableName=uid("y"), BackupArn=backup_arn, SSESpecificationOverride={"Enabled": False})
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_scaling_policies_are_per_resource_and_go_with_their_target(emulator, uid):
    """DescribeScalingPolicies matches the resource id exactly; DeregisterScalableTarget deletes the
    target's policies and the alarms target tracking made for them, as AWS does."""
    creds = emulator.assume(OTHER_ACCOUNT)
    scaling = emulator.client("application-autoscaling", credentials=creds)
    cloudwatch = emulator.client("cloudwatch", credentials=creds)
    name = uid("scaled")
    table, index = f"table/{name}", f"table/{name}/index/by-user"
    for rid, dim, metric in [(table, "dynamodb:table:ReadCapacityUnits", "DynamoDBReadCapacityUtilization"),
                             (index, "dynamodb:index:WriteCapacityUnits", "DynamoDBWriteCapacityUtilization")]:
        scaling.register_scalable_target(ServiceNamespace="dynamodb", ResourceId=rid, ScalableDimension=dim,
                                         MinCapacity=5, MaxCapacity=50)
        scaling.put_scaling_policy(
            PolicyName=f"{rid}-policy", ServiceNamespace="dynamodb", ResourceId=rid, ScalableDimension=dim,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 70.0, "PredefinedMetricSpecification": {"PredefinedMetricType": metric}})
    for rid in (table, index):
        policies = scaling.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=rid)["ScalingPolicies"]
        assert [p["ResourceId"] for p in policies] == [rid]
    tracking = [a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]
                if a["AlarmName"].startswith(f"TargetTracking-{table}-")]
    assert tracking

    scaling.deregister_scalable_target(ServiceNamespace="dynamodb", ResourceId=table,
                                       ScalableDimension="dynamodb:table:ReadCapacityUnits")
    assert scaling.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=table)["ScalingPolicies"] == []
    assert [p["ResourceId"] for p in scaling.describe_scaling_policies(
        ServiceNamespace="dynamodb", ResourceId=index)["ScalingPolicies"]] == [index]
    left = {a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    assert not left & set(tracking)
    with pytest.raises(ClientError) as err:
        scaling.deregister_scalable_target(ServiceNamespace="dynamodb", ResourceId=table,
                                           ScalableDimension="dynamodb:table:ReadCapacityUnits")
    assert err.value.response["Error"]["Code"] == "ObjectNotFoundException"
