"""Read capacity as DynamoDB computes it, and a per-second ledger of it per table.

moto answers `ReturnConsumedCapacity` with a fixed number. Here Scan and
GetItem are charged as AWS documents:

- Scan: the summed size of every item the Scan read (all of them, before any
  filter, also with `Select=COUNT`; for an index scan, the index entries),
  rounded up to the next 4 KB; one read unit per 4 KB for a strongly
  consistent read, half of one for an eventually consistent read (the
  default). A Scan that reads nothing still costs one 4 KB read.
- GetItem: the item's size rounded up to 4 KB the same way (an item that
  does not exist costs one 4 KB read).

Every charge is also booked to the table in the second (wall clock) it was
made, so a test can read back the most a table ever consumed in one second
(GET /_restoreplan/capacity). With `enforce_read_capacity`, a read of a
PROVISIONED table whose units for the current second are already used up is
answered ProvisionedThroughputExceededException, as DynamoDB throttles it
(without AWS's burst capacity).
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table

from .wire import AwsError, AwsRequest, Response, json_response

UNIT_BYTES = 4096


def read_units(size_bytes: int, consistent: bool) -> float:
    blocks = max(1, math.ceil(size_bytes / UNIT_BYTES))
    return blocks * (1.0 if consistent else 0.5)


class CapacityLedger:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        # (account, region, table) -> {epoch second: read units}
        self.reads: dict[tuple[str, str, str], dict[int, float]] = {}
        self.requests: dict[tuple[str, str, str], int] = {}

    def book(self, account: str, region: str, table: str, units: float, now: float | None = None) -> None:
        key = (account, region, table)
        second = int(time.time() if now is None else now)
        per_second = self.reads.setdefault(key, {})
        per_second[second] = per_second.get(second, 0.0) + units
        self.requests[key] = self.requests.get(key, 0) + 1

    def used_this_second(self, account: str, region: str, table: str, now: float | None = None) -> float:
        second = int(time.time() if now is None else now)
        return self.reads.get((account, region, table), {}).get(second, 0.0)

    def to_json(self, table: str | None = None) -> dict[str, Any]:
        out = []
        for (account, region, name), per_second in sorted(self.reads.items()):
            if table is not None and name != table:
                continue
            source = dynamodb_backends[account][region].tables.get(name)
            provisioned = None
            if source is not None and source.billing_mode == "PROVISIONED":
                provisioned = source.throughput.get("ReadCapacityUnits")
            out.append({
                "account": account,
                "region": region,
                "table": name,
                "billing_mode": source.billing_mode if source is not None else None,
                "provisioned_read_capacity_units": provisioned,
                "requests": self.requests.get((account, region, name), 0),
                "read_units_total": sum(per_second.values()),
                "max_read_units_per_second": max(per_second.values()),
                "seconds": [{"second": s, "read_units": u} for s, u in sorted(per_second.items())],
            })
        return {"tables": out}


def _table(req: AwsRequest, params: dict[str, Any]) -> Table | None:
    ref = params.get("TableName")
    if not isinstance(ref, str):
        return None
    backend = dynamodb_backends[req.account][req.region]
    table = backend.tables.get(ref)
    if table is None:
        table = next((t for t in list(backend.tables.values()) if t.table_arn == ref), None)
    return table


def _scanned_bytes(table: Table, params: dict[str, Any], scanned_count: int) -> int:
    """The size of the `scanned_count` items the Scan read, in the order moto read them."""
    index_name = params.get("IndexName")
    index = None
    if index_name:
        index = table.get_index(index_name)
        hash_key = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
        range_key = next((k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"), None)
        hash_attrs = [hash_key, table.hash_key_attr]
        range_attrs = [range_key, table.range_key_attr] if range_key else [table.range_key_attr]
        items = table.sorted_items(hash_attrs, range_attrs, table.has_idx_items(index_name))
    else:
        hash_attrs, range_attrs = [table.hash_key_attr], [table.range_key_attr]
        items = table.all_items()
    segments = (params.get("Segment"), params.get("TotalSegments"))
    if segments[0] is None or segments[1] is None:
        segments = (None, None)
    start = params.get("ExclusiveStartKey")
    total = counted = 0
    for item in items:
        if counted >= scanned_count:
            break
        if not item.is_within_segment(segments):
            continue
        if start is not None:
            if table._item_comes_before_dct(item, start, hash_attrs, range_attrs, True):
                continue
            start = None
        total += (index.project(item) if index is not None else item).size()
        counted += 1
    return total


def _consumed(table_name: str, units: float, mode: str, index_name: str | None, table: Table) -> dict[str, Any]:
    consumed: dict[str, Any] = {"TableName": table_name, "CapacityUnits": units}
    if mode == "INDEXES":
        if index_name:
            consumed["Table"] = {"CapacityUnits": 0.0}
            kind = "GlobalSecondaryIndexes" if any(i.name == index_name for i in table.global_indexes) \
                else "LocalSecondaryIndexes"
            consumed[kind] = {index_name: {"CapacityUnits": units}}
        else:
            consumed["Table"] = {"CapacityUnits": units}
    return consumed


def handle_read(ctx: Any, req: AwsRequest, call_moto: Any) -> Response | None:
    """Scan and GetItem with AWS's consumed capacity, booked in the ledger; None: not ours."""
    params = req.json()
    table = _table(req, params)
    if table is None or getattr(table, "_rp_restoring", False):
        return None  # moto's answer (ResourceNotFoundException and the like)
    mode = params.get("ReturnConsumedCapacity", "NONE")
    if ctx.config.enforce_read_capacity and table.billing_mode == "PROVISIONED":
        limit = float(table.throughput.get("ReadCapacityUnits") or 0)
        if limit > 0 and ctx.capacity.used_this_second(req.account, req.region, table.name) >= limit:
            raise AwsError(
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded. "
                "Consider increasing your provisioning level with the UpdateTable API.",
            )
    response = call_moto()
    if response.status != 200:
        return response
    body = json.loads(response.body or b"{}")
    consistent = bool(params.get("ConsistentRead", False))
    if req.operation == "Scan":
        size = _scanned_bytes(table, params, int(body.get("ScannedCount", 0)))
    else:
        found = _stored_item(table, params) if body.get("Item") is not None else None
        size = found.size() if found is not None else 0
    units = read_units(size, consistent)
    ctx.capacity.book(req.account, req.region, table.name, units)
    body.pop("ConsumedCapacity", None)
    if mode in ("TOTAL", "INDEXES"):
        body["ConsumedCapacity"] = _consumed(params["TableName"], units, mode, params.get("IndexName"), table)
    return json_response(req, body)


def _stored_item(table: Table, params: dict[str, Any]) -> Any:
    """The whole stored item a GetItem read (a projection costs the same)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    key = params.get("Key") or {}
    try:
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        return table.get_item(hash_key, range_key)
    except Exception:
        return None
