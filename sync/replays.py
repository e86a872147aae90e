"""A batch answered before protocol v1.1, sent again: its stored response in the v1.1 shape.

The stored response is the answer a retry gets, byte for byte; one stored by a v1 server
had nested ``errors`` and another meaning of ``version`` (``schemas.result_shapes``). Each
result is brought to the v1.1 shape with its mutation's type from the ledger, so a device
that resends a batch across the upgrade decodes it like any other answer.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.result_shapes import STORED, upgraded
from sync.ledger import LedgerEntry


def _outcome(result: dict[str, Any]) -> Any:
    return result.get("outcome") if result.get("status") == "duplicate" else result.get("status")


def _needs_type(result: Any) -> bool:
    """A stored or conflicting result without ``visit_version``: v1, or a training attempt."""
    return isinstance(result, dict) and _outcome(result) in STORED \
        and "visit_version" not in result


def _ids(results: list[Any]) -> list[uuid.UUID]:
    found = []
    for result in results:
        try:
            found.append(uuid.UUID(str(result.get("id"))))
        except ValueError:
            continue
    return found


def upgraded_response(session: Session, response: dict[str, Any]) -> dict[str, Any]:
    """``response`` with every result in the v1.1 shape (equal when it already was)."""
    results = response.get("results") or []
    typed = [result for result in results if _needs_type(result)]
    types: dict[str, str] = {}
    if typed:
        types = {str(mutation_id): kind for mutation_id, kind in session.execute(
            select(LedgerEntry.mutation_id, LedgerEntry.type).where(
                LedgerEntry.mutation_id.in_(_ids(typed))))}
    return {**response, "results": [
        upgraded(result, types.get(str(result.get("id"))), _outcome(result))
        if isinstance(result, dict) else result for result in results]}
