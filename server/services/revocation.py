"""Ending a user's staff sessions: a changed password or a disabled account must not leave
a token alive somewhere (a lost laptop, a shared workstation)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from server.models import AuthToken


def end_sessions(session: Session, user_id: uuid.UUID, now: datetime,
                 keep: uuid.UUID | None = None) -> int:
    """Revoke every live staff token of ``user_id`` but ``keep``; returns how many.

    Revoked, not merely refused while the account is off: re-enabling the account must not
    bring an old token back.
    """
    stmt = update(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(AuthToken.id != keep)
    result = cast(CursorResult[Any], session.execute(stmt.values(revoked_at=now)))
    return result.rowcount
