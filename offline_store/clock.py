"""Time as the device reports it: local offset in payloads, UTC for the device clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, aware, in the device's local time zone (payloads keep the nurse's offset)."""
    return datetime.now().astimezone()


def local_rfc3339(moment: datetime) -> str:
    """RFC 3339 with the moment's own offset, e.g. ``2026-11-23T08:05:00-05:00``."""
    if moment.tzinfo is None:
        raise ValueError("device times must be timezone-aware")
    return moment.isoformat(timespec="seconds")


def utc_rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``, the form of ``device_clock`` and of stored sync times."""
    if moment.tzinfo is None:
        raise ValueError("device times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or offset) into an aware datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without offset: {text!r}")
    return moment
