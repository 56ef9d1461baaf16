"""What a restore's verification needs: validation results in AWS Backup, counted Scans, read capacity."""

from __future__ import annotations

import math
import time

import pytest
from botocore.exceptions import ClientError

from conftest import make_table, role, wait_restore_job


def restored_job(emulator, uid) -> str:
    ddb, backup = emulator.client("dynamodb"), emulator.client("backup")
    source, vault = uid("src"), uid("vault")
    arn = make_table(ddb, source)["TableArn"]
    backup.create_backup_vault(BackupVaultName=vault)
    rp = backup.start_backup_job(BackupVaultName=vault, ResourceArn=arn, IamRoleArn=role())["RecoveryPointArn"]
    emulator.configure(restore_base_seconds=60)
    job = backup.start_restore_job(RecoveryPointArn=rp, IamRoleArn=role(),
                                   Metadata={"targetTableName": uid("restored")})["RestoreJobId"]
    return job


def test_put_restore_validation_result(emulator, uid):
    backup = emulator.client("backup")
    job = restored_job(emulator, uid)
    with pytest.raises(ClientError) as err:
        backup.put_restore_validation_result(RestoreJobId=job, ValidationStatus="SUCCESSFUL")
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"  # still running
    assert wait_restore_job(backup, job)["Status"] == "COMPLETED"
    assert "ValidationStatus" not in backup.describe_restore_job(RestoreJobId=job)

    answer = backup.put_restore_validation_result(
        RestoreJobId=job, ValidationStatus="FAILED", ValidationStatusMessage="keys: pk=p9 not found")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    described = backup.describe_restore_job(RestoreJobId=job)
    assert described["ValidationStatus"] == "FAILED"
    assert described["ValidationStatusMessage"] == "keys: pk=p9 not found"
    listed = next(j for j in backup.list_restore_jobs()["RestoreJobs"] if j["RestoreJobId"] == job)
    assert (listed["ValidationStatus"], listed["ValidationStatusMessage"]) == ("FAILED", "keys: pk=p9 not found")

    backup.put_restore_validation_result(RestoreJobId=job, ValidationStatus="SUCCESSFUL")
    described = backup.describe_restore_job(RestoreJobId=job)
    assert described["ValidationStatus"] == "SUCCESSFUL" and "ValidationStatusMessage" not in described

    for args, code in [
        ({"RestoreJobId": job, "ValidationStatus": "PASSED"}, "InvalidParameterValueException"),
        ({"RestoreJobId": "NO-SUCH-JOB", "ValidationStatus": "FAILED"}, "ResourceNotFoundException"),
    ]:
        with pytest.raises(ClientError) as err:
            backup.put_restore_validation_result(**args)
        assert err.value.response["Error"]["Code"] == code
    # Another account does not see the job.
    with pytest.raises(ClientError) as err:
        emulator.client("backup", credentials=emulator.assume()).put_restore_validation_result(
            RestoreJobId=job, ValidationStatus="FAILED")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def provisioned_table(ddb, name: str, rcu: int, items: int, payload: int) -> None:
    ddb.create_table(TableName=name, BillingMode="PROVISIONED",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     ProvisionedThroughput={"ReadCapacityUnits": rcu, "WriteCapacityUnits": 5})
    for i in range(items):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i:04d}"}, "data": {"S": "x" * payload}})


def item_size(i: int, payload: int) -> int:
    # Attribute names plus values, as DynamoDB sizes an item.
    return len("pk") + len(f"k{i:04d}") + len("data") + payload


def test_scan_count_segments_and_consumed_capacity(emulator, uid):
    ddb = emulator.client("dynamodb")
    name, items, payload = uid("scan"), 40, 1000
    provisioned_table(ddb, name, rcu=5, items=items, payload=payload)
    total_bytes = sum(item_size(i, payload) for i in range(items))

    whole = ddb.scan(TableName=name, Select="COUNT", ReturnConsumedCapacity="TOTAL")
    assert whole["Count"] == whole["ScannedCount"] == items and "Items" not in whole
    # Eventually consistent: half a unit per started 4 KB of everything read.
    assert whole["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": math.ceil(total_bytes / 4096) * 0.5}
    strong = ddb.scan(TableName=name, Select="COUNT", ConsistentRead=True, ReturnConsumedCapacity="INDEXES")
    assert strong["ConsumedCapacity"]["CapacityUnits"] == math.ceil(total_bytes / 4096) * 1.0
    assert strong["ConsumedCapacity"]["Table"] == {"CapacityUnits": math.ceil(total_bytes / 4096) * 1.0}
    assert "ConsumedCapacity" not in ddb.scan(TableName=name, Select="COUNT")

    # A parallel scan: the segments partition the table, each charged for what it read.
    counts, units = 0, 0.0
    for segment in range(4):
        start = None
        while True:
            args = {"TableName": name, "Select": "COUNT", "Segment": segment, "TotalSegments": 4,
                    "ReturnConsumedCapacity": "TOTAL", "Limit": 7}
            if start:
                args["ExclusiveStartKey"] = start
            page = ddb.scan(**args)
            counts += page["Count"]
            read = page["ScannedCount"]
            assert page["ConsumedCapacity"]["CapacityUnits"] == (
                math.ceil(max(1, read * item_size(0, payload)) / 4096) * 0.5)
            units += page["ConsumedCapacity"]["CapacityUnits"]
            start = page.get("LastEvaluatedKey")
            if not start:
                break
    assert counts == items
    # A filter does not lower the cost: every item is read.
    filtered = ddb.scan(TableName=name, FilterExpression="pk = :k", ExpressionAttributeValues={":k": {"S": "k0001"}},
                        ReturnConsumedCapacity="TOTAL")
    assert filtered["Count"] == 1 and filtered["ScannedCount"] == items
    assert filtered["ConsumedCapacity"]["CapacityUnits"] == whole["ConsumedCapacity"]["CapacityUnits"]

    got = ddb.get_item(TableName=name, Key={"pk": {"S": "k0001"}}, ReturnConsumedCapacity="TOTAL")
    assert got["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 0.5}
    missing = ddb.get_item(TableName=name, Key={"pk": {"S": "nope"}}, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert missing["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_capacity_ledger_proves_a_bounded_scan(emulator, uid):
    """A Scan paced to half of a 5 RCU table never books more than 2.5 units in one second."""
    ddb = emulator.client("dynamodb")
    name, items, payload = uid("paced"), 8, 3000  # pages of 4 items: 12 KB, 1.5 units each
    provisioned_table(ddb, name, rcu=5, items=items, payload=payload)
    budget = 5 * 0.5
    count, start, spent, second, cost = 0, None, 0.0, None, 0.0
    while True:
        args = {"TableName": name, "Select": "COUNT", "Limit": 4, "ReturnConsumedCapacity": "TOTAL"}
        if start:
            args["ExclusiveStartKey"] = start
        if second is not None and spent + cost > budget:  # the next page would overspend this second
            time.sleep(max(0.0, second + 1 - time.time()) + 0.01)
        page = ddb.scan(**args)
        # Booked no later than the answer arrived: counting it in the answer's second is conservative.
        answered, cost = int(time.time()), page["ConsumedCapacity"]["CapacityUnits"]
        spent, second = (spent + cost, second) if answered == second else (cost, answered)
        count += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert count == items
    status, ledger = emulator.control("GET", f"capacity?table={name}")
    assert status == 200
    (entry,) = ledger["tables"]
    assert entry["provisioned_read_capacity_units"] == 5 and entry["billing_mode"] == "PROVISIONED"
    assert entry["read_units_total"] == pytest.approx(sum(s["read_units"] for s in entry["seconds"]))
    assert 0 < entry["max_read_units_per_second"] <= budget
    assert len(entry["seconds"]) >= 2


def test_enforced_read_capacity_throttles(emulator, uid):
    ddb = emulator.client("dynamodb")
    name = uid("throttle")
    provisioned_table(ddb, name, rcu=1, items=20, payload=4000)
    emulator.configure(enforce_read_capacity=True)
    throttled = None
    for _ in range(3):  # two Scans in one second; a loaded machine may split them across two
        time.sleep(max(0.0, int(time.time()) + 1 - time.time()))  # a fresh second
        ddb.scan(TableName=name, Select="COUNT")  # 10 units: far past 1 RCU
        try:
            ddb.scan(TableName=name, Select="COUNT")
        except ClientError as err:
            throttled = err.response["Error"]["Code"]
            break
    assert throttled == "ProvisionedThroughputExceededException"
    # On-demand tables are never throttled this way.
    on_demand = uid("ondemand")
    make_table(ddb, on_demand, items=3)
    for _ in range(3):
        ddb.scan(TableName=on_demand, Select="COUNT")
    status, cleared = emulator.control("DELETE", "capacity")
    assert status == 200
    assert emulator.control("GET", f"capacity?table={name}")[1] == {"tables": []}
