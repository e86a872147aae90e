"""Applying a PATCH: version preconditions, unique-key conflicts, stale writes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from server import audit
from server.errors import Conflict, StaleVersion
from server.services.records import Access


def refusal_with_current(session: Session, access: Access, row: Any, error: type[Conflict],
                         message: str, dump: Callable[[Any], Any],
                         patient_id: uuid.UUID | None, code: str = "") -> Conflict:
    """A 409 that shows the current record: that is a read of it, so it is audited."""
    refusal = error(message, {"current": dump(row)}, code=code)
    audit.record(session, access.actor, "read", row.__tablename__, at=access.now,
                 entity_id=row.id, patient_id=patient_id, outcome=refusal.code)
    session.commit()
    return refusal


def check_version(session: Session, access: Access, row: Any, expected: int | None,
                  dump: Callable[[Any], Any], patient_id: uuid.UUID | None) -> None:
    """Refuse an edit based on a version other than the stored one (409 with the current)."""
    if expected is not None and expected != row.version:
        raise refusal_with_current(
            session, access, row, StaleVersion,
            f"This record changed since version {expected}; it is now at version "
            f"{row.version}. Review the current record and try again.", dump, patient_id)


def assign(row: Any, changes: Mapping[str, Any]) -> None:
    """Copy validated fields onto the row."""
    for name, value in changes.items():
        setattr(row, name, value)


def commit(session: Session, unique_message: str, row: Any, dump: Callable[[Any], Any]) -> None:
    """Commit, turning a unique-key clash into 409 and a concurrent edit into stale_version."""
    write(session, row, unique_message, session.commit)


def flush(session: Session, row: Any, unique_message: str) -> None:
    """Flush (when more work follows in the transaction), refusing clashes as ``commit``."""
    write(session, row, unique_message, session.flush)


def write(session: Session, row: Any, unique_message: str, step: Callable[[], None]) -> None:
    """Run ``step`` (flush or commit): a unique clash is 409, a concurrent edit stale_version."""
    try:
        step()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(unique_message, code="duplicate") from exc
    except StaleDataError as exc:
        session.rollback()
        session.refresh(row)
        raise StaleVersion(
            "Someone else changed this record at the same moment; read it again and retry.",
            {"current_version": row.version},
        ) from exc
