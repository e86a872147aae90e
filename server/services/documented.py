"""What counts as documentation on a visit, found for many visits in one statement.

A visit is *documented* once anything a nurse's device (or a reviewer at a desk) wrote is
stored against it: an event (check-in, check-out, signature, a "missed" report), vital
signs, an infusion, a note, an amendment — whether or not it arrived as a conflict, since
a conflict is still care someone recorded. Only a record a person ruled entered in error
no longer counts: the visit's own state ignores it too (``reconcile/visit_state``). The
automatic schedule changes (``visit_generation``) never cancel or move a documented visit.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import String, literal_column, select, union
from sqlalchemy.orm import Session

from server.models import Amendment, InfusionAdministration, VisitEvent, VisitNote, VitalSign

# Every table a visit's documentation lives in but ``visit_events`` (whose rows name their
# own kind), with the word the review items use for it.
RECORDS: tuple[tuple[str, Any], ...] = (
    ("vitals", VitalSign), ("infusion", InfusionAdministration), ("note", VisitNote),
    ("amendment", Amendment))


def documentation_on(session: Session, visit_ids: Collection[uuid.UUID]
                     ) -> dict[uuid.UUID, set[str]]:
    """Each documented visit of ``visit_ids`` with the kinds of record it holds (``note``,
    ``check_in``, ...); an undocumented visit is absent. One UNION statement: the caller
    passes a bounded batch (``visit_generation`` chunks by 500)."""
    if not visit_ids:
        return {}
    ids = list(visit_ids)
    events = select(VisitEvent.visit_id, VisitEvent.kind.label("what")).where(
        VisitEvent.visit_id.in_(ids), VisitEvent.entered_in_error.is_(False))
    # Inline constants, not bound parameters: PostgreSQL cannot type a parameter in a UNION.
    parts = [events, *(select(model.visit_id, literal_column(f"'{name}'", String).label("what"))
                       .where(model.visit_id.in_(ids), model.entered_in_error.is_(False))
                       for name, model in RECORDS)]
    found: dict[uuid.UUID, set[str]] = {}
    for visit_id, what in session.execute(union(*parts)):
        found.setdefault(visit_id, set()).add(what)
    return found
