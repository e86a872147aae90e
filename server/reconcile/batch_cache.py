"""What one pushed batch needs from the database, loaded once for all its mutations.

A batch of 200 vitals on three visits must cost a handful of queries, not a thousand: the
visits are locked together (in id order, so concurrent batches cannot deadlock), their
revisions, the patients' locations, the orders and the administrations already on them
read once, and document ids checked in one query for every table. Touched visits are re-derived
once, at the end of the batch.

No handler of the usual documentation (check-in and out, vitals, infusion, note, sign)
then sends a query, so nothing autoflushes between mutations: their records go to the
database in one flush at the end of the batch, a statement per table, not one per
mutation (the morning rush's profile, README "The morning rush").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, literal, select, union_all
from sqlalchemy.orm import Session

from server.models import (
    Amendment,
    InfusionAdministration,
    ServiceLocation,
    TherapyOrder,
    Visit,
    VisitEvent,
    VisitNote,
    VisitRevision,
    VitalSign,
)
from sync.bulk import in_ids, is_postgresql, postgresql_insert, sqlite_insert

# Mutation types whose entity_id is the id of a new document, by the table it lands in.
DOCUMENT_TABLES: dict[str, Any] = {
    "vitals.record": VitalSign, "infusion.record": InfusionAdministration,
    "visit.note": VisitNote, "record.amend": Amendment,
}


# Mutation types verified against the patient's service locations (``reconcile.evv``).
EVV_TYPES = frozenset({"visit.check_in", "visit.check_out"})


class BatchCache:
    """Visits, revisions, locations and taken document ids for one batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._visits: dict[uuid.UUID, Visit | None] = {}
        self._revisions: dict[uuid.UUID, list[VisitRevision]] = {}
        self._locations: dict[uuid.UUID, list[ServiceLocation]] = {}
        self._taken: dict[Any, set[uuid.UUID]] = {}
        # Administrations on a visit, stored or added by this batch (duplicate checks).
        self._infusions: dict[uuid.UUID, list[InfusionAdministration]] = {}
        self._orders: list[TherapyOrder] = []
        self.touched: dict[uuid.UUID, Visit] = {}
        self.pending_rows: dict[Any, list[dict[str, Any]]] = {}
        # Visit events stored by this batch, inserted with its rows (``store_event``).
        self.pending_events: list[VisitEvent] = []
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
            self._prefetch_locations(mutations, found)
            self._prefetch_infusions(mutations)
        self._prefetch_taken(mutations)

    def _prefetch_taken(self, mutations: list[dict[str, Any]]) -> None:
        """The new documents' ids already stored, every table in one query (a UNION ALL):
        one per table was three of a day's round trips, whatever the batch's size."""
        wanted = {model: ids for kind, model in DOCUMENT_TABLES.items()
                  if (ids := {m["entity_id"] for m in mutations if m["type"] == kind})}
        if not wanted:
            return
        models = list(wanted)
        for model in models:
            self._taken[model] = set()
        found = self.session.execute(union_all(*(
            select(literal(index).label("kind"), model.id.label("id"))
            .where(in_ids(self.session, model.id, wanted[model]))
            for index, model in enumerate(models))))
        for index, document_id in found:
            self._taken[models[index]].add(document_id)

    def _prefetch_locations(self, mutations: list[dict[str, Any]],
                            visits: dict[uuid.UUID, Visit]) -> None:
        """Every service location of the patients checked in or out with, in one query."""
        patient_ids = {visits[m["visit_id"]].patient_id for m in mutations
                       if m["type"] in EVV_TYPES and m["visit_id"] in visits}
        if not patient_ids:
            return
        for patient_id in patient_ids:
            self._locations.setdefault(patient_id, [])
        for place in self.session.scalars(select(ServiceLocation).where(
                ServiceLocation.patient_id.in_(sorted(patient_ids, key=str)))):
            self._locations[place.patient_id].append(place)

    def _prefetch_infusions(self, mutations: list[dict[str, Any]]) -> None:
        """For the batch's administrations: their orders (into the session's identity map,
        where ``session.get`` finds them without a query) and the administrations already on
        their visits, one query each."""
        infusions = [m for m in mutations if m["type"] == "infusion.record" and m["visit_id"]]
        if not infusions:
            return
        order_ids = {_uuid(m["data"].get("order_id")) for m in infusions} - {None}
        if order_ids:  # held here: the identity map keeps only what someone references
            self._orders = list(self.session.scalars(select(TherapyOrder).where(
                TherapyOrder.id.in_(sorted(order_ids, key=str)))))
        visit_ids = sorted({m["visit_id"] for m in infusions}, key=str)
        for visit_id in visit_ids:
            self._infusions.setdefault(visit_id, [])
        for stored in self.session.scalars(select(InfusionAdministration).where(
                InfusionAdministration.visit_id.in_(visit_ids),
                InfusionAdministration.entered_in_error.is_(False))):
            self._infusions[stored.visit_id].append(stored)

    def infusions_on(self, visit_id: uuid.UUID) -> list[InfusionAdministration]:
        """The visit's administrations not entered in error: stored, then this batch's."""
        if visit_id not in self._infusions:
            self._infusions[visit_id] = list(self.session.scalars(
                select(InfusionAdministration).where(
                    InfusionAdministration.visit_id == visit_id,
                    InfusionAdministration.entered_in_error.is_(False))))
        return self._infusions[visit_id]

    def add_infusion(self, infusion: InfusionAdministration) -> None:
        """An administration this batch stored: later ones on its visit are checked against
        it (what a query after a flush would have found)."""
        self.infusions_on(infusion.visit_id).append(infusion)

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
        taken = self._taken.get(model)
        if taken is None:  # not setdefault: that built a set per call, 200 per batch
            taken = self._taken[model] = set()
        if document_id in taken:
            return False
        taken.add(document_id)
        return True

    def store_row(self, model: Any, values: dict[str, Any]) -> None:
        """Keep a new document's row for the bulk insert at the end of the batch."""
        self.pending_rows.setdefault(model, []).append(values)

    def store_event(self, event: VisitEvent) -> None:
        """Keep a new visit event for the bulk insert at the end of the batch.

        Check-ins and check-outs carry a location, signatures details: the ORM sends such
        rows one statement per run of the same columns (12 for a day of six visits); as
        whole rows they are one executemany. Nothing reads a batch's events before it is
        settled, which inserts them before reading every touched visit's events.
        """
        self.pending_events.append(event)

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
        if self.pending_events:
            self.pending_rows.setdefault(VisitEvent, []).extend(
                _whole_row(event) for event in self.pending_events)
            self.pending_events.clear()
        for model, rows in self.pending_rows.items():
            if not self._insert_whole_rows(model.__table__, rows):
                # Core on the table: the ORM's bulk insert spent as long on its own
                # bookkeeping (and split the rows into many statements wherever a value was
                # None).
                self.session.execute(insert(model.__table__), rows)
        self.pending_rows.clear()

    def _insert_whole_rows(self, table: Any, rows: list[dict[str, Any]]) -> bool:
        """Rows that set every column (as vitals.record stores them) in one statement, the
        database's fast way (``sync.bulk``); False, nothing sent, for the others."""
        names = tuple(column.key for column in table.columns)
        every = set(names)  # built once, not once per row
        if not all(row.keys() == every for row in rows):
            return False
        if is_postgresql(self.session):
            return postgresql_insert(self.session, table, rows)
        # Straight to the driver, as SQLAlchemy would have sent them (see sqlite_insert).
        sqlite_insert(self.session, table, {}, names,
                      [tuple(row[name] for name in names) for row in rows])
        return True

    def touch(self, visit: Visit) -> None:
        """Mark the visit for re-derivation at the end of the batch."""
        self.touched[visit.id] = visit


def _uuid(value: Any) -> uuid.UUID | None:
    """A device-sent id as a UUID (None when it is not one: the handler then refuses it)."""
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def _whole_row(document: Any) -> dict[str, Any]:
    """Every column of a new (never added) ORM object, the columns' Python defaults filled
    where it left them unset, as one ``executemany`` row."""
    row = {}
    for column in document.__table__.columns:
        value = getattr(document, column.key)
        default = column.default
        if value is None and default is not None and default.is_scalar:
            value = default.arg
        elif value is None and default is not None and default.is_callable:
            value = default.arg(None)
        row[column.key] = value
    return row
