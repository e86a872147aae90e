"""Importing a recall list: every named pump recalled and traced, or nothing at all.

An identifier the registry does not know refuses the whole list, line by line, like a
malformed row: a typo must not leave a recalled pump in use while the import "succeeded".
A pump already recalled is reported ``already_recalled`` and traced no further, so the same
list imported twice changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import audit
from server.models import Pump, PumpStatus
from server.services.recalls.recall_list import LineErrors, RecallRow, decode, parse
from server.services.recalls.withdraw import Withdrawal, withdraw
from server.services.records import Access

CHUNK = 500  # identifiers per IN (...) query


@dataclass(frozen=True)
class PumpOutcome:
    """What a line did to one pump: ``recalled`` now, or ``already_recalled``."""

    line: int
    pump_id: uuid.UUID
    serial: str
    outcome: str


@dataclass(frozen=True)
class ImportReport:
    """The import's result, pump by pump, and how far the recalls reached."""

    rows: int
    pumps: list[PumpOutcome]
    review_items_opened: int
    notifications_sent: int


def _load(session: Session, column: str, values: set[str]) -> dict[str, list[Pump]]:
    """Pumps by ``column`` value, locked until the import commits."""
    found: dict[str, list[Pump]] = {}
    ordered = sorted(values)
    for start in range(0, len(ordered), CHUNK):
        attribute = getattr(Pump, column)
        for pump in session.scalars(select(Pump).where(
                attribute.in_(ordered[start:start + CHUNK])).order_by(Pump.serial)
                .with_for_update()):
            found.setdefault(getattr(pump, column), []).append(pump)
    return found


def _pumps_of(row: RecallRow, by_serial: dict[str, list[Pump]],
              by_udi: dict[str, list[Pump]], errors: LineErrors) -> list[Pump]:
    """The pumps one row names; an unknown or contradictory identifier is a line error."""
    if row.serial is None:
        pumps = by_udi.get(row.udi_di or "", [])
        if not pumps:
            errors.add(row.line, f"No registered pump has UDI-DI {row.udi_di!r}.")
        return pumps
    pumps = by_serial.get(row.serial, [])
    if not pumps:
        errors.add(row.line, f"No pump with serial {row.serial!r} is registered.")
    elif row.udi_di and pumps[0].udi_di and pumps[0].udi_di != row.udi_di:
        errors.add(row.line, f"Pump {row.serial!r} has UDI-DI {pumps[0].udi_di!r} in the "
                   f"registry, not {row.udi_di!r}.")
        return []
    return pumps


def _resolve(session: Session, rows: list[RecallRow],
             errors: LineErrors) -> list[tuple[RecallRow, Pump]]:
    by_serial = _load(session, "serial", {r.serial for r in rows if r.serial})
    by_udi = _load(session, "udi_di", {r.udi_di for r in rows if r.udi_di and not r.serial})
    return [(row, pump) for row in rows for pump in _pumps_of(row, by_serial, by_udi, errors)]


def _apply(session: Session, named: Iterable[tuple[RecallRow, Pump]],
           access: Access) -> tuple[list[PumpOutcome], int, int]:
    outcomes, opened, notified = [], 0, 0
    for row, pump in named:
        before = pump.status
        pump.status = PumpStatus.RECALLED
        traced = withdraw(session, pump, before, access,
                          Withdrawal("recall_list", row.recall_number, row.reason))
        outcomes.append(PumpOutcome(row.line, pump.id, pump.serial,
                                    "already_recalled" if traced is None else "recalled"))
        if traced is not None:
            opened += traced.items_opened
            notified += traced.nurses_notified
    return outcomes, opened, notified


def import_recall_list(session: Session, data: bytes, access: Access) -> ImportReport:
    """Recall every pump the CSV names (see ``recall_list``) and trace each; commits.

    Refused with a 422 naming each bad line, and nothing applied, when any line is bad.
    """
    errors = LineErrors({})
    rows = parse(decode(data), errors)
    named = _resolve(session, rows, errors) if rows else []
    if errors.by_line:
        session.rollback()
        raise errors.refusal()
    outcomes, opened, notified = _apply(session, named, access)
    audit.record(session, access.actor, "import", "pump_recalls", at=access.now, details={
        "rows": len(rows),
        "recalled_pump_ids": [str(o.pump_id) for o in outcomes if o.outcome == "recalled"],
        "unchanged_pump_ids": [str(o.pump_id) for o in outcomes if o.outcome != "recalled"]})
    session.commit()
    return ImportReport(len(rows), outcomes, opened, notified)
