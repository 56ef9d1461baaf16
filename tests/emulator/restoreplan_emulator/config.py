"""The emulator's options: set by `serve` flags, changed by POST /_restoreplan/config.

Every option has one name, used with underscores as the JSON key of the
config endpoint and with dashes as the command-line flag.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field
from typing import Any

MIB = 1024 * 1024


@dataclass
class Config:
    # Multiplies every modeled duration; 0.001 turns a 30-minute restore into 1.8 s.
    time_scale: float = 1.0
    # Duration model of one restore: base + size / rate (seconds of modeled time).
    restore_base_seconds: float = 600.0
    restore_bytes_per_second: float = 50.0 * MIB
    # Fractions of AWS requests answered with injected faults.
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    fault_seed: int = 0
    # Services that faults apply to (SigV4 signing names).
    fault_services: list[str] = field(default_factory=lambda: ["backup", "dynamodb", "kms"])
    # Restores into these target table names end FAILED.
    fail_tables: list[str] = field(default_factory=list)
    # In-flight restores allowed per account (AWS Backup and DynamoDB restores together).
    max_concurrent_restores: int = 50
    # moto's {"stepfunctions": {"execute_state_machine": ...}}: run state machines' executions.
    execute_state_machines: bool = False
    # Duration model of one copy job: base + size / rate (seconds of modeled time).
    copy_base_seconds: float = 0.0
    copy_bytes_per_second: float = 50.0 * MIB
    # A cross-account copy into a vault without an access policy is refused (as in AWS) when true.
    require_vault_access_policy: bool = False
    # Throttle reads of a PROVISIONED table past its read capacity units per second.
    enforce_read_capacity: bool = False
    # Wall-clock seconds to hold each request of these operations before it is served
    # (e.g. {"DeleteAlarms": 5}), so a test can kill a client at a chosen moment; a
    # request still held when its operation is taken off the list is dropped (503).
    delay_operations: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update; raises ValueError naming the bad key, changing nothing."""
        if not isinstance(changes, dict):
            raise ValueError("the body must be a JSON object of options")
        staged = Config(**asdict(self))
        for key, value in changes.items():
            key = key.replace("-", "_")
            if key == "fail_table":  # The flag's singular spelling.
                key = "fail_tables"
            if not hasattr(staged, key):
                raise ValueError(f"unknown option {key!r}; known: {', '.join(sorted(asdict(self)))}")
            setattr(staged, key, _convert(key, value))
        staged.validate()
        for key, value in asdict(staged).items():
            setattr(self, key, value)

    def validate(self) -> None:
        if self.time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        if self.restore_base_seconds < 0:
            raise ValueError("restore_base_seconds must be >= 0")
        if self.restore_bytes_per_second <= 0:
            raise ValueError("restore_bytes_per_second must be > 0")
        if self.copy_base_seconds < 0:
            raise ValueError("copy_base_seconds must be >= 0")
        if self.copy_bytes_per_second <= 0:
            raise ValueError("copy_bytes_per_second must be > 0")
        for name in ("throttle_rate", "error_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.throttle_rate + self.error_rate > 1.0:
            raise ValueError("throttle_rate + error_rate must not exceed 1")
        if self.max_concurrent_restores < 0:
            raise ValueError("max_concurrent_restores must be >= 0")


_BOOLEANS = {"execute_state_machines", "enforce_read_capacity", "require_vault_access_policy"}


def _convert(key: str, value: Any) -> Any:
    try:
        if key == "delay_operations":
            if not isinstance(value, dict) or not all(
                    isinstance(k, str) and not isinstance(v, bool) and float(v) >= 0 for k, v in value.items()):
                raise ValueError
            return {k: float(v) for k, v in value.items()}
        if key in ("fail_tables", "fault_services"):
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError
            return list(value)
        if key in _BOOLEANS:
            if not isinstance(value, bool):
                raise ValueError
            return value
        if key in ("fault_seed", "max_concurrent_restores"):
            if isinstance(value, bool) or int(value) != float(value):
                raise ValueError
            return int(value)
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"option {key!r} has an invalid value {value!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = Config()
    parser.add_argument("--time-scale", type=float, default=d.time_scale, metavar="F",
                        help="multiply every modeled duration by F (default %(default)s)")
    parser.add_argument("--restore-base-seconds", type=float, default=d.restore_base_seconds, metavar="S",
                        help="fixed part of a restore's modeled duration (default %(default)s)")
    parser.add_argument("--restore-bytes-per-second", type=float, default=d.restore_bytes_per_second, metavar="B",
                        help="restore throughput of the modeled duration (default 50 MiB/s)")
    parser.add_argument("--copy-base-seconds", type=float, default=d.copy_base_seconds, metavar="S",
                        help="fixed part of a copy job's modeled duration (default %(default)s)")
    parser.add_argument("--copy-bytes-per-second", type=float, default=d.copy_bytes_per_second, metavar="B",
                        help="copy job throughput of the modeled duration (default 50 MiB/s)")
    parser.add_argument("--require-vault-access-policy", action="store_true",
                        help="refuse cross-account copies into vaults without an access policy, as AWS does")
    parser.add_argument("--throttle-rate", type=float, default=d.throttle_rate, metavar="F",
                        help="fraction of AWS requests answered with a throttling error")
    parser.add_argument("--error-rate", type=float, default=d.error_rate, metavar="F",
                        help="fraction of AWS requests answered with HTTP 500/503")
    parser.add_argument("--fault-seed", type=int, default=d.fault_seed, metavar="N",
                        help="seed of the fault sequence (default %(default)s)")
    parser.add_argument("--fault-services", default=",".join(d.fault_services), metavar="LIST",
                        help="comma-separated signing names faults apply to (default %(default)s)")
    parser.add_argument("--fail-table", action="append", default=[], metavar="NAME",
                        help="a restore into a table of this name ends FAILED (repeatable)")
    parser.add_argument("--max-concurrent-restores", type=int, default=d.max_concurrent_restores, metavar="N",
                        help="in-flight restores allowed per account (default %(default)s)")
    parser.add_argument("--execute-state-machines", action="store_true",
                        help="run Step Functions executions (moto's stepfunctions execute_state_machine)")
    parser.add_argument("--enforce-read-capacity", action="store_true",
                        help="throttle Scan/GetItem past a provisioned table's read capacity per second")
    parser.add_argument("--delay-operations", default="", metavar="OP=S,...",
                        help="hold each request of these operations for S wall-clock seconds before serving it")


def from_arguments(args: argparse.Namespace) -> Config:
    config = Config(
        time_scale=args.time_scale,
        restore_base_seconds=args.restore_base_seconds,
        restore_bytes_per_second=args.restore_bytes_per_second,
        throttle_rate=args.throttle_rate,
        error_rate=args.error_rate,
        fault_seed=args.fault_seed,
        fault_services=[s.strip() for s in args.fault_services.split(",") if s.strip()],
        fail_tables=list(args.fail_table),
        max_concurrent_restores=args.max_concurrent_restores,
        execute_state_machines=args.execute_state_machines,
        enforce_read_capacity=args.enforce_read_capacity,
        copy_base_seconds=args.copy_base_seconds,
        copy_bytes_per_second=args.copy_bytes_per_second,
        require_vault_access_policy=args.require_vault_access_policy,
        delay_operations={
            op.strip(): float(secs)
            for op, _, secs in (item.partition("=") for item in args.delay_operations.split(",") if item.strip())
        },
    )
    config.validate()
    return config
