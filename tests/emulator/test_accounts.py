"""AssumeRole credentials act in the role's account for every extension operation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import OTHER_ACCOUNT, OTHER_REGION, REGION, make_table, role, table_arn, wait_restore_job


def test_assumed_role_account_everywhere(emulator, uid):
    creds = emulator.assume(OTHER_ACCOUNT)
    assert emulator.client("sts", credentials=creds).get_caller_identity()["Account"] == OTHER_ACCOUNT
    ddb, backup, kms = (emulator.client(s, credentials=creds) for s in ("dynamodb", "backup", "kms"))
    name, vault, target = uid("src"), uid("vault"), uid("dst")

    make_table(ddb, name)
    assert ddb.describe_table(TableName=name)["Table"]["TableArn"] == table_arn(name, OTHER_ACCOUNT)
    key = kms.create_key()["KeyMetadata"]
    assert key["AWSAccountId"] == OTHER_ACCOUNT
    vault_arn = backup.create_backup_vault(BackupVaultName=vault)["BackupVaultArn"]
    assert f":{OTHER_ACCOUNT}:" in vault_arn
    job = backup.start_backup_job(BackupVaultName=vault, ResourceArn=table_arn(name, OTHER_ACCOUNT),
                                  IamRoleArn=role(OTHER_ACCOUNT))
    assert backup.describe_backup_job(BackupJobId=job["BackupJobId"])["AccountId"] == OTHER_ACCOUNT
    rp = job["RecoveryPointArn"]
    assert rp.startswith(f"arn:aws:backup:{REGION}:{OTHER_ACCOUNT}:recovery-point:")
    restore = backup.start_restore_job(RecoveryPointArn=rp, IamRoleArn=role(OTHER_ACCOUNT),
                                       Metadata={"targetTableName": target, "encryptionType": "KMS",
                                                 "kmsMasterKeyArn": key["Arn"]})["RestoreJobId"]
    done = wait_restore_job(backup, restore)
    assert done["Status"] == "COMPLETED" and done["AccountId"] == OTHER_ACCOUNT
    assert done["CreatedResourceArn"] == table_arn(target, OTHER_ACCOUNT)
    assert ddb.describe_table(TableName=target)["Table"]["SSEDescription"]["KMSMasterKeyArn"] == key["Arn"]

    # The default account sees none of it.
    home_backup, home_ddb = emulator.client("backup"), emulator.client("dynamodb")
    for call in (
        lambda: home_backup.describe_backup_vault(BackupVaultName=vault),
        lambda: home_backup.describe_restore_job(RestoreJobId=restore),
        lambda: home_backup.describe_backup_job(BackupJobId=job["BackupJobId"]),
        lambda: home_ddb.describe_table(TableName=target),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert home_backup.list_recovery_points_by_resource(ResourceArn=table_arn(name, OTHER_ACCOUNT))["RecoveryPoints"] == []
    entries = [e for e in emulator.requests() if e["operation"] == "StartRestoreJob" and e["target_table"] == target]
    assert entries[0]["account"] == OTHER_ACCOUNT
    record = next(r for r in emulator.restores()["restores"] if r["id"] == restore)
    assert record["account"] == OTHER_ACCOUNT


def test_moto_account_header(emulator, uid):
    backup = emulator.client("backup")
    vault = uid("vault")

    def add_header(request, **_):
        request.headers["x-moto-account-id"] = "777788889999"

    backup.meta.events.register("before-send.backup.*", add_header)
    arn = backup.create_backup_vault(BackupVaultName=vault)["BackupVaultArn"]
    assert ":777788889999:" in arn
    assert backup.list_restore_jobs()["RestoreJobs"] == []
    log = [e for e in emulator.requests() if e["operation"] == "CreateBackupVault"]
    assert log[-1]["account"] == "777788889999"


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_aws_cli_with_assumed_role(emulator, uid):
    """The AWS CLI against the emulator, with credentials from `aws sts assume-role`."""
    env = {"PATH": os.environ["PATH"], "AWS_ACCESS_KEY_ID": "AKIAEMULATORCLI",
           "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": OTHER_REGION, "HOME": "/nonexistent"}

    def aws(*args: str, creds: dict | None = None) -> dict:
        run_env = dict(env, **(creds or {}))
        out = subprocess.run(["aws", "--endpoint-url", emulator.endpoint, "--output", "json", *args],
                             env=run_env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout) if out.stdout.strip() else {}

    assumed = aws("sts", "assume-role", "--role-arn", f"arn:aws:iam::{OTHER_ACCOUNT}:role/x",
                  "--role-session-name", "cli")["Credentials"]
    creds = {"AWS_ACCESS_KEY_ID": assumed["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": assumed["SecretAccessKey"],
             "AWS_SESSION_TOKEN": assumed["SessionToken"]}
    assert aws("sts", "get-caller-identity", creds=creds)["Account"] == OTHER_ACCOUNT
    vault, table = uid("cli-vault"), uid("cli-table")
    aws("backup", "create-backup-vault", "--backup-vault-name", vault, creds=creds)
    aws("dynamodb", "create-table", "--table-name", table, "--billing-mode", "PAY_PER_REQUEST",
        "--key-schema", "AttributeName=pk,KeyType=HASH", "--attribute-definitions", "AttributeName=pk,AttributeType=S",
        creds=creds)
    arn = f"arn:aws:dynamodb:{OTHER_REGION}:{OTHER_ACCOUNT}:table/{table}"
    job = aws("backup", "start-backup-job", "--backup-vault-name", vault, "--resource-arn", arn,
              "--iam-role-arn", role(OTHER_ACCOUNT), creds=creds)
    listed = aws("backup", "list-recovery-points-by-backup-vault", "--backup-vault-name", vault,
                 "--by-resource-arn", arn, "--by-created-after", "2020-01-01T00:00:00Z", creds=creds)
    assert [p["RecoveryPointArn"] for p in listed["RecoveryPoints"]] == [job["RecoveryPointArn"]]
    by_resource = aws("backup", "list-recovery-points-by-resource", "--resource-arn", arn, creds=creds)
    assert len(by_resource["RecoveryPoints"]) == 1
    restore = aws("backup", "start-restore-job", "--recovery-point-arn", job["RecoveryPointArn"],
                  "--iam-role-arn", role(OTHER_ACCOUNT), "--metadata",
                  f"targetTableName={table}-dr,encryptionType=Default", creds=creds)
    described = aws("backup", "describe-restore-job", "--restore-job-id", restore["RestoreJobId"], creds=creds)
    assert described["AccountId"] == OTHER_ACCOUNT
    managed = aws("kms", "describe-key", "--key-id", "alias/aws/dynamodb", creds=creds)["KeyMetadata"]
    assert managed["KeyManager"] == "AWS" and managed["AWSAccountId"] == OTHER_ACCOUNT
    # Errors reach the CLI with their codes.
    failed = subprocess.run(["aws", "--endpoint-url", emulator.endpoint, "backup", "describe-restore-job",
                             "--restore-job-id", "nope"], env=dict(env, **creds), capture_output=True, text=True)
    assert failed.returncode != 0 and "ResourceNotFoundException" in failed.stderr
