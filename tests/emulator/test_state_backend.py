"""What a remote run-state backend needs: S3 and DynamoDB conditional writes, bucket settings."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import OTHER_ACCOUNT


def code(err: pytest.ExceptionInfo) -> str:
    return err.value.response["Error"]["Code"]


def test_s3_conditional_put_object(emulator, uid):
    s3 = emulator.client("s3")
    bucket = uid("state")
    s3.create_bucket(Bucket=bucket)
    first = s3.put_object(Bucket=bucket, Key="runs/r1/lock", Body=b"holder=a", IfNoneMatch="*")
    # Create-only: a second writer loses with 412 PreconditionFailed.
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="runs/r1/lock", Body=b"holder=b", IfNoneMatch="*")
    assert code(err) == "PreconditionFailed"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    # Compare-and-swap on the ETag.
    second = s3.put_object(Bucket=bucket, Key="runs/r1/lock", Body=b"holder=a;beat=2", IfMatch=first["ETag"])
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="runs/r1/lock", Body=b"holder=b", IfMatch=first["ETag"])
    assert code(err) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="runs/r1/lock")["Body"].read() == b"holder=a;beat=2"
    assert s3.head_object(Bucket=bucket, Key="runs/r1/lock")["ETag"] == second["ETag"]
    # If-Match on a key that does not exist: 404 NoSuchKey, as AWS answers.
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="runs/r2/lock", Body=b"x", IfMatch=first["ETag"])
    assert code(err) == "NoSuchKey"
    # A conditional delete of a held lock.
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=bucket, Key="runs/r1/lock", IfMatch=first["ETag"])
    assert code(err) == "PreconditionFailed"
    s3.delete_object(Bucket=bucket, Key="runs/r1/lock", IfMatch=second["ETag"])
    s3.put_object(Bucket=bucket, Key="runs/r1/lock", Body=b"holder=c", IfNoneMatch="*")


def test_s3_bucket_settings(emulator, uid):
    s3 = emulator.client("s3", credentials=emulator.assume(OTHER_ACCOUNT))
    bucket = uid("state")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]})
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    block = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=block)
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == block
    # Versioning keeps every journal write.
    v1 = s3.put_object(Bucket=bucket, Key="journal", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="journal", Body=b"2")["VersionId"]
    versions = s3.list_object_versions(Bucket=bucket, Prefix="journal")["Versions"]
    assert {v["VersionId"] for v in versions} == {v1, v2}
    assert s3.get_object(Bucket=bucket, Key="journal", VersionId=v1)["Body"].read() == b"1"


def test_dynamodb_conditional_writes(emulator, uid):
    ddb = emulator.client("dynamodb")
    name = uid("locks")
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    lock = {"pk": {"S": "run#r1"}, "sk": {"S": "lock"}}
    ddb.put_item(TableName=name, Item={**lock, "holder": {"S": "a"}, "lease": {"N": "100"}},
                 ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=name, Item={**lock, "holder": {"S": "b"}, "lease": {"N": "200"}},
                     ConditionExpression="attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert code(err) == "ConditionalCheckFailedException"
    assert err.value.response["Item"]["holder"] == {"S": "a"}
    # A takeover only when the lease has expired; a heartbeat only by the holder.
    with pytest.raises(ClientError) as err:
        ddb.update_item(TableName=name, Key=lock, UpdateExpression="SET holder = :b, lease = :l",
                        ConditionExpression="lease < :now",
                        ExpressionAttributeValues={":b": {"S": "b"}, ":l": {"N": "300"}, ":now": {"N": "50"}})
    assert code(err) == "ConditionalCheckFailedException"
    ddb.update_item(TableName=name, Key=lock, UpdateExpression="SET lease = :l",
                    ConditionExpression="holder = :me", ExpressionAttributeValues={":l": {"N": "150"}, ":me": {"S": "a"}})
    taken = ddb.update_item(TableName=name, Key=lock, UpdateExpression="SET holder = :b, lease = :l",
                            ConditionExpression="lease < :now", ReturnValues="ALL_NEW",
                            ExpressionAttributeValues={":b": {"S": "b"}, ":l": {"N": "400"}, ":now": {"N": "160"}})
    assert taken["Attributes"]["holder"] == {"S": "b"}
    # Journal records: append-only by sequence number.
    record = {"pk": {"S": "run#r1"}, "sk": {"S": "seq#0001"}, "intent": {"S": "StartRestoreJob"}}
    ddb.put_item(TableName=name, Item=record, ConditionExpression="attribute_not_exists(sk)")
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=name, Item=record, ConditionExpression="attribute_not_exists(sk)")
    assert code(err) == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": {**record, "sk": {"S": "seq#0002"}},
                     "ConditionExpression": "attribute_not_exists(sk)"}},
            {"ConditionCheck": {"TableName": name, "Key": lock, "ConditionExpression": "holder = :me",
                                "ExpressionAttributeValues": {":me": {"S": "a"}}}},
        ])
    assert code(err) == "TransactionCanceledException"
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "run#r1"}, "sk": {"S": "seq#0002"}})
    status = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert status["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_racing_create_only_writes_have_one_winner(emulator, uid):
    import concurrent.futures

    s3, ddb = emulator.client("s3"), emulator.client("dynamodb")
    bucket, table = uid("race"), uid("race")
    s3.create_bucket(Bucket=bucket)
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])

    def s3_writer(i: int) -> bool:
        try:
            emulator.client("s3").put_object(Bucket=bucket, Key="lock", Body=str(i).encode(), IfNoneMatch="*")
            return True
        except ClientError as err:
            assert code_of(err) == "PreconditionFailed"
            return False

    def ddb_writer(i: int) -> bool:
        try:
            emulator.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "lock"}, "w": {"N": str(i)}},
                                                 ConditionExpression="attribute_not_exists(pk)")
            return True
        except ClientError as err:
            assert code_of(err) == "ConditionalCheckFailedException"
            return False

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(s3_writer, range(8))) == 1
        assert sum(pool.map(ddb_writer, range(8))) == 1


def code_of(err: ClientError) -> str:
    return err.response["Error"]["Code"]
