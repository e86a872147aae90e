"""What one pushed batch needs from the database, loaded once for all its mutations.

A batch of 200 vitals on three visits must cost a handful of queries, not a thousand: the
visits are locked together (in id order, so concurrent batches cannot deadlock), their
revisions and the patients' locations read once, and document ids checked in one query
per table. Touched visits are re-derived once, at the end of the batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from server.models import (
    Amendment,
    InfusionAdministration,
    ServiceLocation,
    Visit,
    VisitNote,
    VisitRevision,
    VitalSign,
)
from sync.bulk import in_ids, sqlite_insert

# Mutation types whose entity_id is the id of a new document, by the table it lands in.
DOCUMENT_TABLES: dict[str, Any] = {
    "vitals.record": VitalSign, "infusion.record": InfusionAdministration,
    "visit.note": VisitNote, "record.amend": Amendment,
}


class BatchCache:
    """Visits, revisions, locations and taken document ids for one batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._visits: dict[uuid.UUID, Visit | None] = {}
        self._revisions: dict[uuid.UUID, list[VisitRevision]] = {}
        self._locations: dict[uuid.UUID, list[ServiceLocation]] = {}
        self._taken: dict[Any, set[uuid.UUID]] = {}
        self.touched: dict[uuid.UUID, Visit] = {}
        self.pending_rows: dict[Any, list[dict[str, Any]]] = {}
        # The nurse's standing per (visit id, base version), decided once (visit_access).
        self.accesses: dict[tuple[Any, Any], Any] = {}

    def prefetch(self, mutations: Iterable[dict[str, Any]]) -> None:
        """Lock every visit of the batch and read what the handlers will ask for."""
        mutations = list(mutations)
        visit_ids = sorted({m["visit_id"] for m in mutations if m.get("visit_id")}, key=str)
        if visit_ids:
            found = {v.id: v for v in self.session.scalars(
                select(Visit).where(Visit.id.in_(visit_ids)).order_by(Visit.id)
                .with_for_update())}
            self._visits.update({vid: found.get(vid) for vid in visit_ids})
            for revision in self.session.scalars(select(VisitRevision).where(
                    VisitRevision.visit_id.in_(visit_ids)).order_by(VisitRevision.version)):
                self._revisions.setdefault(revision.visit_id, []).append(revision)
        for kind, model in DOCUMENT_TABLES.items():
            ids = {m["entity_id"] for m in mutations if m["type"] == kind}
            if ids:
                self._taken[model] = set(self.session.scalars(
                    select(model.id).where(in_ids(self.session, model.id, ids))))

    def visit(self, visit_id: uuid.UUID | None) -> Visit | None:
        """The (locked) visit, or None."""
        if visit_id is None:
            return None
        if visit_id not in self._visits:
            self._visits[visit_id] = self.session.get(Visit, visit_id, with_for_update=True)
            self._revisions[visit_id] = list(self.session.scalars(select(VisitRevision).where(
                VisitRevision.visit_id == visit_id).order_by(VisitRevision.version)))
        return self._visits[visit_id]

    def revisions(self, visit_id: uuid.UUID) -> list[VisitRevision]:
        """The visit's revisions as of the start of the batch, oldest first."""
        return self._revisions.get(visit_id, [])

    def locations(self, patient_id: uuid.UUID) -> list[ServiceLocation]:
        """The patient's service locations."""
        if patient_id not in self._locations:
            self._locations[patient_id] = list(self.session.scalars(
                select(ServiceLocation).where(ServiceLocation.patient_id == patient_id)))
        return self._locations[patient_id]

    def claim_document_id(self, model: Any, document_id: uuid.UUID) -> bool:
        """Reserve a new document's id; False when a record already has it."""
        taken = self._taken.setdefault(model, set())
        if document_id in taken:
            return False
        taken.add(document_id)
        return True

    def store_row(self, model: Any, values: dict[str, Any]) -> None:
        """Keep a new document's row for the bulk insert at the end of the batch."""
        self.pending_rows.setdefault(model, []).append(values)

    def document_visit_id(self, model: Any, document_id: uuid.UUID) -> uuid.UUID | None:
        """The visit a document is on (None: no such document), whether it is stored or
        still waiting for this batch's bulk insert (an amendment may name a vital sign
        recorded earlier in the same batch)."""
        # A scan, not an index kept per stored row: amendments are rare, vitals are not.
        pending = next((row["visit_id"] for row in self.pending_rows.get(model, ())
                        if row["id"] == document_id), None)
        if pending is not None:
            return pending  # type: ignore[no-any-return]
        document = self.session.get(model, document_id)
        return None if document is None else document.visit_id

    def insert_pending(self) -> None:
        """Insert the rows handlers stored with ``store_row``, one executemany per table."""
        sqlite = self.session.get_bind().dialect.name == "sqlite"
        for model, rows in self.pending_rows.items():
            table = model.__table__
            names = tuple(column.key for column in table.columns)
            if sqlite and all(row.keys() == set(names) for row in rows):
                # Every column in every row (as vitals.record stores them): straight to the
                # driver, as SQLAlchemy would have sent them (see sqlite_insert).
                sqlite_insert(self.session, table, {}, names,
                              [tuple(row[name] for name in names) for row in rows])
                continue
            # Core on the table: the ORM's bulk insert spent as long on its own bookkeeping
            # (and split the rows into many statements wherever a value was None).
            self.session.execute(insert(table), rows)
        self.pending_rows.clear()

    def touch(self, visit: Visit) -> None:
        """Mark the visit for re-derivation at the end of the batch."""
        self.touched[visit.id] = visit
