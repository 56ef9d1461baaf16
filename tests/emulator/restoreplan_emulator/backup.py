"""AWS Backup's jobs and recovery points for DynamoDB tables (moto has only vaults and plans).

Backup jobs and copy jobs finish at once: StartBackupJob snapshots the table
(schema, indexes, billing mode, items, size, encryption key) into a recovery
point that is COMPLETED when the call returns, and StartCopyJob puts a copy
of it, with the ORIGINAL resource ARN and a new recovery point ARN, into a
vault of another Region and/or account. Restore jobs take modeled time (see
restores.py) and create the table when they complete.

Recovery points live in moto's vaults: a vault's NumberOfRecoveryPoints
counts them and a vault holding any cannot be deleted.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from moto.backup.models import Vault, backup_backends
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Backup as DynamoSnapshot

from . import dynamodb_fixes, kms_fixes
from .restores import Restore, RestoreEngine
from .wire import AwsError, AwsRequest, Response, error_response, json_response

_TABLE_ARN = re.compile(r"^arn:aws[\w-]*:dynamodb:([a-z0-9-]+):(\d{12}):table/([^/]+)$")
_VAULT_ARN = re.compile(r"^arn:aws[\w-]*:backup:([a-z0-9-]+):(\d{12}):backup-vault:([^/:]+)$")
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/.+$")
_KEY_OR_ALIAS_ARN = re.compile(r"^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/.+$")
_NOT_APPLICABLE = {"", "not applicable", "null", "none"}

RECOVERY_POINT_STATUSES = {"COMPLETED", "PARTIAL", "DELETING", "EXPIRED", "AVAILABLE", "STOPPED", "CREATING"}


def vault_arn(account: str, region: str, name: str) -> str:
    return f"arn:aws:backup:{region}:{account}:backup-vault:{name}"


def _vault(account: str, region: str, name: str) -> Vault:
    vault = backup_backends[account][region].vaults.get(name)
    if vault is None:
        raise AwsError("ResourceNotFoundException", f"Backup vault {name} does not exist in account {account}, Region {region}")
    return vault


@dataclass
class RecoveryPoint:
    arn: str
    account: str
    region: str
    vault_name: str
    resource_arn: str
    snapshot: DynamoSnapshot  # shared, never modified, by copies of this recovery point
    size_bytes: int
    encryption_key_arn: str | None
    iam_role_arn: str | None
    creation: float
    completion: float
    status: str = "COMPLETED"
    status_message: str | None = None
    source_vault_arn: str | None = None
    lifecycle: dict[str, Any] | None = None
    last_restore: float | None = None

    @property
    def vault_arn(self) -> str:
        return vault_arn(self.account, self.region, self.vault_name)

    @property
    def resource_name(self) -> str:
        return self.resource_arn.split("/")[-1]

    def describe(self) -> dict[str, Any]:
        out = {
            "RecoveryPointArn": self.arn,
            "BackupVaultName": self.vault_name,
            "BackupVaultArn": self.vault_arn,
            "SourceBackupVaultArn": self.source_vault_arn,
            "ResourceArn": self.resource_arn,
            "ResourceType": "DynamoDB",
            "ResourceName": self.resource_name,
            "IamRoleArn": self.iam_role_arn,
            "Status": self.status,
            "StatusMessage": self.status_message,
            "CreationDate": self.creation,
            "InitiationDate": self.creation,
            "CompletionDate": self.completion if self.status == "COMPLETED" else None,
            "BackupSizeInBytes": self.size_bytes,
            "Lifecycle": self.lifecycle,
            # DynamoDB encrypts every table; EncryptionKeyArn is the table's KMS
            # key, absent when the table used the AWS owned key.
            "EncryptionKeyArn": self.encryption_key_arn,
            "IsEncrypted": True,
            "StorageClass": "WARM",
            "LastRestoreTime": self.last_restore,
            "IsParent": False,
            "VaultType": "BACKUP_VAULT",
        }
        return _compact(out)

    def by_resource(self) -> dict[str, Any]:
        return _compact({
            "RecoveryPointArn": self.arn,
            "CreationDate": self.creation,
            "Status": self.status,
            "StatusMessage": self.status_message,
            "EncryptionKeyArn": self.encryption_key_arn,
            "BackupSizeBytes": self.size_bytes,
            "BackupVaultName": self.vault_name,
            "IsParent": False,
            "ResourceName": self.resource_name,
            "VaultType": "BACKUP_VAULT",
        })

    def recorded(self) -> dict[str, Any]:
        """What the emulator recorded of the table, for the test-only control endpoint."""
        table = self.snapshot.table
        return {
            "table_name": table.name,
            "key_schema": table.schema,
            "attribute_definitions": table.attr,
            "global_secondary_indexes": [i.describe() for i in table.global_indexes],
            "local_secondary_indexes": [i.describe() for i in table.indexes],
            "billing_mode": table.billing_mode,
            "item_count": len(table),
            "size_bytes": self.size_bytes,
            "encryption_key_arn": self.encryption_key_arn,
        }

    def restore_metadata(self) -> dict[str, str]:
        table = self.snapshot.table
        indices = [
            {"indexName": i.name, "indexType": "GSI", "keySchema": i.schema, "projection": i.projection}
            for i in table.global_indexes
        ] + [
            {"indexName": i.name, "indexType": "LSI", "keySchema": i.schema, "projection": i.projection}
            for i in table.indexes
        ]
        return {
            "originalTableName": table.name,
            "backupName": self.arn.split(":")[-1],
            "backupArn": self.arn,
            "primaryPartitionKey": table.hash_key_attr,
            "sortKey": table.range_key_attr or "-",
            "encryptionType": "KMS" if self.encryption_key_arn else "Default",
            "kmsMasterKeyArn": self.encryption_key_arn or "Not Applicable",
            "autoScaling": "Disabled",
            "stream": "Disabled",
            "secondaryIndices": json.dumps(indices),
        }


@dataclass
class BackupJob:
    id: str
    account: str
    region: str
    vault_name: str
    resource_arn: str
    iam_role_arn: str
    creation: float
    state: str
    recovery_point: RecoveryPoint | None
    status_message: str | None = None

    def describe(self) -> dict[str, Any]:
        rp = self.recovery_point
        return _compact({
            "AccountId": self.account,
            "BackupJobId": self.id,
            "BackupVaultName": self.vault_name,
            "BackupVaultArn": vault_arn(self.account, self.region, self.vault_name),
            "VaultType": "BACKUP_VAULT",
            "RecoveryPointArn": rp.arn if rp else None,
            "EncryptionKeyArn": rp.encryption_key_arn if rp else None,
            "IsEncrypted": True if rp else None,
            "ResourceArn": self.resource_arn,
            "ResourceName": self.resource_arn.split("/")[-1],
            "ResourceType": "DynamoDB",
            "CreationDate": self.creation,
            "CompletionDate": self.creation,
            "State": self.state,
            "StatusMessage": self.status_message,
            "PercentDone": "100.0" if self.state == "COMPLETED" else "0.0",
            "BackupSizeInBytes": rp.size_bytes if rp else 0,
            "BytesTransferred": rp.size_bytes if rp else 0,
            "IamRoleArn": self.iam_role_arn,
            "StartBy": self.creation + 8 * 3600,
            "BackupType": "FULL",
            "IsParent": False,
            "InitiationDate": self.creation,
        })


@dataclass
class CopyJob:
    id: str
    account: str
    region: str
    source: RecoveryPoint
    destination: RecoveryPoint
    iam_role_arn: str
    creation: float

    def describe(self) -> dict[str, Any]:
        return _compact({
            "AccountId": self.account,
            "CopyJobId": self.id,
            "SourceBackupVaultArn": self.source.vault_arn,
            "SourceRecoveryPointArn": self.source.arn,
            "DestinationBackupVaultArn": self.destination.vault_arn,
            "DestinationVaultType": "BACKUP_VAULT",
            "DestinationRecoveryPointArn": self.destination.arn,
            "ResourceArn": self.source.resource_arn,
            "ResourceName": self.source.resource_name,
            "ResourceType": "DynamoDB",
            "CreationDate": self.creation,
            "CompletionDate": self.creation,
            "State": "COMPLETED",
            "BackupSizeInBytes": self.source.size_bytes,
            "IamRoleArn": self.iam_role_arn,
            "IsParent": False,
        })


@dataclass
class RestoreJob:
    recovery_point: RecoveryPoint
    iam_role_arn: str
    sse: dict[str, Any] | None = None  # None: the AWS owned key
    gsi_names: list[str] | None = None  # None: all
    created_resource_arn: str | None = None
    # The engine's record of it, set as soon as the engine has started it.
    restore: Restore | None = None

    @property
    def id(self) -> str:
        assert self.restore is not None
        return self.restore.id

    def describe(self, now: float) -> dict[str, Any]:
        r, rp = self.restore, self.recovery_point
        assert r is not None
        return _compact({
            "AccountId": r.account,
            "RestoreJobId": r.id,
            "RecoveryPointArn": rp.arn,
            "SourceResourceArn": rp.resource_arn,
            "BackupVaultArn": rp.vault_arn,
            "CreationDate": r.created,
            "CompletionDate": r.finished,
            "Status": r.status,
            "StatusMessage": r.status_message,
            "PercentDone": r.percent_done(now),
            "BackupSizeInBytes": r.size_bytes,
            "IamRoleArn": self.iam_role_arn,
            "ExpectedCompletionTimeMinutes": r.expected_minutes,
            "CreatedResourceArn": self.created_resource_arn,
            "ResourceType": "DynamoDB",
            "RecoveryPointCreationDate": rp.creation,
            "IsParent": False,
        })


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _paginate(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    limit = params.get("MaxResults") or 1000
    if not 1 <= limit <= 1000:
        raise AwsError("InvalidParameterValueException", f"MaxResults must be between 1 and 1000, not {limit}")
    start = 0
    if params.get("NextToken"):
        try:
            start = int(base64.urlsafe_b64decode(params["NextToken"].encode()).decode().split(":")[1])
        except (ValueError, IndexError, UnicodeDecodeError):
            raise AwsError("InvalidParameterValueException", "NextToken is not valid")
    page = items[start : start + limit]
    token = None
    if start + limit < len(items):
        token = base64.urlsafe_b64encode(f"offset:{start + limit}".encode()).decode()
    return page, token


def _in_window(value: float | None, params: dict[str, Any], after: str, before: str) -> bool:
    if params.get(after) is not None and (value is None or value < params[after]):
        return False
    if params.get(before) is not None and (value is None or value > params[before]):
        return False
    return True


class BackupStore:
    """All AWS Backup state the emulator adds to moto, for every account and Region."""

    def __init__(self, engine: RestoreEngine):
        self.engine = engine
        self.reset()

    def reset(self) -> None:
        self.recovery_points: dict[str, RecoveryPoint] = {}
        self.backup_jobs: dict[str, BackupJob] = {}
        self.copy_jobs: dict[str, CopyJob] = {}
        self.restore_jobs: dict[str, RestoreJob] = {}
        self.idempotency: dict[tuple[str, str, str, str], str] = {}

    # -- recovery points ---------------------------------------------------

    def points_in_vault(self, account: str, region: str, vault_name: str) -> list[RecoveryPoint]:
        points = [
            rp for rp in self.recovery_points.values()
            if rp.account == account and rp.region == region and rp.vault_name == vault_name
        ]
        return sorted(points, key=lambda rp: (-rp.creation, rp.arn))

    def point(self, req: AwsRequest, arn: str, vault_name: str | None = None) -> RecoveryPoint:
        rp = self.recovery_points.get(arn)
        if rp is None or rp.account != req.account or rp.region != req.region or (
            vault_name is not None and rp.vault_name != vault_name
        ):
            where = f"backup vault {vault_name}" if vault_name else f"account {req.account}, Region {req.region}"
            raise AwsError("ResourceNotFoundException", f"Recovery point {arn} not found in {where}")
        return rp

    def _new_point(self, account: str, region: str, vault_name: str, **fields: Any) -> RecoveryPoint:
        arn = f"arn:aws:backup:{region}:{account}:recovery-point:{uuid.uuid4()}"
        rp = RecoveryPoint(arn=arn, account=account, region=region, vault_name=vault_name, **fields)
        self.recovery_points[arn] = rp
        return rp

    def _idempotent(self, req: AwsRequest, token: Any, existing: dict[str, Any]) -> str | None:
        if not token:
            return None
        job_id = self.idempotency.get((req.account, req.region, req.operation, str(token)))
        return job_id if job_id in existing else None

    def _remember(self, req: AwsRequest, token: Any, job_id: str) -> None:
        if token:
            self.idempotency[(req.account, req.region, req.operation, str(token))] = job_id

    # -- operations --------------------------------------------------------

    def start_backup_job(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        known = self._idempotent(req, p.get("IdempotencyToken"), self.backup_jobs)
        if known:
            job = self.backup_jobs[known]
            return _compact({"BackupJobId": job.id, "RecoveryPointArn": job.recovery_point.arn if job.recovery_point else None,
                             "CreationDate": job.creation, "IsParent": False})
        for name in ("BackupVaultName", "ResourceArn", "IamRoleArn"):
            if not p.get(name):
                raise AwsError("MissingParameterValueException", f"{name} is required")
        _require_role(p["IamRoleArn"])
        _vault(req.account, req.region, p["BackupVaultName"])
        found = _TABLE_ARN.match(p["ResourceArn"])
        if not found:
            raise AwsError("InvalidParameterValueException",
                           f"{p['ResourceArn']} is not a DynamoDB table ARN; the emulator backs up DynamoDB tables only")
        region, account, name = found.groups()
        if (account, region) != (req.account, req.region):
            raise AwsError("InvalidParameterValueException",
                           f"{p['ResourceArn']} is not in account {req.account}, Region {req.region} where the backup runs")
        now = time.time()
        table = dynamodb_backends[account][region].tables.get(name)
        rp = None
        state, message = "COMPLETED", None
        if table is None or getattr(table, "_rp_restoring", False):
            state = "FAILED"
            message = f"Resource {p['ResourceArn']} not found" if table is None else f"Table {name} is not ACTIVE"
        else:
            snapshot = DynamoSnapshot(account, region, f"awsbackup-{uuid.uuid4()}", table)
            sse = table.sse_specification if table.sse_specification and table.sse_specification.get("Enabled") else None
            rp = self._new_point(
                account, region, p["BackupVaultName"],
                resource_arn=table.table_arn,
                snapshot=snapshot,
                size_bytes=snapshot._rp_size_bytes,
                encryption_key_arn=sse.get("KMSMasterKeyId") if sse else None,
                iam_role_arn=p["IamRoleArn"],
                creation=now,
                completion=now,
                lifecycle=p.get("Lifecycle"),
            )
        job = BackupJob(str(uuid.uuid4()).upper(), req.account, req.region, p["BackupVaultName"], p["ResourceArn"],
                        p["IamRoleArn"], now, state, rp, message)
        self.backup_jobs[job.id] = job
        self._remember(req, p.get("IdempotencyToken"), job.id)
        return _compact({"BackupJobId": job.id, "RecoveryPointArn": rp.arn if rp else None,
                         "CreationDate": now, "IsParent": False})

    def describe_backup_job(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        job = self.backup_jobs.get(p.get("BackupJobId", ""))
        if job is None or (job.account, job.region) != (req.account, req.region):
            raise AwsError("ResourceNotFoundException", f"Backup job {p.get('BackupJobId')} not found")
        return job.describe()

    def list_backup_jobs(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        jobs = [
            j for j in self.backup_jobs.values()
            if (j.account, j.region) == (req.account, req.region)
            and p.get("ByResourceArn") in (None, j.resource_arn)
            and p.get("ByState") in (None, j.state)
            and p.get("ByBackupVaultName") in (None, j.vault_name)
            and p.get("ByResourceType") in (None, "DynamoDB")
            and p.get("ByAccountId") in (None, j.account)
            and _in_window(j.creation, p, "ByCreatedAfter", "ByCreatedBefore")
            and _in_window(j.creation, p, "ByCompleteAfter", "ByCompleteBefore")
        ]
        jobs.sort(key=lambda j: (-j.creation, j.id))
        page, token = _paginate(jobs, p)
        return _compact({"BackupJobs": [j.describe() for j in page], "NextToken": token})

    def start_copy_job(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        known = self._idempotent(req, p.get("IdempotencyToken"), self.copy_jobs)
        if known:
            job = self.copy_jobs[known]
            return {"CopyJobId": job.id, "CreationDate": job.creation, "IsParent": False}
        for name in ("RecoveryPointArn", "SourceBackupVaultName", "DestinationBackupVaultArn", "IamRoleArn"):
            if not p.get(name):
                raise AwsError("MissingParameterValueException", f"{name} is required")
        _require_role(p["IamRoleArn"])
        _vault(req.account, req.region, p["SourceBackupVaultName"])
        source = self.point(req, p["RecoveryPointArn"], p["SourceBackupVaultName"])
        if source.status != "COMPLETED":
            raise AwsError("InvalidRequestException",
                           f"Recovery point {source.arn} is {source.status}; only COMPLETED recovery points can be copied")
        found = _VAULT_ARN.match(p["DestinationBackupVaultArn"])
        if not found:
            raise AwsError("InvalidParameterValueException", f"{p['DestinationBackupVaultArn']} is not a backup vault ARN")
        dest_region, dest_account, dest_vault = found.groups()
        _vault(dest_account, dest_region, dest_vault)
        now = time.time()
        copy = self._new_point(
            dest_account, dest_region, dest_vault,
            resource_arn=source.resource_arn,
            snapshot=source.snapshot,
            size_bytes=source.size_bytes,
            encryption_key_arn=source.encryption_key_arn,
            iam_role_arn=p["IamRoleArn"],
            creation=now,
            completion=now,
            source_vault_arn=source.vault_arn,
            lifecycle=p.get("Lifecycle"),
        )
        job = CopyJob(str(uuid.uuid4()).upper(), req.account, req.region, source, copy, p["IamRoleArn"], now)
        self.copy_jobs[job.id] = job
        self._remember(req, p.get("IdempotencyToken"), job.id)
        return {"CopyJobId": job.id, "CreationDate": now, "IsParent": False}

    def describe_copy_job(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        job = self.copy_jobs.get(p.get("CopyJobId", ""))
        if job is None or (job.account, job.region) != (req.account, req.region):
            raise AwsError("ResourceNotFoundException", f"Copy job {p.get('CopyJobId')} not found")
        return {"CopyJob": job.describe()}

    def list_copy_jobs(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        jobs = [
            j for j in self.copy_jobs.values()
            if (j.account, j.region) == (req.account, req.region)
            and p.get("ByResourceArn") in (None, j.source.resource_arn)
            and p.get("ByState") in (None, "COMPLETED")
            and p.get("ByResourceType") in (None, "DynamoDB")
            and p.get("ByDestinationVaultArn") in (None, j.destination.vault_arn)
            and p.get("ByAccountId") in (None, j.account)
            and p.get("BySourceRecoveryPointArn") in (None, j.source.arn)
            and _in_window(j.creation, p, "ByCreatedAfter", "ByCreatedBefore")
            and _in_window(j.creation, p, "ByCompleteAfter", "ByCompleteBefore")
        ]
        jobs.sort(key=lambda j: (-j.creation, j.id))
        page, token = _paginate(jobs, p)
        return _compact({"CopyJobs": [j.describe() for j in page], "NextToken": token})

    def list_recovery_points_by_backup_vault(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        _vault(req.account, req.region, p.get("BackupVaultName", ""))
        points = [
            rp for rp in self.points_in_vault(req.account, req.region, p["BackupVaultName"])
            if p.get("ByResourceArn") in (None, rp.resource_arn)
            and p.get("ByResourceType") in (None, "DynamoDB")
            and p.get("ByBackupPlanId") is None
            and p.get("ByParentRecoveryPointArn") is None
            and _in_window(rp.creation, p, "ByCreatedAfter", "ByCreatedBefore")
        ]
        page, token = _paginate(points, p)
        return _compact({"RecoveryPoints": [rp.describe() for rp in page], "NextToken": token})

    def list_recovery_points_by_resource(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        points = sorted(
            (rp for rp in self.recovery_points.values()
             if (rp.account, rp.region) == (req.account, req.region) and rp.resource_arn == p.get("ResourceArn")),
            key=lambda rp: (-rp.creation, rp.arn),
        )
        page, token = _paginate(points, p)
        return _compact({"RecoveryPoints": [rp.by_resource() for rp in page], "NextToken": token})

    def describe_recovery_point(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        _vault(req.account, req.region, p.get("BackupVaultName", ""))
        return self.point(req, p.get("RecoveryPointArn", ""), p["BackupVaultName"]).describe()

    def get_recovery_point_restore_metadata(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        _vault(req.account, req.region, p.get("BackupVaultName", ""))
        rp = self.point(req, p.get("RecoveryPointArn", ""), p["BackupVaultName"])
        return {
            "BackupVaultArn": rp.vault_arn,
            "RecoveryPointArn": rp.arn,
            "ResourceType": "DynamoDB",
            "RestoreMetadata": rp.restore_metadata(),
        }

    def delete_recovery_point(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        rp = self.point(req, p.get("RecoveryPointArn", ""), p.get("BackupVaultName"))
        if any(j.recovery_point is rp and j.restore.in_flight for j in self.restore_jobs.values()):
            raise AwsError("InvalidResourceStateException", f"Recovery point {rp.arn} is being restored")
        del self.recovery_points[rp.arn]
        return {}

    def start_restore_job(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        token = p.get("IdempotencyToken")
        known = self._idempotent(req, token, self.restore_jobs)
        if known:
            return {"RestoreJobId": known}
        if not p.get("RecoveryPointArn"):
            raise AwsError("MissingParameterValueException", "RecoveryPointArn is required")
        if not p.get("IamRoleArn"):
            raise AwsError("MissingParameterValueException",
                           "IamRoleArn is required: the role AWS Backup assumes to restore the DynamoDB table")
        _require_role(p["IamRoleArn"])
        if p.get("ResourceType") not in (None, "DynamoDB"):
            raise AwsError("InvalidParameterValueException", f"ResourceType {p['ResourceType']} does not match the recovery point's DynamoDB")
        rp = self.point(req, p["RecoveryPointArn"])
        if rp.status != "COMPLETED":
            raise AwsError("InvalidRequestException",
                           f"Recovery point {rp.arn} is {rp.status}; only COMPLETED recovery points can be restored")
        target, encryption, key_ref, gsi_names = _parse_metadata(p.get("Metadata"), rp)
        self.engine.check_capacity(req.account)

        caller = kms_fixes.caller_arn(req.access_key, req.account)
        job = RestoreJob(recovery_point=rp, iam_role_arn=p["IamRoleArn"], gsi_names=gsi_names)
        account, region = req.account, req.region
        backend = dynamodb_backends[account][region]
        problem = None
        if target in backend.tables or self.engine.target_taken(account, region, target):
            problem = f"Table {target} already exists in account {account}, Region {region}; a restore never overwrites a table"
        elif encryption == "kms":
            try:
                key = (kms_fixes.key_for_table(account, region, key_ref, caller) if key_ref
                       else kms_fixes.aws_managed_key(account, region))
                job.sse = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key.arn}
            except kms_fixes.KeyProblem as err:
                problem = f"Cannot encrypt the restored table: {err}"

        def complete(restore: Restore) -> str | None:
            if target in backend.tables:
                return f"Table {target} already exists in account {account}, Region {region}; a restore never overwrites a table"
            table = dynamodb_fixes.build_restored_table(
                account=account, region=region, name=target, source=rp.snapshot.table, sse=job.sse,
                gsi_names=job.gsi_names,
                restore_summary={"SourceBackupArn": rp.arn, "SourceTableArn": rp.resource_arn,
                                 "RestoreDateTime": restore.finish_at},
            )
            backend.tables[target] = table
            job.created_resource_arn = table.table_arn
            rp.last_restore = restore.finish_at
            return None

        job.restore = self.engine.start(
            kind="backup", account=account, region=region, target_table=target, size_bytes=rp.size_bytes,
            restore_id=str(uuid.uuid4()).upper(),
            idempotency_token=token, complete=complete, fail_message=problem,
        )
        self.restore_jobs[job.id] = job
        self._remember(req, token, job.id)
        return {"RestoreJobId": job.id}

    def describe_restore_job(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        job = self.restore_jobs.get(p.get("RestoreJobId", ""))
        if job is None or (job.restore.account, job.restore.region) != (req.account, req.region):
            raise AwsError("ResourceNotFoundException", f"Restore job {p.get('RestoreJobId')} not found")
        return job.describe(time.time())

    def list_restore_jobs(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        jobs = [
            j for j in self.restore_jobs.values()
            if (j.restore.account, j.restore.region) == (req.account, req.region)
            and p.get("ByAccountId") in (None, j.restore.account)
            and p.get("ByStatus") in (None, j.restore.status)
            and p.get("ByResourceType") in (None, "DynamoDB")
            and p.get("ByRestoreTestingPlanArn") is None
            and p.get("ByParentJobId") is None
            and _in_window(j.restore.created, p, "ByCreatedAfter", "ByCreatedBefore")
            and _in_window(j.restore.finished, p, "ByCompleteAfter", "ByCompleteBefore")
        ]
        jobs.sort(key=lambda j: (-j.restore.created, j.id))
        page, token = _paginate(jobs, p)
        now = time.time()
        return _compact({"RestoreJobs": [j.describe(now) for j in page], "NextToken": token})

    def delete_backup_vault(self, req: AwsRequest, p: dict[str, Any]) -> None:
        """Refuses (like AWS) to delete a vault holding recovery points; None lets moto delete it."""
        if self.points_in_vault(req.account, req.region, p.get("BackupVaultName", "")):
            raise AwsError("InvalidRequestException",
                           f"Backup vault {p.get('BackupVaultName')} cannot be deleted because it contains recovery points")

    # -- test-only controls ------------------------------------------------

    def control_recovery_point(self, arn: str, changes: dict[str, Any]) -> dict[str, Any]:
        rp = self.recovery_points.get(arn)
        if rp is None:
            raise KeyError(arn)
        unknown = set(changes) - {"age_seconds", "status", "status_message"}
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}; use age_seconds, status, status_message")
        if "status" in changes and changes["status"] not in RECOVERY_POINT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(sorted(RECOVERY_POINT_STATUSES))}")
        if "age_seconds" in changes:
            age = changes["age_seconds"]
            if isinstance(age, bool) or not isinstance(age, (int, float)) or age < 0:
                raise ValueError("age_seconds must be a number >= 0")
            took = rp.completion - rp.creation
            rp.creation = time.time() - age
            rp.completion = rp.creation + took
        if "status" in changes:
            rp.status = changes["status"]
        if "status_message" in changes:
            rp.status_message = changes["status_message"]
        return dict(rp.describe(), Recorded=rp.recorded())

    # -- dispatch ------------------------------------------------------------

    def handlers(self) -> dict[str, Callable[[AwsRequest, dict[str, Any]], dict[str, Any]]]:
        return {
            "StartBackupJob": self.start_backup_job,
            "DescribeBackupJob": self.describe_backup_job,
            "ListBackupJobs": self.list_backup_jobs,
            "StartCopyJob": self.start_copy_job,
            "DescribeCopyJob": self.describe_copy_job,
            "ListCopyJobs": self.list_copy_jobs,
            "ListRecoveryPointsByBackupVault": self.list_recovery_points_by_backup_vault,
            "ListRecoveryPointsByResource": self.list_recovery_points_by_resource,
            "DescribeRecoveryPoint": self.describe_recovery_point,
            "GetRecoveryPointRestoreMetadata": self.get_recovery_point_restore_metadata,
            "DeleteRecoveryPoint": self.delete_recovery_point,
            "StartRestoreJob": self.start_restore_job,
            "DescribeRestoreJob": self.describe_restore_job,
            "ListRestoreJobs": self.list_restore_jobs,
        }

    def handle(self, req: AwsRequest) -> Response | None:
        try:
            if req.operation == "DeleteBackupVault":
                self.delete_backup_vault(req, req.rest_params())
                return None
            handler = self.handlers().get(req.operation)
            if handler is None:
                return None
            return json_response(req, handler(req, req.rest_params()))
        except AwsError as err:
            return error_response(req, err)

    def install(self) -> None:
        """Make moto's vaults count the recovery points kept here."""
        store = self

        def count(vault: Vault) -> int:
            found = _VAULT_ARN.match(vault.backup_vault_arn)
            if not found:
                return 0
            region, account, name = found.groups()
            return len(store.points_in_vault(account, region, name))

        prop = property(count, lambda vault, value: None)
        Vault.num_of_recovery_points = prop
        Vault.number_of_recovery_points = prop


def _require_role(arn: str) -> None:
    if not _ROLE_ARN.match(arn):
        raise AwsError("InvalidParameterValueException", f"IamRoleArn {arn} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")


def _parse_metadata(metadata: Any, rp: RecoveryPoint) -> tuple[str, str, str | None, list[str] | None]:
    """targetTableName, encryption type, key reference and kept GSIs from StartRestoreJob Metadata.

    AWS reads these keys case-insensitively; so does the emulator.
    """
    if not isinstance(metadata, dict):
        raise AwsError("InvalidParameterValueException", "Metadata must be a map of strings")
    meta = {str(k).lower(): v for k, v in metadata.items()}
    target = meta.get("targettablename")
    if not target or str(target).lower() in _NOT_APPLICABLE:
        raise AwsError("InvalidParameterValueException", "Metadata targetTableName is required for a DynamoDB restore")
    if not re.match(r"^[A-Za-z0-9_.-]{3,255}$", str(target)):
        raise AwsError("InvalidParameterValueException",
                       f"Metadata targetTableName {target!r} is not a valid table name (3-255 characters of A-Za-z0-9_.-)")
    encryption = str(meta.get("encryptiontype") or "Default").lower()
    if encryption not in ("default", "kms"):
        raise AwsError("InvalidParameterValueException",
                       f"Metadata encryptionType {meta.get('encryptiontype')!r} is not valid; use Default or KMS")
    key_ref = meta.get("kmsmasterkeyarn", meta.get("keyarn"))
    if key_ref is not None and str(key_ref).strip().lower() in _NOT_APPLICABLE:
        key_ref = None
    if key_ref is not None:
        if encryption == "default":
            raise AwsError("InvalidParameterValueException",
                           "Metadata kmsMasterKeyArn is only used with encryptionType KMS; "
                           "use Not Applicable with encryptionType Default")
        if not _KEY_OR_ALIAS_ARN.match(str(key_ref)):
            raise AwsError("InvalidParameterValueException", f"Metadata kmsMasterKeyArn {key_ref!r} is not a KMS key ARN")
    gsi_names = None
    raw = meta.get("secondaryindices", meta.get("secondaryindicies"))
    if raw is not None:
        gsi_names = _kept_gsis(raw, rp)
    return str(target), encryption, key_ref, gsi_names


def _kept_gsis(raw: Any, rp: RecoveryPoint) -> list[str]:
    """The GSIs a restore keeps from `secondaryIndices`: a JSON list of names or of {indexName}."""
    try:
        entries = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(entries, list):
            raise ValueError
        names = [e if isinstance(e, str) else e["indexName"] for e in entries]
    except (ValueError, KeyError, TypeError):
        raise AwsError("InvalidParameterValueException",
                       'Metadata secondaryIndices must be a JSON list of index names or of {"indexName": ...} objects')
    table = rp.snapshot.table
    gsis = {i.name for i in table.global_indexes}
    lsis = {i.name for i in table.indexes}
    unknown = [n for n in names if n not in gsis | lsis]
    if unknown:
        raise AwsError("InvalidParameterValueException",
                       f"Metadata secondaryIndices names {', '.join(unknown)}, not in the recovery point; "
                       f"it has {', '.join(sorted(gsis | lsis)) or 'no secondary indexes'}")
    # Local secondary indexes are part of the table's key layout and are always restored.
    return [n for n in names if n in gsis]
