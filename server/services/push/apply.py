"""Applying the mutations of an opened batch, exactly once each, in a few statements.

1. ``prepare`` (before the write transaction): validate every mutation once
   (``validation``) and seal it for the inbox.
2. Claim every valid mutation id at once (``sync.claims``). An id this batch did not claim
   was seen before: the same content is a ``duplicate`` with the original outcome; other
   content is refused and audited as suspicious.
3. Hand each claimed mutation, in device ``seq`` order, to its handler (``dispatch``).
4. Score the new vital-sign sets and re-derive each touched visit once (``settle``); each
   answer's ``flags`` now hold every review item found about its mutation. Then write
   outcomes (flags included) onto the ledger and every kept mutation into the encrypted
   inbox, in bulk (``sync.ledger_writes``), and check the device's sequence numbers
   (``seq_gap``).
Everything commits (or not) with the batch, so "stored" and "applied" never part ways.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server import audit
from server.models import Device
from server.reconcile.batch_cache import BatchCache
from server.reconcile.news2 import Thresholds
from server.services.push.batch_run import (
    RECORD_FLAGS,
    Answer,
    BatchRun,
    Prepared,
    duplicate,
    refusal,
)
from server.services.push.dispatch import dispatch
from server.services.push.seq_gap import check_seq_gap
from server.services.push.settle import settle_visits
from server.services.push.validation import Refused, Valid, validate
from sync import claims, ledger, ledger_writes
from sync.batches import SyncBatch


def prepare(raws: list[Any], device_id: uuid.UUID, data_key: bytes) -> list[Prepared]:
    """Validate every mutation and seal its inbox payload.

    CPU only, no database: the push runs it before its write transaction begins (on SQLite
    that transaction holds the database's one write lock).
    """
    items, device = [], str(device_id)  # hashed with every mutation: written once
    for index, raw in enumerate(raws):
        inbox_id = uuid.uuid4()
        items.append(Prepared(index, raw, validate(raw, device), inbox_id,
                              ledger.seal_payload(data_key, inbox_id, raw)))
    return items


@dataclass(frozen=True)
class Applied:
    """An applied batch: each mutation's result in the order sent, and how many of the
    device's sequence numbers the server lacks (0: none), as the seq_gap check left it."""

    results: list[dict[str, Any]]
    missing_seqs: int


Entry = tuple[Prepared, Valid, claims.Candidate]
Repeat = tuple[Prepared, Valid, claims.Candidate]  # a later copy, and the first one


def _sort(run: BatchRun, entries: list[Entry], found: claims.Claims
          ) -> tuple[list[tuple[Prepared, Valid]], list[Repeat], dict[uuid.UUID, int]]:
    """Answer what the ledger already held; return the mutations to apply, this batch's
    repeats of them (answered once those are applied), and where each claimed id's
    applied mutation sits in the batch.

    The first mutation of the batch with a claimed id is the one applied, even when a
    later copy is the one whose seq claimed it (the ledger row then has that copy's seq):
    what both databases do, pinned by tests/integration/sync/test_push_repeats.py.
    """
    fresh: list[tuple[Prepared, Valid]] = []
    repeats: list[Repeat] = []
    applied: dict[uuid.UUID, claims.Candidate] = {}
    for item, checked, candidate in entries:
        if candidate.mutation_id not in found.claimed:
            _answer_replay(run, item, checked, found.replay(candidate))
        elif (first := applied.get(candidate.mutation_id)) is not None:
            repeats.append((item, checked, first))
        else:
            applied[candidate.mutation_id] = candidate
            fresh.append((item, checked))
    return fresh, repeats, {key: c.index for key, c in applied.items()}


def _answer_replay(run: BatchRun, item: Prepared, checked: Valid,
                   replay: claims.Replay | str) -> None:
    """A mutation an earlier batch sent: its original answer, or refused as suspicious."""
    if isinstance(replay, claims.Replay):
        run.answers[item.index] = duplicate(replay.outcome, replay.result)
        return
    run.audit_mutation(checked.id, "suspicious", {"reason": replay})
    run.answers[item.index] = refusal({"id": [replay]})


def _answer_repeats(run: BatchRun, repeats: list[Repeat]) -> None:
    """A mutation sent twice in one batch: the second copy answers like a replay (once the
    batch is settled, so that it repeats the first copy's flags)."""
    for item, checked, first in repeats:
        if checked.digest == first.content_hash:
            original = run.answers[first.index]
            run.answers[item.index] = duplicate(original.outcome, {
                key: original.result[key] for key in (*claims.KEPT, "flags")
                if key in original.result})
        else:
            run.answers[item.index] = refusal({"id": [claims.ID_REUSED]})


def _write(run: BatchRun, found: claims.Claims, applied: dict[uuid.UUID, int]) -> None:
    """Outcomes onto the ledger, every kept mutation into the encrypted inbox."""
    answers = {key: run.answers[applied[key]] for key in found.claimed}
    settled = {key: ledger_writes.Settled(answer.outcome, answer.result)
               for key, answer in answers.items()}
    ledger_writes.write_ledger(run.session, run.batch, found, settled)
    ledger_writes.write_inbox(run.session, run.batch, [
        ledger_writes.InboxRow(item.inbox_id, _mutation_id(item), answer.outcome,
                               answer.result.get("errors", _NO_ERRORS), item.payload)
        for item in run.items if (answer := run.answers[item.index]).keep])


_NO_ERRORS: dict[str, Any] = {}  # only read: written as the inbox row's reasons


def _mutation_id(item: Prepared) -> uuid.UUID | None:
    """The inbox row's mutation id: as validated, or the id sent when it is a UUID at all
    (a refused mutation's id may be anything)."""
    if isinstance(item.checked, Valid):
        return item.checked.id
    try:
        return uuid.UUID(str(item.raw_id))
    except ValueError:
        return None


def _audit_batch(run: BatchRun) -> None:
    answers = [run.answers[item.index] for item in run.items]
    counts: dict[str, int] = {}
    for answer in answers:
        counts[answer.result["status"]] = counts.get(answer.result["status"], 0) + 1
    # The few patients first, then their ids' text (not one str per mutation).
    patients = sorted(str(patient) for patient in {a.patient_id for a in answers if a.patient_id})
    audit.record(run.session, run.actor, "sync.push", "sync_batches", at=run.now,
                 entity_id=run.batch.batch_id,
                 details={"counts": counts, "patient_ids": patients})


def apply_prepared(session: Session, device: Device, batch: SyncBatch, items: list[Prepared],
                   actor: audit.Actor, now: datetime, zone: ZoneInfo,
                   news2: Thresholds | None = None) -> Applied:
    """Apply the ``prepare``d mutations of the batch; results come back in the order sent,
    with how many of the device's seqs the server lacks after it (``seq_gap``).

    ``news2``: the agency's early-warning thresholds (the RCP's when not given).
    """
    run = BatchRun(session, device, batch, actor, now, zone, items, BatchCache(session),
                   news2 or Thresholds())
    entries = [(item, item.checked, item.candidate(item.checked))
               for item in items if isinstance(item.checked, Valid)]
    run.answers.update({item.index: refusal(item.checked.errors)
                        for item in items if isinstance(item.checked, Refused)})
    found = claims.claim(session, device.id, [candidate for _i, _v, candidate in entries])
    fresh, repeats, applied = _sort(run, entries, found)
    run.cache.prefetch(checked.mutation for _item, checked in fresh)
    dispatch(run, fresh)
    settle_visits(run)
    _answer_repeats(run, repeats)
    _write(run, found, applied)
    missing = check_seq_gap(session, device, now, {c.seq for c in found.claimed.values()})
    _audit_batch(run)
    return Applied([_result(item, run.answers[item.index]) for item in items], missing)


def _result(item: Prepared, answer: Answer) -> dict[str, Any]:
    """The device's result: the id it sent first, then the answer's result without the
    ledger's record flags (copied and popped: a filtering comprehension cost twice that)."""
    result = {"id": item.raw_id, **answer.result}
    result.pop(RECORD_FLAGS, None)
    return result
