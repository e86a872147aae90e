"""Request authentication and role checks for the API views.

Object-level checks (which patient, which visit) live in ``server.services.scope``: a role
check here says only whether the route is open to this kind of user at all.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast

from flask import current_app, g, request

from server import clock
from server.api import throttle_settings
from server.api.refusals import refusals
from server.audit import Actor
from server.errors import Forbidden, Unauthorized
from server.extensions import current_session
from server.models import AuthToken, Role, User
from server.services import sessions

F = TypeVar("F", bound=Callable[..., Any])


def token_policy() -> sessions.TokenPolicy:
    """The token and throttling limits from the app's configuration."""
    cfg = current_app.config
    return sessions.TokenPolicy(
        idle=timedelta(minutes=cfg["TOKEN_IDLE_MINUTES"]),
        absolute=timedelta(hours=cfg["TOKEN_MAX_HOURS"]),
        throttle=throttle_settings.login_throttle(),
    )


def bearer_token() -> str:
    """The token from ``Authorization: Bearer …`` or a 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>'; log in to get one.")
    return token.strip()


def request_actor(user_id: uuid.UUID | None = None) -> Actor:
    """The actor for audit events of this request."""
    raw = request.headers.get("X-Request-Id") or ""
    # Only printable ASCII reaches the audit trail (a NUL would break PostgreSQL's insert).
    request_id = "".join(c for c in raw[:64] if " " <= c <= "~") or None
    return Actor(user_id, request.remote_addr, request_id)


def current_user() -> User:
    """The authenticated user of this request (set by ``roles_required``)."""
    user: User = g.current_user
    return user


def current_token() -> AuthToken:
    """The token row this request authenticated with."""
    token: AuthToken = g.current_token
    return token


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Authenticate the request and allow it only for ``roles`` (all roles when empty);
    the OpenAPI document says so (401, and 403 when some roles are refused)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            row = sessions.authenticate(current_session(), bearer_token(), clock.now(),
                                        token_policy())
            g.current_token, g.current_user = row, row.user
            if roles and row.user.role not in roles:
                raise Forbidden(f"The {row.user.role.value} role may not do this.")
            return view(*args, **kwargs)

        refused = (401, 403) if roles else (401,)
        return refusals(*refused)(cast(F, wrapper))

    return decorate


STAFF_WRITERS = (Role.ADMIN, Role.COORDINATOR)
PATIENT_READERS = (Role.ADMIN, Role.COORDINATOR, Role.QC, Role.NURSE, Role.PHYSICIAN)
