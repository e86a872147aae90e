"""Notifications the server sent this nurse (missed visit, silent device, pump maintenance).

They arrive in the pull as records of type ``notification`` and are stored like any synced
record; here they are read back, newest first, for ``infusync-device notifications``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, TypeAlias

from offline_store.clock import parse_rfc3339
from offline_store.store import Store

if TYPE_CHECKING:
    from offline_store.cli import Context

NOTIFICATION = "notification"
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True)
class NotificationLine:
    """One notification as listed."""

    id: str
    kind: str
    title: str
    body: str
    created_at: datetime | None
    about: str | None  # the visit, pump or training module it concerns


def _about(data: dict[str, object]) -> str | None:
    for name in ("visit_id", "pump_id", "module_id"):
        value = data.get(name)
        if isinstance(value, str) and value:
            return f"{name.removesuffix('_id')} {value}"
    return None


def _created(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_rfc3339(value)
    except ValueError:
        return None


def list_notifications(store: Store) -> list[NotificationLine]:
    """The notifications on this device, newest first."""
    lines = [NotificationLine(record.id, str(record.data.get("kind", "")),
                              str(record.data.get("title", "")),
                              str(record.data.get("body", "")),
                              _created(record.data.get("created_at")), _about(record.data))
             for record in store.all(NOTIFICATION)]
    never = datetime.min.replace(tzinfo=UTC)
    return sorted(lines, key=lambda line: (line.created_at or never, line.id), reverse=True)


def print_notifications(lines: list[NotificationLine], zone: tzinfo | None) -> None:
    """One block per notification: when, title, what it concerns, then the message."""
    if not lines:
        print("no notifications on this device (run `infusync-device sync`)")
        return
    for line in lines:
        when = line.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") \
            if line.created_at else "-"
        about = f"  ({line.about})" if line.about else ""
        print(f"{when}  {line.kind:<13}  {line.title}{about}")
        print(f"    {line.body}")


def cmd_notifications(ctx: Context) -> None:
    """List the notifications the server sent to this nurse."""
    with ctx.open() as store:
        lines = list_notifications(store)
    print_notifications(lines, ctx.clock().tzinfo)


def add_notification_commands(sub: Subparsers) -> None:
    """``infusync-device notifications``."""
    sub.add_parser("notifications", help="alerts and reminders from the agency").set_defaults(
        handler=cmd_notifications)
