"""Injected faults: throttling and server errors, in each service's real shape.

One seeded random stream decides for every AWS request, in arrival order, so
a single-threaded test sees the same faults on every run. A faulted request
never reaches a backend, so it has no effect.
"""

from __future__ import annotations

import random

from .config import Config
from .wire import AwsError, AwsRequest

# DynamoDB's data-plane operations throttle with ProvisionedThroughputExceeded;
# its control plane, AWS Backup and KMS with ThrottlingException. The AWS SDKs
# (Rust and botocore) retry both as throttling.
_DYNAMODB_DATA_PLANE = {
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
    "BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems",
    "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction",
}


class FaultInjector:
    def __init__(self, config: Config):
        self.config = config
        self.reseed()

    def reseed(self) -> None:
        self._random = random.Random(self.config.fault_seed)

    def draw(self, req: AwsRequest) -> AwsError | None:
        """The fault to answer this request with, or None. Call once per AWS request."""
        config = self.config
        if req.service not in config.fault_services:
            return None
        if config.throttle_rate <= 0 and config.error_rate <= 0:
            return None
        roll = self._random.random()
        if roll < config.throttle_rate:
            return throttling_error(req)
        if roll < config.throttle_rate + config.error_rate:
            # Alternate deterministically between the two server errors.
            if self._random.random() < 0.5:
                return AwsError("InternalFailure", "injected fault: the request processing has failed because of an unknown error", 500)
            return AwsError("ServiceUnavailable", "injected fault: the service is unavailable, try again later", 503)
        return None


def throttling_error(req: AwsRequest) -> AwsError:
    if req.service == "dynamodb" and req.operation in _DYNAMODB_DATA_PLANE:
        return AwsError(
            "ProvisionedThroughputExceededException",
            "injected fault: the level of configured provisioned throughput for the table was exceeded",
        )
    if req.protocol in ("query", "rest-xml"):
        return AwsError("Throttling", "injected fault: rate exceeded")
    return AwsError("ThrottlingException", "injected fault: rate exceeded")
