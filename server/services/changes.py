"""Applying a PATCH: version preconditions, unique-key conflicts, stale writes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from server.errors import Conflict, StaleVersion


def check_version(row: Any, expected: int | None, dump: Callable[[Any], Any]) -> None:
    """Refuse an edit based on a version other than the stored one (409 with the current)."""
    if expected is not None and expected != row.version:
        raise StaleVersion(
            f"This record changed since version {expected}; it is now at version "
            f"{row.version}. Review the current record and try again.",
            {"current": dump(row)},
        )


def assign(row: Any, changes: Mapping[str, Any]) -> None:
    """Copy validated fields onto the row."""
    for name, value in changes.items():
        setattr(row, name, value)


def commit(session: Session, unique_message: str, row: Any, dump: Callable[[Any], Any]) -> None:
    """Commit, turning a unique-key clash into 409 and a concurrent edit into stale_version."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(unique_message, code="duplicate") from exc
    except StaleDataError as exc:
        session.rollback()
        session.refresh(row)
        raise StaleVersion(
            "Someone else changed this record at the same moment; review it and try again.",
            {"current": dump(row)},
        ) from exc
