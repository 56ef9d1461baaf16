"""Capacity and class of tables as AWS handles them: restore overrides and UpdateTable."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import make_table, wait_for


def _active(ddb, name):
    return wait_for(lambda: (lambda t: t if t["TableStatus"] == "ACTIVE" else None)(
        ddb.describe_table(TableName=name)["Table"]))


def _gsi(table, name):
    return next(i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == name)


def _code(err):
    return err.value.response["Error"]["Code"]


def _gsi_override(names, throughput=None, on_demand=None):
    out = []
    for name in names:
        entry = {"IndexName": name, "KeySchema": [{"AttributeName": f"{name}_key", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "ALL"}}
        if throughput:
            entry["ProvisionedThroughput"] = throughput
        if on_demand:
            entry["OnDemandThroughput"] = on_demand
        out.append(entry)
    return out


def test_describe_reports_class_and_on_demand_capacity(emulator, uid):
    ddb = emulator.client("dynamodb")
    name = uid("orders")
    make_table(ddb, name, gsis=["by-user"])
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["TableClassSummary"]["TableClass"] == "STANDARD"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert "OnDemandThroughput" not in table


def test_restore_from_backup_honours_capacity_overrides(emulator, uid):
    ddb = emulator.client("dynamodb")
    name = uid("orders")
    make_table(ddb, name, gsis=["by-user", "by-day"])
    backup = ddb.create_backup(TableName=name, BackupName="nightly")["BackupDetails"]["BackupArn"]
    owned = {"Enabled": False}
    # A provisioned restore of an on-demand table needs its throughput, and every GSI override entry its own.
    with pytest.raises(ClientError) as err:
        ddb.restore_table_from_backup(TargetTableName=uid("x"), BackupArn=backup, SSESpecificationOverride=owned,
                                      BillingModeOverride="PROVISIONED")
    assert _code(err) == "ValidationException" and "ProvisionedThroughputOverride" in str(err.value)
    with pytest.raises(ClientError) as err:
        ddb.restore_table_from_backup(
            TargetTableName=uid("x"), BackupArn=backup, SSESpecificationOverride=owned,
            BillingModeOverride="PROVISIONED",
            ProvisionedThroughputOverride={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
            GlobalSecondaryIndexOverride=_gsi_override(["by-user", "by-day"]))
    assert _code(err) == "ValidationException" and "ProvisionedThroughput must be specified" in str(err.value)
    assert uid("x") not in ddb.list_tables()["TableNames"]

    target = uid("provisioned")
    ddb.restore_table_from_backup(
        TargetTableName=target, BackupArn=backup, SSESpecificationOverride=owned,
        BillingModeOverride="PROVISIONED",
        ProvisionedThroughputOverride={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
        GlobalSecondaryIndexOverride=_gsi_override(
            ["by-user", "by-day"], throughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 1}))
    table = _active(ddb, target)
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert (table["ProvisionedThroughput"]["ReadCapacityUnits"], table["ProvisionedThroughput"]["WriteCapacityUnits"]) == (7, 3)
    assert _gsi(table, "by-day")["ProvisionedThroughput"]["ReadCapacityUnits"] == 2

    target = uid("capped")
    ddb.restore_table_from_backup(
        TargetTableName=target, BackupArn=backup, SSESpecificationOverride=owned,
        BillingModeOverride="PAY_PER_REQUEST",
        OnDemandThroughputOverride={"MaxReadRequestUnits": 4000, "MaxWriteRequestUnits": 1000},
        GlobalSecondaryIndexOverride=_gsi_override(["by-user"], on_demand={"MaxReadRequestUnits": 500}))
    table = _active(ddb, target)
    assert table["OnDemandThroughput"] == {"MaxReadRequestUnits": 4000, "MaxWriteRequestUnits": 1000}
    assert _gsi(table, "by-user")["OnDemandThroughput"] == {"MaxReadRequestUnits": 500}
    assert table["TableClassSummary"]["TableClass"] == "STANDARD"
    with pytest.raises(ClientError) as err:
        ddb.restore_table_from_backup(
            TargetTableName=uid("y"), BackupArn=backup, SSESpecificationOverride=owned,
            BillingModeOverride="PAY_PER_REQUEST",
            ProvisionedThroughputOverride={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert _code(err) == "ValidationException"


def test_update_table_changes_class_billing_mode_and_capacity(emulator, uid):
    ddb = emulator.client("dynamodb")
    name = uid("orders")
    make_table(ddb, name, gsis=["by-user"])
    ddb.update_table(TableName=name, TableClass="STANDARD_INFREQUENT_ACCESS")
    assert ddb.describe_table(TableName=name)["Table"]["TableClassSummary"]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    with pytest.raises(ClientError) as err:
        ddb.update_table(TableName=name, TableClass="STANDARD_INFREQUENT_ACCESS")
    assert _code(err) == "ValidationException"

    ddb.update_table(TableName=name, OnDemandThroughput={"MaxReadRequestUnits": 100})
    assert ddb.describe_table(TableName=name)["Table"]["OnDemandThroughput"] == {"MaxReadRequestUnits": 100}
    with pytest.raises(ClientError) as err:
        ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert _code(err) == "ValidationException"

    # Switching to provisioned needs the table's and every GSI's throughput.
    with pytest.raises(ClientError) as err:
        ddb.update_table(TableName=name, BillingMode="PROVISIONED",
                         ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    assert _code(err) == "ValidationException" and "by-user" in str(err.value)
    ddb.update_table(
        TableName=name, BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 4},
        GlobalSecondaryIndexUpdates=[{"Update": {
            "IndexName": "by-user", "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 2}}}])
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    assert _gsi(table, "by-user")["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert "OnDemandThroughput" not in table
    # A second switch within 24 hours is refused.
    with pytest.raises(ClientError) as err:
        ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    assert _code(err) == "LimitExceededException"
    # Other settings still go through moto.
    ddb.update_table(TableName=name, DeletionProtectionEnabled=True)
    assert ddb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is True


def test_describe_backup_holds_the_tables_capacity_at_backup_time(emulator, uid):
    ddb = emulator.client("dynamodb")
    name = uid("orders")
    make_table(ddb, name, gsis=["by-user"])
    ddb.update_table(
        TableName=name, BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 12, "WriteCapacityUnits": 6},
        GlobalSecondaryIndexUpdates=[{"Update": {
            "IndexName": "by-user",
            "ProvisionedThroughput": {"ReadCapacityUnits": 4, "WriteCapacityUnits": 2}}}])
    backup = ddb.create_backup(TableName=name, BackupName="nightly")["BackupDetails"]["BackupArn"]
    # Later changes, and the table's deletion, do not change what the backup holds.
    ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 30, "WriteCapacityUnits": 30},
                     GlobalSecondaryIndexUpdates=[{"Update": {
                         "IndexName": "by-user",
                         "ProvisionedThroughput": {"ReadCapacityUnits": 30, "WriteCapacityUnits": 30}}}])
    ddb.delete_table(TableName=name)
    d = ddb.describe_backup(BackupArn=backup)["BackupDescription"]
    source = d["SourceTableDetails"]
    assert source["TableName"] == name and source["BillingMode"] == "PROVISIONED"
    assert source["ProvisionedThroughput"] == {"ReadCapacityUnits": 12, "WriteCapacityUnits": 6}
    assert source["ItemCount"] == 3 and "OnDemandThroughput" not in source
    (gsi,) = d["SourceTableFeatureDetails"]["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "by-user" and gsi["Projection"] == {"ProjectionType": "ALL"}
    assert gsi["ProvisionedThroughput"] == {"ReadCapacityUnits": 4, "WriteCapacityUnits": 2}

    # An on-demand table's backup says so, with its maximum.
    capped = uid("capped")
    make_table(ddb, capped)
    ddb.update_table(TableName=capped, OnDemandThroughput={"MaxReadRequestUnits": 900})
    backup = ddb.create_backup(TableName=capped, BackupName="nightly")["BackupDetails"]["BackupArn"]
    source = ddb.describe_backup(BackupArn=backup)["BackupDescription"]["SourceTableDetails"]
    assert source["BillingMode"] == "PAY_PER_REQUEST"
    assert source["OnDemandThroughput"] == {"MaxReadRequestUnits": 900}
