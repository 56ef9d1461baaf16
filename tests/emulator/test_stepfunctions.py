"""Step Functions executions run by moto's interpreter, calling back into the emulator."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from conftest import DEFAULT_ACCOUNT, OTHER_ACCOUNT, REGION, make_table, role, wait_for

THIRD_ACCOUNT = "777788889999"


@pytest.fixture
def sfn_on(emulator):
    emulator.configure(execute_state_machines=True)
    yield
    emulator.configure(execute_state_machines=False)


def sfn_role(account: str) -> str:
    return f"arn:aws:iam::{account}:role/restoreplan-state-machine"


def run(emulator, definition: dict, *, account: str = DEFAULT_ACCOUNT, name: str | None = None,
        execution_input: dict | None = None, timeout: float = 20.0) -> dict:
    """Create a state machine in `account`, run it to the end, return DescribeExecution."""
    creds = None if account == DEFAULT_ACCOUNT else emulator.assume(account)
    sfn = emulator.client("stepfunctions", credentials=creds)
    machine = sfn.create_state_machine(
        name=f"m-{abs(hash(json.dumps(definition, sort_keys=True))) % 10**8}-{len(sfn.list_state_machines()['stateMachines'])}",
        definition=json.dumps(definition), roleArn=sfn_role(account))["stateMachineArn"]
    args = {"stateMachineArn": machine, "input": json.dumps(execution_input or {})}
    if name:
        args["name"] = name
    execution = sfn.start_execution(**args)["executionArn"]
    return wait_for(lambda: (lambda d: d if d["status"] != "RUNNING" else None)(
        sfn.describe_execution(executionArn=execution)), timeout)


def one_task(resource: str, parameters: dict, **extra) -> dict:
    return {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": resource,
                                                   "Parameters": parameters, "End": True, **extra}}}


def caught(error: str) -> dict:
    return {"Catch": [{"ErrorEquals": [error], "ResultPath": "$.caught", "Next": "Caught"}]}


def test_config_switch_and_moto_api(emulator):
    assert emulator.control("GET", "config")[1]["execute_state_machines"] is False
    assert emulator.configure(execute_state_machines=True)["execute_state_machines"] is True
    assert emulator.control("POST", "config", {"execute_state_machines": "yes"})[0] == 400
    # moto's own switch is the same setting.
    request = urllib.request.Request(f"{emulator.endpoint}/moto-api/config", method="POST",
                                     data=json.dumps({"stepfunctions": {"execute_state_machine": False}}).encode())
    urllib.request.urlopen(request, timeout=10).read()
    assert emulator.control("GET", "config")[1]["execute_state_machines"] is False


def test_sdk_task_reaches_the_emulator_as_the_machines_account(emulator, sfn_on, uid):
    name = uid("sfn")
    make_table(emulator.client("dynamodb", credentials=emulator.assume(OTHER_ACCOUNT)), name)
    result = run(emulator, one_task("arn:aws:states:::aws-sdk:dynamodb:describeTable", {"TableName": name}),
                 account=OTHER_ACCOUNT)
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["Table"]["TableArn"] == f"arn:aws:dynamodb:{REGION}:{OTHER_ACCOUNT}:table/{name}"
    # No ResultSelector: the SDK's timestamps are ISO 8601 strings in the state's JSON.
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", output["Table"]["CreationDateTime"])
    calls = [r for r in emulator.requests() if r["operation"] == "DescribeTable" and r["table"] == name]
    assert [c["account"] for c in calls][-1] == OTHER_ACCOUNT


def test_after_restore_settings_through_sdk_tasks(emulator, sfn_on, uid):
    """Auto scaling, alarms, contributor insights and validation results set from a state machine."""
    name = uid("settings")
    creds = emulator.assume(OTHER_ACCOUNT)
    emulator.client("dynamodb", credentials=creds).create_table(
        TableName=name, BillingMode="PROVISIONED", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    definition = {"StartAt": "Scaling", "States": {
        "Scaling": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:applicationautoscaling:registerScalableTarget",
                    "Parameters": {"ServiceNamespace": "dynamodb", "ResourceId": f"table/{name}",
                                   "ScalableDimension": "dynamodb:table:ReadCapacityUnits",
                                   "MinCapacity": 5, "MaxCapacity": 40},
                    "ResultPath": None, "Next": "Alarm"},
        "Alarm": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:cloudwatch:putMetricAlarm",
                  "Parameters": {"AlarmName": f"{name}-throttles", "Namespace": "AWS/DynamoDB",
                                 "MetricName": "ReadThrottleEvents", "Statistic": "Sum", "Period": 60,
                                 "EvaluationPeriods": 1, "Threshold": 1,
                                 "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                                 "Dimensions": [{"Name": "TableName", "Value": name}]},
                  "ResultPath": None, "Next": "Insights"},
        "Insights": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateContributorInsights",
                     "Parameters": {"TableName": name, "ContributorInsightsAction": "ENABLE"}, "End": True},
    }}
    result = run(emulator, definition, account=OTHER_ACCOUNT)
    assert result["status"] == "SUCCEEDED", result
    scaling = emulator.client("application-autoscaling", credentials=creds)
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=[f"table/{name}"])["ScalableTargets"]
    assert target["MaxCapacity"] == 40
    cloudwatch = emulator.client("cloudwatch", credentials=creds)
    assert [a["AlarmName"] for a in cloudwatch.describe_alarms(AlarmNames=[f"{name}-throttles"])["MetricAlarms"]] == [
        f"{name}-throttles"]
    insights = emulator.client("dynamodb", credentials=creds).describe_contributor_insights(TableName=name)
    assert insights["ContributorInsightsStatus"] == "ENABLED"
    # A failing call names its service as AWS does.
    failing = run(emulator, one_task("arn:aws:states:::aws-sdk:applicationautoscaling:registerScalableTarget",
                                     {"ServiceNamespace": "dynamodb", "ResourceId": f"table/{name}",
                                      "ScalableDimension": "dynamodb:table:Nonsense", "MinCapacity": 1,
                                      "MaxCapacity": 2}), account=OTHER_ACCOUNT)
    assert failing["status"] == "FAILED"
    assert failing["error"].startswith("ApplicationAutoScaling."), failing


def test_map_runs_tasks_side_by_side(emulator, sfn_on, uid):
    ddb = emulator.client("dynamodb")
    names = [uid("map") for _ in range(6)]
    for name in names:
        make_table(ddb, name, items=0)
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.tables", "MaxConcurrency": 6, "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Describe", "States": {"Describe": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:describeTable",
            "Parameters": {"TableName.$": "$"}, "ResultSelector": {"name.$": "$.Table.TableName"}, "End": True}}}}}}
    result = run(emulator, definition, execution_input={"tables": names})
    assert result["status"] == "SUCCEEDED", result
    assert [r["name"] for r in json.loads(result["output"])] == names


def test_sdk_blobs_are_base64(emulator, sfn_on):
    import base64

    result = run(emulator, one_task("arn:aws:states:::aws-sdk:kms:generateRandom", {"NumberOfBytes": 16}))
    assert result["status"] == "SUCCEEDED", result
    assert len(base64.b64decode(json.loads(result["output"])["Plaintext"])) == 16


def task_role(emulator, account: str, name: str, trusted: str) -> str:
    """A role in `account` that the state machine's role `trusted` may assume."""
    iam = emulator.client("iam", credentials=emulator.assume(account))
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        pass
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}]}
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def test_task_credentials_act_as_the_role_account(emulator, sfn_on, uid):
    name = uid("cred")
    make_table(emulator.client("dynamodb", credentials=emulator.assume(THIRD_ACCOUNT)), name)
    assert task_role(emulator, THIRD_ACCOUNT, "restore-target", sfn_role(OTHER_ACCOUNT)) == (
        f"arn:aws:iam::{THIRD_ACCOUNT}:role/restore-target")
    definition = one_task("arn:aws:states:::aws-sdk:dynamodb:describeTable", {"TableName": name},
                          Credentials={"RoleArn": f"arn:aws:iam::{THIRD_ACCOUNT}:role/restore-target"},
                          ResultSelector={"arn.$": "$.Table.TableArn"})
    result = run(emulator, definition, account=OTHER_ACCOUNT)
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"])["arn"].split(":")[4] == THIRD_ACCOUNT
    # The role can come from the input.
    dynamic = one_task("arn:aws:states:::aws-sdk:dynamodb:describeTable", {"TableName": name},
                       Credentials={"RoleArn.$": "$.role"}, ResultSelector={"arn.$": "$.Table.TableArn"})
    result = run(emulator, dynamic, account=OTHER_ACCOUNT,
                 execution_input={"role": f"arn:aws:iam::{THIRD_ACCOUNT}:role/restore-target"})
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"])["arn"].split(":")[4] == THIRD_ACCOUNT
    # Without Credentials the same machine does not see the table of the other account.
    plain = run(emulator, one_task("arn:aws:states:::aws-sdk:dynamodb:describeTable", {"TableName": name}),
                account=OTHER_ACCOUNT)
    assert plain["status"] == "FAILED"
    assert plain["error"] == "DynamoDb.ResourceNotFoundException"
    # A task role that does not exist cannot be assumed (AWS denies it): the task fails.
    missing = one_task("arn:aws:states:::aws-sdk:dynamodb:describeTable", {"TableName": name},
                       Credentials={"RoleArn": f"arn:aws:iam::{THIRD_ACCOUNT}:role/no-such-role"})
    seen = lambda: len([r for r in emulator.requests() if r["operation"] == "DescribeTable"
                        and r["account"] == THIRD_ACCOUNT and r["table"] == name])
    before = seen()
    denied = run(emulator, missing, account=OTHER_ACCOUNT)
    assert denied["status"] == "FAILED", denied
    assert denied["error"] == "States.TaskFailed", denied
    assert "is not authorized to perform: sts:AssumeRole on resource: " \
        f"arn:aws:iam::{THIRD_ACCOUNT}:role/no-such-role" in denied["cause"], denied
    assert f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/restoreplan-state-machine/" in denied["cause"], denied
    assert seen() == before, "nothing was called as that account"


def test_sdk_error_names(emulator, sfn_on, uid):
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:backup:describeRestoreJob",
                     "Parameters": {"RestoreJobId": "NO-SUCH-JOB"},
                     **caught("Backup.ResourceNotFoundException"), "End": True},
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    result = run(emulator, definition)
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"])["caught"]["Error"] == "Backup.ResourceNotFoundException"
    assert "Status Code: 400" in json.loads(result["output"])["caught"]["Cause"]

    # An injected throttle: AWS's ThrottlingException, named like every SDK error.
    emulator.configure(throttle_rate=1.0, fault_services=["backup"])
    result = run(emulator, one_task("arn:aws:states:::aws-sdk:backup:listBackupVaults", {}))
    assert result["status"] == "FAILED"
    assert result["error"] == "Backup.ThrottlingException"
    emulator.configure(throttle_rate=0.0)

    # The optimized DynamoDB integration keeps AWS's DynamoDB prefix.
    result = run(emulator, one_task("arn:aws:states:::dynamodb:getItem",
                                    {"TableName": uid("missing"), "Key": {"pk": {"S": "x"}}}))
    assert result["status"] == "FAILED"
    assert result["error"] == "DynamoDB.ResourceNotFoundException"


def test_retry_recovers_from_throttling(emulator, sfn_on):
    emulator.configure(throttle_rate=0.5, fault_services=["backup"], fault_seed=3)
    definition = one_task("arn:aws:states:::aws-sdk:backup:listBackupVaults", {},
                          Retry=[{"ErrorEquals": ["Backup.ThrottlingException"], "IntervalSeconds": 1,
                                  "MaxAttempts": 10, "BackoffRate": 2, "JitterStrategy": "FULL"}])
    result = run(emulator, definition)
    assert result["status"] == "SUCCEEDED", result
    faulted = [r for r in emulator.requests() if r["operation"] == "ListBackupVaults" and r["fault"]]
    assert faulted, "the seed throttles at least one attempt"


def test_execution_without_a_name_gets_a_uuid(emulator, sfn_on):
    result = run(emulator, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert result["status"] == "SUCCEEDED"
    assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", result["name"])
    assert result["executionArn"].endswith(":" + result["name"])
    named = run(emulator, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, name="run-7")
    assert named["name"] == "run-7"


def test_restore_job_poll_loop(emulator, sfn_on, uid):
    """StartRestoreJob, then Wait and Choice until the job is COMPLETED, DescribeTable, the validation result."""
    creds = emulator.assume(OTHER_ACCOUNT)
    ddb, backup = emulator.client("dynamodb", credentials=creds), emulator.client("backup", credentials=creds)
    source, vault, target = uid("src"), uid("vault"), uid("restored")
    make_table(ddb, source)
    backup.create_backup_vault(BackupVaultName=vault)
    rp = backup.start_backup_job(BackupVaultName=vault, IamRoleArn=role(OTHER_ACCOUNT),
                                 ResourceArn=f"arn:aws:dynamodb:{REGION}:{OTHER_ACCOUNT}:table/{source}")["RecoveryPointArn"]
    definition = {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:backup:startRestoreJob",
                "Parameters": {"RecoveryPointArn.$": "$.rp", "IamRoleArn": role(OTHER_ACCOUNT),
                               "IdempotencyToken": "run-1/restore", "ResourceType": "DynamoDB",
                               "Metadata": {"targetTableName.$": "$.target"}},
                "ResultPath": "$.start", "Next": "Describe",
            },
            "Describe": {
                "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:backup:describeRestoreJob",
                "Parameters": {"RestoreJobId.$": "$.start.RestoreJobId"},
                "ResultSelector": {"Status.$": "$.Status", "Minutes.$": "$.ExpectedCompletionTimeMinutes"},
                "ResultPath": "$.job", "Next": "Done?",
            },
            "Done?": {"Type": "Choice", "Choices": [
                {"Variable": "$.job.Status", "StringEquals": "COMPLETED", "Next": "Table"},
                {"Or": [{"Variable": "$.job.Status", "StringEquals": "FAILED"},
                        {"Variable": "$.job.Status", "StringEquals": "ABORTED"}], "Next": "Failed"},
            ], "Default": "Wait"},
            "Wait": {"Type": "Wait", "Seconds": 60, "Next": "Describe"},
            "Table": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:describeTable",
                      "Parameters": {"TableName.$": "$.target"},
                      "ResultSelector": {"TableStatus.$": "$.Table.TableStatus", "ItemCount.$": "$.Table.ItemCount"},
                      "ResultPath": "$.table", "Next": "Validate"},
            "Validate": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:backup:putRestoreValidationResult",
                         "Parameters": {"RestoreJobId.$": "$.start.RestoreJobId", "ValidationStatus": "SUCCESSFUL",
                                        "ValidationStatusMessage": "items: 3"},
                         "ResultPath": None, "End": True},
            "Failed": {"Type": "Fail", "Error": "RestoreFailed"},
        },
    }
    result = run(emulator, definition, account=OTHER_ACCOUNT, execution_input={"rp": rp, "target": target})
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["job"] == {"Status": "COMPLETED", "Minutes": 10}
    assert output["table"] == {"TableStatus": "ACTIVE", "ItemCount": 3}
    polls = [r for r in emulator.requests() if r["operation"] == "DescribeRestoreJob" and r["account"] == OTHER_ACCOUNT]
    # 600 s modeled at time scale 0.001; waits of 60 s scaled to 0.06 s: a handful of polls, not hundreds.
    assert 2 <= len(polls) <= 30
    assert len([r for r in emulator.restores()["restores"] if r["target_table"] == target]) == 1
    job = backup.describe_restore_job(RestoreJobId=output["start"]["RestoreJobId"])
    assert (job["ValidationStatus"], job["ValidationStatusMessage"]) == ("SUCCESSFUL", "items: 3")


# ---------------------------------------------------------------------------
# RedriveExecution.


def ended(sfn, arn: str, timeout: float = 20.0) -> dict:
    return wait_for(lambda: (lambda d: d if d["status"] != "RUNNING" else None)(
        sfn.describe_execution(executionArn=arn)), timeout)


def counter_table(emulator, uid) -> str:
    name = uid("count")
    emulator.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    return name


def count_task(table: str, key_path: str, nxt: str) -> dict:
    """A task adding 1 to the item `key_path` names: how often a state ran."""
    return {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {"TableName": table, "Key": {"pk": {"S.$": key_path}},
                           "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}},
            "ResultPath": None, "Next": nxt}


def counts(emulator, table: str) -> dict:
    items = emulator.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return {i["pk"]["S"]: int(i["n"]["N"]) for i in items}


def machine(emulator, definition: dict) -> tuple:
    sfn = emulator.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"redrive-{len(sfn.list_state_machines()['stateMachines'])}-{abs(hash(json.dumps(definition))) % 10**6}",
        definition=json.dumps(definition), roleArn=sfn_role(DEFAULT_ACCOUNT))["stateMachineArn"]
    return sfn, arn


def test_redrive_goes_on_from_the_failed_task_with_its_input(emulator, sfn_on, uid):
    from botocore.exceptions import ClientError

    counter, missing = counter_table(emulator, uid), uid("later")
    definition = {"StartAt": "First", "States": {
        "First": count_task(counter, "$.first", "Mark"),
        "Mark": {"Type": "Pass", "Result": "set before the failure", "ResultPath": "$.mark", "Next": "Describe"},
        "Describe": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:describeTable",
                     "Parameters": {"TableName.$": "$.table"}, "ResultSelector": {"status.$": "$.Table.TableStatus"},
                     "ResultPath": "$.described", "Next": "Last"},
        "Last": count_task(counter, "$.last", "Redrives"),
        "Redrives": {"Type": "Pass", "Parameters": {"n.$": "$$.Execution.RedriveCount"}, "ResultPath": "$.redrives",
                     "Next": "Done"},
        "Done": {"Type": "Succeed"},
    }}
    sfn, arn = machine(emulator, definition)
    execution = sfn.start_execution(stateMachineArn=arn, name=uid("run"), input=json.dumps(
        {"first": "first", "last": "last", "table": missing}))["executionArn"]
    failed = ended(sfn, execution)
    assert failed["status"] == "FAILED", failed
    assert failed["error"] == "DynamoDb.ResourceNotFoundException"
    assert (failed["redriveCount"], failed["redriveStatus"]) == (0, "REDRIVABLE")
    assert "redriveDate" not in failed
    assert counts(emulator, counter) == {"first": 1}

    # The fault goes away; the redrive goes on at Describe, with its input.
    make_table(emulator.client("dynamodb"), missing, items=0)
    redriven = sfn.redrive_execution(executionArn=execution, clientToken="once")
    assert isinstance(redriven["redriveDate"], __import__("datetime").datetime)
    # The same client token: the same answer, no second redrive.
    assert sfn.redrive_execution(executionArn=execution, clientToken="once")["redriveDate"] == redriven["redriveDate"]
    done = ended(sfn, execution)
    assert done["status"] == "SUCCEEDED", done
    assert done["executionArn"] == execution
    output = json.loads(done["output"])
    assert output["mark"] == "set before the failure"
    assert output["described"] == {"status": "ACTIVE"}
    assert output["redrives"] == {"n": 1}
    assert counts(emulator, counter) == {"first": 1, "last": 1}, "First ran once, before the redrive"
    assert done["redriveCount"] == 1
    assert done["redriveDate"] == redriven["redriveDate"]
    assert (done["redriveStatus"], done["redriveStatusReason"]) == (
        "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven.")
    events = sfn.get_execution_history(executionArn=execution)["events"]
    kinds = [e["type"] for e in events]
    assert kinds.count("ExecutionStarted") == 1 and kinds.count("ExecutionRedriven") == 1
    redrive_at = kinds.index("ExecutionRedriven")
    assert kinds.index("ExecutionFailed") < redrive_at
    entered_after = [e["stateEnteredEventDetails"]["name"] for e in events[redrive_at:]
                     if "stateEnteredEventDetails" in e]
    assert entered_after == ["Describe", "Last", "Redrives", "Done"]
    redrive_event = events[redrive_at]
    assert redrive_event["executionRedrivenEventDetails"] == {"redriveCount": 1}

    # A succeeded execution is refused, in AWS's words.
    with pytest.raises(ClientError) as refused:
        sfn.redrive_execution(executionArn=execution, clientToken="again")
    assert refused.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    assert refused.value.response["Error"]["Message"] == "Execution is SUCCEEDED and cannot be redriven."


def test_redrive_of_a_running_or_succeeded_execution_is_refused(emulator, sfn_on, uid):
    from botocore.exceptions import ClientError

    sfn, arn = machine(emulator, {"StartAt": "Wait", "States": {
        "Wait": {"Type": "Wait", "Seconds": 5000, "Next": "Done"}, "Done": {"Type": "Succeed"}}})
    running = sfn.start_execution(stateMachineArn=arn, name=uid("run"))["executionArn"]
    with pytest.raises(ClientError) as refused:
        sfn.redrive_execution(executionArn=running)
    assert refused.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    assert refused.value.response["Error"]["Message"] == "Execution is RUNNING and cannot be redriven."
    described = sfn.describe_execution(executionArn=running)
    assert (described["redriveStatus"], described["redriveStatusReason"]) == (
        "NOT_REDRIVABLE", "Execution is RUNNING and cannot be redriven.")
    # Stopped, it is ABORTED and can be redriven: it waits again, from the Wait.
    sfn.stop_execution(executionArn=running)
    aborted = ended(sfn, running)
    assert (aborted["status"], aborted["redriveStatus"]) == ("ABORTED", "REDRIVABLE")
    sfn.redrive_execution(executionArn=running)
    assert sfn.describe_execution(executionArn=running)["status"] == "RUNNING"
    sfn.stop_execution(executionArn=running)
    assert ended(sfn, running)["redriveCount"] == 1

    sfn2, arn2 = machine(emulator, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    succeeded = sfn2.start_execution(stateMachineArn=arn2, name=uid("ok"))["executionArn"]
    assert ended(sfn2, succeeded)["status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as refused:
        sfn2.redrive_execution(executionArn=succeeded)
    assert refused.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    assert refused.value.response["Error"]["Message"] == "Execution is SUCCEEDED and cannot be redriven."


def test_redrive_of_a_distributed_map_runs_only_its_failed_child(emulator, sfn_on, uid):
    counter = counter_table(emulator, uid)
    present, absent = uid("here"), uid("later")
    make_table(emulator.client("dynamodb"), present, items=0)
    items = [{"key": "a", "table": present}, {"key": "b", "table": absent}, {"key": "c", "table": present}]
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 3, "ResultPath": "$.results", "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "Count", "States": {
                              "Count": count_task(counter, "$.key", "Describe"),
                              "Describe": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:describeTable",
                                           "Parameters": {"TableName.$": "$.table"},
                                           "ResultSelector": {"name.$": "$.Table.TableName"}, "End": True}}}}}}
    sfn, arn = machine(emulator, definition)
    execution = sfn.start_execution(stateMachineArn=arn, name=uid("run"), input=json.dumps({"items": items}))["executionArn"]
    failed = ended(sfn, execution)
    # One failed child, none tolerated: the Map Run and the execution fail.
    assert failed["status"] == "FAILED", failed
    assert failed["error"] == "States.ExceedToleratedFailureThreshold"
    assert counts(emulator, counter) == {"a": 1, "b": 1, "c": 1}

    make_table(emulator.client("dynamodb"), absent, items=0)
    sfn.redrive_execution(executionArn=execution)
    done = ended(sfn, execution)
    assert done["status"] == "SUCCEEDED", done
    # The successful children kept their results; the failed one went on
    # from its failed state (Count did not run again for any item).
    assert json.loads(done["output"])["results"] == [{"name": present}, {"name": absent}, {"name": present}]
    assert counts(emulator, counter) == {"a": 1, "b": 1, "c": 1}
    describes = [r for r in emulator.requests() if r["operation"] == "DescribeTable" and r["table"] in (present, absent)]
    assert len([r for r in describes if r["table"] == absent]) == 2
    assert len([r for r in describes if r["table"] == present]) == 2, "a and c were described once each"


def test_a_distributed_map_tolerates_failures_up_to_its_threshold(emulator, sfn_on, uid):
    absent = uid("never")
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "ToleratedFailureCount": 1, "ToleratedFailurePercentage": 50.0,
        "ResultPath": None, "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "Describe", "States": {
                              "Describe": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:describeTable",
                                           "Parameters": {"TableName.$": "$"}, "End": True}}}}}}
    sfn, arn = machine(emulator, definition)
    table = uid("t")
    make_table(emulator.client("dynamodb"), table, items=0)
    tolerated = sfn.start_execution(stateMachineArn=arn, name=uid("run"), input=json.dumps({"items": [table, absent, table]}))
    assert ended(sfn, tolerated["executionArn"])["status"] == "SUCCEEDED"
    too_many = sfn.start_execution(stateMachineArn=arn, name=uid("run"), input=json.dumps({"items": [absent, absent, table]}))
    assert ended(sfn, too_many["executionArn"])["error"] == "States.ExceedToleratedFailureThreshold"
