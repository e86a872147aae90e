"""INFUSYNC_CLOCK_FILE: a test moves a subprocess's time; production refuses it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server import create_app
from server.clock import FileClock
from server.config import ConfigError


def test_the_file_clock_reads_the_time_written(tmp_path):
    path = tmp_path / "clock.txt"
    path.write_text("2026-11-23T13:00:00+00:00")
    clock = FileClock(str(path))
    assert clock() == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    path.write_text("2026-11-24T13:00:00+00:00\n")
    assert clock() == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    path.write_text("2026-11-24T13:00:00")
    with pytest.raises(ValueError, match="UTC offset"):
        clock()


def test_production_refuses_a_clock_file(tmp_path):
    with pytest.raises(ConfigError, match="INFUSYNC_CLOCK_FILE"):
        create_app({"INFUSYNC_ENV": "production", "INFUSYNC_CLOCK_FILE": str(tmp_path / "c"),
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                    "SECRET_KEY": "x" * 32, "INFUSYNC_DATA_KEY": b"k" * 32,
                    "INFUSYNC_INSTANCE_PATH": str(tmp_path)})
