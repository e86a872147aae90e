"""The last sync attempt that failed, kept for ``status`` until a sync succeeds.

A nurse who tried to sync in a dead zone and walked away must see, later, that it did not
go through and that her documentation is still waiting; "last sync" alone hides that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from offline_store.clock import utc_rfc3339
from offline_store.errors import OfflineStoreError, ServerError, TransportError
from offline_store.store import Store

FAILURE_KEY = "last_failed_attempt"


@dataclass(frozen=True)
class FailedAttempt:
    """When a sync last failed, and why in a nurse's words."""

    at: str
    reason: str


def reason_of(exc: OfflineStoreError) -> str:
    """The cause in plain words: no connection, or the server's refusal."""
    if isinstance(exc, TransportError):
        return "no connection to the agency"
    if isinstance(exc, ServerError) and exc.status >= 500:
        return f"the agency's server had a problem ({exc.status})"
    if isinstance(exc, ServerError):
        return f"the agency's server refused it ({exc.status} {exc.code})"
    return "an error on this device"


def note_failure(store: Store, now: datetime, exc: OfflineStoreError) -> None:
    """Remember this failed attempt (overwriting an older one)."""
    store.set_value("sync_state", FAILURE_KEY, {"at": utc_rfc3339(now),
                                                "reason": reason_of(exc)})


def forget_failure(store: Store) -> None:
    """A sync went through: the failure is history."""
    store.set_value("sync_state", FAILURE_KEY, None)


def last_failure(store: Store) -> FailedAttempt | None:
    """The failed attempt since the last successful sync, if any."""
    kept = store.get_value("sync_state", FAILURE_KEY)
    if not isinstance(kept, dict):
        return None
    return FailedAttempt(at=str(kept.get("at")), reason=str(kept.get("reason")))
