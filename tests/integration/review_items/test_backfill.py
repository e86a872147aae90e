"""The migration that adds ``dedupe_key`` gives items stored before it the keys the writer
now uses, so that nothing already flagged is flagged again after an upgrade."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy.orm import Session

from server import create_app, review_items
from server.models import ReviewItem
from tests.conftest import fresh_postgres_database

BEFORE_KEYS = "0c4a64a8a213"
T0 = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
# review_items as it was before the migration (the model has the new column)
OLD_TABLE = sa.table(
    "review_items", sa.column("id", sa.Uuid()), sa.column("kind", sa.String()),
    sa.column("severity", sa.String()), sa.column("status", sa.String()),
    sa.column("summary", sa.String()), sa.column("visit_id", sa.Uuid()),
    sa.column("details", sa.JSON()), sa.column("created_at", sa.DateTime(timezone=True)))


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own at head, which the test migrates down and up."""
    if request.param == "sqlite":
        path = tmp_path / "backfill.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    with fresh_postgres_database("infusync_backfill", tmp_path) as url:
        yield url


def _item(kind: str, minutes: int, *, visit_id: Any = None,
          **details: Any) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "kind": kind, "severity": "warning", "status": "open",
            "summary": kind, "visit_id": visit_id, "details": details,
            "created_at": T0 + timedelta(minutes=minutes)}


def test_backfill_keys_reconcile_items_and_alerts_and_leaves_clashes_unkeyed(
        migrated_url, tmp_path):
    visit, record = uuid.uuid4(), uuid.uuid4()
    alert_key = f"silent_device:{uuid.uuid4()}:2026-11-23"
    rows = {
        "evv": _item("evv_exception", 1, visit_id=visit, record_id=str(record)),
        "evv_raced": _item("evv_exception", 2, visit_id=visit, record_id=str(record)),
        "no_record": _item("no_active_order", 3, visit_id=visit, record_id=None),
        "alert": _item("silent_device", 4, dedupe_key=alert_key),
        "alert_raced": _item("silent_device", 5, dedupe_key=alert_key),
        "gap": _item("seq_gap", 6, missing=2),
    }
    app = create_app({"SQLALCHEMY_DATABASE_URI": migrated_url,
                      "INFUSYNC_INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        downgrade(revision=BEFORE_KEYS)
        engine = sa.create_engine(migrated_url)
        assert "dedupe_key" not in {
            column["name"] for column in sa.inspect(engine).get_columns("review_items")}
        with engine.begin() as connection:
            connection.execute(sa.insert(OLD_TABLE), list(rows.values()))
        upgrade()
        with Session(engine) as session:
            keys = dict(session.execute(sa.select(ReviewItem.id, ReviewItem.dedupe_key)).all())
        engine.dispose()
        app.extensions["sqlalchemy"].engine.dispose()
    by_name = {name: keys[row["id"]] for name, row in rows.items()}
    assert by_name == {
        "evv": f"evv_exception:{visit}:{record}", "evv_raced": None,
        "no_record": f"no_active_order:{visit}", "alert": alert_key, "alert_raced": None,
        "gap": None}
    # the keys the writer gives the same facts today: an upgrade flags nothing twice
    assert by_name["evv"] == review_items.fact_key("evv_exception", visit, str(record))
    assert by_name["no_record"] == review_items.fact_key("no_active_order", visit)
