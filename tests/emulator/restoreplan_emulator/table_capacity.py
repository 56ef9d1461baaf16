"""Capacity and class of DynamoDB tables as AWS handles them, where moto 5.2.5 does not.

- DescribeTable reports `TableClassSummary` (STANDARD unless changed),
  `OnDemandThroughput` of the table and of each GSI (when a maximum is set),
  and a `ProvisionedThroughput` of zero units for on-demand tables and their
  GSIs, as AWS does.
- Restores (RestoreTableFromBackup, RestoreTableToPointInTime, AWS Backup
  StartRestoreJob) keep the source's class and on-demand maximum; a DynamoDB
  restore honours BillingModeOverride, ProvisionedThroughputOverride,
  OnDemandThroughputOverride and the ProvisionedThroughput /
  OnDemandThroughput of each GlobalSecondaryIndexOverride entry. A
  provisioned table's GSI override entries must carry ProvisionedThroughput
  (ValidationException otherwise), and provisioned billing needs
  ProvisionedThroughputOverride when the source is on-demand.
- UpdateTable handles TableClass, BillingMode, ProvisionedThroughput,
  OnDemandThroughput and GSI capacity updates: switching to PROVISIONED
  needs ProvisionedThroughput and, for each GSI, an Update with
  ProvisionedThroughput; ProvisionedThroughput on an on-demand table (that
  stays on-demand) and OnDemandThroughput on a provisioned one are
  ValidationExceptions; a table switches billing mode at most once in 24
  hours (emulator clock: LimitExceededException); an update that changes
  nothing is a ValidationException, as AWS answers it. The rest of the
  request (streams, deletion protection, …) is left to moto.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from moto.dynamodb.models.table import Table

from .wire import AwsError, AwsRequest, Response, json_response

CLASSES = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")
MODES = ("PROVISIONED", "PAY_PER_REQUEST")
SWITCH_WINDOW_SECONDS = 24 * 3600
_CAPACITY_KEYS = ("TableClass", "BillingMode", "ProvisionedThroughput", "OnDemandThroughput")


def _units(spec: Any, where: str) -> dict[str, int]:
    if not isinstance(spec, dict):
        raise AwsError("ValidationException", f"{where} must be a structure with ReadCapacityUnits and WriteCapacityUnits")
    out = {}
    for key in ("ReadCapacityUnits", "WriteCapacityUnits"):
        value = spec.get(key)
        if not isinstance(value, int) or value < 1:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{value}' at '{where}.{key}' failed to satisfy constraint: "
                "Member must have value greater than or equal to 1",
            )
        out[key] = value
    return out


def _on_demand(spec: Any, where: str) -> dict[str, int]:
    if not isinstance(spec, dict):
        raise AwsError("ValidationException", f"{where} must be a structure")
    out = {}
    for key in ("MaxReadRequestUnits", "MaxWriteRequestUnits"):
        if key in spec:
            value = spec[key]
            if not isinstance(value, int) or (value < 1 and value != -1):
                raise AwsError("ValidationException", f"{where}.{key} must be -1 or at least 1, got {value}")
            out[key] = value
    return out


def _merge_on_demand(old: dict[str, int] | None, new: dict[str, int]) -> dict[str, int] | None:
    merged = dict(old or {})
    for key, value in new.items():
        if value == -1:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged or None


def table_class(table: Table) -> str:
    return getattr(table, "_rp_table_class", "STANDARD")


def describe(table: Table, desc: dict[str, Any]) -> None:
    """Adds what AWS reports about capacity and class to a table description."""
    desc["TableClassSummary"] = {"TableClass": table_class(table)}
    on_demand = table.billing_mode == "PAY_PER_REQUEST"
    if on_demand:
        desc["ProvisionedThroughput"] = dict(
            desc.get("ProvisionedThroughput") or {}, ReadCapacityUnits=0, WriteCapacityUnits=0)
    maximum = getattr(table, "_rp_on_demand", None)
    if maximum and on_demand:
        desc["OnDemandThroughput"] = dict(maximum)
    for index_desc in desc.get("GlobalSecondaryIndexes", []) or []:
        index = next((i for i in table.global_indexes if i.name == index_desc.get("IndexName")), None)
        if index is None:
            continue
        if on_demand:
            index_desc["ProvisionedThroughput"] = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
            maximum = getattr(index, "_rp_on_demand", None)
            if maximum:
                index_desc["OnDemandThroughput"] = dict(maximum)


def restore_capacity(table: Table, source: Table, params: dict[str, Any] | None) -> None:
    """Capacity of a restored `table` from `source` and a DynamoDB restore request's overrides
    (None for AWS Backup restores, which take none)."""
    table._rp_table_class = table_class(source)
    table._rp_switched_at = None
    for index in table.global_indexes:
        original = next((i for i in source.global_indexes if i.name == index.name), None)
        index._rp_on_demand = copy.deepcopy(getattr(original, "_rp_on_demand", None))
    params = params or {}
    mode = params.get("BillingModeOverride") or source.billing_mode or "PROVISIONED"
    if mode not in MODES:
        raise AwsError("ValidationException", f"BillingModeOverride must be one of {', '.join(MODES)}, got {mode}")
    if "ProvisionedThroughputOverride" in params:
        if mode != "PROVISIONED":
            raise AwsError("ValidationException",
                           "ProvisionedThroughputOverride cannot be specified when BillingMode is PAY_PER_REQUEST")
        table.throughput = dict(
            table.throughput, **_units(params["ProvisionedThroughputOverride"], "provisionedThroughputOverride"))
    elif mode == "PROVISIONED" and source.billing_mode == "PAY_PER_REQUEST":
        raise AwsError("ValidationException",
                       "ProvisionedThroughputOverride is required when restoring an on-demand table with "
                       "BillingModeOverride PROVISIONED")
    if "OnDemandThroughputOverride" in params:
        if mode != "PAY_PER_REQUEST":
            raise AwsError("ValidationException",
                           "OnDemandThroughputOverride can only be specified when BillingMode is PAY_PER_REQUEST")
        table._rp_on_demand = _merge_on_demand(None, _on_demand(params["OnDemandThroughputOverride"],
                                                                "onDemandThroughputOverride"))
    else:
        table._rp_on_demand = copy.deepcopy(getattr(source, "_rp_on_demand", None)) if mode == source.billing_mode else None
    table.billing_mode = mode
    overrides = {o.get("IndexName"): o for o in params.get("GlobalSecondaryIndexOverride") or []}
    for index in table.global_indexes:
        override = overrides.get(index.name)
        if override is None:
            if mode == "PROVISIONED" and source.billing_mode == "PAY_PER_REQUEST":
                index.throughput = dict(table.throughput)
            continue
        if "ProvisionedThroughput" in override:
            if mode != "PROVISIONED":
                raise AwsError("ValidationException",
                               f"GlobalSecondaryIndexOverride {index.name}: ProvisionedThroughput cannot be specified "
                               "when BillingMode is PAY_PER_REQUEST")
            index.throughput = _units(override["ProvisionedThroughput"],
                                      f"globalSecondaryIndexOverride.{index.name}.provisionedThroughput")
        elif mode == "PROVISIONED":
            raise AwsError("ValidationException",
                           f"One or more parameter values were invalid: ProvisionedThroughput must be specified for "
                           f"index: {index.name}")
        if "OnDemandThroughput" in override:
            if mode != "PAY_PER_REQUEST":
                raise AwsError("ValidationException",
                               f"GlobalSecondaryIndexOverride {index.name}: OnDemandThroughput needs PAY_PER_REQUEST")
            index._rp_on_demand = _merge_on_demand(None, _on_demand(
                override["OnDemandThroughput"], f"globalSecondaryIndexOverride.{index.name}.onDemandThroughput"))
    if mode == "PAY_PER_REQUEST":
        for index in table.global_indexes:
            index.throughput = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}


def update_table(table: Table, params: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """Applies the capacity and class parts of an UpdateTable request to `table`.

    Returns the request without those parts (for moto to apply the rest).
    Validates everything before changing anything."""
    now = time.time() if now is None else now
    rest = dict(params)
    for key in _CAPACITY_KEYS:
        rest.pop(key, None)
    if not any(k in params for k in _CAPACITY_KEYS) and not any(
            "Update" in u for u in params.get("GlobalSecondaryIndexUpdates") or []):
        return rest
    changed = False
    new_class = params.get("TableClass")
    if new_class is not None:
        if new_class not in CLASSES:
            raise AwsError("ValidationException", f"TableClass must be one of {', '.join(CLASSES)}, got {new_class}")
        changed |= new_class != table_class(table)
    mode = params.get("BillingMode") or table.billing_mode or "PROVISIONED"
    if mode not in MODES:
        raise AwsError("ValidationException", f"BillingMode must be one of {', '.join(MODES)}, got {mode}")
    switching = mode != (table.billing_mode or "PROVISIONED")
    if switching:
        last = getattr(table, "_rp_switched_at", None)
        if last is not None and now - last < SWITCH_WINDOW_SECONDS:
            raise AwsError(
                "LimitExceededException",
                f"Subscriber limit exceeded: Update to {mode} mode is limited to once in 1 day(s) for table "
                f"{table.name}; last switch {now - last:.0f} s ago",
            )
    throughput = None
    if "ProvisionedThroughput" in params:
        if mode != "PROVISIONED":
            raise AwsError("ValidationException",
                           "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                           "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
        throughput = _units(params["ProvisionedThroughput"], "provisionedThroughput")
    elif switching and mode == "PROVISIONED":
        raise AwsError("ValidationException",
                       "One or more parameter values were invalid: ProvisionedThroughput must be specified when "
                       "BillingMode is PROVISIONED")
    on_demand = None
    if "OnDemandThroughput" in params:
        if mode != "PAY_PER_REQUEST":
            raise AwsError("ValidationException",
                           "OnDemandThroughput can only be specified when BillingMode is PAY_PER_REQUEST")
        on_demand = _on_demand(params["OnDemandThroughput"], "onDemandThroughput")
    index_updates: dict[str, dict[str, Any]] = {}
    other_updates = []
    by_name = {i.name: i for i in table.global_indexes}
    for update in params.get("GlobalSecondaryIndexUpdates") or []:
        action = update.get("Update")
        if action is None:
            other_updates.append(update)
            continue
        name = action.get("IndexName")
        if name not in by_name:
            raise AwsError("ResourceNotFoundException", f"Requested resource not found: Index: {name} not found")
        entry: dict[str, Any] = {}
        if "ProvisionedThroughput" in action:
            if mode != "PROVISIONED":
                raise AwsError("ValidationException",
                               f"Index {name}: ProvisionedThroughput cannot be specified when BillingMode is "
                               "PAY_PER_REQUEST")
            entry["throughput"] = _units(action["ProvisionedThroughput"], f"globalSecondaryIndexUpdates.{name}")
        if "OnDemandThroughput" in action:
            if mode != "PAY_PER_REQUEST":
                raise AwsError("ValidationException",
                               f"Index {name}: OnDemandThroughput needs BillingMode PAY_PER_REQUEST")
            entry["on_demand"] = _on_demand(action["OnDemandThroughput"], f"globalSecondaryIndexUpdates.{name}")
        index_updates[name] = entry
    if switching and mode == "PROVISIONED":
        missing = [n for n in by_name if "throughput" not in index_updates.get(n, {})]
        if missing:
            raise AwsError("ValidationException",
                           "One or more parameter values were invalid: ProvisionedThroughput must be specified for "
                           f"index: {', '.join(missing)}")
    # Everything is valid: apply.
    if new_class is not None:
        table._rp_table_class = new_class
    if switching:
        changed = True
        table.billing_mode = mode
        table._rp_switched_at = now
        if mode == "PAY_PER_REQUEST":
            table.throughput = dict(table.throughput, ReadCapacityUnits=0, WriteCapacityUnits=0)
            for index in table.global_indexes:
                index.throughput = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
        else:
            table._rp_on_demand = None
            for index in table.global_indexes:
                index._rp_on_demand = None
    if throughput is not None:
        old = {k: table.throughput.get(k) for k in throughput}
        changed |= old != throughput
        table.throughput = dict(table.throughput, **throughput)
    if on_demand is not None:
        new = _merge_on_demand(getattr(table, "_rp_on_demand", None), on_demand)
        changed |= new != getattr(table, "_rp_on_demand", None)
        table._rp_on_demand = new
    for name, entry in index_updates.items():
        index = by_name[name]
        if "throughput" in entry:
            changed |= {k: index.throughput.get(k) for k in entry["throughput"]} != entry["throughput"]
            index.throughput = dict(index.throughput, **entry["throughput"])
        if "on_demand" in entry:
            new = _merge_on_demand(getattr(index, "_rp_on_demand", None), entry["on_demand"])
            changed |= new != getattr(index, "_rp_on_demand", None)
            index._rp_on_demand = new
    if not changed and not other_updates and not any(
            k in rest for k in ("StreamSpecification", "DeletionProtectionEnabled", "AttributeDefinitions",
                                "SSESpecification", "ReplicaUpdates", "WarmThroughput")):
        if new_class is not None and set(params) - {"TableName", "TableClass"} == set():
            raise AwsError("ValidationException", f"Table {table.name} already has table class {new_class}")
        raise AwsError("ValidationException",
                       "The provisioned throughput for the table will not change. The requested value equals the "
                       "current value. Current ReadCapacityUnits provisioned for the table: "
                       f"{table.throughput.get('ReadCapacityUnits')}. Requested ReadCapacityUnits: "
                       f"{(throughput or table.throughput).get('ReadCapacityUnits')}.")
    if other_updates:
        rest["GlobalSecondaryIndexUpdates"] = other_updates
    else:
        rest.pop("GlobalSecondaryIndexUpdates", None)
    return rest


def handle_update(req: AwsRequest, table: Table, call_moto: Any) -> Response:
    """UpdateTable: capacity and class here, the rest by moto."""
    params = req.json()
    if not any(k in params for k in _CAPACITY_KEYS) and not any(
            "Update" in u for u in params.get("GlobalSecondaryIndexUpdates") or []):
        return call_moto()
    rest = update_table(table, params)
    if set(rest) - {"TableName"}:
        return call_moto(body=json.dumps(rest).encode())
    return json_response(req, table.describe())
