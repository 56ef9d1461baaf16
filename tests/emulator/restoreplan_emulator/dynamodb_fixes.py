"""DynamoDB restores as AWS runs them, where moto 5.2.5 does not.

- RestoreTableFromBackup and RestoreTableToPointInTime are answered here:
  they honour SSESpecificationOverride (validating the key like AWS),
  GlobalSecondaryIndexOverride, LocalSecondaryIndexOverride and
  BillingModeOverride, count against the concurrent-restore limit, and
  follow the duration model: the new table is CREATING (RestoreSummary
  RestoreInProgress true) until its modeled time has passed, then ACTIVE.
  RestoreTableToPointInTime needs point-in-time recovery on the source,
  accepts a SourceTableArn of another Region, and rejects other accounts.
- While a table is CREATING, UpdateTable, DeleteTable, TagResource,
  UntagResource, UpdateTimeToLive and UpdateContinuousBackups answer
  ResourceInUseException.
- RestoreTableFromBackup also restores a backup of another Region of the
  same account, when the request carries an SSESpecificationOverride.
- Capacity and class (BillingModeOverride, ProvisionedThroughputOverride,
  OnDemandThroughputOverride, GSI override throughput, UpdateTable
  TableClass/BillingMode/throughput/OnDemandThroughput) are table_capacity.py.
- CreateTable validates SSESpecification.KMSMasterKeyId like a restore does
  and records the key's ARN (moto accepted any string).
- Scan and GetItem report and book read capacity as AWS charges it
  (capacity.py); contributor insights and Kinesis streaming destinations are
  answered by dynamodb_extras.py.
- DescribeBackup answers as AWS does: SourceTableDetails carries the
  table's BillingMode, ProvisionedThroughput and OnDemandThroughput at
  backup time, and SourceTableFeatureDetails its GSIs (with their
  capacity), LSIs, stream and encryption.
- Patched into moto: TableSizeBytes and BackupSizeBytes are the items' size
  (or the `restoreplan-emulator:size-bytes` tag), ItemCount of a table and
  of its backups is the `restoreplan-emulator:item-count` tag when set (a
  count AWS has not refreshed yet), TagResource on a tag key the table
  already has replaces its value, the AWS managed
  `alias/aws/dynamodb` key is a real AWS managed key, and
  LatestRestorableDateTime follows the clock.
"""

from __future__ import annotations

import uuid

import copy
import json
import re
import time
from typing import Any

from moto.core.utils import unix_time
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Backup, Table

from . import kms_fixes
from .wire import AwsError, AwsRequest, Response, error_response, json_response

SIZE_TAG = "restoreplan-emulator:size-bytes"
ITEM_COUNT_TAG = "restoreplan-emulator:item-count"
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_TABLE_ARN = re.compile(r"^arn:aws[\w-]*:dynamodb:([a-z0-9-]+):(\d{12}):table/([^/]+)$")
_BACKUP_ARN = re.compile(r"^arn:aws[\w-]*:dynamodb:([a-z0-9-]+):(\d{12}):table/[^/]+/backup/.+$")

# Operations AWS refuses while a table is still being created by a restore.
_BUSY_WHILE_CREATING = {
    "UpdateTable", "DeleteTable", "TagResource", "UntagResource",
    "UpdateTimeToLive", "UpdateContinuousBackups", "UpdateContributorInsights",
    "EnableKinesisStreamingDestination", "DisableKinesisStreamingDestination",
}


# ---------------------------------------------------------------------------
# Sizes.


def table_size_bytes(table: Table) -> int:
    """The items' size, or the `restoreplan-emulator:size-bytes` tag to model a large table."""
    for tag in table.tags or []:
        if tag.get("Key") == SIZE_TAG:
            try:
                return max(0, int(tag.get("Value", "")))
            except ValueError:
                break
    return sum(item.size() for item in table.all_items())


def reported_item_count(table: Table) -> int | None:
    """The `restoreplan-emulator:item-count` tag: the ItemCount AWS last
    reported for the table (AWS refreshes it about every six hours), to model
    a count that lags behind the items. None when the tag is absent."""
    for tag in table.tags or []:
        if tag.get("Key") == ITEM_COUNT_TAG:
            try:
                return max(0, int(tag.get("Value", "")))
            except ValueError:
                return None
    return None


# ---------------------------------------------------------------------------
# Patches to moto.


_original_describe = Table.describe
_original_backup_init = Backup.__init__


def _describe(self: Table, base_key: str = "TableDescription") -> dict[str, Any]:
    result = _original_describe(self, base_key)
    desc = result[base_key]
    desc["TableSizeBytes"] = table_size_bytes(self)
    reported = reported_item_count(self)
    if reported is not None:
        desc["ItemCount"] = reported
    # AWS gives every table a TableId; a table deleted and created again under
    # the same name gets a new one, which is how a replaced table is told apart.
    table_id = getattr(self, "_rp_table_id", None)
    if table_id is None:
        table_id = self._rp_table_id = str(uuid.uuid4())
    desc["TableId"] = table_id
    restoring = getattr(self, "_rp_restoring", False)
    if restoring:
        desc["TableStatus"] = "CREATING"
        for index in desc.get("GlobalSecondaryIndexes", []):
            index["IndexStatus"] = "CREATING"
    summary = getattr(self, "_rp_restore_summary", None)
    if summary is not None:
        desc["RestoreSummary"] = dict(summary, RestoreInProgress=restoring)
    from . import table_capacity

    table_capacity.describe(self, desc)
    if not desc.get("GlobalSecondaryIndexes"):
        desc.pop("GlobalSecondaryIndexes", None)
    if not desc.get("LocalSecondaryIndexes"):
        desc.pop("LocalSecondaryIndexes", None)
    return result


def _default_encryption_key(self: Table, account_id: str, region: str) -> str:
    return kms_fixes.aws_managed_key(account_id, region).arn


def _backup_init(self: Backup, *args: Any, **kwargs: Any) -> None:
    _original_backup_init(self, *args, **kwargs)
    # Measured when the backup is taken, like AWS does.
    self._rp_size_bytes = table_size_bytes(self.table)


def _backup_details(self: Backup) -> dict[str, Any]:
    return {
        "BackupArn": self.arn,
        "BackupName": self.name,
        "BackupSizeBytes": getattr(self, "_rp_size_bytes", 0),
        "BackupStatus": self.status,
        "BackupType": self.type,
        "BackupCreationDateTime": self.creation_date_time,
    }


def _backup_description(self: Backup) -> dict[str, Any]:
    """DescribeBackup as AWS shapes it: the table at backup time in
    SourceTableDetails (BillingMode, ProvisionedThroughput,
    OnDemandThroughput, ItemCount, ...) and its indexes, stream, TTL and
    encryption in SourceTableFeatureDetails (each GSI with its capacity)."""
    desc = self.table.describe()["TableDescription"]
    billing = (desc.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
    throughput = desc.get("ProvisionedThroughput") or {}
    source: dict[str, Any] = {
        "TableName": desc.get("TableName"),
        "TableId": desc.get("TableId"),
        "TableArn": desc.get("TableArn"),
        "TableSizeBytes": desc.get("TableSizeBytes", 0),
        "KeySchema": desc.get("KeySchema", []),
        "TableCreationDateTime": desc.get("CreationDateTime"),
        "ProvisionedThroughput": {
            "ReadCapacityUnits": throughput.get("ReadCapacityUnits", 0),
            "WriteCapacityUnits": throughput.get("WriteCapacityUnits", 0),
        },
        "ItemCount": desc.get("ItemCount", 0),
        "BillingMode": billing,
    }
    if desc.get("OnDemandThroughput"):
        source["OnDemandThroughput"] = desc["OnDemandThroughput"]
    features: dict[str, Any] = {}
    gsis = []
    for index in desc.get("GlobalSecondaryIndexes") or []:
        entry = {k: index[k] for k in ("IndexName", "KeySchema", "Projection") if k in index}
        if index.get("ProvisionedThroughput"):
            entry["ProvisionedThroughput"] = {
                "ReadCapacityUnits": index["ProvisionedThroughput"].get("ReadCapacityUnits", 0),
                "WriteCapacityUnits": index["ProvisionedThroughput"].get("WriteCapacityUnits", 0),
            }
        if index.get("OnDemandThroughput"):
            entry["OnDemandThroughput"] = index["OnDemandThroughput"]
        gsis.append(entry)
    if gsis:
        features["GlobalSecondaryIndexes"] = gsis
    lsis = [{k: i[k] for k in ("IndexName", "KeySchema", "Projection") if k in i}
            for i in desc.get("LocalSecondaryIndexes") or []]
    if lsis:
        features["LocalSecondaryIndexes"] = lsis
    if desc.get("StreamSpecification"):
        features["StreamDescription"] = desc["StreamSpecification"]
    if desc.get("SSEDescription"):
        features["SSEDescription"] = desc["SSEDescription"]
    out: dict[str, Any] = {"BackupDetails": self.details, "SourceTableDetails": source}
    if features:
        out["SourceTableFeatureDetails"] = features
    return out


_original_backup_summary = Backup.summary


def _backup_summary(self: Backup) -> dict[str, Any]:
    summary = _original_backup_summary.fget(self)
    summary["BackupSizeBytes"] = getattr(self, "_rp_size_bytes", 0)
    return summary


_original_describe_continuous_backups = DynamoDBBackend.describe_continuous_backups


def _describe_continuous_backups(self: DynamoDBBackend, table_name: str) -> dict[str, Any]:
    result = _original_describe_continuous_backups(self, table_name)
    pitr = result.get("PointInTimeRecoveryDescription", {})
    if pitr.get("PointInTimeRecoveryStatus") == "ENABLED":
        pitr["LatestRestorableDateTime"] = unix_time()
    return result


def _tag_resource(self: DynamoDBBackend, arn: str, tags: dict[str, str]) -> None:
    # AWS replaces the value of a tag key the table already has (moto kept both).
    for table in self.tables.values():
        if table.table_arn == arn:
            kept = [t for t in (table.tags or []) if t.get("Key") not in tags]
            table.tags = kept + [{"Key": k, "Value": v} for k, v in tags.items()]


def apply_patches() -> None:
    DynamoDBBackend.tag_resource = _tag_resource
    Table.describe = _describe
    Table._get_default_encryption_key = _default_encryption_key
    Backup.__init__ = _backup_init
    Backup.details = property(_backup_details)
    Backup.summary = property(_backup_summary)
    Backup.description = property(_backup_description)
    DynamoDBBackend.describe_continuous_backups = _describe_continuous_backups


# ---------------------------------------------------------------------------
# Building restored tables (also used by AWS Backup restores).


def resolve_sse(spec: dict[str, Any] | None, account: str, region: str, caller: str | None) -> dict[str, Any] | None:
    """A moto SSE specification from an SSESpecification(Override); None = AWS owned key.

    Raises ValidationException for a key DynamoDB could not use.
    """
    if not spec:
        return None
    key_ref = spec.get("KMSMasterKeyId")
    if not spec.get("Enabled", False):
        if key_ref:
            raise AwsError("ValidationException", "One or more parameter values were invalid: KMSMasterKeyId can only be specified when SSE is enabled")
        return None
    if spec.get("SSEType", "KMS") != "KMS":
        raise AwsError("ValidationException", f"One or more parameter values were invalid: SSEType {spec.get('SSEType')!r} is not supported, use KMS")
    try:
        key = (
            kms_fixes.key_for_table(account, region, key_ref, caller)
            if key_ref
            else kms_fixes.aws_managed_key(account, region)
        )
    except kms_fixes.KeyProblem as problem:
        raise AwsError("ValidationException", f"One or more parameter values were invalid: {problem}")
    return {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key.arn}


def carry_sse(source: Table, account: str, region: str) -> dict[str, Any] | None:
    """The encryption a restore without an override keeps: the source's, moved to `region`.

    An AWS managed key becomes the target's own AWS managed key; a
    multi-Region key its replica in the target Region; a key that cannot
    follow (single-Region, or another account's) falls back to the AWS owned key.
    """
    spec = source.sse_specification
    if not spec or not spec.get("Enabled"):
        return None
    arn = spec.get("KMSMasterKeyId", "")
    found = re.match(r"^arn:aws[\w-]*:kms:([a-z0-9-]+):(\d{12}):key/(.+)$", arn)
    if not found:
        return None
    key_region, key_account, key_id = found.groups()
    from moto.kms.models import kms_backends

    owner_key = kms_backends[key_account][key_region].keys.get(key_id)
    if owner_key is not None and owner_key.key_manager == "AWS":
        return resolve_sse({"Enabled": True}, account, region, None)
    candidate = arn.replace(f":{key_region}:", f":{region}:", 1)
    try:
        key = kms_fixes.key_for_table(account, region, candidate)
    except kms_fixes.KeyProblem:
        return None
    return {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key.arn}


def _kept_attributes(schema: list[dict], gsis: list, lsis: list, attrs: list[dict]) -> list[dict]:
    used = {k["AttributeName"] for k in schema}
    for index in list(gsis) + list(lsis):
        used.update(k["AttributeName"] for k in index.schema)
    return [a for a in attrs if a["AttributeName"] in used]


def _select_indexes(existing: list, wanted: list[str] | None, kind: str) -> list:
    if wanted is None:
        return [copy.deepcopy(i) for i in existing]
    by_name = {i.name: i for i in existing}
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise AwsError(
            "ValidationException",
            f"One or more parameter values were invalid: {kind} {', '.join(unknown)} not found in the backup; "
            f"it has: {', '.join(by_name) or 'none'}",
        )
    return [copy.deepcopy(by_name[name]) for name in wanted]


def _override_names(override: Any, kind: str) -> list[str] | None:
    if override is None:
        return None
    if not isinstance(override, list) or not all(isinstance(o, dict) and o.get("IndexName") for o in override):
        raise AwsError("ValidationException", f"{kind} must be a list of indexes with IndexName")
    return [o["IndexName"] for o in override]


def build_restored_table(
    *,
    account: str,
    region: str,
    name: str,
    source: Table,
    sse: dict[str, Any] | None,
    gsi_names: list[str] | None = None,
    lsi_names: list[str] | None = None,
    billing_mode: str | None = None,
    throughput: dict[str, Any] | None = None,
    restore_summary: dict[str, Any],
    request: dict[str, Any] | None = None,
) -> Table:
    """A new table from a snapshot: schema, kept indexes, items and the given encryption.

    Streams, TTL, point-in-time recovery, tags and deletion protection are not
    carried over, as in AWS.
    """
    gsis = _select_indexes(source.global_indexes, gsi_names, "global secondary index")
    lsis = _select_indexes(source.indexes, lsi_names, "local secondary index")
    mode = billing_mode or source.billing_mode or "PROVISIONED"
    if mode == "PROVISIONED":
        provisioned = throughput or {
            k: v for k, v in source.throughput.items() if k in ("ReadCapacityUnits", "WriteCapacityUnits")
        }
    else:
        provisioned = None
    table = Table(
        name,
        account_id=account,
        region=region,
        schema=copy.deepcopy(source.schema),
        attr=_kept_attributes(source.schema, gsis, lsis, copy.deepcopy(source.attr)),
        throughput=copy.deepcopy(provisioned),
        billing_mode=mode,
        sse_specification=copy.deepcopy(sse),
    )
    table.global_indexes = gsis
    table.indexes = lsis
    table.items = copy.deepcopy(source.items)
    table._rp_restore_summary = restore_summary
    from . import table_capacity

    # Class and on-demand maximum follow the source; a DynamoDB restore's
    # capacity overrides (`request`) are validated and applied as AWS does.
    table_capacity.restore_capacity(table, source, request)
    return table


def start_table_restore(
    ctx: Any,
    *,
    kind: str,
    account: str,
    region: str,
    table: Table,
    size_bytes: int,
    idempotency_token: str | None = None,
) -> Any:
    """Put a restored table in place as CREATING and let the engine finish it."""
    backend = dynamodb_backends[account][region]
    table._rp_restoring = True
    backend.tables[table.name] = table

    def complete(_: Any) -> str | None:
        table._rp_restoring = False
        return None

    def failed(_: Any) -> None:
        # A failed restore leaves no table behind.
        if backend.tables.get(table.name) is table:
            del backend.tables[table.name]

    restore = ctx.engine.start(
        kind=kind, account=account, region=region, target_table=table.name,
        size_bytes=size_bytes, idempotency_token=idempotency_token,
        complete=complete, failed=failed,
    )
    table._rp_restore = restore
    return restore


# ---------------------------------------------------------------------------
# Requests.


def _validate_target_name(name: Any) -> str:
    if not isinstance(name, str) or not _TABLE_NAME.match(name):
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{name}' at 'targetTableName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ (3 to 255 characters)",
        )
    return name


def _restore_from_backup(ctx: Any, req: AwsRequest) -> Response:
    params = req.json()
    target = _validate_target_name(params.get("TargetTableName"))
    backup_arn = params.get("BackupArn") or ""
    backend = dynamodb_backends[req.account][req.region]
    if target in backend.tables:
        raise AwsError("TableAlreadyExistsException", f"Table already exists: {target}")
    found = _BACKUP_ARN.match(backup_arn)
    source_region = req.region
    if found:
        source_region, source_account = found.group(1), found.group(2)
        if source_account != req.account:
            raise AwsError(
                "ValidationException",
                f"A DynamoDB backup restores only in its own account: {backup_arn} belongs to {source_account}, "
                f"not {req.account}; copy it with AWS Backup (advanced DynamoDB backup) to restore it there",
            )
    backup = dynamodb_backends[req.account][source_region].backups.get(backup_arn)
    if backup is None:
        raise AwsError("BackupNotFoundException", f"Backup not found: {backup_arn}")
    caller = kms_fixes.caller_arn(req.access_key, req.account)
    override = params.get("SSESpecificationOverride")
    if source_region != req.region and override is None:
        raise AwsError(
            "ValidationException",
            f"Restoring backup {backup_arn} of Region {source_region} into {req.region} needs an "
            "SSESpecificationOverride: the table's key cannot follow it across Regions",
        )
    sse = (
        resolve_sse(override, req.account, req.region, caller)
        if override is not None
        else carry_sse(backup.table, req.account, req.region)
    )
    table = build_restored_table(
        account=req.account,
        region=req.region,
        name=target,
        source=backup.table,
        sse=sse,
        gsi_names=_override_names(params.get("GlobalSecondaryIndexOverride"), "GlobalSecondaryIndexOverride"),
        lsi_names=_override_names(params.get("LocalSecondaryIndexOverride"), "LocalSecondaryIndexOverride"),
        billing_mode=params.get("BillingModeOverride"),
        throughput=params.get("ProvisionedThroughputOverride"),
        request=params,
        restore_summary={
            "SourceBackupArn": backup.arn,
            "SourceTableArn": backup.table.table_arn,
            "RestoreDateTime": time.time(),
        },
    )
    ctx.engine.check_capacity(req.account)
    start_table_restore(
        ctx, kind="dynamodb-backup", account=req.account, region=req.region,
        table=table, size_bytes=getattr(backup, "_rp_size_bytes", 0),
    )
    return json_response(req, table.describe())


def _restore_to_point_in_time(ctx: Any, req: AwsRequest) -> Response:
    params = req.json()
    target = _validate_target_name(params.get("TargetTableName"))
    source_arn = params.get("SourceTableArn")
    source_name = params.get("SourceTableName")
    source_account, source_region = req.account, req.region
    if source_arn:
        found = _TABLE_ARN.match(source_arn)
        if not found:
            raise AwsError("ValidationException", f"Invalid SourceTableArn: {source_arn}")
        source_region, source_account, source_name = found.groups()
        if source_account != req.account:
            raise AwsError(
                "ValidationException",
                f"point-in-time restores stay in the source table's account: {source_arn} belongs to "
                f"{source_account}, not {req.account}",
            )
    if not source_name:
        raise AwsError("ValidationException", "Either SourceTableName or SourceTableArn must be specified")
    source = dynamodb_backends[source_account][source_region].tables.get(source_name)
    if source is None:
        raise AwsError("SourceTableNotFoundException", f"Source table not found: {source_arn or source_name}")
    pitr = source.continuous_backups["PointInTimeRecoveryDescription"]
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        raise AwsError("PointInTimeRecoveryUnavailableException", f"Point in time recovery is not enabled for table '{source_name}'")
    now = time.time()
    if params.get("UseLatestRestorableTime"):
        restore_time = now
    elif params.get("RestoreDateTime") is not None:
        from .wire import parse_timestamp

        restore_time = parse_timestamp(params["RestoreDateTime"])
        earliest = float(pitr.get("EarliestRestorableDateTime") or 0)
        if restore_time < earliest or restore_time > now:
            raise AwsError(
                "InvalidRestoreTimeException",
                f"RestoreDateTime must be between {earliest:.0f} (EarliestRestorableDateTime) and {now:.0f} "
                "(LatestRestorableDateTime)",
            )
    else:
        raise AwsError("ValidationException", "Either RestoreDateTime or UseLatestRestorableTime must be specified")
    backend = dynamodb_backends[req.account][req.region]
    if target in backend.tables:
        raise AwsError("TableAlreadyExistsException", f"Table already exists: {target}")
    caller = kms_fixes.caller_arn(req.access_key, req.account)
    override = params.get("SSESpecificationOverride")
    sse = (
        resolve_sse(override, req.account, req.region, caller)
        if override is not None
        else carry_sse(source, req.account, req.region)
    )
    table = build_restored_table(
        account=req.account,
        region=req.region,
        name=target,
        source=source,
        sse=sse,
        gsi_names=_override_names(params.get("GlobalSecondaryIndexOverride"), "GlobalSecondaryIndexOverride"),
        lsi_names=_override_names(params.get("LocalSecondaryIndexOverride"), "LocalSecondaryIndexOverride"),
        billing_mode=params.get("BillingModeOverride"),
        throughput=params.get("ProvisionedThroughputOverride"),
        request=params,
        restore_summary={"SourceTableArn": source.table_arn, "RestoreDateTime": restore_time},
    )
    ctx.engine.check_capacity(req.account)
    start_table_restore(
        ctx, kind="dynamodb-pitr", account=req.account, region=req.region,
        table=table, size_bytes=table_size_bytes(source),
    )
    return json_response(req, table.describe())


def _table_named(req: AwsRequest, params: dict[str, Any]) -> Table | None:
    backend = dynamodb_backends[req.account][req.region]
    ref = params.get("TableName") or params.get("ResourceArn")
    if not isinstance(ref, str):
        return None
    table = backend.tables.get(ref)
    if table is None:
        table = next((t for t in list(backend.tables.values()) if t.table_arn == ref), None)
    return table


def _create_table(req: AwsRequest, call_moto: Any) -> Response | None:
    params = req.json()
    spec = params.get("SSESpecification")
    if not spec:
        return None
    sse = resolve_sse(spec, req.account, req.region, kms_fixes.caller_arn(req.access_key, req.account))

    body = dict(params)
    if sse:
        body["SSESpecification"] = sse
    else:
        # An AWS owned key: no SSESpecification at all, or moto would pick a KMS key.
        body.pop("SSESpecification")
    return call_moto(body=json.dumps(body).encode())


def handle(ctx: Any, req: AwsRequest, call_moto: Any) -> Response | None:
    """Answer a DynamoDB request moto would get wrong; None lets moto answer it."""
    try:
        if req.operation == "RestoreTableFromBackup":
            return _restore_from_backup(ctx, req)
        if req.operation == "RestoreTableToPointInTime":
            return _restore_to_point_in_time(ctx, req)
        if req.operation == "CreateTable":
            return _create_table(req, call_moto)
        if req.operation in ("Scan", "GetItem"):
            from .capacity import handle_read

            return handle_read(ctx, req, call_moto)
        if req.operation in _BUSY_WHILE_CREATING:
            table = _table_named(req, req.json())
            if table is not None and getattr(table, "_rp_restoring", False):
                raise AwsError(
                    "ResourceInUseException",
                    f"Attempt to change a resource which is still in use: Table is being restored: {table.table_arn}",
                )
        if req.operation == "UpdateTable":
            table = _table_named(req, req.json())
            if table is not None:
                from . import table_capacity

                return table_capacity.handle_update(req, table, call_moto)
        from . import dynamodb_extras

        if req.operation in dynamodb_extras.OPERATIONS:
            return dynamodb_extras.handle(req)
    except AwsError as err:
        return error_response(req, err)
    return None
