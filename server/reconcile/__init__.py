"""Reconciliation: turning one synced mutation into the agency's record, never losing it.

Each handler takes a ``MutationContext`` and returns a ``Result``: applied, applied with a
review item, conflict (stored, attached, queued for a person), or rejected (kept in the
inbox with its reasons). Handlers never commit; the push service does, once per batch.
"""

from __future__ import annotations

from collections.abc import Callable

from server.reconcile import documents, evv, infusion, vitals
from server.reconcile.context import MutationContext, Result
from server.training import completion

Handler = Callable[[MutationContext], Result]

HANDLERS: dict[str, Handler] = {
    "visit.check_in": evv.check_in,
    "visit.check_out": evv.check_out,
    "vitals.record": vitals.record,
    "infusion.record": infusion.record,
    "visit.note": documents.note,
    "visit.sign": documents.sign,
    "visit.missed": documents.missed,
    "record.amend": documents.amend,
    "training.complete": completion.complete,
}

__all__ = ["HANDLERS", "Handler", "MutationContext", "Result"]
