"""The console's one Flask blueprint: every page module adds its routes to ``bp``.

Its hooks are set here, once, at import (a blueprint refuses setup after its first
registration, and tests build many apps).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request

from server.console import navigation
from server.extensions import csrf

# Templates live under templates/console/ so their names never clash with server/templates.
bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@bp.before_request
def check_csrf() -> None:
    """Refuse any state-changing console request without this session's CSRF token."""
    if request.method in UNSAFE:
        csrf.protect()


@bp.context_processor
def layout_context() -> dict[str, Any]:
    """What the base layout needs: the signed-in user (if any) and her navigation."""
    user = g.get("current_user")
    return {"user": user, "nav": navigation.items_for(user.role) if user else []}
