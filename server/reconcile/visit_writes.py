"""The re-derived visits of a push written in one statement on PostgreSQL.

A visit is version-checked (``version_id_col``): SQLAlchemy sends its UPDATE one row at a
time, to check each row's count, so a day of six visits was six of a rush push's round
trips and six passes through the ORM's update path. Here the visits whose only changes are
what ``visit_state`` derives go out in one ``UPDATE ... FROM json_to_recordset`` that
checks every version, the count checked once (a visit changed since it was read raises
``StaleDataError``, as the ORM's flush does). What the flush's listeners would have written
for them is written here, from the same code: their revisions (``server.history``) and
feed entries (``server.feed_fanout``). The objects are then marked as stored, so the next
flush neither updates them again nor hands them to those listeners.

SQLite keeps the ORM's flush (one statement per visit there costs no round trip), and so
does any visit with other changes pending (a coordinator's edit, its flags).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from server import feed_fanout, history
from server.models import Visit
from sync import feed
from sync.bulk import is_postgresql, postgresql_versioned_update

# What ``visit_state._derive`` sets; every derived visit's row sets all of them.
DERIVED = ("status", "checked_in_at", "checked_out_at", "signed_at", "missed_reason")


def _changed(visit: Visit) -> set[str] | None:
    """The attributes changed on a stored visit (None: not a stored, loaded visit)."""
    state = inspect(visit)
    if not state.persistent or "version" not in state.dict:
        return None
    return {key for key in state.committed_state if state.attrs[key].history.has_changes()}


def _derived_only(visits: Iterable[Visit]) -> list[Visit]:
    """The visits whose only pending changes are derived ones (the others flush as usual)."""
    found = []
    for visit in visits:
        changed = _changed(visit)
        if changed and changed.issubset(DERIVED):
            found.append(visit)
    return found


def _row(visit: Visit, updated_at: Any) -> dict[str, Any]:
    return {"id": visit.id, **{name: getattr(visit, name) for name in DERIVED},
            "updated_at": updated_at, "version": visit.version + 1,
            "expected": visit.version}


def _mark_stored(session: Session, visits: list[Visit], rows: list[dict[str, Any]]) -> None:
    """The objects as the ORM leaves them after its own UPDATE: new version and update
    time, nothing pending, and no longer among the session's modified objects: the next
    flush would otherwise take each through the unit of work and both listeners for
    nothing (about 2,700 of a rush push's 65,000 Python calls, by cProfile).
    ``_commit_all`` is what the session itself calls on the objects it has just flushed;
    no public call drops an object from its modified set."""
    for visit, row in zip(visits, rows, strict=True):
        set_committed_value(visit, "updated_at", row["updated_at"])
        set_committed_value(visit, "version", row["version"])
        state = inspect(visit)
        state._commit_all(state.dict, session.identity_map)


def write_derived(session: Session, visits: Iterable[Visit]) -> None:
    """On PostgreSQL, write these visits' derived changes now, in one statement, with
    their revisions and feed entries; elsewhere (and for visits with other changes)
    leave them to the next flush."""
    if not is_postgresql(session):
        return
    changed = _derived_only(visits)
    if not changed:
        return
    connection = session.connection()
    changes, now = feed_fanout.changes_of(connection, changed)  # while history is pending
    table = Visit.__table__
    assert isinstance(table, Table)
    onupdate = table.c.updated_at.onupdate
    assert onupdate is not None
    rows = [_row(visit, onupdate.arg(None)) for visit in changed]
    found = postgresql_versioned_update(session, table, (*DERIVED, "updated_at"), rows)
    if found != len(rows):
        raise StaleDataError(f"UPDATE statement on table 'visits' expected to update "
                             f"{len(rows)} row(s); {found} were matched.")
    _mark_stored(session, changed, rows)
    history.write_revisions(connection, changed)
    if changes:
        feed.append(connection, changes, now)
