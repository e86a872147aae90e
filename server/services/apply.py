"""Applying the mutations of an opened batch, one by one, exactly once each.

Per mutation: validate, claim its id in the ledger (a unique key, never check-then-insert)
together with its encrypted inbox copy, then hand it to its reconciliation handler inside
a savepoint. A mutation id seen before with the same content is a ``duplicate`` carrying
the original outcome; with different content it is refused and audited as suspicious.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.mutations import MUTATION_DATA_SCHEMAS
from schemas.sync import MutationSchema
from server import audit
from server.models import Device, ReviewItem, ReviewStatus, Severity
from server.reconcile import HANDLERS, MutationContext, Result
from sync import ledger
from sync.batches import SyncBatch
from sync.ledger import LedgerEntry, Outcome


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _keep_refused(session: Session, batch: SyncBatch, raw: Any, errors: dict[str, Any],
                  now: datetime, data_key: bytes) -> dict[str, Any]:
    """Keep a refused mutation in the inbox with its reasons; return its result."""
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    entry = ledger.keep(session, data_key, device_id=batch.device_id, batch_id=batch.batch_id,
                        mutation_id=_uuid(raw_id), raw=raw, now=now)
    entry.outcome, entry.reasons = Outcome.REJECTED, errors
    return {"id": raw_id, "status": Outcome.REJECTED.value, "errors": errors}


def _validate(raw: Any) -> tuple[dict[str, Any], dict[str, Any]] | dict[str, Any]:
    """(mutation, data) when valid, else the field errors."""
    try:
        mutation: dict[str, Any] = MutationSchema().load(raw)
    except ValidationError as exc:
        return exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    schema = MUTATION_DATA_SCHEMAS.get(mutation["type"])
    if schema is None:
        return {"type": [f"Unknown mutation type {mutation['type']!r}."]}
    try:
        return mutation, schema().load(mutation["data"])
    except ValidationError as exc:
        return {"data": exc.messages}


def _claim(session: Session, batch: SyncBatch, raw: dict[str, Any], mutation: dict[str, Any],
           now: datetime, data_key: bytes) -> tuple[LedgerEntry, ledger.InboxEntry] | LedgerEntry:
    """Ledger and inbox rows for a new mutation, or the ledger row it clashes with."""
    digest = ledger.content_hash(batch.device_id, raw)
    try:
        with session.begin_nested():
            inbox = ledger.keep(session, data_key, device_id=batch.device_id,
                                batch_id=batch.batch_id, mutation_id=mutation["id"], raw=raw,
                                now=now)
            entry = LedgerEntry(mutation_id=mutation["id"], device_id=batch.device_id,
                                seq=mutation["seq"], batch_id=batch.batch_id,
                                type=mutation["type"], content_hash=digest, inbox_id=inbox.id,
                                received_at=now)
            session.add(entry)
            session.flush()
    except IntegrityError:
        return session.scalars(select(LedgerEntry).where(or_(
            LedgerEntry.mutation_id == mutation["id"],
            (LedgerEntry.device_id == batch.device_id) & (LedgerEntry.seq == mutation["seq"]),
        ))).first()  # type: ignore[return-value]
    return entry, inbox


def _replayed(session: Session, batch: SyncBatch, raw: dict[str, Any], existing: LedgerEntry,
              actor: audit.Actor, now: datetime, data_key: bytes) -> dict[str, Any]:
    """A mutation id (or seq) seen before: the same content is a duplicate, else suspicious."""
    same = (existing.mutation_id == _uuid(raw.get("id"))
            and existing.content_hash == ledger.content_hash(batch.device_id, raw))
    if same:
        original = {key: existing.result[key] for key in ("version", "review_item_id", "errors")
                    if key in existing.result}
        return {**original, "id": raw.get("id"), "status": Outcome.DUPLICATE.value,
                "outcome": existing.outcome.value if existing.outcome else None}
    reason = ("This mutation id was already used for different content."
              if existing.mutation_id == _uuid(raw.get("id"))
              else "This seq was already used by another mutation of this device.")
    audit.record(session, actor, "sync.mutation", "sync_ledger", at=now,
                 entity_id=existing.mutation_id, outcome="suspicious",
                 details={"reason": reason})
    return _keep_refused(session, batch, raw, {"id": [reason]}, now, data_key)


def _apply_one(session: Session, device: Device, batch: SyncBatch, raw: Any,
               actor: audit.Actor, now: datetime, data_key: bytes) -> dict[str, Any]:
    checked = _validate(raw)
    if isinstance(checked, dict):
        return _keep_refused(session, batch, raw, checked, now, data_key)
    mutation, data = checked
    claimed = _claim(session, batch, raw, mutation, now, data_key)
    if isinstance(claimed, LedgerEntry):
        return _replayed(session, batch, raw, claimed, actor, now, data_key)
    entry, inbox = claimed
    ctx = MutationContext(session=session, device=device, mutation=mutation, data=data,
                          raw_data=raw.get("data", {}),
                          raw_occurred_at=str(raw.get("occurred_at")), batch_id=batch.batch_id,
                          now=now,
                          flags=["device_clock_skew"] if batch.clock_flagged else [])
    with session.begin_nested():
        result: Result = HANDLERS[mutation["type"]](ctx)
    ledger.settle(entry, inbox, result.outcome, {**result.as_dict(), "flags": ctx.flags})
    if result.outcome is Outcome.REJECTED:
        audit.record(session, actor, "sync.mutation", "sync_ledger", at=now,
                     entity_id=mutation["id"], patient_id=result.patient_id,
                     outcome="rejected", details={"fields": sorted(result.errors)})
    return {"id": raw.get("id"), **result.as_dict(), "_patient": result.patient_id}


def _seq_key(raw: Any) -> tuple[int, int]:
    seq = raw.get("seq") if isinstance(raw, dict) else None
    return (0, seq) if isinstance(seq, int) and not isinstance(seq, bool) else (1, 0)


def check_seq_gap(session: Session, device: Device, now: datetime) -> None:
    """Open (or heal) the device's review item for sequence numbers that never arrived."""
    highest, count = session.execute(select(func.max(LedgerEntry.seq), func.count()).where(
        LedgerEntry.device_id == device.id)).one()
    item = session.scalars(select(ReviewItem).where(
        ReviewItem.device_id == device.id, ReviewItem.kind == "seq_gap",
        ReviewItem.status == ReviewStatus.OPEN)).first()
    missing = (highest or 0) - count
    if missing > 0 and item is None:
        session.add(ReviewItem(
            kind="seq_gap", severity=Severity.WARNING, device_id=device.id, created_at=now,
            summary=f"{missing} mutation(s) from this device have not arrived: "
                    "documentation may be missing on the device.",
            details={"missing": missing, "highest_seq": highest}))
    elif missing > 0 and item is not None:
        item.details = {"missing": missing, "highest_seq": highest}
    elif item is not None:
        item.status, item.resolved_at = ReviewStatus.RESOLVED, now
        item.resolution = "Every sequence number has arrived."


def apply_mutations(session: Session, device: Device, batch: SyncBatch, raws: list[Any],
                    actor: audit.Actor, now: datetime, data_key: bytes) -> list[dict[str, Any]]:
    """Apply every mutation in device ``seq`` order; results come back in the order sent."""
    order = sorted(range(len(raws)), key=lambda i: _seq_key(raws[i]))
    results: dict[int, dict[str, Any]] = {}
    for index in order:
        results[index] = _apply_one(session, device, batch, raws[index], actor, now, data_key)
    check_seq_gap(session, device, now)
    patients = sorted({str(r.pop("_patient")) for r in results.values()
                       if r.get("_patient")})
    for result in results.values():
        result.pop("_patient", None)
    counts: dict[str, int] = {}
    for result in results.values():
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    audit.record(session, actor, "sync.push", "sync_batches", at=now, entity_id=batch.batch_id,
                 details={"counts": counts, "patient_ids": patients})
    return [results[i] for i in range(len(raws))]
