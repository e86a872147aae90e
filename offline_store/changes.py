"""Applying a verified pull page to the store: upserts, removals, snapshots, commands.

A page is applied in one store transaction together with its cursor, so a crash leaves the
store either before the page (and the page is pulled again) or after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offline_store.device_commands import is_wipe, wipe_device
from offline_store.errors import ProtocolViolation
from offline_store.store import Store

DEVICE_COMMAND = "device_command"
# A removed patient takes with it the records that only exist because of them.
CASCADES = {"patient": ("service_location", "order", "pump")}
OPS = ("upsert", "remove")


@dataclass(frozen=True)
class Change:
    """One entry of a pull page."""

    type: str
    id: str
    op: str
    version: int | None
    data: dict[str, Any]


@dataclass(frozen=True)
class Page:
    """A verified pull response."""

    changes: tuple[Change, ...]
    cursor: str
    has_more: bool
    snapshot: bool


@dataclass(frozen=True)
class Applied:
    """What applying one page did, for reports."""

    upserts: int
    removals: int
    purged: int


def parse_page(body: Any) -> Page:
    """Validate a pull body's shape; a page that is not exactly v1 applies nothing."""
    try:
        changes = tuple(_change(item) for item in body["changes"])
        cursor, has_more, snapshot = body["cursor"], body["has_more"], body["snapshot"]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ProtocolViolation("the pull response is malformed") from exc
    if not isinstance(cursor, str) or not cursor or not isinstance(has_more, bool) \
            or not isinstance(snapshot, bool):
        raise ProtocolViolation("the pull response has a bad cursor, has_more or snapshot")
    return Page(changes, cursor, has_more, snapshot)


def _change(item: Any) -> Change:
    """Validate one change entry."""
    data, version = item.get("data") or {}, item.get("version")
    if item["op"] not in OPS or not isinstance(item["type"], str) \
            or not isinstance(item["id"], str) or not isinstance(data, dict) \
            or not (version is None or isinstance(version, int)):
        raise ProtocolViolation("a pull change is malformed")
    return Change(item["type"], item["id"], item["op"], version, data)


def apply_page(store: Store, page: Page, *, from_empty_cursor: bool) -> Applied:
    """Apply a page and save its cursor atomically; a wipe command wipes before anything."""
    if any(c.type == DEVICE_COMMAND and is_wipe(c.data) for c in page.changes):
        wipe_device(store, "the server sent a wipe command")
    upserts = removals = purged = 0
    with store.transaction():
        in_snapshot = bool(store.get_value("sync_state", "snapshot_in_progress"))
        if from_empty_cursor and page.snapshot:
            store.begin_snapshot()
            in_snapshot = True
        elif in_snapshot and not page.snapshot:
            purged += _end_snapshot(store)
            in_snapshot = False
        for change in page.changes:
            if change.type == DEVICE_COMMAND:
                continue  # commands other than wipe are not defined in v1; ignore them
            if change.op == "upsert":
                _upsert(store, change)
                upserts += 1
            else:
                removals += _remove(store, change.type, change.id)
        if in_snapshot and not page.has_more:
            purged += _end_snapshot(store)
        elif in_snapshot:
            store.set_value("sync_state", "snapshot_in_progress", True)
        store.set_value("sync_state", "cursor", page.cursor)
    return Applied(upserts, removals, purged)


def _upsert(store: Store, change: Change) -> None:
    """Store the server's record as the device's copy; the server is authoritative."""
    try:
        store.put(change.type, change.id, change.data, version=change.version, synced=True)
    except ValueError as exc:
        raise ProtocolViolation(f"unusable change type {change.type!r}") from exc


def _remove(store: Store, kind: str, record_id: str) -> int:
    """Purge a record and what cascades from it; return how many records went."""
    removed = int(store.delete(kind, record_id))
    if kind == "patient":
        removed += _purge_patient_records(store, record_id)
    return removed


def _purge_patient_records(store: Store, patient_id: str) -> int:
    """Purge a removed patient's orders, pumps and service locations."""
    # Service locations may not name their patient; the patient's visits name the locations.
    visited = {str(visit.data.get("service_location_id")) for visit in store.all("visit")
               if visit.data.get("patient_id") == patient_id}
    removed = 0
    for child_kind in CASCADES["patient"]:
        for child in store.all(child_kind):
            if child.data.get("patient_id") == patient_id or (
                    child_kind == "service_location" and child.id in visited):
                removed += int(store.delete(child_kind, child.id))
    return removed


def _end_snapshot(store: Store) -> int:
    """Close the snapshot: synced records it did not list no longer belong on the device."""
    store.set_value("sync_state", "snapshot_in_progress", None)
    return store.end_snapshot()
