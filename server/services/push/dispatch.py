"""Handing each claimed mutation, in device ``seq`` order, to its reconciliation handler."""

from __future__ import annotations

from server.reconcile import HANDLERS, MutationContext, flags
from server.services.push.batch_run import RECORD_FLAGS, Answer, BatchRun, Prepared
from server.services.push.validation import Valid
from sync.ledger import Outcome


def _answer(run: BatchRun, item: Prepared, valid: Valid, record_flags: list[str]) -> Answer:
    raw = item.raw
    ctx = MutationContext(session=run.session, device=run.device, mutation=valid.mutation,
                          data=valid.data, raw_data=raw.get("data", {}),
                          raw_occurred_at=str(raw.get("occurred_at")),
                          batch_id=run.batch.batch_id, now=run.now, zone=run.zone,
                          flags=list(record_flags),
                          cache=run.cache)
    result = HANDLERS[valid.mutation["type"]](ctx)
    if result.outcome is Outcome.REJECTED:
        run.audit_mutation(valid.id, "rejected", {"fields": sorted(result.errors)},
                           patient_id=result.patient_id)
    answer = result.as_dict()  # a new dict: completed in place, in the order it is stored
    answer["flags"] = flags.merged([], ctx.raised)
    answer[RECORD_FLAGS] = ctx.flags
    return Answer(result.outcome, answer, patient_id=result.patient_id, visit=result.visit,
                  record_id=result.record_id)


def dispatch(run: BatchRun, fresh: list[tuple[Prepared, Valid]]) -> None:
    """Run each claimed mutation's handler, in seq order, and keep its answer."""
    record_flags = ["device_clock_skew"] if run.batch.clock_flagged else []
    for item, valid in sorted(fresh, key=lambda pair: pair[1].seq):
        run.answers[item.index] = _answer(run, item, valid, record_flags)
