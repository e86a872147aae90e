"""What the numbers were measured on."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import sqlalchemy as sa


def _cpuinfo_field(name: str) -> str | None:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return None


def _memory_gib() -> float | None:
    try:
        first = Path("/proc/meminfo").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return round(int(first.split()[1]) / 1024 / 1024, 1)


def postgresql_version(url: str) -> str | None:
    """``SELECT version()`` of the server at ``url``, or None when it does not answer."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(sa.text("SELECT version()")).scalar_one())
    except sa.exc.OperationalError:
        return None
    finally:
        engine.dispose()


def describe(admin_url: str) -> dict[str, Any]:
    """nproc, CPU model, memory, Python, SQLite and PostgreSQL versions."""
    import sqlite3

    return {
        "nproc": os.cpu_count(),
        "cpu_model": _cpuinfo_field("model name") or platform.processor() or None,
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlalchemy": sa.__version__,
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgresql_version(admin_url),
    }
