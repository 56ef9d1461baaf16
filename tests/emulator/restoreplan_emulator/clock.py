"""The emulator's clock: the wall clock, or the time `RESTOREPLAN_NOW` names.

restoreplan reads "now" from `RESTOREPLAN_NOW` when it is set (docs/cli.md);
the emulator honours the same variable (or `serve --now TIME`) so that every
timestamp it decides — table and backup creation, recovery point dates,
restorable windows, job times — sits on the same clock as the binary under
test. The clock starts at that time and advances in real time.

freezegun does the patching: it replaces `time.time`, `datetime.now` and
their relatives in every loaded module (moto's backends included), which is
what makes one setting reach every timestamp moto decides by itself.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

NOW_VAR = "RESTOREPLAN_NOW"

_started: datetime | None = None


def parse(text: str) -> datetime:
    """An RFC 3339 time (`2026-11-24T09:00:00Z`) or a date (midnight UTC)."""
    value = text.strip()
    try:
        if len(value) == 10:
            parsed = datetime.strptime(value, "%Y-%m-%d")
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{NOW_VAR}={text!r} is not a time like 2026-11-24T09:00:00Z or a date like 2026-11-24"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def start(value: str | None = None) -> datetime | None:
    """Starts the clock at `value` (or `RESTOREPLAN_NOW`); None leaves the wall clock."""
    global _started
    text = value if value else os.environ.get(NOW_VAR, "")
    if not text.strip():
        return None
    at = parse(text)
    import freezegun

    # freezegun hands the real time to callers whose nearby stack frames
    # belong to `threading` (and a few other modules) by default; the
    # emulator answers every request and ticks its restore clock on threads,
    # so the shifted time must reach them all.
    freezegun.configure(default_ignore_list=[])
    # tick=True: time moves on from `at` at the real rate, so durations,
    # sleeps and timeouts behave as without the shift.
    freezegun.freeze_time(at, tick=True).start()
    _started = at
    return at


def started_at() -> datetime | None:
    """The time the clock was started at, or None for the wall clock."""
    return _started
