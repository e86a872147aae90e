"""What the server acknowledged, kept a while so it can be sent again after a restore.

A mutation leaves the outbox when its result arrives. If the server is then restored from
a backup taken before that push, the mutation is gone from the server and from the
outbox. So each acknowledged mutation is kept here, sealed like the rest of the store,
for ``KEEP_HOURS`` (the server's feed retention: a backup older than that is no use
anyway). When a pull answers ``410 cursor_expired`` with ``details.reason``
``feed_behind_cursor`` — the server's feed is behind what this device has seen — or when
the nurse runs ``infusync-device resend``, every kept mutation goes back to the outbox
with its id and seq: the server answers ``duplicate`` for what it still holds and applies
what it lost.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from offline_store.clock import utc_rfc3339
from offline_store.store import Store

KIND = "sent"
KEEP_HOURS = 336


def keep(store: Store, wire: dict[str, Any], answered_at: str) -> None:
    """Keep one acknowledged mutation (the caller's transaction makes it atomic with it)."""
    store.put(KIND, str(wire["id"]), {"wire": wire, "answered_at": answered_at})


def prune(store: Store, now: datetime) -> int:
    """Forget what was acknowledged more than ``KEEP_HOURS`` ago; how many."""
    oldest = utc_rfc3339(now - timedelta(hours=KEEP_HOURS))
    stale = [record.id for record in store.all(KIND) if record.data["answered_at"] < oldest]
    for mutation_id in stale:
        store.delete(KIND, mutation_id)
    return len(stale)


def requeue(store: Store, present: Collection[str] = ()) -> int:
    """Put every kept mutation back in the outbox as pending, in seq order, but those the
    server has just answered (``present``); how many."""
    with store.transaction() as conn:
        kept = sorted((record for record in store.all(KIND) if record.id not in present),
                      key=lambda record: int(record.data["wire"]["seq"]))
        for record in kept:
            wire = record.data["wire"]
            conn.execute(
                "INSERT INTO outbox (seq, id, batch_id, sealed) VALUES (?, ?, NULL, ?) "
                "ON CONFLICT DO NOTHING",
                (wire["seq"], wire["id"], store.seal("outbox", wire["id"], wire)))
            store.delete(KIND, record.id)
    return len(kept)
