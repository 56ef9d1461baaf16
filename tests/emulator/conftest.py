"""Fixtures: one emulator for the whole run, started through `serve` like the Rust harness does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest
from botocore.config import Config

HERE = Path(__file__).resolve().parent
DEFAULT_ACCOUNT = "123456789012"
OTHER_ACCOUNT = "444455556666"
REGION = "us-east-1"
OTHER_REGION = "us-west-2"

# Options every test starts from: fast restores, no faults.
BASE_CONFIG = {
    "time_scale": 0.001,
    "restore_base_seconds": 600,
    "restore_bytes_per_second": 50 * 1024 * 1024,
    "throttle_rate": 0.0,
    "error_rate": 0.0,
    "fault_seed": 0,
    "fault_services": ["backup", "dynamodb", "kms"],
    "fail_tables": [],
    "max_concurrent_restores": 50,
    "execute_state_machines": False,
    "enforce_read_capacity": False,
    "copy_base_seconds": 0,
    "copy_bytes_per_second": 50 * 1024 * 1024,
    "require_vault_access_policy": False,
    "delay_operations": {},
}

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


class Emulator:
    def __init__(self, endpoint: str, process: subprocess.Popen):
        self.endpoint = endpoint
        self.process = process

    def control(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.endpoint}/_restoreplan/{path}", data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def configure(self, **options: Any) -> dict[str, Any]:
        status, body = self.control("POST", "config", options)
        assert status == 200, body
        return body

    def requests(self) -> list[dict[str, Any]]:
        return self.control("GET", "requests")[1]["requests"]

    def restores(self) -> dict[str, Any]:
        return self.control("GET", "restores")[1]

    def client(self, service: str, region: str = REGION, *, credentials: dict[str, str] | None = None,
               config: Config = NO_RETRIES) -> Any:
        creds = credentials or {"aws_access_key_id": "AKIAEMULATORTESTS", "aws_secret_access_key": "secret"}
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint, config=config, **creds)

    def assume(self, account: str = OTHER_ACCOUNT) -> dict[str, str]:
        sts = self.client("sts")
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/restoreplan-tests",
                                RoleSessionName="emulator-tests")["Credentials"]
        return {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }


@pytest.fixture(scope="session")
def emulator() -> Any:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    started = time.monotonic()
    process = subprocess.Popen(
        [str(HERE / "serve"), "--port", "0"],
        stdout=subprocess.PIPE, stderr=sys.stderr, text=True,
    )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=300)
    if not line or "listening on" not in line[0]:
        process.kill()
        pytest.exit(f"the emulator did not start: {line!r}", returncode=2)
    endpoint = line[0].strip().rsplit(" ", 1)[-1]
    print(f"\nemulator at {endpoint}, ready in {time.monotonic() - started:.2f} s", file=sys.stderr)
    yield Emulator(endpoint, process)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(autouse=True)
def base_config(emulator: Emulator) -> Any:
    emulator.configure(**BASE_CONFIG)
    yield
    emulator.configure(**BASE_CONFIG)


@pytest.fixture
def uid() -> Callable[[str], str]:
    return lambda prefix="t": f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_table(ddb: Any, name: str, *, gsis: list[str] = (), sse: dict | None = None,
               tags: list[dict] | None = None, items: int = 3, lsi: str | None = None) -> dict:
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if gsis:
        params["GlobalSecondaryIndexes"] = []
        for gsi in gsis:
            attrs.append({"AttributeName": f"{gsi}_key", "AttributeType": "S"})
            params["GlobalSecondaryIndexes"].append({
                "IndexName": gsi,
                "KeySchema": [{"AttributeName": f"{gsi}_key", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            })
    if lsi:
        attrs.append({"AttributeName": "lsi_key", "AttributeType": "S"})
        params["LocalSecondaryIndexes"] = [{
            "IndexName": lsi,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "lsi_key", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }]
    params["AttributeDefinitions"] = attrs
    if sse:
        params["SSESpecification"] = sse
    if tags:
        params["Tags"] = tags
    description = ddb.create_table(**params)["TableDescription"]
    for i in range(items):
        item = {"pk": {"S": f"p{i}"}, "sk": {"S": "s"}, "payload": {"S": "x" * 10}}
        for gsi in gsis:
            item[f"{gsi}_key"] = {"S": f"g{i}"}
        ddb.put_item(TableName=name, Item=item)
    return description


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for a condition")
        time.sleep(interval)


def wait_restore_job(backup: Any, job_id: str, timeout: float = 15.0) -> dict:
    return wait_for(lambda: (lambda j: j if j["Status"] in ("COMPLETED", "FAILED", "ABORTED") else None)(
        backup.describe_restore_job(RestoreJobId=job_id)), timeout)


def role(account: str = DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:role/service-role/AWSBackupDefaultServiceRole"


def table_arn(name: str, account: str = DEFAULT_ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def shared_key_policy(owner: str, grantee: str, actions: list[str] | str | None = None) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{owner}:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "grantee", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{grantee}:root"},
             "Action": actions or ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*",
                                   "kms:CreateGrant", "kms:DescribeKey"],
             "Resource": "*"},
        ],
    })
