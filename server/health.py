"""Probes for load balancers and orchestrators: liveness and readiness."""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server.errors import error_response
from server.extensions import db

blueprint = Blueprint("health", __name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def migration_heads() -> set[str]:
    """The revisions the code expects the database to be at."""
    return set(ScriptDirectory(str(MIGRATIONS)).get_heads())


def database_revisions() -> set[str]:
    """The revisions the database is at (empty when never migrated)."""
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        return set(MigrationContext.configure(connection).get_current_heads())


@blueprint.get("/healthz")
def healthz() -> Response:
    """The process is up and answering."""
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> Response:
    """The database answers and its schema is at the migrations' head."""
    try:
        current = database_revisions()
    except SQLAlchemyError:
        return error_response(503, "database_unavailable", "The database does not answer.")
    expected = migration_heads()
    if current != expected:
        return error_response(
            503,
            "migrations_pending",
            "The database schema is not at the code's version; run 'infusync db upgrade'.",
            {"database": sorted(current), "expected": sorted(expected)},
        )
    return jsonify({"status": "ready", "revision": sorted(current)})
