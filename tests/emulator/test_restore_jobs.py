"""AWS Backup restore jobs: validation, encryption, idempotency, the duration model, limits."""

from __future__ import annotations

import concurrent.futures
import time

import pytest
from botocore.exceptions import ClientError

from conftest import (DEFAULT_ACCOUNT, OTHER_ACCOUNT, OTHER_REGION, REGION, make_table, role,
                      shared_key_policy, table_arn, wait_for, wait_restore_job)

MIB = 1024 * 1024


@pytest.fixture
def recovery_point(emulator, uid):
    """A table with 2 GSIs, 3 items and its recovery point; returns (table name, vault, rp ARN)."""
    def make(*, size: int | None = None, sse: dict | None = None, client_args: dict | None = None):
        args = client_args or {}
        ddb, backup = emulator.client("dynamodb", **args), emulator.client("backup", **args)
        name, vault = uid("src"), uid("vault")
        tags = [{"Key": "restoreplan-emulator:size-bytes", "Value": str(size)}] if size is not None else None
        make_table(ddb, name, gsis=["by-user", "by-day"], sse=sse, tags=tags)
        backup.create_backup_vault(BackupVaultName=vault)
        arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
        job = backup.start_backup_job(BackupVaultName=vault, ResourceArn=arn, IamRoleArn=role(arn.split(":")[4]))
        return name, vault, job["RecoveryPointArn"]
    return make


def start(backup, rp: str, target: str, **metadata) -> str:
    meta = {"targetTableName": target, **metadata}
    return backup.start_restore_job(RecoveryPointArn=rp, IamRoleArn=role(), Metadata=meta,
                                    ResourceType="DynamoDB")["RestoreJobId"]


def test_restore_job_lifecycle_and_table(emulator, uid, recovery_point):
    emulator.configure(time_scale=0.002)  # 600 s modeled -> 1.2 s
    backup, ddb, kms = emulator.client("backup"), emulator.client("dynamodb"), emulator.client("kms")
    key = kms.create_key()["KeyMetadata"]
    source, vault, rp = recovery_point()
    target = uid("restored")
    job_id = start(backup, rp, target, encryptionType="KMS", kmsMasterKeyArn=key["Arn"])

    first = backup.describe_restore_job(RestoreJobId=job_id)
    assert first["Status"] == "PENDING"
    assert first["PercentDone"] == "0.00%"
    assert first["RecoveryPointArn"] == rp
    assert first["IamRoleArn"] == role()
    assert first["ResourceType"] == "DynamoDB"
    assert first["ExpectedCompletionTimeMinutes"] == 10
    assert first["BackupSizeInBytes"] > 0
    assert "CreatedResourceArn" not in first and "CompletionDate" not in first
    with pytest.raises(ClientError):
        ddb.describe_table(TableName=target)  # not there before completion

    running = wait_for(lambda: (lambda j: j if j["Status"] == "RUNNING" else None)(
        backup.describe_restore_job(RestoreJobId=job_id)))
    assert running["PercentDone"].endswith("%")
    done = wait_restore_job(backup, job_id)
    assert done["Status"] == "COMPLETED", done
    assert done["PercentDone"] == "100.00%"
    assert done["CreatedResourceArn"] == table_arn(target)
    assert done["CompletionDate"] > done["CreationDate"]
    elapsed = (done["CompletionDate"] - done["CreationDate"]).total_seconds()
    assert 1.0 < elapsed < 1.5

    table = ddb.describe_table(TableName=target)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert {g["IndexName"] for g in table["GlobalSecondaryIndexes"]} == {"by-user", "by-day"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"] == {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key["Arn"]}
    assert table["RestoreSummary"]["SourceBackupArn"] == rp
    assert table["RestoreSummary"]["SourceTableArn"] == table_arn(source)
    assert table["RestoreSummary"]["RestoreInProgress"] is False
    assert ddb.scan(TableName=target)["Count"] == 3
    point = backup.describe_recovery_point(BackupVaultName=vault, RecoveryPointArn=rp)
    assert "LastRestoreTime" in point


@pytest.mark.parametrize("metadata, expected", [
    ({"encryptionType": "Default", "kmsMasterKeyArn": "Not Applicable"}, None),
    ({"encryptionType": "Default"}, None),
    ({"encryptionType": "KMS"}, "aws-managed"),
    ({"encryptionType": "KMS", "kmsMasterKeyArn": "Not Applicable"}, "aws-managed"),
    ({"EncryptionType": "kms", "KeyArn": "Not Applicable"}, "aws-managed"),
])
def test_restore_encryption_choices(emulator, uid, recovery_point, metadata, expected):
    backup, ddb, kms = emulator.client("backup"), emulator.client("dynamodb"), emulator.client("kms")
    _, _, rp = recovery_point()
    target = uid("enc")
    job = backup.start_restore_job(RecoveryPointArn=rp, IamRoleArn=role(),
                                   Metadata={"TargetTableName": target, **metadata})
    assert wait_restore_job(backup, job["RestoreJobId"])["Status"] == "COMPLETED"
    table = ddb.describe_table(TableName=target)["Table"]
    if expected is None:
        assert "SSEDescription" not in table
    else:
        managed = kms.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]
        assert managed["KeyManager"] == "AWS"
        assert table["SSEDescription"]["KMSMasterKeyArn"] == managed["Arn"]


def test_start_restore_job_validation(emulator, uid, recovery_point):
    backup = emulator.client("backup")
    _, _, rp = recovery_point()
    cases = [
        (dict(RecoveryPointArn=rp, Metadata={"targetTableName": uid("x")}), "MissingParameterValueException"),
        (dict(RecoveryPointArn=rp, IamRoleArn="not-a-role", Metadata={"targetTableName": uid("x")}), "InvalidParameterValueException"),
        (dict(RecoveryPointArn=rp, IamRoleArn=role(), Metadata={}), "InvalidParameterValueException"),
        (dict(RecoveryPointArn=rp, IamRoleArn=role(), Metadata={"targetTableName": uid("x"), "encryptionType": "AES"}), "InvalidParameterValueException"),
        (dict(RecoveryPointArn=rp, IamRoleArn=role(), Metadata={"targetTableName": uid("x"), "encryptionType": "KMS", "kmsMasterKeyArn": "my-key"}), "InvalidParameterValueException"),
        (dict(RecoveryPointArn=rp, IamRoleArn=role(), Metadata={"targetTableName": uid("x"), "encryptionType": "Default",
                                                                 "kmsMasterKeyArn": f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:key/abc"}), "InvalidParameterValueException"),
        (dict(RecoveryPointArn=rp, IamRoleArn=role(), Metadata={"targetTableName": uid("x"), "secondaryIndices": '["nope"]'}), "InvalidParameterValueException"),
        (dict(RecoveryPointArn=rp, IamRoleArn=role(), Metadata={"targetTableName": "a"}), "InvalidParameterValueException"),
        (dict(RecoveryPointArn=rp.replace(rp[-5:], "00000"), IamRoleArn=role(), Metadata={"targetTableName": uid("x")}), "ResourceNotFoundException"),
    ]
    for kwargs, code in cases:
        with pytest.raises(ClientError) as err:
            backup.start_restore_job(**kwargs)
        assert err.value.response["Error"]["Code"] == code, kwargs
        assert err.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code
    assert backup.list_restore_jobs()["RestoreJobs"] == [] or all(
        j["RecoveryPointArn"] != rp for j in backup.list_restore_jobs()["RestoreJobs"])


def test_key_problems_fail_the_job(emulator, uid, recovery_point):
    backup, kms = emulator.client("backup"), emulator.client("kms")
    west_kms = emulator.client("kms", OTHER_REGION)
    _, _, rp = recovery_point()
    disabled = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    asymmetric = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    west = west_kms.create_key()["KeyMetadata"]
    other = emulator.assume(OTHER_ACCOUNT)
    unshared = emulator.client("kms", credentials=other).create_key()["KeyMetadata"]
    cases = {
        f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:key/11111111-2222-3333-4444-555555555555": "does not exist",
        disabled["Arn"]: "Disabled",
        asymmetric["Arn"]: "symmetric",
        west["Arn"]: "Region",
        unshared["Arn"]: "key policy",
    }
    jobs = {arn: start(backup, rp, uid("bad"), encryptionType="KMS", kmsMasterKeyArn=arn) for arn in cases}
    for arn, words in cases.items():
        job = wait_restore_job(backup, jobs[arn])
        assert job["Status"] == "FAILED", job
        assert words in job["StatusMessage"], job["StatusMessage"]
        assert "CreatedResourceArn" not in job


def test_cross_account_key_shared_by_policy(emulator, uid, recovery_point):
    """A restore in 444455556666 may use a key of 123456789012 whose policy grants it."""
    other = emulator.assume(OTHER_ACCOUNT)
    key = emulator.client("kms").create_key(Policy=shared_key_policy(DEFAULT_ACCOUNT, OTHER_ACCOUNT))["KeyMetadata"]
    _, _, rp = recovery_point(client_args={"credentials": other})
    backup = emulator.client("backup", credentials=other)
    target = uid("shared")
    job_id = backup.start_restore_job(RecoveryPointArn=rp, IamRoleArn=role(OTHER_ACCOUNT),
                                      Metadata={"targetTableName": target, "encryptionType": "KMS",
                                                "kmsMasterKeyArn": key["Arn"]})["RestoreJobId"]
    job = wait_restore_job(backup, job_id)
    assert job["Status"] == "COMPLETED", job
    assert job["AccountId"] == OTHER_ACCOUNT
    table = emulator.client("dynamodb", credentials=other).describe_table(TableName=target)["Table"]
    assert table["TableArn"] == table_arn(target, OTHER_ACCOUNT)
    assert table["SSEDescription"]["KMSMasterKeyArn"] == key["Arn"]


def test_existing_target_fails_the_job(emulator, uid, recovery_point):
    backup, ddb = emulator.client("backup"), emulator.client("dynamodb")
    source, _, rp = recovery_point()
    job = wait_restore_job(backup, start(backup, rp, source))
    assert job["Status"] == "FAILED" and "already exists" in job["StatusMessage"]
    # Two restores into one name: the second fails, the first completes.
    target = uid("twice")
    first, second = start(backup, rp, target), start(backup, rp, target)
    assert wait_restore_job(backup, first)["Status"] == "COMPLETED"
    assert wait_restore_job(backup, second)["Status"] == "FAILED"
    assert ddb.describe_table(TableName=target)["Table"]["TableStatus"] == "ACTIVE"


def test_idempotency_token(emulator, uid, recovery_point):
    backup = emulator.client("backup")
    _, _, rp = recovery_point()
    target = uid("idem")
    kwargs = dict(RecoveryPointArn=rp, IamRoleArn=role(), IdempotencyToken="run-1/ledger",
                  Metadata={"targetTableName": target, "encryptionType": "Default"})
    first = backup.start_restore_job(**kwargs)["RestoreJobId"]
    again = backup.start_restore_job(**kwargs)["RestoreJobId"]
    assert first == again
    restores = [r for r in emulator.restores()["restores"] if r["target_table"] == target]
    assert len(restores) == 1 and restores[0]["idempotency_token"] == "run-1/ledger"
    # Another account's identical token is its own.
    other_jobs = backup.list_restore_jobs(ByAccountId=OTHER_ACCOUNT)["RestoreJobs"]
    assert first not in [j["RestoreJobId"] for j in other_jobs]
    assert wait_restore_job(backup, first)["Status"] == "COMPLETED"
    assert backup.start_restore_job(**kwargs)["RestoreJobId"] == first  # still the same after it finished


def test_requested_indexes_only(emulator, uid, recovery_point):
    backup, ddb = emulator.client("backup"), emulator.client("dynamodb")
    _, _, rp = recovery_point()
    target = uid("gsi")
    job = start(backup, rp, target, secondaryIndices='[{"indexName": "by-user"}]')
    assert wait_restore_job(backup, job)["Status"] == "COMPLETED"
    table = ddb.describe_table(TableName=target)["Table"]
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["by-user"]
    assert {a["AttributeName"] for a in table["AttributeDefinitions"]} == {"pk", "sk", "by-user_key"}
    none = uid("nogsi")
    assert wait_restore_job(backup, start(backup, rp, none, secondaryIndices="[]"))["Status"] == "COMPLETED"
    assert "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=none)["Table"]


def test_list_restore_jobs_filters(emulator, uid, recovery_point):
    backup = emulator.client("backup")
    _, _, rp = recovery_point()
    before = time.time()
    ok = start(backup, rp, uid("ok"))
    bad = start(backup, rp, uid("bad"), encryptionType="KMS",
                kmsMasterKeyArn=f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:key/11111111-2222-3333-4444-555555555555")
    wait_restore_job(backup, ok)
    failed = [j["RestoreJobId"] for j in backup.list_restore_jobs(ByStatus="FAILED")["RestoreJobs"]]
    completed = [j["RestoreJobId"] for j in backup.list_restore_jobs(ByStatus="COMPLETED")["RestoreJobs"]]
    assert bad in failed and ok not in failed and ok in completed
    recent = [j["RestoreJobId"] for j in backup.list_restore_jobs(ByCreatedAfter=before)["RestoreJobs"]]
    assert set(recent) == {ok, bad}
    assert backup.list_restore_jobs(ByCreatedAfter=time.time() + 60)["RestoreJobs"] == []
    mine = [j["RestoreJobId"] for j in backup.list_restore_jobs(ByAccountId=DEFAULT_ACCOUNT)["RestoreJobs"]]
    assert {ok, bad} <= set(mine)
    assert backup.list_restore_jobs(ByAccountId=OTHER_ACCOUNT)["RestoreJobs"] == []
    page = backup.list_restore_jobs(ByCreatedAfter=before, MaxResults=1)
    assert len(page["RestoreJobs"]) == 1 and page["NextToken"]


def test_duration_model(emulator, uid, recovery_point):
    # 600 s + 30 GiB / 50 MiB/s = 1214.4 s modeled; at 0.001 that is 1.21 s.
    size = 30 * 1024 * MIB
    backup = emulator.client("backup")
    _, _, rp = recovery_point(size=size)
    job_id = start(backup, rp, uid("big"))
    job = backup.describe_restore_job(RestoreJobId=job_id)
    modeled = 600 + size / (50 * MIB)
    assert job["ExpectedCompletionTimeMinutes"] == round(modeled / 60)
    assert job["BackupSizeInBytes"] == size
    record = next(r for r in emulator.restores()["restores"] if r["id"] == job_id)
    assert record["modeled_seconds"] == pytest.approx(modeled)
    assert record["expected_finish"] - record["created"] == pytest.approx(modeled * 0.001, rel=1e-6)
    done = wait_restore_job(backup, job_id)
    record = next(r for r in emulator.restores()["restores"] if r["id"] == job_id)
    assert record["status"] == "COMPLETED" and record["kind"] == "backup"
    assert record["finished"] - record["created"] == pytest.approx(modeled * 0.001, rel=1e-6)
    assert done["Status"] == "COMPLETED"


def test_table_appears_without_polling(emulator, uid, recovery_point):
    backup, ddb = emulator.client("backup"), emulator.client("dynamodb")
    _, _, rp = recovery_point()
    target = uid("quiet")
    start(backup, rp, target)
    time.sleep(1.0)  # 0.6 s modeled-scaled duration; no DescribeRestoreJob meanwhile
    restores = [r for r in emulator.restores()["restores"] if r["target_table"] == target]
    assert restores[0]["status"] == "COMPLETED"
    assert ddb.describe_table(TableName=target)["Table"]["TableStatus"] == "ACTIVE"


def test_fail_table(emulator, uid, recovery_point):
    backup, ddb = emulator.client("backup"), emulator.client("dynamodb")
    _, _, rp = recovery_point()
    target = uid("doomed")
    emulator.configure(fail_tables=[target])
    job = wait_restore_job(backup, start(backup, rp, target))
    assert job["Status"] == "FAILED"
    assert target in job["StatusMessage"]
    with pytest.raises(ClientError) as err:
        ddb.describe_table(TableName=target)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_max_concurrent_restores(emulator, uid, recovery_point):
    emulator.control("POST", "reset")  # no restores of earlier tests in flight
    emulator.configure(max_concurrent_restores=3, time_scale=0.004)  # 2.4 s per restore
    backup, ddb = emulator.client("backup"), emulator.client("dynamodb")
    _, _, rp = recovery_point()
    source = make_table(ddb, uid("native"))
    backup_arn = ddb.create_backup(TableName=source["TableName"], BackupName="before-dr")["BackupDetails"]["BackupArn"]
    started = [start(backup, rp, uid("c")) for _ in range(2)]
    ddb.restore_table_from_backup(TargetTableName=uid("n"), BackupArn=backup_arn)
    with pytest.raises(ClientError) as err:
        start(backup, rp, uid("c"))
    assert err.value.response["Error"]["Code"] == "LimitExceededException"
    with pytest.raises(ClientError) as err:
        ddb.restore_table_from_backup(TargetTableName=uid("n"), BackupArn=backup_arn)
    assert err.value.response["Error"]["Code"] == "LimitExceededException"
    # Another account has its own limit.
    other = emulator.assume(OTHER_ACCOUNT)
    _, _, other_rp = recovery_point(client_args={"credentials": other})
    other_backup = emulator.client("backup", credentials=other)
    other_backup.start_restore_job(RecoveryPointArn=other_rp, IamRoleArn=role(OTHER_ACCOUNT),
                                   Metadata={"targetTableName": uid("o")})
    for job in started:
        wait_restore_job(backup, job)
    start(backup, rp, uid("after"))  # room again
    assert emulator.restores()["max_concurrent"][DEFAULT_ACCOUNT] == 3


def test_parallel_starts_respect_the_limit(emulator, uid, recovery_point):
    emulator.control("POST", "reset")
    emulator.configure(max_concurrent_restores=10, time_scale=0.01)  # 6 s each: all overlap
    backup = emulator.client("backup")
    _, _, rp = recovery_point()
    targets = [uid("p") for _ in range(25)]

    def go(target):
        try:
            return start(backup, rp, target)
        except ClientError as err:
            return err.response["Error"]["Code"]

    with concurrent.futures.ThreadPoolExecutor(25) as pool:
        results = list(pool.map(go, targets))
    assert results.count("LimitExceededException") == 15
    assert emulator.restores()["max_concurrent"][DEFAULT_ACCOUNT] == 10
