"""Who is signed in to the console: an opaque staff token in an HttpOnly cookie.

The cookie carries the same kind of token the API hands out (``server.services.sessions``):
stored hashed, with the same idle and absolute expiry, revoked by the same password change,
deactivation and logout (``server.services.revocation``). Only the transport differs: the
API reads ``Authorization: Bearer``, the console reads this cookie and nothing else.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, url_for
from werkzeug.wrappers import Response

from server import clock, config
from server.api.guards import token_policy
from server.errors import Forbidden, Unauthorized
from server.extensions import current_session
from server.models import AuthToken, Role, User
from server.services import sessions

F = TypeVar("F", bound=Callable[..., Any])
COOKIE = "infusync_console"


def set_session_cookie(response: Response, token: str, expires_at: datetime) -> None:
    """Hand the browser its token: never readable by script, not sent cross-site."""
    response.set_cookie(COOKIE, token, expires=expires_at, path="/console",
                        httponly=True, samesite="Lax",
                        secure=config.is_production(current_app.config))


def clear_session_cookie(response: Response) -> None:
    """Forget the token in the browser (the server revokes it separately)."""
    response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="Lax")


def signed_in(touch: bool = True) -> AuthToken | None:
    """The live token row of this request's cookie, or None; sets ``g.current_user``.

    ``touch=False`` checks the token without extending its idle timer: the board's live
    updates poll on their own, and a page left open must still idle out.
    """
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        row = sessions.authenticate(current_session(), token, clock.now(), token_policy(),
                                    touch=touch)
    except Unauthorized:
        return None
    g.current_token, g.current_user = row, row.user
    return row


def current_user() -> User:
    """The signed-in user (set by ``login_required``)."""
    user: User = g.current_user
    return user


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path inside the console (no open redirect), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return None
    return target


def login_required(*roles: Role, touch: bool = True) -> Callable[[F], F]:
    """Send a visitor without a live session to the login page; refuse other roles (403)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            row = signed_in(touch)
            if row is None:
                return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
            if roles and row.user.role not in roles:
                raise Forbidden(f"The {row.user.role.value} role may not open this page.")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate
