"""What the device shows its nurse: her visits, and where synchronisation stands."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from offline_store.clock import parse_rfc3339
from offline_store.documentation import CHECK_IN, CHECK_OUT, VITALS
from offline_store.identity import is_enrolled, load_identity
from offline_store.outbox import Outbox, Result
from offline_store.store import Store

_PENDING_LABELS = {CHECK_IN: "check-in", CHECK_OUT: "check-out", VITALS: "vitals"}


@dataclass(frozen=True)
class VisitLine:
    """One visit as listed: no more patient identity than initial and last name."""

    id: str
    start: datetime | None
    end: datetime | None
    status: str
    patient: str
    unsent: tuple[str, ...]


@dataclass(frozen=True)
class StatusSummary:
    """Where synchronisation stands."""

    enrolled: bool
    device_id: str | None
    server_url: str | None
    pending: int
    last_sync_at: str | None
    offline_hours_exceeded: bool
    retired: bool
    problems: tuple[Result, ...]


def short_name(patient: dict[str, Any] | None) -> str:
    """``J. Smith``: enough to recognise a patient on screen, no more."""
    if patient is None:
        return "(unknown patient)"
    first, last = str(patient.get("first_name") or ""), str(patient.get("last_name") or "")
    if first and last:
        return f"{first[0]}. {last}"
    return last or "(unnamed)"


def _moment(value: Any, zone: tzinfo | None = None) -> datetime | None:
    """A stored timestamp in ``zone`` (default: the system's), or None if absent or bad."""
    try:
        return parse_rfc3339(str(value)).astimezone(zone) if value else None
    except ValueError:
        return None


def _unsent_by_visit(store: Store) -> dict[str, Counter[str]]:
    """Which documentation per visit has not been answered by the server yet."""
    unsent: dict[str, Counter[str]] = {}
    for mutation in Outbox(store).pending():
        if mutation.visit_id is not None:
            label = _PENDING_LABELS.get(mutation.type, mutation.type)
            unsent.setdefault(mutation.visit_id, Counter())[label] += 1
    return unsent


def list_visits(store: Store, zone: tzinfo | None = None) -> list[VisitLine]:
    """Visits in start order, times in ``zone``, with patient short name and unsent work."""
    unsent = _unsent_by_visit(store)
    lines = []
    for visit in store.all("visit"):
        patient = store.get("patient", str(visit.data.get("patient_id")))
        counts = unsent.get(visit.id, Counter())
        lines.append(VisitLine(
            id=visit.id, start=_moment(visit.data.get("scheduled_start"), zone),
            end=_moment(visit.data.get("scheduled_end"), zone),
            status=str(visit.data.get("status") or "?"),
            patient=short_name(None if patient is None else patient.data),
            unsent=tuple(f"{label} x{n}" if n > 1 else label for label, n in counts.items())))
    return sorted(lines, key=lambda line: (line.start is None, line.start or 0, line.id))


def status_summary(store: Store, now: datetime) -> StatusSummary:
    """Pending count, last sync, policy breaches and the results a person must look at."""
    enrolled = is_enrolled(store)
    last_sync = store.get_value("sync_state", "last_sync_at")
    exceeded = False
    if enrolled:
        limit_hours = load_identity(store).policy.max_offline_hours
        last = _moment(last_sync)
        exceeded = last is not None and (now - last).total_seconds() > limit_hours * 3600
    outbox = Outbox(store)
    return StatusSummary(
        enrolled=enrolled, device_id=store.get_meta("device_id"),
        server_url=store.get_meta("server_url"), pending=outbox.pending_count(),
        last_sync_at=last_sync, offline_hours_exceeded=exceeded,
        retired=bool(store.get_value("sync_state", "retired")),
        problems=tuple(outbox.problems()))
