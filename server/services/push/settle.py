"""Settling a batch's touched visits: each re-derived once, after every handler has run.

A visit's state is a function of all its events (``reconcile.visit_state``), so deriving
it per mutation would redo the same work hundreds of times; instead the answers learn the
visit's final version and the review items the derivation found about their records.
The NEWS2 scores of the vital-sign sets the batch added to are computed here too, once
for the batch, before its vital signs are inserted (``reconcile.early_warning``). Every
item found about an answer's record becomes one of its flags (``reconcile.flags``).
"""

from __future__ import annotations

from server.models import ReviewItem, VitalSign
from server.reconcile import early_warning, flags
from server.reconcile.findings import most_severe
from server.reconcile.visit_state import events_of, recompute_many
from server.services.push.batch_run import Answer, BatchRun


def _found(run: BatchRun) -> dict[str, list[ReviewItem]]:
    """Score the new vital-sign sets and re-derive each touched visit; the review items
    found, by the record they name."""
    cache, session = run.cache, run.session
    found = early_warning.score_sets(session, cache.pending_rows.get(VitalSign, ()), run.now,
                                     run.news2)
    cache.insert_pending()
    session.flush()
    # One query for every touched visit's events (re-deriving one visit adds no events).
    events = events_of(session, list(cache.touched)) if cache.touched else {}
    for review in recompute_many(session, list(cache.touched.values()), run.now, events):
        found.setdefault(review.details.get("record_id") or "", []).append(review)
    return found


def _settled(answer: Answer, found: dict[str, list[ReviewItem]]) -> Answer:
    result = answer.result
    if answer.visit is not None:
        version = answer.visit.version
        result = {**result, "version": result.get("version", version), "visit_version": version}
    # Items name records by their id's text: made only when the batch found any.
    items = found.get("" if answer.record_id is None else str(answer.record_id), []) \
        if found else []
    late = most_severe(items)
    if late is not None and "review_item_id" not in result:
        result = {**result, "review_item_id": str(late.id)}
    if items:
        result = {**result, "flags": flags.merged(result["flags"], items)}
    if result is answer.result:
        return answer
    return answer.with_result(result)


def settle_visits(run: BatchRun) -> None:
    """Re-derive each touched visit once; report versions and the review items it found."""
    found = _found(run)
    for index, answer in run.answers.items():
        if answer.visit is not None or answer.record_id is not None:
            run.answers[index] = _settled(answer, found)
