"""Managing staff accounts (admin only)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.users import UserSchema
from server import audit
from server.errors import Invalid
from server.models import Role, User
from server.passwords import hash_password
from server.services import changes
from server.services.records import Access, Page, get_one, list_page


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
    """Staff accounts, by name."""
    stmt = select(User).order_by(User.name, User.id)
    if "role" in filters:
        stmt = stmt.where(User.role == Role(filters["role"]))
    if "active" in filters:
        stmt = stmt.where(User.active == filters["active"])
    return list_page(session, stmt, access, "users", page, size, lambda _u: None)


def get_user(session: Session, user_id: uuid.UUID, access: Access) -> User:
    """One account."""
    return get_one(session, User, user_id, access, lambda _u: None)


def update_user(session: Session, user_id: uuid.UUID, data: dict[str, Any],
                expected_version: int | None, access: Access) -> User:
    """Change an account; a new password is hashed, a disabled account's tokens stop working."""
    user = get_one(session, User, user_id, access, lambda _u: None, action="update")
    changes.check_version(session, access, user, expected_version, _dump, None)
    data = dict(data)
    if "password" in data:
        user.password_hash = hash_password(data.pop("password"))
    if "email" in data:
        data["email"] = data["email"].strip().lower()
    if "role" in data:
        data["role"] = Role(data["role"])
    changes.assign(user, data)
    _check_role_fields(user)
    audit.record(session, access.actor, "update", "users", at=access.now, entity_id=user.id,
                 details={"fields": sorted(data)})
    changes.commit(session, "A user with this email exists.", user, _dump)
    return user
