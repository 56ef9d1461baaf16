"""Restores in flight: the duration model, the concurrency limit, the clock.

Every restore, whether AWS Backup's StartRestoreJob or DynamoDB's
RestoreTableFromBackup / RestoreTableToPointInTime, is a `Restore` here. Its
whole timeline is fixed when it starts:

    modeled = restore_base_seconds + size_bytes / restore_bytes_per_second
    pending = min(60, modeled / 10)      # the PENDING part of it
    wall    = seconds * time_scale       # with the options as they were at the start

`tick()` moves restores along the clock. It runs before every AWS request
(under the emulator's lock) and from a background thread, so a restore whose
time has come is finished, and its table exists, before anyone can observe
it, and also when nobody polls.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

from .config import Config
from .wire import AwsError

IN_FLIGHT = ("PENDING", "RUNNING")
PENDING_CAP_SECONDS = 60.0


@dataclass
class Restore:
    id: str
    kind: str  # "backup" (StartRestoreJob), "dynamodb-backup", "dynamodb-pitr"
    account: str
    region: str
    target_table: str
    idempotency_token: str | None
    size_bytes: int
    modeled_seconds: float  # unscaled total duration
    created: float
    running_at: float
    finish_at: float
    fail: bool  # a --fail-table target: ends FAILED at finish_at
    status: str = "PENDING"
    status_message: str | None = None
    started: float | None = None
    finished: float | None = None
    # Called under the lock when the clock reaches finish_at. `complete` returns
    # None on success or a failure message; `failed` cleans up after a failure.
    complete: Callable[["Restore"], str | None] | None = field(default=None, repr=False)
    failed: Callable[["Restore"], None] | None = field(default=None, repr=False)

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    def percent_done(self, now: float) -> str:
        if self.status == "COMPLETED":
            return "100.00%"
        if self.status != "RUNNING" or self.finish_at <= self.running_at:
            return "0.00%"
        fraction = (now - self.running_at) / (self.finish_at - self.running_at)
        return f"{max(0.0, min(fraction, 0.9999)) * 100:.2f}%"

    @property
    def expected_minutes(self) -> int:
        # Modeled (AWS) minutes, rounded, not scaled wall-clock minutes.
        return max(1, round(self.modeled_seconds / 60))

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "account": self.account,
            "region": self.region,
            "target_table": self.target_table,
            "idempotency_token": self.idempotency_token,
            "size_bytes": self.size_bytes,
            "modeled_seconds": self.modeled_seconds,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "expected_finish": self.finish_at,
            "status": self.status,
            "status_message": self.status_message,
        }


class RestoreEngine:
    def __init__(self, config: Config):
        self.config = config
        self.restores: list[Restore] = []

    def reset(self) -> None:
        self.restores.clear()

    def in_flight(self, account: str) -> list[Restore]:
        return [r for r in self.restores if r.account == account and r.in_flight]

    def check_capacity(self, account: str) -> None:
        """LimitExceededException when the account already has the maximum in flight."""
        limit = self.config.max_concurrent_restores
        if len(self.in_flight(account)) >= limit:
            raise AwsError(
                "LimitExceededException",
                f"account {account} already has {limit} restores in progress, the maximum; "
                "retry when one of them has finished",
            )

    def target_taken(self, account: str, region: str, table: str) -> bool:
        """Whether an in-flight restore already writes to this table."""
        return any(
            r.in_flight and r.account == account and r.region == region and r.target_table == table
            for r in self.restores
        )

    def start(
        self,
        *,
        kind: str,
        account: str,
        region: str,
        target_table: str,
        size_bytes: int,
        idempotency_token: str | None = None,
        restore_id: str | None = None,
        complete: Callable[[Restore], str | None] | None = None,
        failed: Callable[[Restore], None] | None = None,
        fail_message: str | None = None,
        now: float | None = None,
    ) -> Restore:
        """Start a restore; with `fail_message` it is FAILED from the start (never in flight)."""
        now = time.time() if now is None else now
        cfg = self.config
        modeled = cfg.restore_base_seconds + size_bytes / cfg.restore_bytes_per_second
        pending = min(PENDING_CAP_SECONDS, modeled / 10)
        restore = Restore(
            id=restore_id or str(uuid.uuid4()),
            kind=kind,
            account=account,
            region=region,
            target_table=target_table,
            idempotency_token=idempotency_token,
            size_bytes=size_bytes,
            modeled_seconds=modeled,
            created=now,
            running_at=now + pending * cfg.time_scale,
            finish_at=now + modeled * cfg.time_scale,
            fail=target_table in cfg.fail_tables,
            complete=complete,
            failed=failed,
        )
        self.restores.append(restore)
        if fail_message:
            self.fail_now(restore, fail_message, now)
        else:
            self.tick(now)
        return restore

    def fail_now(self, restore: Restore, message: str, now: float | None = None) -> None:
        """End a restore FAILED right away (e.g. its target table already exists)."""
        now = time.time() if now is None else now
        restore.status = "FAILED"
        restore.status_message = message
        restore.finished = now
        if restore.failed:
            restore.failed(restore)

    def tick(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for restore in self.restores:
            if not restore.in_flight:
                continue
            if restore.status == "PENDING" and now >= restore.running_at:
                restore.status = "RUNNING"
                restore.started = restore.running_at
            if now < restore.finish_at:
                continue
            if restore.started is None:
                restore.started = restore.running_at
            if restore.fail:
                self.fail_now(
                    restore,
                    f"restore of table {restore.target_table} failed: the emulator was told to fail "
                    f"restores into this table (--fail-table)",
                    restore.finish_at,
                )
                continue
            message = restore.complete(restore) if restore.complete else None
            if message:
                self.fail_now(restore, message, restore.finish_at)
            else:
                restore.status = "COMPLETED"
                restore.finished = restore.finish_at

    def next_deadline(self) -> float | None:
        deadlines = [
            r.running_at if r.status == "PENDING" else r.finish_at for r in self.restores if r.in_flight
        ]
        return min(deadlines) if deadlines else None

    def max_concurrent(self) -> dict[str, int]:
        """Per account, the most restores that were ever in flight at once.

        Computed from the restores' [created, finished) intervals, so it does
        not depend on when tick() happened to run.
        """
        events: dict[str, list[tuple[float, int]]] = {}
        now = time.time()
        for r in self.restores:
            end = r.finished if r.finished is not None else max(now, r.finish_at)
            if end <= r.created:
                continue  # Failed at the start: never in flight.
            events.setdefault(r.account, []).extend([(r.created, 1), (end, -1)])
        result = {}
        for account, points in events.items():
            # Ends sort before starts at the same instant: back-to-back is not overlap.
            points.sort(key=lambda p: (p[0], p[1]))
            current = peak = 0
            for _, delta in points:
                current += delta
                peak = max(peak, current)
            result[account] = peak
        return result
