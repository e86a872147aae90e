"""A staff member changing her own password: she proves the current one, and every other
session she has ends (the one she is using goes on)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server import audit
from server.errors import Invalid
from server.models import AuthToken
from server.passwords import hash_password, verify_password
from server.services import revocation, throttle
from server.services.throttle import LoginThrottle


def change_own_password(session: Session, token: AuthToken, current: str, new: str,
                        actor: audit.Actor, now: datetime, policy: LoginThrottle) -> int:
    """Replace the password of ``token``'s user; returns how many other sessions ended.

    A wrong current password counts as a failed login (a stolen token must not become a
    free password oracle) and is audited as refused.
    """
    user = token.user
    addr = throttle.address_key(actor.remote_addr)
    throttle.check_login(session, user.email, addr, user.id, now, policy)
    if not verify_password(current, user.password_hash):
        throttle.record_login_failure(session, user.email, addr, now, policy)
        audit.record(session, actor, "change_password", "users", at=now, entity_id=user.id,
                     outcome="refused")
        session.commit()
        raise Invalid("The current password is wrong.",
                      {"current_password": ["Not your current password."]})
    if verify_password(new, user.password_hash):
        raise Invalid("The new password is the current one.",
                      {"new_password": ["Choose a password different from the current one."]})
    user.password_hash = hash_password(new)
    ended = revocation.end_sessions(session, user.id, now, keep=token.id)
    audit.record(session, actor, "change_password", "users", at=now, entity_id=user.id,
                 details={"sessions_ended": ended})
    session.commit()
    return ended
