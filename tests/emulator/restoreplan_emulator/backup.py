"""AWS Backup's jobs and recovery points for DynamoDB tables (moto has only vaults and plans).

Backup jobs finish at once: StartBackupJob snapshots the table (schema,
indexes, billing mode, items, size, encryption key) into a recovery point
that is COMPLETED when the call returns. StartCopyJob puts a copy of it, with
the ORIGINAL resource ARN and a new recovery point ARN, into a vault of
another Region and/or account once its modeled duration has passed (CREATED,
RUNNING, COMPLETED); across accounts the destination vault's access policy
must allow backup:CopyIntoBackupVault, and a DynamoDB-managed (non-advanced)
recovery point cannot go. Restore jobs take modeled time (see restores.py)
and create the table when they complete; PutRestoreValidationResult records
a validation result on a completed one.

Recovery points live in moto's vaults: a vault's NumberOfRecoveryPoints
counts them and a vault holding any cannot be deleted.
"""

from __future__ import annotations

import base64
import fnmatch
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

VALIDATION_STATUSES = ("FAILED", "SUCCESSFUL", "TIMED_OUT", "VALIDATING")
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
    """A copy in flight or done: CREATED, RUNNING, then COMPLETED (or FAILED) on the modeled clock."""

    id: str
    account: str
    region: str
    source: RecoveryPoint
    destination_arn: str
    destination_vault_arn: str
    iam_role_arn: str
    creation: float
    running_at: float
    finish_at: float
    lifecycle: dict[str, Any] | None = None
    # Set when the copy ends: the new recovery point, or why it failed.
    destination: RecoveryPoint | None = None
    failed_message: str | None = None
    finished: float | None = None

    def state(self, now: float) -> str:
        if self.failed_message is not None:
            return "FAILED"
        if self.destination is not None:
            return "COMPLETED"
        return "RUNNING" if now >= self.running_at else "CREATED"

    def describe(self, now: float) -> dict[str, Any]:
        state = self.state(now)
        return _compact({
            "AccountId": self.account,
            "CopyJobId": self.id,
            "SourceBackupVaultArn": self.source.vault_arn,
            "SourceRecoveryPointArn": self.source.arn,
            "DestinationBackupVaultArn": self.destination_vault_arn,
            "DestinationVaultType": "BACKUP_VAULT",
            "DestinationRecoveryPointArn": self.destination_arn if state != "FAILED" else None,
            "ResourceArn": self.source.resource_arn,
            "ResourceName": self.source.resource_name,
            "ResourceType": "DynamoDB",
            "CreationDate": self.creation,
            "CompletionDate": self.finished if state in ("COMPLETED", "FAILED") else None,
            "State": state,
            "StatusMessage": self.failed_message,
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
    # PutRestoreValidationResult's report.
    validation_status: str | None = None
    validation_message: str | None = None
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
            "ValidationStatus": self.validation_status,
            "ValidationStatusMessage": self.validation_message,
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
        self.vault_policies: dict[tuple[str, str, str], str] = {}
        self.region_settings: dict[tuple[str, str], dict[str, dict[str, bool]]] = {}

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

    def _new_point(self, account: str, region: str, vault_name: str, arn: str | None = None,
                   **fields: Any) -> RecoveryPoint:
        arn = arn or f"arn:aws:backup:{region}:{account}:recovery-point:{uuid.uuid4()}"
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
            arn = None
            if not self.advanced_dynamodb(account, region):
                # Without advanced DynamoDB backup, AWS Backup takes a DynamoDB on-demand backup.
                arn = f"{table.table_arn}/backup/{int(now * 1000):013d}-{uuid.uuid4().hex[:8]}"
            rp = self._new_point(
                account, region, p["BackupVaultName"], arn=arn,
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
        cfg = self.engine.config
        modeled = cfg.copy_base_seconds + source.size_bytes / cfg.copy_bytes_per_second
        job = CopyJob(
            id=str(uuid.uuid4()).upper(), account=req.account, region=req.region, source=source,
            destination_arn=f"arn:aws:backup:{dest_region}:{dest_account}:recovery-point:{uuid.uuid4()}",
            destination_vault_arn=vault_arn(dest_account, dest_region, dest_vault),
            iam_role_arn=p["IamRoleArn"], creation=now,
            running_at=now + min(60.0, modeled / 10) * cfg.time_scale,
            finish_at=now + modeled * cfg.time_scale,
            lifecycle=p.get("Lifecycle"),
        )
        if dest_account != req.account:
            if source.arn.startswith("arn:aws:dynamodb:"):
                job.failed_message = (
                    f"Copy job failed: recovery point {source.arn} is a DynamoDB backup without AWS Backup's "
                    "advanced features; only advanced DynamoDB backups (arn:aws:backup:...:recovery-point:...) "
                    "can be copied to another account. Enable advanced DynamoDB backup "
                    "(UpdateRegionSettings ResourceTypeManagementPreference DynamoDB=true) and back the table up again."
                )
            elif not self.vault_admits_copy(dest_account, dest_region, dest_vault, req):
                job.failed_message = (
                    f"Access Denied trying to call AWS Backup service: the access policy of backup vault "
                    f"{job.destination_vault_arn} does not allow account {req.account} backup:CopyIntoBackupVault"
                )
            if job.failed_message is not None:
                job.finished = now
        self.copy_jobs[job.id] = job
        self._remember(req, p.get("IdempotencyToken"), job.id)
        self.tick(now)
        return {"CopyJobId": job.id, "CreationDate": now, "IsParent": False}

    def tick(self, now: float | None = None) -> None:
        """Ends the copies whose time has come: the copy's recovery point appears in its vault."""
        now = time.time() if now is None else now
        for job in self.copy_jobs.values():
            if job.destination is not None or job.failed_message is not None or now < job.finish_at:
                continue
            found = _VAULT_ARN.match(job.destination_vault_arn)
            region, account, vault_name = found.groups()
            job.finished = job.finish_at
            if backup_backends[account][region].vaults.get(vault_name) is None:
                job.failed_message = f"Copy job failed: backup vault {job.destination_vault_arn} no longer exists"
                continue
            source = job.source
            copy = RecoveryPoint(
                arn=job.destination_arn, account=account, region=region, vault_name=vault_name,
                resource_arn=source.resource_arn, snapshot=source.snapshot, size_bytes=source.size_bytes,
                encryption_key_arn=source.encryption_key_arn, iam_role_arn=job.iam_role_arn,
                creation=job.finish_at, completion=job.finish_at, source_vault_arn=source.vault_arn,
                lifecycle=job.lifecycle,
            )
            self.recovery_points[copy.arn] = copy
            job.destination = copy

    def next_deadline(self) -> float | None:
        pending = [j.finish_at for j in self.copy_jobs.values() if j.destination is None and j.failed_message is None]
        return min(pending) if pending else None

    # -- vault access policies --------------------------------------------

    def put_backup_vault_access_policy(self, req: AwsRequest, p: dict[str, Any]) -> Response:
        name = p.get("BackupVaultName", "")
        _vault(req.account, req.region, name)
        policy = p.get("Policy")
        if not policy:
            raise AwsError("MissingParameterValueException", "Policy is required")
        try:
            parsed = json.loads(policy)
            statements = parsed.get("Statement")
            if isinstance(statements, dict):
                statements = [statements]
            if not isinstance(statements, list) or not all(isinstance(st, dict) for st in statements):
                raise ValueError
            for st in statements:
                if st.get("Effect") not in ("Allow", "Deny"):
                    raise ValueError
        except (ValueError, AttributeError):
            raise AwsError("InvalidParameterValueException",
                           "Policy is not a valid access policy: a JSON document with a Statement list of Allow/Deny statements")
        self.vault_policies[(req.account, req.region, name)] = policy
        return Response(200, [("x-amzn-RequestId", req.request_id), ("Content-Length", "0")], b"")

    def get_backup_vault_access_policy(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        name = p.get("BackupVaultName", "")
        vault = _vault(req.account, req.region, name)
        policy = self.vault_policies.get((req.account, req.region, name))
        if policy is None:
            raise AwsError("ResourceNotFoundException", f"Backup vault {name} has no access policy")
        return {"BackupVaultName": name, "BackupVaultArn": vault.backup_vault_arn, "Policy": policy}

    def delete_backup_vault_access_policy(self, req: AwsRequest, p: dict[str, Any]) -> Response:
        name = p.get("BackupVaultName", "")
        _vault(req.account, req.region, name)
        self.vault_policies.pop((req.account, req.region, name), None)
        return Response(200, [("x-amzn-RequestId", req.request_id), ("Content-Length", "0")], b"")

    def vault_admits_copy(self, account: str, region: str, vault_name: str, req: AwsRequest) -> bool:
        """Whether the vault's access policy lets the caller's account backup:CopyIntoBackupVault."""
        policy = self.vault_policies.get((account, region, vault_name))
        if policy is None:
            return not self.engine.config.require_vault_access_policy
        caller = kms_fixes.caller_arn(req.access_key, req.account)
        return policy_allows(json.loads(policy), "backup:CopyIntoBackupVault", req.account, caller,
                             vault_arn(account, region, vault_name))

    # -- region settings (advanced DynamoDB backup) -----------------------

    def describe_region_settings(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        settings = self.region_settings.get((req.account, req.region), {})
        return {
            "ResourceTypeOptInPreference": dict({"DynamoDB": True}, **settings.get("opt_in", {})),
            "ResourceTypeManagementPreference": dict({"DynamoDB": True}, **settings.get("management", {})),
        }

    def update_region_settings(self, req: AwsRequest, p: dict[str, Any]) -> Response:
        settings = self.region_settings.setdefault((req.account, req.region), {})
        for key, field in (("ResourceTypeOptInPreference", "opt_in"), ("ResourceTypeManagementPreference", "management")):
            value = p.get(key)
            if value is None:
                continue
            if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
                raise AwsError("InvalidParameterValueException", f"{key} must be a map of resource types to booleans")
            settings.setdefault(field, {}).update(value)
        return Response(200, [("x-amzn-RequestId", req.request_id), ("Content-Length", "0")], b"")

    def advanced_dynamodb(self, account: str, region: str) -> bool:
        return self.region_settings.get((account, region), {}).get("management", {}).get("DynamoDB", True)

    def describe_copy_job(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        job = self.copy_jobs.get(p.get("CopyJobId", ""))
        if job is None or (job.account, job.region) != (req.account, req.region):
            raise AwsError("ResourceNotFoundException", f"Copy job {p.get('CopyJobId')} not found")
        return {"CopyJob": job.describe(time.time())}

    def list_copy_jobs(self, req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
        now = time.time()
        jobs = [
            j for j in self.copy_jobs.values()
            if (j.account, j.region) == (req.account, req.region)
            and p.get("ByResourceArn") in (None, j.source.resource_arn)
            and p.get("ByState") in (None, j.state(now))
            and p.get("ByResourceType") in (None, "DynamoDB")
            and p.get("ByDestinationVaultArn") in (None, j.destination_vault_arn)
            and p.get("ByAccountId") in (None, j.account)
            and p.get("BySourceRecoveryPointArn") in (None, j.source.arn)
            and _in_window(j.creation, p, "ByCreatedAfter", "ByCreatedBefore")
            and _in_window(j.creation, p, "ByCompleteAfter", "ByCompleteBefore")
        ]
        jobs.sort(key=lambda j: (-j.creation, j.id))
        page, token = _paginate(jobs, p)
        return _compact({"CopyJobs": [j.describe(now) for j in page], "NextToken": token})

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

    def put_restore_validation_result(self, req: AwsRequest, p: dict[str, Any]) -> Response:
        """Records a restore job's validation result (AWS Backup restore testing's report)."""
        status = p.get("ValidationStatus")
        if not status:
            raise AwsError("MissingParameterValueException", "ValidationStatus is required")
        if status not in VALIDATION_STATUSES:
            raise AwsError("InvalidParameterValueException",
                           f"ValidationStatus {status!r} is not valid; use one of {', '.join(VALIDATION_STATUSES)}")
        message = p.get("ValidationStatusMessage")
        if message is not None and not isinstance(message, str):
            raise AwsError("InvalidParameterValueException", "ValidationStatusMessage must be a string")
        job = self.restore_jobs.get(p.get("RestoreJobId", ""))
        if job is None or (job.restore.account, job.restore.region) != (req.account, req.region):
            raise AwsError("ResourceNotFoundException", f"Restore job {p.get('RestoreJobId')} not found")
        if job.restore.status != "COMPLETED":
            raise AwsError("InvalidRequestException",
                           f"Restore job {job.id} is {job.restore.status}; only a COMPLETED restore job can be validated")
        job.validation_status = status
        job.validation_message = message
        return Response(204, [("x-amzn-RequestId", req.request_id), ("Content-Length", "0")], b"")

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
        self.vault_policies.pop((req.account, req.region, p.get("BackupVaultName", "")), None)

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
            "PutBackupVaultAccessPolicy": self.put_backup_vault_access_policy,
            "GetBackupVaultAccessPolicy": self.get_backup_vault_access_policy,
            "DeleteBackupVaultAccessPolicy": self.delete_backup_vault_access_policy,
            "DescribeRegionSettings": self.describe_region_settings,
            "UpdateRegionSettings": self.update_region_settings,
            "PutRestoreValidationResult": self.put_restore_validation_result,
        }

    def handle(self, req: AwsRequest) -> Response | None:
        try:
            if req.operation == "DeleteBackupVault":
                self.delete_backup_vault(req, req.rest_params())
                return None
            handler = self.handlers().get(req.operation)
            if handler is None:
                return None
            answer = handler(req, req.rest_params())
            return answer if isinstance(answer, Response) else json_response(req, answer)
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


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_matches(principal: Any, account: str, caller: str | None) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in _as_list(principal.get("AWS")):
        value = str(value)
        if value in ("*", account, f"arn:aws:iam::{account}:root") or (caller and value == caller):
            return True
    return False


def _conditions_hold(condition: Any, account: str) -> bool:
    """aws:PrincipalAccount / aws:SourceAccount with String(Not)Equals/Like; other keys count as satisfied."""
    if not isinstance(condition, dict):
        return True
    for operator, tests in condition.items():
        if not isinstance(tests, dict):
            continue
        for key, values in tests.items():
            if key.lower() not in ("aws:principalaccount", "aws:sourceaccount"):
                continue
            values = [str(v) for v in _as_list(values)]
            op = operator.replace("IfExists", "")
            if op in ("StringEquals", "StringEqualsIgnoreCase"):
                if account not in values:
                    return False
            elif op == "StringLike":
                if not any(fnmatch.fnmatchcase(account, v) for v in values):
                    return False
            elif op in ("StringNotEquals", "StringNotEqualsIgnoreCase"):
                if account in values:
                    return False
            elif op == "StringNotLike":
                if any(fnmatch.fnmatchcase(account, v) for v in values):
                    return False
    return True


def policy_allows(policy: dict[str, Any], action: str, account: str, caller: str | None, resource: str) -> bool:
    """A resource policy's answer for one action by one account: an Allow and no Deny."""
    allowed = False
    for st in _as_list(policy.get("Statement")):
        if not isinstance(st, dict):
            continue
        actions = [str(a).lower() for a in _as_list(st.get("Action"))]
        if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
            continue
        resources = [str(r) for r in _as_list(st.get("Resource"))] or ["*"]
        if not any(fnmatch.fnmatchcase(resource, r) for r in resources):
            continue
        if not _principal_matches(st.get("Principal"), account, caller):
            continue
        if not _conditions_hold(st.get("Condition"), account):
            continue
        if st.get("Effect") == "Deny":
            return False
        allowed = True
    return allowed


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
