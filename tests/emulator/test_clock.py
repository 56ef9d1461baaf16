"""The emulator's clock: `serve --now` / RESTOREPLAN_NOW put every timestamp it decides on one clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from conftest import HERE, NO_RETRIES, REGION, make_table

# In the past, so a thread that read the real clock would see every
# restore long finished.
START = datetime(2021, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def _serve(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [str(HERE / "serve"), "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=sys.stderr, text=True,
        env={**os.environ, **(env or {})},
    )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=120)
    return process, (line[0] if line else "")


@pytest.fixture(scope="module")
def shifted() -> Any:
    process, line = _serve("--now", START.isoformat().replace("+00:00", "Z"))
    assert "listening on" in line, line
    endpoint = line.strip().rsplit(" ", 1)[-1]
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint, config=NO_RETRIES,
                        aws_access_key_id="AKIAEMULATORTESTS", aws_secret_access_key="secret")


def _near_start(value: datetime) -> bool:
    return timedelta(0) <= value.astimezone(timezone.utc) - START < timedelta(minutes=5)


def test_status_reports_the_shifted_time(shifted: str) -> None:
    with urllib.request.urlopen(f"{shifted}/_restoreplan/health", timeout=10) as response:
        status = json.loads(response.read())
    now = datetime.fromisoformat(status["now"].replace("Z", "+00:00"))
    assert _near_start(now), status


def test_tables_backups_and_restorable_windows_use_the_shifted_clock(shifted: str) -> None:
    ddb = _client(shifted, "dynamodb")
    table = make_table(ddb, "clock-table")
    assert _near_start(table["CreationDateTime"]), table["CreationDateTime"]

    backup = ddb.create_backup(TableName="clock-table", BackupName="clock-backup")["BackupDetails"]
    assert _near_start(backup["BackupCreationDateTime"]), backup

    ddb.update_continuous_backups(
        TableName="clock-table",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    pitr = ddb.describe_continuous_backups(TableName="clock-table")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]
    assert _near_start(pitr["LatestRestorableDateTime"]), pitr
    assert _near_start(pitr["EarliestRestorableDateTime"]), pitr


def test_aws_backup_recovery_points_use_the_shifted_clock(shifted: str) -> None:
    ddb = _client(shifted, "dynamodb")
    backup = _client(shifted, "backup")
    table = make_table(ddb, "clock-backup")
    backup.create_backup_vault(BackupVaultName="clock-vault")
    job = backup.start_backup_job(
        BackupVaultName="clock-vault", ResourceArn=table["TableArn"],
        IamRoleArn="arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole",
    )
    points = backup.list_recovery_points_by_backup_vault(BackupVaultName="clock-vault")["RecoveryPoints"]
    assert [p["RecoveryPointArn"] for p in points] == [job["RecoveryPointArn"]]
    assert _near_start(points[0]["CreationDate"]), points[0]
    assert _near_start(job["CreationDate"]), job


def test_the_environment_variable_sets_the_clock_too() -> None:
    process, line = _serve(env={"RESTOREPLAN_NOW": "2031-03-04"})
    try:
        assert "listening on" in line, line
        endpoint = line.strip().rsplit(" ", 1)[-1]
        with urllib.request.urlopen(f"{endpoint}/_restoreplan/health", timeout=10) as response:
            now = datetime.fromisoformat(json.loads(response.read())["now"].replace("Z", "+00:00"))
        assert timedelta(0) <= now - datetime(2031, 3, 4, tzinfo=timezone.utc) < timedelta(minutes=5)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_malformed_time_is_refused_at_start() -> None:
    process, line = _serve("--now", "tomorrow")
    assert process.wait(timeout=60) == 2
    assert "listening" not in line


def test_threads_see_the_shifted_clock_too(shifted: str) -> None:
    # Requests are answered on server threads and restores finish on a
    # ticker thread: a restore started now must not be finished by a thread
    # that reads the real clock.
    ddb = _client(shifted, "dynamodb")
    make_table(ddb, "clock-thread")
    arn = ddb.create_backup(TableName="clock-thread", BackupName="clock-thread-b")["BackupDetails"]["BackupArn"]
    restored = ddb.restore_table_from_backup(TargetTableName="clock-thread-r", BackupArn=arn)
    assert restored["TableDescription"]["TableStatus"] == "CREATING"
    assert _near_start(restored["TableDescription"]["CreationDateTime"])
    time.sleep(0.6)  # Two ticks of the restore clock.
    assert ddb.describe_table(TableName="clock-thread-r")["Table"]["TableStatus"] == "CREATING"
