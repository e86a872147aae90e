"""Copy a live SQLite database with SQLite's online backup API.

The copy is made in one step (``pages=-1``): one read transaction sees one snapshot of the
database, so the copy holds every transaction committed before the backup began and none
that committed after. Under WAL (``server/database.py``) that reader does not block the
server's writers, who go on committing while the pages are copied; a step-by-step backup
would restart whenever a writer changed a page, and might never finish under load.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Copied:
    """What a backup wrote: its file, its size in pages, its migration revision."""

    path: Path
    pages: int
    revision: str | None


def revision_of(path: Path) -> str | None:
    """The Alembic revision of the SQLite file at ``path`` (None: not an infusync database)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None


def copy(source: Path, target: Path) -> Copied:
    """Back ``source`` up into the new file ``target`` while others write to ``source``."""
    if target.exists():
        raise FileExistsError(f"{target} exists: a backup never overwrites a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer, pages=-1)
        writer.execute("PRAGMA journal_mode=DELETE")  # the backup is one self-contained file
        pages = int(writer.execute("PRAGMA page_count").fetchone()[0])
    finally:
        writer.close()
        reader.close()
    return Copied(target, pages, revision_of(target))
