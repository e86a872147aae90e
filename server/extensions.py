"""Unbound extensions, bound to the app in ``create_app`` (never created at import time)."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy

from schemas.errors import ErrorSchema
from server.models.base import Base

# Records stay readable after commit: services commit, then views serialise what they return.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()


class InfusyncApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, documenting and using infusync's one error shape."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """Errors are handled by ``server.errors``, registered by the app factory."""


api = InfusyncApi()
