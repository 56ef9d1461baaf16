"""DynamoDB's own restores: overrides, key validation, CREATING state, point-in-time recovery."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from conftest import (DEFAULT_ACCOUNT, OTHER_ACCOUNT, OTHER_REGION, REGION, make_table, table_arn, wait_for)

BOGUS_KEY = f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:key/11111111-2222-3333-4444-555555555555"


def wait_active(ddb, name: str, timeout: float = 15) -> dict:
    return wait_for(lambda: (lambda t: t if t["TableStatus"] == "ACTIVE" else None)(
        ddb.describe_table(TableName=name)["Table"]), timeout)


def native_backup(ddb, uid, **table_args) -> tuple[str, str]:
    name = uid("src")
    make_table(ddb, name, **table_args)
    arn = ddb.create_backup(TableName=name, BackupName="nightly")["BackupDetails"]["BackupArn"]
    return name, arn


def test_restore_from_backup_with_overrides(emulator, uid):
    emulator.configure(time_scale=0.002)
    ddb, kms = emulator.client("dynamodb"), emulator.client("kms")
    key = kms.create_key()["KeyMetadata"]
    source, backup_arn = native_backup(ddb, uid, gsis=["by-user", "by-day"])
    target = uid("dst")
    restored = ddb.restore_table_from_backup(
        TargetTableName=target, BackupArn=backup_arn,
        SSESpecificationOverride={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["Arn"]},
        GlobalSecondaryIndexOverride=[{
            "IndexName": "by-day",
            "KeySchema": [{"AttributeName": "by-day_key", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
    )["TableDescription"]
    assert restored["TableStatus"] == "CREATING"
    assert restored["RestoreSummary"]["RestoreInProgress"] is True
    assert restored["RestoreSummary"]["SourceBackupArn"] == backup_arn
    assert restored["RestoreSummary"]["SourceTableArn"] == table_arn(source)
    assert restored["SSEDescription"] == {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key["Arn"]}

    # What AWS refuses while the table is being created.
    arn = table_arn(target)
    busy = [
        lambda: ddb.update_table(TableName=target, DeletionProtectionEnabled=True),
        lambda: ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "b"}]),
        lambda: ddb.update_time_to_live(TableName=target, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}),
        lambda: ddb.update_continuous_backups(TableName=target, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}),
        lambda: ddb.delete_table(TableName=target),
    ]
    for call in busy:
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "ResourceInUseException"

    table = wait_active(ddb, target)
    assert table["RestoreSummary"]["RestoreInProgress"] is False
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["by-day"]
    assert table["SSEDescription"]["KMSMasterKeyArn"] == key["Arn"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert ddb.scan(TableName=target)["Count"] == 3
    # ACTIVE now: the same calls work.
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "purpose", "Value": "dr"}])
    ddb.update_continuous_backups(TableName=target, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


@pytest.mark.parametrize("override, expect", [
    (None, "source"),
    ({"Enabled": False}, None),
    ({"Enabled": True}, "managed"),
    ({"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "alias/aws/dynamodb"}, "managed"),
])
def test_restore_encryption(emulator, uid, override, expect):
    ddb, kms = emulator.client("dynamodb"), emulator.client("kms")
    key = kms.create_key()["KeyMetadata"]
    _, backup_arn = native_backup(ddb, uid, sse={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["KeyId"]})
    target = uid("enc")
    kwargs = {"SSESpecificationOverride": override} if override is not None else {}
    ddb.restore_table_from_backup(TargetTableName=target, BackupArn=backup_arn, **kwargs)
    table = wait_active(ddb, target)
    if expect is None:
        assert "SSEDescription" not in table
    elif expect == "source":
        assert table["SSEDescription"]["KMSMasterKeyArn"] == key["Arn"]
    else:
        managed = kms.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]
        assert table["SSEDescription"]["KMSMasterKeyArn"] == managed["Arn"]


def test_override_keys_are_validated(emulator, uid):
    ddb, kms = emulator.client("dynamodb"), emulator.client("kms")
    _, backup_arn = native_backup(ddb, uid)
    disabled = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    west = emulator.client("kms", OTHER_REGION).create_key()["KeyMetadata"]
    for bad in (BOGUS_KEY, disabled["Arn"], west["Arn"], "not-a-key"):
        target = uid("bad")
        with pytest.raises(ClientError) as err:
            ddb.restore_table_from_backup(
                TargetTableName=target, BackupArn=backup_arn,
                SSESpecificationOverride={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": bad})
        assert err.value.response["Error"]["Code"] == "ValidationException", bad
        with pytest.raises(ClientError):
            ddb.describe_table(TableName=target)
    with pytest.raises(ClientError) as err:
        ddb.create_table(TableName=uid("ct"), BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": BOGUS_KEY})
    assert err.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as err:
        ddb.restore_table_from_backup(TargetTableName=uid("g"), BackupArn=backup_arn, GlobalSecondaryIndexOverride=[
            {"IndexName": "nope", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "ALL"}}])
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_create_table_records_the_key_arn(emulator, uid):
    ddb, kms = emulator.client("dynamodb"), emulator.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName=f"alias/{uid('k')}", TargetKeyId=key["KeyId"])
    name = uid("t")
    make_table(ddb, name, items=0, sse={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["KeyId"]})
    assert ddb.describe_table(TableName=name)["Table"]["SSEDescription"]["KMSMasterKeyArn"] == key["Arn"]


def test_restore_errors(emulator, uid):
    ddb = emulator.client("dynamodb")
    source, backup_arn = native_backup(ddb, uid)
    with pytest.raises(ClientError) as err:
        ddb.restore_table_from_backup(TargetTableName=source, BackupArn=backup_arn)
    assert err.value.response["Error"]["Code"] == "TableAlreadyExistsException"
    with pytest.raises(ClientError) as err:
        ddb.restore_table_from_backup(TargetTableName=uid("x"), BackupArn=backup_arn + "0")
    assert err.value.response["Error"]["Code"] == "BackupNotFoundException"


def test_sizes(emulator, uid):
    ddb = emulator.client("dynamodb")
    name = uid("big")
    make_table(ddb, name, tags=[{"Key": "restoreplan-emulator:size-bytes", "Value": str(7 * 1024**3)}])
    backup = ddb.create_backup(TableName=name, BackupName="sized")["BackupDetails"]
    assert backup["BackupSizeBytes"] == 7 * 1024**3
    summary = ddb.list_backups(TableName=name)["BackupSummaries"][0]
    assert summary["BackupSizeBytes"] == 7 * 1024**3
    small = uid("small")
    make_table(ddb, small, items=2)
    assert ddb.describe_table(TableName=small)["Table"]["TableSizeBytes"] > 0


def test_table_ids_are_stable_and_new_for_a_table_created_again(emulator, uid):
    ddb = emulator.client("dynamodb")
    name = uid("ided")
    created = make_table(ddb, name, items=0)
    first = ddb.describe_table(TableName=name)["Table"]["TableId"]
    assert created["TableId"] == first == ddb.describe_table(TableName=name)["Table"]["TableId"]
    other = uid("other")
    make_table(ddb, other, items=0)
    assert ddb.describe_table(TableName=other)["Table"]["TableId"] != first
    ddb.delete_table(TableName=name)
    make_table(ddb, name, items=0)
    assert ddb.describe_table(TableName=name)["Table"]["TableId"] != first


def test_native_restore_duration_and_fail_table(emulator, uid):
    emulator.configure(time_scale=0.002)
    ddb = emulator.client("dynamodb")
    _, backup_arn = native_backup(ddb, uid)
    doomed = uid("doomed")
    emulator.configure(fail_tables=[doomed])
    ddb.restore_table_from_backup(TargetTableName=doomed, BackupArn=backup_arn)
    assert ddb.describe_table(TableName=doomed)["Table"]["TableStatus"] == "CREATING"
    time.sleep(1.5)
    # A failed restore leaves no table behind.
    with pytest.raises(ClientError) as err:
        ddb.describe_table(TableName=doomed)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    record = next(r for r in emulator.restores()["restores"] if r["target_table"] == doomed)
    assert record["status"] == "FAILED" and record["kind"] == "dynamodb-backup"
    assert record["finished"] - record["created"] == pytest.approx(1.2, abs=0.01)


def test_point_in_time_restore(emulator, uid):
    ddb, kms = emulator.client("dynamodb"), emulator.client("kms")
    source = uid("pitr")
    make_table(ddb, source, gsis=["by-user"])
    with pytest.raises(ClientError) as err:
        ddb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=uid("x"),
                                           UseLatestRestorableTime=True)
    assert err.value.response["Error"]["Code"] == "PointInTimeRecoveryUnavailableException"
    ddb.update_continuous_backups(TableName=source,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    pitr = ddb.describe_continuous_backups(TableName=source)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    with pytest.raises(ClientError) as err:
        ddb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=uid("x"),
                                           RestoreDateTime=pitr["EarliestRestorableDateTime"].timestamp() - 3600)
    assert err.value.response["Error"]["Code"] == "InvalidRestoreTimeException"

    key = kms.create_key()["KeyMetadata"]
    target = uid("pit")
    restored = ddb.restore_table_to_point_in_time(
        SourceTableName=source, TargetTableName=target, UseLatestRestorableTime=True,
        SSESpecificationOverride={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["Arn"]},
        GlobalSecondaryIndexOverride=[],
    )["TableDescription"]
    assert restored["TableStatus"] == "CREATING"
    assert restored["RestoreSummary"]["SourceTableArn"] == table_arn(source)
    table = wait_active(ddb, target)
    assert table["SSEDescription"]["KMSMasterKeyArn"] == key["Arn"]
    assert "GlobalSecondaryIndexes" not in table
    assert ddb.scan(TableName=target)["Count"] == 3
    with pytest.raises(ClientError) as err:
        ddb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=uid("x"),
                                           UseLatestRestorableTime=True, SSESpecificationOverride={
                                               "Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": BOGUS_KEY})
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_point_in_time_restore_across_regions_not_accounts(emulator, uid):
    ddb = emulator.client("dynamodb")
    west = emulator.client("dynamodb", OTHER_REGION)
    source = uid("pitr")
    make_table(ddb, source)
    ddb.update_continuous_backups(TableName=source,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    target = uid("west")
    west.restore_table_to_point_in_time(SourceTableArn=table_arn(source), TargetTableName=target,
                                        UseLatestRestorableTime=True)
    table = wait_active(west, target)
    assert table["TableArn"] == table_arn(target, region=OTHER_REGION)
    assert west.scan(TableName=target)["Count"] == 3
    other = emulator.client("dynamodb", credentials=emulator.assume(OTHER_ACCOUNT))
    with pytest.raises(ClientError) as err:
        other.restore_table_to_point_in_time(SourceTableArn=table_arn(source), TargetTableName=uid("x"),
                                             UseLatestRestorableTime=True)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    record = next(r for r in emulator.restores()["restores"] if r["target_table"] == target)
    assert record["kind"] == "dynamodb-pitr" and record["region"] == OTHER_REGION


def test_tag_resource_overwrites_the_value_of_an_existing_key(emulator, uid):
    ddb = emulator.client("dynamodb")
    name = uid("tagged")
    arn = make_table(ddb, name, tags=[{"Key": "team", "Value": "payments"}])["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "ledger"}, {"Key": "env", "Value": "dr"}])
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "rehearsal"}])
    tags = ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "rehearsal"), ("team", "ledger")]


def test_item_count_tag_models_a_count_aws_has_not_refreshed(emulator, uid):
    ddb = emulator.client("dynamodb")
    name = uid("stale")
    make_table(ddb, name, items=4, tags=[{"Key": "restoreplan-emulator:item-count", "Value": "5"}])
    assert ddb.describe_table(TableName=name)["Table"]["ItemCount"] == 5
    assert ddb.scan(TableName=name, Select="COUNT")["Count"] == 4
    backup = ddb.create_backup(TableName=name, BackupName="stale")["BackupDetails"]["BackupArn"]
    source = ddb.describe_backup(BackupArn=backup)["BackupDescription"]["SourceTableDetails"]
    assert source["ItemCount"] == 5
    # The restored table does not carry the tag: its count is its items'.
    restored = uid("restored")
    ddb.restore_table_from_backup(TargetTableName=restored, BackupArn=backup)
    assert ddb.describe_table(TableName=restored)["Table"]["ItemCount"] == 4
    untagged = uid("plain")
    make_table(ddb, untagged, items=3)
    assert ddb.describe_table(TableName=untagged)["Table"]["ItemCount"] == 3
