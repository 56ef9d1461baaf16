"""Copy jobs, capacity accounting, table settings and Step Functions executions on the `--now` clock."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest

from conftest import NO_RETRIES, REGION, make_table, wait_for
from test_clock import START, _near_start, _serve

ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"


@pytest.fixture(scope="module")
def shifted() -> Any:
    process, line = _serve("--now", START.isoformat().replace("+00:00", "Z"), "--execute-state-machines")
    assert "listening on" in line, line
    yield line.strip().rsplit(" ", 1)[-1]
    process.kill()  # Nothing to keep: faster than a graceful stop with executions' threads around.
    process.wait(timeout=10)


def _client(endpoint: str, service: str, region: str = REGION) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint, config=NO_RETRIES,
                        aws_access_key_id="AKIAEMULATORTESTS", aws_secret_access_key="secret")


def test_copy_jobs_and_table_settings(shifted: str) -> None:
    ddb, backup = _client(shifted, "dynamodb"), _client(shifted, "backup")
    table = make_table(ddb, "shifted-copy")
    backup.create_backup_vault(BackupVaultName="shifted-src")
    west = _client(shifted, "backup", "us-west-2")
    dest = west.create_backup_vault(BackupVaultName="shifted-dst")["BackupVaultArn"]
    rp = backup.start_backup_job(BackupVaultName="shifted-src", ResourceArn=table["TableArn"],
                                 IamRoleArn=ROLE)["RecoveryPointArn"]
    job_id = backup.start_copy_job(RecoveryPointArn=rp, SourceBackupVaultName="shifted-src",
                                   DestinationBackupVaultArn=dest, IamRoleArn=ROLE)["CopyJobId"]
    job = wait_for(lambda: (lambda j: j if j["State"] == "COMPLETED" else None)(
        backup.describe_copy_job(CopyJobId=job_id)["CopyJob"]))
    assert _near_start(job["CreationDate"]) and _near_start(job["CompletionDate"]), job
    (copied,) = west.list_recovery_points_by_backup_vault(BackupVaultName="shifted-dst")["RecoveryPoints"]
    assert _near_start(copied["CreationDate"]), copied

    ddb.update_contributor_insights(TableName="shifted-copy", ContributorInsightsAction="ENABLE")
    insights = ddb.describe_contributor_insights(TableName="shifted-copy")
    assert _near_start(insights["LastUpdateDateTime"]), insights

    ddb.scan(TableName="shifted-copy", Select="COUNT")
    with urllib.request.urlopen(f"{shifted}/_restoreplan/capacity?table=shifted-copy", timeout=10) as response:
        (entry,) = json.loads(response.read())["tables"]
    second = datetime.fromtimestamp(entry["seconds"][0]["second"], timezone.utc)
    assert 0 <= (second - START.replace(microsecond=0)).total_seconds() < 300, entry


def test_execution_timestamps(shifted: str) -> None:
    ddb, sfn = _client(shifted, "dynamodb"), _client(shifted, "stepfunctions")
    make_table(ddb, "shifted-sfn", items=0)
    machine = sfn.create_state_machine(
        name="shifted", roleArn="arn:aws:iam::123456789012:role/sfn",
        definition=json.dumps({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:describeTable",
            "Parameters": {"TableName": "shifted-sfn"}, "End": True}}}))["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    done = wait_for(lambda: (lambda d: d if d["status"] != "RUNNING" else None)(sfn.describe_execution(executionArn=arn)))
    assert done["status"] == "SUCCEEDED", done
    assert _near_start(done["startDate"]) and _near_start(done["stopDate"]), done
    created = json.loads(done["output"])["Table"]["CreationDateTime"]
    assert _near_start(datetime.fromisoformat(created.replace("Z", "+00:00"))), created
