"""AWS Backup copy jobs: their duration, vault access policies, advanced DynamoDB backups, deleting copies."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import DEFAULT_ACCOUNT, OTHER_ACCOUNT, OTHER_REGION, make_table, role, table_arn, wait_for

MIB = 1024 * 1024


def source_point(emulator, uid, *, size: int | None = None, advanced: bool = True) -> tuple[str, str]:
    ddb, backup = emulator.client("dynamodb"), emulator.client("backup")
    name, vault = uid("src"), uid("vault")
    tags = [{"Key": "restoreplan-emulator:size-bytes", "Value": str(size)}] if size is not None else None
    make_table(ddb, name, tags=tags)
    backup.create_backup_vault(BackupVaultName=vault)
    if not advanced:
        backup.update_region_settings(ResourceTypeManagementPreference={"DynamoDB": False})
    try:
        rp = backup.start_backup_job(BackupVaultName=vault, ResourceArn=table_arn(name), IamRoleArn=role())
    finally:
        if not advanced:
            backup.update_region_settings(ResourceTypeManagementPreference={"DynamoDB": True})
    return vault, rp["RecoveryPointArn"]


def dr_vault(emulator, uid, account: str = OTHER_ACCOUNT, region: str = OTHER_REGION,
             policy: dict | None = None) -> tuple[object, str, str]:
    creds = emulator.assume(account) if account != DEFAULT_ACCOUNT else None
    backup = emulator.client("backup", region, credentials=creds)
    name = uid("dr")
    arn = backup.create_backup_vault(BackupVaultName=name)["BackupVaultArn"]
    if policy is not None:
        backup.put_backup_vault_access_policy(BackupVaultName=name, Policy=json.dumps(policy))
    return backup, name, arn


def copy_into(account: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "backup:CopyIntoBackupVault", "Resource": "*"}]}


def start_copy(emulator, vault: str, rp: str, dest_arn: str, token: str | None = None) -> str:
    args = {"RecoveryPointArn": rp, "SourceBackupVaultName": vault, "DestinationBackupVaultArn": dest_arn,
            "IamRoleArn": role()}
    if token:
        args["IdempotencyToken"] = token
    return emulator.client("backup").start_copy_job(**args)["CopyJobId"]


def copy_job(emulator, job_id: str) -> dict:
    return emulator.client("backup").describe_copy_job(CopyJobId=job_id)["CopyJob"]


def finished(emulator, job_id: str) -> dict:
    return wait_for(lambda: (lambda j: j if j["State"] in ("COMPLETED", "FAILED") else None)(copy_job(emulator, job_id)))


def test_copy_job_takes_modeled_time(emulator, uid):
    # 300 + 500 MiB / 50 MiB/s = 310 s modeled, CREATED for 31 s; at scale 0.005: 1.55 s and 0.155 s.
    emulator.configure(time_scale=0.005, copy_base_seconds=300)
    vault, rp = source_point(emulator, uid, size=500 * MIB)
    dest_backup, dest_name, dest_arn = dr_vault(emulator, uid, policy=copy_into(DEFAULT_ACCOUNT))
    started = time.monotonic()
    job_id = start_copy(emulator, vault, rp, dest_arn, token="run-1/copy")
    first = copy_job(emulator, job_id)
    if time.monotonic() - started < 0.1:  # a loaded machine may answer after the CREATED part
        assert first["State"] == "CREATED"
    assert first["State"] in ("CREATED", "RUNNING") and "CompletionDate" not in first
    assert first["BackupSizeInBytes"] == 500 * MIB
    assert first["DestinationRecoveryPointArn"].startswith(f"arn:aws:backup:{OTHER_REGION}:")
    assert dest_backup.list_recovery_points_by_backup_vault(BackupVaultName=dest_name)["RecoveryPoints"] == []
    wait_for(lambda: job_id in [j["CopyJobId"] for j in
                                emulator.client("backup").list_copy_jobs(ByState="RUNNING")["CopyJobs"]])
    done = finished(emulator, job_id)
    assert done["State"] == "COMPLETED"
    assert time.monotonic() - started >= 1.5
    assert (done["CompletionDate"] - done["CreationDate"]).total_seconds() == pytest.approx(1.55, abs=0.01)
    assert done["DestinationRecoveryPointArn"] == first["DestinationRecoveryPointArn"]
    points = dest_backup.list_recovery_points_by_backup_vault(BackupVaultName=dest_name)["RecoveryPoints"]
    assert [p["RecoveryPointArn"] for p in points] == [done["DestinationRecoveryPointArn"]]
    # The same idempotency token: the same job, no second copy.
    assert start_copy(emulator, vault, rp, dest_arn, token="run-1/copy") == job_id
    assert len(dest_backup.list_recovery_points_by_backup_vault(BackupVaultName=dest_name)["RecoveryPoints"]) == 1


def test_vault_access_policy_calls(emulator, uid):
    backup, name, arn = dr_vault(emulator, uid)
    with pytest.raises(ClientError) as err:
        backup.get_backup_vault_access_policy(BackupVaultName=name)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    policy = json.dumps(copy_into(DEFAULT_ACCOUNT))
    backup.put_backup_vault_access_policy(BackupVaultName=name, Policy=policy)
    got = backup.get_backup_vault_access_policy(BackupVaultName=name)
    assert (got["BackupVaultName"], got["BackupVaultArn"], json.loads(got["Policy"])) == (name, arn, json.loads(policy))
    for bad in ("not json", json.dumps({"Statement": [{"Effect": "Maybe"}]})):
        with pytest.raises(ClientError) as err:
            backup.put_backup_vault_access_policy(BackupVaultName=name, Policy=bad)
        assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as err:
        backup.put_backup_vault_access_policy(BackupVaultName=uid("none"), Policy=policy)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    backup.delete_backup_vault_access_policy(BackupVaultName=name)
    with pytest.raises(ClientError):
        backup.get_backup_vault_access_policy(BackupVaultName=name)


@pytest.mark.parametrize("policy, admitted", [
    (copy_into(DEFAULT_ACCOUNT), True),
    ({"Statement": [{"Effect": "Allow", "Principal": {"AWS": DEFAULT_ACCOUNT}, "Action": "backup:*", "Resource": "*"}]}, True),
    (copy_into("999999999999"), False),
    ({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "backup:CopyIntoBackupVault", "Resource": "*"},
                    {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"},
                     "Action": "backup:CopyIntoBackupVault", "Resource": "*"}]}, False),
    ({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "backup:CopyIntoBackupVault", "Resource": "*",
                     "Condition": {"StringEquals": {"aws:PrincipalAccount": ["999999999999"]}}}]}, False),
    ({"Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"},
                     "Action": "backup:DeleteRecoveryPoint", "Resource": "*"}]}, False),
])
def test_cross_account_copy_follows_the_vault_policy(emulator, uid, policy, admitted):
    vault, rp = source_point(emulator, uid)
    dest_backup, dest_name, dest_arn = dr_vault(emulator, uid, policy=policy)
    done = finished(emulator, start_copy(emulator, vault, rp, dest_arn))
    if admitted:
        assert done["State"] == "COMPLETED"
    else:
        assert done["State"] == "FAILED"
        assert done["StatusMessage"].startswith("Access Denied trying to call AWS Backup service")
        assert "DestinationRecoveryPointArn" not in done
        assert dest_backup.list_recovery_points_by_backup_vault(BackupVaultName=dest_name)["RecoveryPoints"] == []


def test_vault_without_policy(emulator, uid):
    vault, rp = source_point(emulator, uid)
    _, _, dest_arn = dr_vault(emulator, uid)
    # By default a vault without any access policy admits copies (the emulator's leniency) ...
    assert finished(emulator, start_copy(emulator, vault, rp, dest_arn))["State"] == "COMPLETED"
    # ... and refuses them as AWS does with require_vault_access_policy.
    emulator.configure(require_vault_access_policy=True)
    assert finished(emulator, start_copy(emulator, vault, rp, dest_arn))["State"] == "FAILED"
    # Copies within the account never need a vault policy.
    _, _, same_account = dr_vault(emulator, uid, account=DEFAULT_ACCOUNT)
    assert finished(emulator, start_copy(emulator, vault, rp, same_account))["State"] == "COMPLETED"


def test_dynamodb_managed_backup_cannot_cross_accounts(emulator, uid):
    vault, rp = source_point(emulator, uid, advanced=False)
    assert rp.startswith(f"arn:aws:dynamodb:us-east-1:{DEFAULT_ACCOUNT}:table/") and "/backup/" in rp
    settings = emulator.client("backup").describe_region_settings()
    assert settings["ResourceTypeManagementPreference"]["DynamoDB"] is True
    _, _, dest_arn = dr_vault(emulator, uid, policy=copy_into(DEFAULT_ACCOUNT))
    done = finished(emulator, start_copy(emulator, vault, rp, dest_arn))
    assert done["State"] == "FAILED" and "advanced" in done["StatusMessage"]
    # Across Regions in the same account it copies.
    _, _, west = dr_vault(emulator, uid, account=DEFAULT_ACCOUNT)
    assert finished(emulator, start_copy(emulator, vault, rp, west))["State"] == "COMPLETED"


def test_delete_copied_recovery_point(emulator, uid):
    vault, rp = source_point(emulator, uid)
    dest_backup, dest_name, dest_arn = dr_vault(emulator, uid, policy=copy_into(DEFAULT_ACCOUNT))
    copied = finished(emulator, start_copy(emulator, vault, rp, dest_arn))["DestinationRecoveryPointArn"]
    # The source account cannot delete the destination's copy.
    with pytest.raises(ClientError) as err:
        emulator.client("backup").delete_recovery_point(BackupVaultName=dest_name, RecoveryPointArn=copied)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert dest_backup.describe_backup_vault(BackupVaultName=dest_name)["NumberOfRecoveryPoints"] == 1
    dest_backup.delete_recovery_point(BackupVaultName=dest_name, RecoveryPointArn=copied)
    assert dest_backup.describe_backup_vault(BackupVaultName=dest_name)["NumberOfRecoveryPoints"] == 0
    with pytest.raises(ClientError):
        dest_backup.describe_recovery_point(BackupVaultName=dest_name, RecoveryPointArn=copied)
    # The source recovery point is untouched, and the emptied vault can go.
    assert emulator.client("backup").describe_recovery_point(BackupVaultName=vault, RecoveryPointArn=rp)["Status"] == "COMPLETED"
    dest_backup.delete_backup_vault(BackupVaultName=dest_name)
