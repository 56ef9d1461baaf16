"""The /_restoreplan/ control endpoints and moto's reset."""

from __future__ import annotations

import threading
import time
import urllib.request

from botocore.exceptions import ClientError

from conftest import BASE_CONFIG, DEFAULT_ACCOUNT, REGION, make_table, role, table_arn


def test_health(emulator):
    status, body = emulator.control("GET", "health")
    assert status == 200 and body["status"] == "ok" and body["moto_version"] == "5.2.5"


def test_config_roundtrip_and_validation(emulator):
    status, body = emulator.control("GET", "config")
    assert status == 200 and body == BASE_CONFIG
    body = emulator.configure(**{"time-scale": 0.5, "fail_table": "one", "max_concurrent_restores": 7})
    assert body["time_scale"] == 0.5 and body["fail_tables"] == ["one"] and body["max_concurrent_restores"] == 7
    for bad in ({"nope": 1}, {"throttle_rate": 2}, {"time_scale": "fast"}, {"max_concurrent_restores": 1.5},
                {"throttle_rate": 0.6, "error_rate": 0.6}, [1, 2]):
        status, body = emulator.control("POST", "config", bad)
        assert status == 400 and body["error"], bad
    # A rejected update changes nothing.
    assert emulator.control("GET", "config")[1]["time_scale"] == 0.5
    assert emulator.control("GET", "nowhere")[0] == 404


def test_delayed_operations_are_held_before_they_are_served(emulator, uid):
    ddb = emulator.client("dynamodb")
    body = emulator.configure(delay_operations={"ListTables": 0.6})
    assert body["delay_operations"] == {"ListTables": 0.6}
    started = time.monotonic()
    ddb.list_tables()
    assert time.monotonic() - started >= 0.6
    # Other operations are not held.
    started = time.monotonic()
    ddb.list_backups()
    assert time.monotonic() - started < 0.5
    # A held request is dropped, never served, once its operation is taken off the list.
    emulator.configure(delay_operations={"CreateBackup": 30})
    name = uid("held")
    make_table(ddb, name, items=0)
    once = emulator.client("dynamodb")
    outcome = {}

    def call():
        try:
            once.create_backup(TableName=name, BackupName="held")
        except ClientError as err:
            outcome["code"] = err.response["Error"]["Code"]

    worker = threading.Thread(target=call)
    worker.start()
    time.sleep(0.5)
    emulator.configure(delay_operations={})
    worker.join(timeout=10)
    assert outcome.get("code") == "ServiceUnavailable"
    assert ddb.list_backups(TableName=name)["BackupSummaries"] == []
    for bad in ({"delay_operations": {"ListTables": -1}}, {"delay_operations": ["ListTables"]}):
        status, _ = emulator.control("POST", "config", bad)
        assert status == 400, bad
    emulator.configure(delay_operations={})


def test_request_log(emulator, uid):
    emulator.control("DELETE", "requests")
    ddb, backup = emulator.client("dynamodb"), emulator.client("backup")
    ddb.list_tables()
    backup.list_backup_vaults()
    emulator.client("kms").list_keys()
    log = emulator.requests()
    assert [(e["service"], e["operation"]) for e in log] == [
        ("dynamodb", "ListTables"), ("backup", "ListBackupVaults"), ("kms", "ListKeys")]
    entry = log[0]
    assert entry["account"] == DEFAULT_ACCOUNT and entry["region"] == REGION
    assert entry["status"] == 200 and entry["fault"] is False and entry["error_code"] is None
    assert isinstance(entry["time"], float)
    assert log[0]["time"] <= log[1]["time"] <= log[2]["time"]
    status, body = emulator.control("DELETE", "requests")
    assert status == 200 and body["cleared"] == 3
    assert emulator.requests() == []


def test_request_log_names_cloudwatch_and_auto_scaling_operations(emulator, uid):
    # CloudWatch signs as `monitoring` and speaks the query protocol.
    emulator.control("DELETE", "requests")
    emulator.client("cloudwatch").describe_alarms()
    emulator.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="dynamodb")
    assert [e["operation"] for e in emulator.requests()] == ["DescribeAlarms", "DescribeScalableTargets"]


def test_request_log_names_the_dynamodb_table(emulator, uid):
    ddb = emulator.client("dynamodb")
    name = uid("tbl")
    make_table(ddb, name)
    emulator.control("DELETE", "requests")
    ddb.describe_table(TableName=name)
    ddb.tag_resource(ResourceArn=table_arn(name), Tags=[{"Key": "k", "Value": "v"}])
    ddb.list_tables()
    emulator.client("kms").list_keys()
    log = emulator.requests()
    assert [(e["operation"], e["table"]) for e in log] == [
        ("DescribeTable", name), ("TagResource", name), ("ListTables", None), ("ListKeys", None)]


def test_request_log_names_a_restore_target_and_tag_listing(emulator, uid):
    ddb = emulator.client("dynamodb")
    name, target = uid("src"), uid("dst")
    make_table(ddb, name, items=0)
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    emulator.control("DELETE", "requests")
    ddb.list_tags_of_resource(ResourceArn=table_arn(name))
    ddb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=target, UseLatestRestorableTime=True)
    ddb.describe_table(TableName=target)
    assert [(e["operation"], e["table"]) for e in emulator.requests()] == [
        ("ListTagsOfResource", name), ("RestoreTableToPointInTime", target), ("DescribeTable", target)]


def test_restore_log_entries(emulator, uid):
    ddb, backup = emulator.client("dynamodb"), emulator.client("backup")
    name, vault, target = uid("src"), uid("vault"), uid("dst")
    make_table(ddb, name)
    backup.create_backup_vault(BackupVaultName=vault)
    rp = backup.start_backup_job(BackupVaultName=vault, ResourceArn=table_arn(name), IamRoleArn=role())["RecoveryPointArn"]
    emulator.control("DELETE", "requests")
    job = backup.start_restore_job(RecoveryPointArn=rp, IamRoleArn=role(), IdempotencyToken="abc",
                                   Metadata={"TARGETTABLENAME": target})["RestoreJobId"]
    entry = emulator.requests()[0]
    assert (entry["operation"], entry["target_table"], entry["idempotency_token"]) == ("StartRestoreJob", target, "abc")
    restores = emulator.restores()
    record = next(r for r in restores["restores"] if r["id"] == job)
    assert record["account"] == DEFAULT_ACCOUNT and record["region"] == REGION
    assert record["target_table"] == target and record["idempotency_token"] == "abc"
    assert record["status"] in ("PENDING", "RUNNING", "COMPLETED")
    assert restores["max_concurrent"][DEFAULT_ACCOUNT] >= 1


def test_moto_reset_clears_the_extension(emulator, uid):
    ddb, backup = emulator.client("dynamodb"), emulator.client("backup")
    name, vault = uid("src"), uid("vault")
    make_table(ddb, name)
    backup.create_backup_vault(BackupVaultName=vault)
    rp = backup.start_backup_job(BackupVaultName=vault, ResourceArn=table_arn(name), IamRoleArn=role())["RecoveryPointArn"]
    backup.start_restore_job(RecoveryPointArn=rp, IamRoleArn=role(), Metadata={"targetTableName": uid("dst")})
    emulator.configure(time_scale=0.25)
    request = urllib.request.Request(emulator.endpoint + "/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    assert emulator.restores() == {"restores": [], "max_concurrent": {}}
    assert emulator.requests() == []
    assert backup.list_restore_jobs()["RestoreJobs"] == []
    assert backup.list_backup_jobs()["BackupJobs"] == []
    assert ddb.list_tables()["TableNames"] == []
    # Options survive a reset.
    assert emulator.control("GET", "config")[1]["time_scale"] == 0.25


def test_unimplemented_operations_answer_in_aws_shape(emulator):
    import pytest
    from botocore.exceptions import ClientError

    for call in (lambda: emulator.client("backup").list_legal_holds(),
                 lambda: emulator.client("dynamodb").update_kinesis_streaming_destination(TableName="x", StreamArn="arn:aws:kinesis:us-east-1:123456789012:stream/x")):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "UnknownOperationException"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
