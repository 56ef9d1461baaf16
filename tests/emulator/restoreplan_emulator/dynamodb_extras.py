"""DynamoDB table settings moto 5.2.5 lacks: contributor insights and Kinesis streaming destinations.

Both live on the table, so they disappear with it and a restored table starts
without them, as in AWS.

- UpdateContributorInsights answers ENABLING/DISABLING, in the
  ContributorInsightsMode asked for (ACCESSED_AND_THROTTLED_KEYS unless
  THROTTLED_KEYS; ENABLE on an enabled table switches the mode, and
  THROTTLED_KEYS keeps only the throttled-key rules); the next
  DescribeContributorInsights shows ENABLED (with its rule names) or DISABLED.
  IndexName names a GSI of the table. ListContributorInsights lists the table
  and index entries of the caller's account and Region (only those with
  contributor insights enabled, or one table's entries with TableName).
- EnableKinesisStreamingDestination needs a Kinesis data stream of moto's
  Kinesis in the table's account and Region; it answers ENABLING and the
  destination is ACTIVE from the next DescribeKinesisStreamingDestination.
  DisableKinesisStreamingDestination answers DISABLING, then DISABLED.
"""

from __future__ import annotations

import time
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table

from .wire import AwsError, AwsRequest, Response, json_response

OPERATIONS = {
    "UpdateContributorInsights", "DescribeContributorInsights", "ListContributorInsights",
    "EnableKinesisStreamingDestination", "DescribeKinesisStreamingDestination",
    "DisableKinesisStreamingDestination",
}


def _table(req: AwsRequest, ref: Any) -> Table:
    if not isinstance(ref, str) or not ref:
        raise AwsError("ValidationException", "TableName is required")
    backend = dynamodb_backends[req.account][req.region]
    table = backend.tables.get(ref)
    if table is None:
        table = next((t for t in list(backend.tables.values()) if t.table_arn == ref), None)
    if table is None:
        raise AwsError("ResourceNotFoundException", f"Requested resource not found: Table: {ref} not found")
    return table


def _insights(table: Table) -> dict[str | None, dict[str, Any]]:
    if not hasattr(table, "_rp_contributor_insights"):
        table._rp_contributor_insights = {}
    return table._rp_contributor_insights


def _rules(table: Table, index: str | None, stamp: int, mode: str) -> list[str]:
    """The rules AWS creates: most accessed (C) and most throttled (T) keys
    of the partition key (PK) and sort key (SK); THROTTLED_KEYS only the
    throttled ones."""
    name = f"{table.name}-{index}" if index else table.name
    key_schema = table.schema
    if index:
        key_schema = next(i.schema for i in table.global_indexes if i.name == index)
    keys = ["PK"] + (["SK"] if any(k["KeyType"] == "RANGE" for k in key_schema) else [])
    suffixes = ["T"] if mode == "THROTTLED_KEYS" else ["C", "T"]
    kinds = [k + s for k in keys for s in suffixes]
    return [f"DynamoDBContributorInsights-{kind}-{name}-{stamp}" for kind in kinds]


def update_contributor_insights(req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
    table = _table(req, p.get("TableName"))
    index = p.get("IndexName")
    if index is not None and index not in {i.name for i in table.global_indexes}:
        raise AwsError("ResourceNotFoundException",
                       f"Requested resource not found: Index: {index} not found in table {table.name}")
    action = p.get("ContributorInsightsAction")
    if action not in ("ENABLE", "DISABLE"):
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value '{action}' at 'contributorInsightsAction' failed to satisfy "
                       "constraint: Member must satisfy enum value set: [ENABLE, DISABLE]")
    mode = p.get("ContributorInsightsMode") or "ACCESSED_AND_THROTTLED_KEYS"
    if mode not in ("ACCESSED_AND_THROTTLED_KEYS", "THROTTLED_KEYS"):
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value '{mode}' at 'contributorInsightsMode' failed to satisfy "
                       "constraint: Member must satisfy enum value set: [ACCESSED_AND_THROTTLED_KEYS, THROTTLED_KEYS]")
    now = time.time()
    entries = _insights(table)
    entries[index] = {"status": "ENABLED" if action == "ENABLE" else "DISABLED", "mode": mode,
                      "updated": now, "rules": _rules(table, index, int(now * 1000), mode) if action == "ENABLE" else []}
    out = {"TableName": table.name, "ContributorInsightsStatus": "ENABLING" if action == "ENABLE" else "DISABLING",
           "ContributorInsightsMode": mode}
    if index:
        out["IndexName"] = index
    return out


def describe_contributor_insights(req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
    table = _table(req, p.get("TableName"))
    index = p.get("IndexName")
    if index is not None and index not in {i.name for i in table.global_indexes}:
        raise AwsError("ResourceNotFoundException",
                       f"Requested resource not found: Index: {index} not found in table {table.name}")
    entry = _insights(table).get(index)
    out: dict[str, Any] = {"TableName": table.name, "ContributorInsightsStatus": "DISABLED"}
    if index:
        out["IndexName"] = index
    if entry is not None:
        out.update({"ContributorInsightsStatus": entry["status"], "LastUpdateDateTime": entry["updated"],
                    "ContributorInsightsMode": entry["mode"]})
        if entry["rules"]:
            out["ContributorInsightsRuleList"] = entry["rules"]
    return out


def list_contributor_insights(req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
    backend = dynamodb_backends[req.account][req.region]
    tables = [_table(req, p["TableName"])] if p.get("TableName") else sorted(backend.tables.values(), key=lambda t: t.name)
    summaries = []
    for table in tables:
        for index, entry in sorted(_insights(table).items(), key=lambda kv: kv[0] or ""):
            if entry["status"] != "ENABLED" and not p.get("TableName"):
                continue
            summary = {"TableName": table.name, "ContributorInsightsStatus": entry["status"],
                       "ContributorInsightsMode": entry["mode"]}
            if index:
                summary["IndexName"] = index
            summaries.append(summary)
    limit = p.get("MaxResults") or 100
    start = int(p.get("NextToken") or 0)
    out: dict[str, Any] = {"ContributorInsightsSummaries": summaries[start:start + limit]}
    if start + limit < len(summaries):
        out["NextToken"] = str(start + limit)
    return out


def _destinations(table: Table) -> dict[str, dict[str, Any]]:
    if not hasattr(table, "_rp_kinesis_destinations"):
        table._rp_kinesis_destinations = {}
    return table._rp_kinesis_destinations


def _stream_exists(account: str, region: str, arn: str) -> bool:
    from moto.kinesis.models import kinesis_backends

    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "kinesis" or not parts[5].startswith("stream/"):
        raise AwsError("ValidationException", f"StreamArn {arn} is not a Kinesis data stream ARN")
    if (parts[4], parts[3]) != (account, region):
        return False
    name = parts[5][len("stream/"):]
    return name in kinesis_backends[account][region].streams


def _precision(p: dict[str, Any]) -> str:
    config = p.get("EnableKinesisStreamingConfiguration") or {}
    value = config.get("ApproximateCreationDateTimePrecision", "MILLISECOND")
    if value not in ("MILLISECOND", "MICROSECOND"):
        raise AwsError("ValidationException", f"ApproximateCreationDateTimePrecision {value!r} is not MILLISECOND or MICROSECOND")
    return value


def enable_kinesis_streaming_destination(req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
    table = _table(req, p.get("TableName"))
    arn = p.get("StreamArn")
    if not isinstance(arn, str) or not arn:
        raise AwsError("ValidationException", "StreamArn is required")
    precision = _precision(p)
    if not _stream_exists(table.account_id, table.region_name, arn):
        raise AwsError("ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found")
    current = _destinations(table).get(arn)
    if current is not None and current["DestinationStatus"] == "ACTIVE":
        raise AwsError("ValidationException",
                       f"Table {table.name} already has an active streaming destination to {arn}")
    _destinations(table)[arn] = {"StreamArn": arn, "DestinationStatus": "ACTIVE",
                                 "ApproximateCreationDateTimePrecision": precision}
    return {"TableName": table.name, "StreamArn": arn, "DestinationStatus": "ENABLING",
            "EnableKinesisStreamingConfiguration": {"ApproximateCreationDateTimePrecision": precision}}


def describe_kinesis_streaming_destination(req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
    table = _table(req, p.get("TableName"))
    return {"TableName": table.name, "KinesisDataStreamDestinations": [dict(d) for d in _destinations(table).values()]}


def disable_kinesis_streaming_destination(req: AwsRequest, p: dict[str, Any]) -> dict[str, Any]:
    table = _table(req, p.get("TableName"))
    arn = p.get("StreamArn")
    current = _destinations(table).get(arn)
    if current is None or current["DestinationStatus"] != "ACTIVE":
        raise AwsError("ValidationException",
                       f"Table {table.name} has no active streaming destination to {arn}")
    current["DestinationStatus"] = "DISABLED"
    return {"TableName": table.name, "StreamArn": arn, "DestinationStatus": "DISABLING",
            "EnableKinesisStreamingConfiguration": {
                "ApproximateCreationDateTimePrecision": current["ApproximateCreationDateTimePrecision"]}}


_HANDLERS = {
    "UpdateContributorInsights": update_contributor_insights,
    "DescribeContributorInsights": describe_contributor_insights,
    "ListContributorInsights": list_contributor_insights,
    "EnableKinesisStreamingDestination": enable_kinesis_streaming_destination,
    "DescribeKinesisStreamingDestination": describe_kinesis_streaming_destination,
    "DisableKinesisStreamingDestination": disable_kinesis_streaming_destination,
}


def handle(req: AwsRequest) -> Response:
    return json_response(req, _HANDLERS[req.operation](req, req.json()))
