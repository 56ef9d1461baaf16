"""Injected faults: the right error per service, no effect, deterministic, never on control endpoints."""

from __future__ import annotations

import urllib.request

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import make_table, role, table_arn


def error(err: pytest.ExceptionInfo) -> tuple[str, int, dict]:
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["ResponseMetadata"]["HTTPHeaders"]


def test_throttling_errors_per_service(emulator, uid):
    ddb, kms, backup = emulator.client("dynamodb"), emulator.client("kms"), emulator.client("backup")
    name = uid("t")
    make_table(ddb, name)
    emulator.configure(throttle_rate=1.0)
    expected = [
        (lambda: backup.list_backup_vaults(), "ThrottlingException"),
        (lambda: backup.list_restore_jobs(), "ThrottlingException"),
        (lambda: kms.list_keys(), "ThrottlingException"),
        (lambda: ddb.describe_table(TableName=name), "ThrottlingException"),
        (lambda: ddb.get_item(TableName=name, Key={"pk": {"S": "p0"}, "sk": {"S": "s"}}), "ProvisionedThroughputExceededException"),
    ]
    for call, expected_code in expected:
        with pytest.raises(ClientError) as err:
            call()
        code, status, headers = error(err)
        assert (code, status) == (expected_code, 400)
        assert headers["x-amzn-errortype"] == expected_code
    # botocore retries them as throttling: its retry metadata says it tried more than once.
    retrying = emulator.client("backup", config=Config(retries={"total_max_attempts": 3, "mode": "standard"}))
    with pytest.raises(ClientError) as err:
        retrying.list_backup_vaults()
    assert err.value.response["ResponseMetadata"]["RetryAttempts"] == 2


def test_server_errors(emulator):
    emulator.configure(error_rate=1.0)
    kms = emulator.client("kms")
    seen = set()
    for _ in range(12):
        with pytest.raises(ClientError) as err:
            kms.list_keys()
        code, status, _ = error(err)
        seen.add((code, status))
    assert seen == {("InternalFailure", 500), ("ServiceUnavailable", 503)}


def test_faulted_requests_have_no_effect(emulator, uid):
    ddb, backup = emulator.client("dynamodb"), emulator.client("backup")
    source, vault = uid("src"), uid("vault")
    make_table(ddb, source)
    backup.create_backup_vault(BackupVaultName=vault)
    rp = backup.start_backup_job(BackupVaultName=vault, ResourceArn=table_arn(source), IamRoleArn=role())["RecoveryPointArn"]
    emulator.configure(throttle_rate=0.5, error_rate=0.5)
    target, new_table = uid("r"), uid("new")
    for call in (
        lambda: backup.start_restore_job(RecoveryPointArn=rp, IamRoleArn=role(), IdempotencyToken="tok",
                                         Metadata={"targetTableName": target}),
        lambda: ddb.create_table(TableName=new_table, BillingMode="PAY_PER_REQUEST",
                                 KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}]),
        lambda: ddb.put_item(TableName=source, Item={"pk": {"S": "new"}, "sk": {"S": "s"}}),
    ):
        with pytest.raises(ClientError):
            call()
    emulator.configure(throttle_rate=0.0, error_rate=0.0)
    assert [r for r in emulator.restores()["restores"] if r["target_table"] == target] == []
    assert new_table not in ddb.list_tables()["TableNames"]
    assert ddb.scan(TableName=source)["Count"] == 3
    log = emulator.requests()
    faulted = [e for e in log if e["fault"]]
    assert len(faulted) >= 3
    restore_entry = next(e for e in faulted if e["operation"] == "StartRestoreJob")
    assert restore_entry["target_table"] == target and restore_entry["idempotency_token"] == "tok"
    assert restore_entry["status"] in (400, 500, 503)


def test_faults_are_deterministic(emulator):
    kms = emulator.client("kms")

    def run() -> list[str]:
        outcomes = []
        for _ in range(30):
            try:
                kms.list_keys()
                outcomes.append("ok")
            except ClientError as err:
                outcomes.append(err.response["Error"]["Code"])
        return outcomes

    emulator.configure(throttle_rate=0.3, error_rate=0.2, fault_seed=7)
    first = run()
    emulator.configure(fault_seed=7)  # setting the seed restarts the sequence
    assert run() == first
    assert {"ok", "ThrottlingException"} <= set(first)
    emulator.configure(fault_seed=8)
    assert run() != first


def test_sdk_retries_through_faults(emulator, uid):
    emulator.configure(throttle_rate=0.2, error_rate=0.1, fault_seed=3)
    ddb = emulator.client("dynamodb", config=Config(retries={"total_max_attempts": 10, "mode": "standard"}))
    for i in range(20):
        ddb.list_tables()
    faulted = [e for e in emulator.requests() if e["fault"] and e["operation"] == "ListTables"]
    assert faulted


def test_control_endpoints_are_never_faulted(emulator):
    emulator.configure(throttle_rate=0.5, error_rate=0.5)
    for _ in range(20):
        assert emulator.control("GET", "health")[0] == 200
        assert emulator.control("GET", "requests")[0] == 200
    with urllib.request.urlopen(emulator.endpoint + "/moto-api/data.json") as response:
        assert response.status == 200


def test_fault_services_option(emulator):
    emulator.configure(throttle_rate=1.0, fault_services=["kms"])
    emulator.client("backup").list_backup_vaults()
    with pytest.raises(ClientError):
        emulator.client("kms").list_keys()
    # STS is not faulted unless listed.
    emulator.client("sts").get_caller_identity()
    emulator.configure(fault_services=["sts"])
    with pytest.raises(ClientError) as err:
        emulator.client("sts").get_caller_identity()
    assert err.value.response["Error"]["Code"] == "Throttling"
