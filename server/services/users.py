"""Managing staff accounts (admin only)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from schemas.users import UserSchema
from server import audit
from server.errors import Invalid, NotFound
from server.models import Role, User
from server.passwords import hash_password
from server.services import changes, revocation
from server.services.records import Access, Page, contains, get_one, list_page


def _dump(user: User) -> Any:
    return UserSchema().dump(user)


def _check_role_fields(user: User) -> None:
    """Competencies belong to nurses, an NPI to physicians (and physicians need one)."""
    if user.competencies and user.role is not Role.NURSE:
        raise Invalid("Only nurses carry competencies.", {"competencies": ["Only for nurses."]})
    if user.npi and user.role is not Role.PHYSICIAN:
        raise Invalid("Only physicians carry an NPI.", {"npi": ["Only for physicians."]})
    if user.role is Role.PHYSICIAN and not user.npi:
        raise Invalid("A physician needs an NPI.", {"npi": ["Required for physicians."]})


def create_user(session: Session, data: dict[str, Any], access: Access) -> User:
    """Create a staff account; a taken email is a 409."""
    data = dict(data)
    password = data.pop("password")
    user = User(
        **{**data, "email": data["email"].strip().lower(), "role": Role(data["role"])},
        password_hash=hash_password(password),
    )
    _check_role_fields(user)
    session.add(user)
    audit.record(session, access.actor, "create", "users", at=access.now, entity_id=user.id)
    changes.commit(session, "A user with this email exists.", user, _dump)
    return user


def list_users(session: Session, filters: dict[str, Any], access: Access, page: int,
               size: int) -> Page:
    """Staff accounts, by name; ``q`` is any part of the name or e-mail (how the office
    finds a nurse among sixty), ``ids`` the accounts a form already names."""
    stmt = select(User).order_by(User.name, User.id)
    if "role" in filters:
        stmt = stmt.where(User.role == Role(filters["role"]))
    if "active" in filters:
        stmt = stmt.where(User.active == filters["active"])
    if filters.get("q"):
        pattern = contains(filters["q"])
        stmt = stmt.where(or_(User.name.ilike(pattern, escape="\\"),
                              User.email.ilike(pattern, escape="\\")))
    if "ids" in filters:
        stmt = stmt.where(User.id.in_(filters["ids"]))
    return list_page(session, stmt, access, "users", page, size, lambda _u: None)


def get_user(session: Session, user_id: uuid.UUID, access: Access) -> User:
    """One account."""
    return get_one(session, User, user_id, access, lambda _u: None)


def _refuse_own_password(user: User, access: Access) -> None:
    """An admin changes her own password as everyone does, by proving the current one
    (``POST /auth/password``): a stolen admin token must not be enough to take the account."""
    if user.id == access.actor.user_id:
        raise Invalid("Change your own password with POST /api/v1/auth/password.",
                      {"password": ["Your own password: use POST /api/v1/auth/password, "
                                    "which asks for the current one."]})


def update_user(session: Session, user_id: uuid.UUID, data: dict[str, Any],
                expected_version: int | None, access: Access) -> User:
    """Change an account; a password reset or a disabled account ends all its sessions."""
    user = get_one(session, User, user_id, access, lambda _u: None, action="update")
    changes.check_version(session, access, user, expected_version, _dump, None)
    data = dict(data)
    fields = sorted(data)
    if "password" in data:
        _refuse_own_password(user, access)
        user.password_hash = hash_password(data.pop("password"))
    if "email" in data:
        data["email"] = data["email"].strip().lower()
    if "role" in data:
        data["role"] = Role(data["role"])
    changes.assign(user, data)
    _check_role_fields(user)
    details: dict[str, Any] = {"fields": fields}
    if "password" in fields or not user.active:
        details["sessions_ended"] = revocation.end_sessions(session, user.id, access.now)
    audit.record(session, access.actor, "update", "users", at=access.now, entity_id=user.id,
                 details=details)
    changes.commit(session, "A user with this email exists.", user, _dump)
    return user


def reset_password(session: Session, email: str, password: str, access: Access) -> int:
    """Set a new password from the shell (a locked-out admin); every session of the account
    ends. Returns how many."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound("No account has this email.")
    user.password_hash = hash_password(password)
    ended = revocation.end_sessions(session, user.id, access.now)
    audit.record(session, access.actor, "reset_password", "users", at=access.now,
                 entity_id=user.id, details={"sessions_ended": ended})
    session.commit()
    return ended
