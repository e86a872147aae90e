"""The nightly check of the audit trail's hash chain: a break becomes a critical review item.

``infusync audit verify`` does the same walk by hand. The item is opened once per break —
its key is the first broken link (seq and kind of damage) — however many nights find it;
a chain broken again somewhere before that link is another item.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server import review_items
from server.audit_verify import verify

KIND = "audit_chain_broken"


def run(session: Session, at: datetime, _config: Mapping[str, Any]) -> dict[str, int]:
    """Verify the whole chain; open the item for its first break."""
    result = verify(session)
    broken = result.broken
    if broken is None:
        return {"events": result.events, "broken": 0, "opened": 0}
    opened = review_items.open_item(
        session, KIND, f"The audit trail's hash chain is broken ({broken.problem}) at seq "
        f"{broken.seq}: verify it and investigate who changed the database.",
        dedupe_key=review_items.fact_key(KIND, broken.seq, broken.problem), now=at,
        details={"problem": broken.problem, "seq": broken.seq, "message": broken.message,
                 "event_id": str(broken.event_id) if broken.event_id else None})
    return {"events": result.events, "broken": 1, "opened": int(opened.new)}
