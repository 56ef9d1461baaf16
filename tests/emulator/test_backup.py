"""AWS Backup: backup jobs, copy jobs and recovery points of DynamoDB tables."""

from __future__ import annotations

import json
import re
import time
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from conftest import (DEFAULT_ACCOUNT, OTHER_ACCOUNT, OTHER_REGION, REGION, make_table, role, table_arn)

RP_ARN = r"^arn:aws:backup:{region}:{account}:recovery-point:[0-9a-f-]{{36}}$"


def backup_table(backup, vault: str, name: str, account: str = DEFAULT_ACCOUNT, region: str = REGION) -> dict:
    job = backup.start_backup_job(BackupVaultName=vault, ResourceArn=table_arn(name, account, region),
                                  IamRoleArn=role(account))
    return job


def test_backup_job_records_the_table(emulator, uid):
    ddb, kms, backup = emulator.client("dynamodb"), emulator.client("kms"), emulator.client("backup")
    key = kms.create_key()["KeyMetadata"]
    name, vault = uid("orders"), uid("vault")
    make_table(ddb, name, gsis=["by-user", "by-day"], lsi="by-time", items=4,
               sse={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["KeyId"]})
    backup.create_backup_vault(BackupVaultName=vault)

    job = backup_table(backup, vault, name)
    assert re.match(RP_ARN.format(region=REGION, account=DEFAULT_ACCOUNT), job["RecoveryPointArn"])

    described = backup.describe_backup_job(BackupJobId=job["BackupJobId"])
    assert described["State"] == "COMPLETED"
    assert described["ResourceType"] == "DynamoDB"
    assert described["RecoveryPointArn"] == job["RecoveryPointArn"]

    rp = backup.describe_recovery_point(BackupVaultName=vault, RecoveryPointArn=job["RecoveryPointArn"])
    assert rp["ResourceArn"] == table_arn(name)
    assert rp["ResourceType"] == "DynamoDB"
    assert rp["ResourceName"] == name
    assert rp["Status"] == "COMPLETED"
    assert rp["EncryptionKeyArn"] == key["Arn"]
    assert rp["IsEncrypted"] is True
    assert rp["BackupSizeInBytes"] > 0
    assert rp["BackupVaultArn"] == f"arn:aws:backup:{REGION}:{DEFAULT_ACCOUNT}:backup-vault:{vault}"
    assert "SourceBackupVaultArn" not in rp
    assert rp["CompletionDate"] >= rp["CreationDate"]

    meta = backup.get_recovery_point_restore_metadata(BackupVaultName=vault,
                                                      RecoveryPointArn=job["RecoveryPointArn"])
    assert meta["ResourceType"] == "DynamoDB"
    restore_meta = meta["RestoreMetadata"]
    assert restore_meta["originalTableName"] == name
    assert restore_meta["primaryPartitionKey"] == "pk"
    assert restore_meta["sortKey"] == "sk"
    assert restore_meta["encryptionType"] == "KMS"
    assert restore_meta["kmsMasterKeyArn"] == key["Arn"]
    indexes = json.loads(restore_meta["secondaryIndices"])
    assert {(i["indexName"], i["indexType"]) for i in indexes} == {("by-user", "GSI"), ("by-day", "GSI"), ("by-time", "LSI")}


def test_aws_owned_key_and_size_tag(emulator, uid):
    ddb, backup = emulator.client("dynamodb"), emulator.client("backup")
    name, vault = uid("big"), uid("vault")
    size = 40 * 1024**3
    make_table(ddb, name, tags=[{"Key": "restoreplan-emulator:size-bytes", "Value": str(size)}])
    backup.create_backup_vault(BackupVaultName=vault)
    job = backup_table(backup, vault, name)
    rp = backup.describe_recovery_point(BackupVaultName=vault, RecoveryPointArn=job["RecoveryPointArn"])
    assert rp["BackupSizeInBytes"] == size
    assert "EncryptionKeyArn" not in rp
    meta = backup.get_recovery_point_restore_metadata(BackupVaultName=vault, RecoveryPointArn=rp["RecoveryPointArn"])
    assert meta["RestoreMetadata"]["encryptionType"] == "Default"
    assert meta["RestoreMetadata"]["kmsMasterKeyArn"] == "Not Applicable"
    assert ddb.describe_table(TableName=name)["Table"]["TableSizeBytes"] == size


def test_backup_job_errors(emulator, uid):
    backup = emulator.client("backup")
    vault = uid("vault")
    with pytest.raises(ClientError) as err:
        backup.start_backup_job(BackupVaultName="no-such-vault", ResourceArn=table_arn("x"), IamRoleArn=role())
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    backup.create_backup_vault(BackupVaultName=vault)
    with pytest.raises(ClientError) as err:
        backup.start_backup_job(BackupVaultName=vault, ResourceArn="arn:aws:s3:::bucket", IamRoleArn=role())
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    missing = backup.start_backup_job(BackupVaultName=vault, ResourceArn=table_arn(uid("gone")), IamRoleArn=role())
    job = backup.describe_backup_job(BackupJobId=missing["BackupJobId"])
    assert job["State"] == "FAILED" and "not found" in job["StatusMessage"]
    assert "RecoveryPointArn" not in missing


def test_list_backup_jobs_filters(emulator, uid):
    ddb, backup = emulator.client("dynamodb"), emulator.client("backup")
    a, b, vault = uid("a"), uid("b"), uid("vault")
    make_table(ddb, a)
    make_table(ddb, b)
    backup.create_backup_vault(BackupVaultName=vault)
    job_a = backup_table(backup, vault, a)
    backup_table(backup, vault, b)
    jobs = backup.list_backup_jobs(ByResourceArn=table_arn(a))["BackupJobs"]
    assert [j["BackupJobId"] for j in jobs] == [job_a["BackupJobId"]]
    in_vault = backup.list_backup_jobs(ByBackupVaultName=vault, ByState="COMPLETED")["BackupJobs"]
    assert len(in_vault) == 2
    assert backup.list_backup_jobs(ByBackupVaultName=vault, ByState="FAILED")["BackupJobs"] == []


def test_copy_job_cross_region_and_account(emulator, uid):
    ddb, backup = emulator.client("dynamodb"), emulator.client("backup")
    name, vault, dr_vault = uid("ledger"), uid("vault"), uid("dr")
    make_table(ddb, name)
    backup.create_backup_vault(BackupVaultName=vault)
    source_rp = backup_table(backup, vault, name)["RecoveryPointArn"]

    other = emulator.assume(OTHER_ACCOUNT)
    dr_backup = emulator.client("backup", OTHER_REGION, credentials=other)
    dest_arn = f"arn:aws:backup:{OTHER_REGION}:{OTHER_ACCOUNT}:backup-vault:{dr_vault}"

    # The destination vault must exist in the destination account and Region.
    with pytest.raises(ClientError) as err:
        backup.start_copy_job(RecoveryPointArn=source_rp, SourceBackupVaultName=vault,
                              DestinationBackupVaultArn=dest_arn, IamRoleArn=role())
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"

    dr_backup.create_backup_vault(BackupVaultName=dr_vault)
    copy = backup.start_copy_job(RecoveryPointArn=source_rp, SourceBackupVaultName=vault,
                                 DestinationBackupVaultArn=dest_arn, IamRoleArn=role())
    job = backup.describe_copy_job(CopyJobId=copy["CopyJobId"])["CopyJob"]
    assert job["State"] == "COMPLETED"
    assert job["SourceRecoveryPointArn"] == source_rp
    assert job["DestinationBackupVaultArn"] == dest_arn
    assert job["ResourceArn"] == table_arn(name)
    copied_arn = job["DestinationRecoveryPointArn"]
    assert re.match(RP_ARN.format(region=OTHER_REGION, account=OTHER_ACCOUNT), copied_arn)

    points = dr_backup.list_recovery_points_by_backup_vault(BackupVaultName=dr_vault)["RecoveryPoints"]
    assert [p["RecoveryPointArn"] for p in points] == [copied_arn]
    copied = dr_backup.describe_recovery_point(BackupVaultName=dr_vault, RecoveryPointArn=copied_arn)
    # Copies keep the ORIGINAL resource ARN and say where they came from.
    assert copied["ResourceArn"] == table_arn(name)
    assert copied["SourceBackupVaultArn"] == f"arn:aws:backup:{REGION}:{DEFAULT_ACCOUNT}:backup-vault:{vault}"
    assert copied["Status"] == "COMPLETED"
    by_resource = dr_backup.list_recovery_points_by_resource(ResourceArn=table_arn(name))["RecoveryPoints"]
    assert [p["RecoveryPointArn"] for p in by_resource] == [copied_arn]
    # The source account cannot see the copy's vault.
    with pytest.raises(ClientError):
        backup.describe_recovery_point(BackupVaultName=dr_vault, RecoveryPointArn=copied_arn)


def test_list_recovery_points_filters_and_pages(emulator, uid):
    ddb, backup = emulator.client("dynamodb"), emulator.client("backup")
    a, b, vault = uid("a"), uid("b"), uid("vault")
    make_table(ddb, a)
    make_table(ddb, b)
    backup.create_backup_vault(BackupVaultName=vault)
    arns = [backup_table(backup, vault, a)["RecoveryPointArn"] for _ in range(5)]
    other = backup_table(backup, vault, b)["RecoveryPointArn"]
    # Age the first two: 3 and 2 days old.
    for arn, days in ((arns[0], 3), (arns[1], 2)):
        status, _ = emulator.control("POST", "recovery-points/" + urllib.parse.quote(arn, safe=""),
                                     {"age_seconds": days * 86400})
        assert status == 200

    everything = backup.list_recovery_points_by_backup_vault(BackupVaultName=vault)["RecoveryPoints"]
    assert len(everything) == 6
    dates = [p["CreationDate"] for p in everything]
    assert dates == sorted(dates, reverse=True)  # newest first

    only_a = backup.list_recovery_points_by_backup_vault(BackupVaultName=vault, ByResourceArn=table_arn(a))
    assert {p["RecoveryPointArn"] for p in only_a["RecoveryPoints"]} == set(arns)
    assert len(backup.list_recovery_points_by_backup_vault(
        BackupVaultName=vault, ByResourceType="DynamoDB")["RecoveryPoints"]) == 6
    assert backup.list_recovery_points_by_backup_vault(
        BackupVaultName=vault, ByResourceType="EBS")["RecoveryPoints"] == []

    day_ago = time.time() - 86400
    old = backup.list_recovery_points_by_backup_vault(BackupVaultName=vault, ByCreatedBefore=day_ago)
    assert [p["RecoveryPointArn"] for p in old["RecoveryPoints"]] == [arns[1], arns[0]]
    recent = backup.list_recovery_points_by_backup_vault(BackupVaultName=vault, ByCreatedAfter=day_ago)
    assert {p["RecoveryPointArn"] for p in recent["RecoveryPoints"]} == set(arns[2:]) | {other}

    seen, token, pages = [], None, 0
    while True:
        kwargs = {"BackupVaultName": vault, "MaxResults": 4}
        if token:
            kwargs["NextToken"] = token
        page = backup.list_recovery_points_by_backup_vault(**kwargs)
        pages += 1
        seen += [p["RecoveryPointArn"] for p in page["RecoveryPoints"]]
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 2 and len(seen) == 6 and len(set(seen)) == 6
    paginator = backup.get_paginator("list_recovery_points_by_resource")
    pages = list(paginator.paginate(ResourceArn=table_arn(a), PaginationConfig={"PageSize": 2}))
    assert sum(len(p["RecoveryPoints"]) for p in pages) == 5 and len(pages) == 3


def test_vault_counts_and_keeps_recovery_points(emulator, uid):
    ddb, backup = emulator.client("dynamodb"), emulator.client("backup")
    name, vault = uid("t"), uid("vault")
    make_table(ddb, name)
    backup.create_backup_vault(BackupVaultName=vault)
    rp = backup_table(backup, vault, name)["RecoveryPointArn"]
    assert backup.describe_backup_vault(BackupVaultName=vault)["NumberOfRecoveryPoints"] == 1
    listed = [v for v in backup.list_backup_vaults()["BackupVaultList"] if v["BackupVaultName"] == vault]
    assert listed[0]["NumberOfRecoveryPoints"] == 1
    with pytest.raises(ClientError) as err:
        backup.delete_backup_vault(BackupVaultName=vault)
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    backup.delete_recovery_point(BackupVaultName=vault, RecoveryPointArn=rp)
    assert backup.describe_backup_vault(BackupVaultName=vault)["NumberOfRecoveryPoints"] == 0
    backup.delete_backup_vault(BackupVaultName=vault)


def test_recovery_point_status_control(emulator, uid):
    ddb, backup = emulator.client("dynamodb"), emulator.client("backup")
    name, vault = uid("t"), uid("vault")
    make_table(ddb, name)
    backup.create_backup_vault(BackupVaultName=vault)
    rp = backup_table(backup, vault, name)["RecoveryPointArn"]
    path = "recovery-points/" + urllib.parse.quote(rp, safe="")
    status, body = emulator.control("POST", path, {"status": "PARTIAL", "status_message": "ran out of time"})
    assert status == 200 and body["Status"] == "PARTIAL"
    described = backup.describe_recovery_point(BackupVaultName=vault, RecoveryPointArn=rp)
    assert described["Status"] == "PARTIAL" and described["StatusMessage"] == "ran out of time"
    with pytest.raises(ClientError) as err:
        backup.start_restore_job(RecoveryPointArn=rp, IamRoleArn=role(),
                                 Metadata={"targetTableName": uid("r"), "encryptionType": "Default"})
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    status, body = emulator.control("GET", path)
    recorded = body["Recorded"]
    assert status == 200 and recorded["item_count"] == 3 and recorded["billing_mode"] == "PAY_PER_REQUEST"
    assert recorded["key_schema"][0] == {"AttributeName": "pk", "KeyType": "HASH"}
    assert emulator.control("POST", path, {"status": "BROKEN"})[0] == 400
    assert emulator.control("POST", path, {"age_seconds": -1})[0] == 400
    assert emulator.control("POST", "recovery-points/arn%3Anope", {"age_seconds": 1})[0] == 404
