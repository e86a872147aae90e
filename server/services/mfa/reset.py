"""Removing a user's second factor: she enrolls again at her next login if her role needs it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server import audit
from server.errors import Forbidden, NotFound
from server.models import MfaChallenge, MfaCredential, User


def reset(session: Session, user: User, actor: audit.Actor, now: datetime) -> bool:
    """Delete ``user``'s credential and recovery codes, end her pending mfa_tokens, audit,
    commit; True when she had one."""
    removed = session.execute(delete(MfaCredential).where(MfaCredential.user_id == user.id))
    had = bool(removed.rowcount)  # type: ignore[attr-defined]
    session.execute(update(MfaChallenge)
                    .where(MfaChallenge.user_id == user.id, MfaChallenge.ended_at.is_(None))
                    .values(ended_at=now).execution_options(synchronize_session=False))
    audit.record(session, actor, "mfa_reset", "user", at=now, entity_id=user.id,
                 details={"had_second_factor": had})
    session.commit()
    return had


def reset_by_admin(session: Session, user_id: uuid.UUID, actor: audit.Actor,
                   now: datetime) -> None:
    """An admin resets another user's second factor (never her own: a stolen admin token
    must not strip the admin's own second factor)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if user.id == actor.user_id:
        raise Forbidden("Ask another admin to reset your own second factor, or run "
                        "'infusync users reset-mfa' on the server.", code="own_second_factor")
    reset(session, user, actor, now)


def reset_by_email(session: Session, email: str, actor: audit.Actor, now: datetime) -> bool:
    """The command line's reset (the agency's only admin lost her phone and her codes)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"No user with the email {email.strip().lower()}.")
    return reset(session, user, actor, now)
