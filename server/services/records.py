"""Reading records within the user's scope, with exactly one audit event per access."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from server import audit
from server.errors import Invalid, NotFound

T = TypeVar("T")

# Keeps OFFSET ((page - 1) * page_size) inside a 64-bit integer on every database.
MAX_PAGE = 1_000_000_000


@dataclass(frozen=True)
class Access:
    """Who reads, when, and the scope condition their role puts on the query."""

    actor: audit.Actor
    now: datetime
    condition: ColumnElement[bool] | None


@dataclass(frozen=True)
class Page:
    """One page of a listing and the total count behind it."""

    items: list[Any]
    total: int


def contains(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere (its own ``%``, ``_`` and ``\\`` taken literally,
    with ``escape="\\"``): a search box must not turn a typed ``%`` into a wildcard."""
    for char in ("\\", "%", "_"):
        text = text.replace(char, "\\" + char)
    return f"%{text}%"


def scoped(stmt: Select[Any], condition: ColumnElement[bool] | None) -> Select[Any]:
    """``stmt`` restricted to what the user may see."""
    return stmt if condition is None else stmt.where(condition)


def get_one(
    session: Session,
    model: type[T],
    entity_id: uuid.UUID,
    access: Access,
    patient_of: Callable[[T], uuid.UUID | None],
    action: str = "read",
) -> T:
    """Load one record the user may see, audited; 404 when out of scope."""
    # Any mapped model with a UUID ``id``: a TypeVar cannot say so (a Protocol with Mapped
    # members does not match declarative models), hence the two ignores.
    entity_type = model.__tablename__  # type: ignore[attr-defined]
    stmt = scoped(select(model).where(model.id == entity_id), access.condition)  # type: ignore[attr-defined]
    row: T | None = session.scalar(stmt)
    if row is None:  # audited as a refusal by the API (server.api.refusal_audit)
        raise NotFound(f"There is no {entity_type.rstrip('s').replace('_', ' ')} {entity_id} "
                       "that you may see.")
    if action == "read":
        audit.record(session, access.actor, action, entity_type, at=access.now,
                     entity_id=entity_id, patient_id=patient_of(row))
        session.commit()
    return row


def list_page(
    session: Session,
    stmt: Select[Any],
    access: Access,
    entity_type: str,
    page: int,
    page_size: int,
    patient_of: Callable[[Any], uuid.UUID | None],
) -> Page:
    """One page of ``stmt`` within scope, audited as one ``list`` event naming the patients."""
    if page > MAX_PAGE:
        raise Invalid("The page number is too large.",
                      {"query": {"page": [f"Must be at most {MAX_PAGE}."]}})
    stmt = scoped(stmt, access.condition)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(session.scalars(stmt.limit(page_size).offset((page - 1) * page_size)))
    patients = sorted({str(p) for p in map(patient_of, items) if p is not None})
    audit.record(session, access.actor, "list", entity_type, at=access.now,
                 details={"count": len(items), "patient_ids": patients})
    session.commit()
    return Page(items=items, total=total or 0)
