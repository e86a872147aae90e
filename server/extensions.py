"""Unbound extensions, bound to the app in ``create_app`` (never created at import time)."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

from schemas.errors import ErrorSchema
from server.models.base import Base

# Records stay readable after commit: services commit, then views serialise what they return.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
# CSRF tokens of the console's forms (checked by server.console.blueprint, not app-wide).
csrf = CSRFProtect()


def current_session() -> Session:
    """The Session of the current app context, typed as the services take it.

    ``db.session`` is a ``scoped_session`` proxy, which the services' ``Session`` parameter
    rightly refuses; calling it gives the context's one Session (the same object for the
    whole request or CLI command), so views and commands hand that on.
    """
    return db.session()


# flask-smorest ships no types, so its Api is Any to mypy.
class InfusyncApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, documenting and using infusync's one error shape."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all: each operation lists the statuses it may answer (server/api/refusals.py).
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        """Errors are handled by ``server.errors``, registered by the app factory."""


api = InfusyncApi()
