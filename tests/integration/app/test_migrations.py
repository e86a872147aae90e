"""The schema is built by the migrations alone, and they agree with the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from server.extensions import db
from server.health import migration_heads
from server.schema_owners import include_object


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                "include_object": include_object})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrated_database_is_at_head(app):
    with app.app_context(), db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
        tables = set(inspect(connection).get_table_names())
    assert current == migration_heads()
    assert {"users", "patients", "visits", "audit_events"} <= tables


def test_db_upgrade_builds_an_empty_database(tmp_path, monkeypatch):
    from flask_migrate import upgrade

    from server import create_app

    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INFUSYNC_INSTANCE_PATH": str(tmp_path)})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "visits" in inspect(db.engine).get_table_names()
        upgrade()  # a second upgrade is a no-op
        db.engine.dispose()
