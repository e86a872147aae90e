"""Applying the mutations of an opened batch, exactly once each, in a few statements.

1. Validate every mutation (refused ones are kept in the inbox with their reasons).
2. Claim all mutation ids at once: the ledger is read once, and the claimed rows are
   inserted at the end, outcomes included; the ledger's unique keys decide, never the
   read. On SQLite the transaction holds the database's one write lock, so no one can
   take a key in between; on PostgreSQL a concurrent push that did makes the insert fail,
   and the whole batch rolls back and runs again (``LedgerRace``). An id that was not
   claimed was seen before: the same content is a ``duplicate`` with the original
   outcome; other content is refused and audited as suspicious.
3. Hand each claimed mutation, in device ``seq`` order, to its reconciliation handler.
4. Re-derive each touched visit once, then write outcomes and the encrypted inbox in bulk.
Everything commits (or not) with the batch, so "stored" and "applied" never part ways.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Table, bindparam, func, or_, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from schemas.mutations import FAST_DATA_LOADERS, MUTATION_DATA_SCHEMAS, fast_aware_datetime
from schemas.sync import MutationSchema
from server import audit
from server.models import Device, ReviewItem, ReviewStatus, Severity
from server.reconcile import HANDLERS, MutationContext, Result
from server.reconcile.batch_cache import BatchCache, in_ids, sqlite_insert
from server.reconcile.findings import most_severe
from server.reconcile.visit_state import events_of, recompute
from sync import ledger
from sync.batches import SyncBatch
from sync.ledger import InboxEntry, LedgerEntry, Outcome
from sync.orm import UTCDateTime


@dataclass
class Item:
    """One mutation of the batch on its way through the pipeline."""

    index: int
    raw: Any
    mutation: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    digest: str = ""
    inbox_id: uuid.UUID = field(default_factory=uuid.uuid4)
    result: dict[str, Any] = field(default_factory=dict)
    outcome: Outcome | None = None
    keep: bool = True
    patient_id: uuid.UUID | None = None
    payload: bytes = b""  # the mutation as sent, sealed for the inbox

    @property
    def raw_id(self) -> Any:
        """The id as the device sent it (echoed back even when invalid)."""
        return self.raw.get("id") if isinstance(self.raw, dict) else None

    def refuse(self, errors: dict[str, Any]) -> None:
        """Record a refusal (the mutation stays in the inbox)."""
        self.outcome = Outcome.REJECTED
        self.result = {"status": Outcome.REJECTED.value, "errors": errors}


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# Schemas are stateless once built; building one per mutation was a third of a push's CPU.
_MUTATION_SCHEMA = MutationSchema()
_DATA_SCHEMAS = {kind: schema() for kind, schema in MUTATION_DATA_SCHEMAS.items()}
_MUTATION_KEYS = frozenset(_MUTATION_SCHEMA.fields)
_OCCURRED_AT = _MUTATION_SCHEMA.fields["occurred_at"]
_NUL = "\\u0000"  # how canonical (ASCII) JSON writes a NUL


def _fast_uuid(value: Any) -> uuid.UUID | None:
    if type(value) is not str:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _fast_mutation(raw: Any) -> dict[str, Any] | None:
    """``MutationSchema().load(raw)`` for plainly valid input (NULs aside); None otherwise."""
    if type(raw) is not dict or raw.keys() != _MUTATION_KEYS:
        return None
    seq, kind, visit, base, data = (raw["seq"], raw["type"], raw["visit_id"],
                                    raw["base_version"], raw["data"])
    if type(seq) is not int or seq < 1 or type(kind) is not str or not 1 <= len(kind) <= 40 \
            or (base is not None and type(base) is not int) or type(data) is not dict:
        return None
    mutation_id, entity_id = _fast_uuid(raw["id"]), _fast_uuid(raw["entity_id"])
    visit_id = None if visit is None else _fast_uuid(visit)
    if mutation_id is None or entity_id is None or (visit is not None and visit_id is None):
        return None
    occurred_at = fast_aware_datetime(_OCCURRED_AT, raw["occurred_at"])
    if occurred_at is None:
        return None
    return {"id": mutation_id, "seq": seq, "type": kind, "entity_id": entity_id,
            "visit_id": visit_id, "base_version": base, "occurred_at": occurred_at,
            "data": dict(data)}


def _validate_fast(item: Item, device_id: uuid.UUID) -> bool:
    """The hot mutation types without marshmallow: exactly what ``_validate`` would fill,
    or False (nothing filled) when the input is not plainly valid, so it runs instead."""
    mutation = _fast_mutation(item.raw)
    loader = FAST_DATA_LOADERS.get(mutation["type"]) if mutation is not None else None
    if loader is None:
        return False
    data = loader(mutation["data"])  # type: ignore[index]
    if data is None:
        return False
    canonical = ledger.canonical_json(device_id, item.raw)
    if _NUL in canonical:  # the schemas refuse NULs, naming the fields
        return False
    item.mutation, item.data, item.digest = mutation, data, ledger.hash_canonical(canonical)
    return True


def _validate(item: Item, device_id: uuid.UUID) -> None:
    """Fill ``mutation`` and ``data``, or refuse with the field errors."""
    if _validate_fast(item, device_id):
        return
    try:
        mutation: dict[str, Any] = _MUTATION_SCHEMA.load(item.raw)
    except ValidationError as exc:
        messages = exc.messages
        item.refuse(messages if isinstance(messages, dict) else {"_schema": messages})
        return
    schema = _DATA_SCHEMAS.get(mutation["type"])
    if schema is None:
        item.refuse({"type": [f"Unknown mutation type {mutation['type']!r}."]})
        return
    try:
        item.data = schema.load(mutation["data"])
    except ValidationError as exc:
        item.refuse({"data": exc.messages})
        return
    item.mutation = mutation
    item.digest = ledger.content_hash(device_id, item.raw)


_LEDGER: Table = LedgerEntry.__table__  # type: ignore[assignment]
_INBOX: Table = InboxEntry.__table__  # type: ignore[assignment]


# On PostgreSQL the ledger and inbox rows go in one statement each, their rows as one JSON
# array (json_to_recordset keeps their order, so the first row with an id or seq lands, as
# in an executemany): an executemany of 200 rows cost 200 statements on the server and as
# many in the driver's pipeline, and arrays of text cost the driver a regex per element.
# JSON columns travel as the text json.dumps makes of them, as SQLAlchemy's JSON type sends
# it; payloads as base64.
_PG_LEDGER = text("""
INSERT INTO sync_ledger (mutation_id, device_id, seq, batch_id, type, content_hash, inbox_id,
                         outcome, result, received_at)
SELECT u.id, :device_id, u.seq, :batch_id, u.type, u.hash, u.inbox_id, u.outcome,
       CAST(u.result AS json), :received_at
FROM json_to_recordset(CAST(:rows AS json))
     AS u(id uuid, seq integer, type varchar, hash varchar, inbox_id uuid, outcome varchar,
          result text)""").bindparams(bindparam("received_at", type_=UTCDateTime()))
_PG_INBOX = text("""
INSERT INTO sync_inbox (id, mutation_id, device_id, batch_id, received_at, outcome, reasons,
                        payload)
SELECT u.id, u.mutation_id, :device_id, :batch_id, :received_at, u.outcome,
       CAST(u.reasons AS json), decode(u.payload, 'base64')
FROM json_to_recordset(CAST(:rows AS json))
     AS u(id uuid, mutation_id uuid, outcome varchar, reasons text, payload text)
""").bindparams(bindparam("received_at", type_=UTCDateTime()))


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _postgresql(session: Session) -> bool:
    return bool(session.get_bind().dialect.name == "postgresql")


def _text(outcome: Outcome | None) -> str | None:
    return None if outcome is None else outcome.value


@dataclass
class Claims:
    """The mutation ids this batch claimed in the ledger, and what goes there."""

    ids: set[Any]
    # The ledger rows these mutations ran into (and this batch's own claims),
    # and the rows to insert once the outcomes are known.
    held: list[Any] | None = None
    rows: dict[Any, dict[str, Any]] | None = None


@dataclass
class _Claimed:
    """A ledger row this batch will insert, as ``_replayed`` sees it."""

    mutation_id: Any
    device_id: Any
    seq: int
    content_hash: str
    outcome: Outcome | None = None
    result: dict[str, Any] = field(default_factory=dict)


def _seq_range(seqs: list[int]) -> Any:
    """A device's seqs are consecutive: a range (two parameters) through the (device, seq)
    unique index usually covers them instead of a list of hundreds."""
    low, high = min(seqs), max(seqs)
    return LedgerEntry.seq.between(low, high) if high - low < 2 * len(seqs) \
        else LedgerEntry.seq.in_(seqs)


class LedgerRace(Exception):
    """Another push took one of this batch's ledger keys after the batch read the ledger
    (PostgreSQL): the batch's transaction is void; roll back and push it again, and the
    ledger then answers those mutations as duplicates, with their original outcomes."""


# SQLSTATEs of a ledger key taken by a concurrent push (unique_violation), and of a
# deadlock between two pushes inserting overlapping keys.
_RACE_STATES = frozenset({"23505", "40P01"})


def race_state(exc: BaseException) -> bool:
    """True for the database errors a concurrent push causes (pushing again answers it)."""
    return isinstance(exc, LedgerRace) or (
        isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _RACE_STATES)


def _claim(session: Session, batch: SyncBatch, items: list[Item], now: datetime) -> Claims:
    """Claim the ledger's keys for every valid mutation; return the ids this batch claimed."""
    if not items:
        return Claims(set(), [], {})
    return _claim_by_reading(session, batch, items, now)


def _claim_by_reading(session: Session, batch: SyncBatch, items: list[Item],
                      now: datetime) -> Claims:
    """Read what holds these ids and seqs, decide in order what an
    ``INSERT ... ON CONFLICT DO NOTHING`` of every row would have claimed, and insert the
    claimed rows once, with their outcomes, in ``_write``: no update of every row.

    The unique constraints stay the last word. On SQLite the push's write transaction
    holds the database's only write lock (it began IMMEDIATE), so no other writer can take
    a key between the read and the insert. On PostgreSQL a concurrent push can: the insert
    then waits for it and fails on the unique key (or on a deadlock), ``_write`` raises
    ``LedgerRace``, the whole transaction rolls back (nothing this batch applied stays)
    and the push runs again (``server.services.push``), finding those ids taken. So
    nothing is ever applied twice, and the loser answers ``duplicate`` with the original
    outcome.
    """
    ids = [it.mutation["id"] for it in items]  # type: ignore[index]
    held: list[Any] = list(session.scalars(select(LedgerEntry).where(or_(
        in_ids(session, LedgerEntry.mutation_id, ids),
        (LedgerEntry.device_id == batch.device_id)
        & _seq_range([it.mutation["seq"] for it in items])))))  # type: ignore[index]
    taken_ids = {row.mutation_id for row in held}
    taken_seqs = {row.seq for row in held if row.device_id == batch.device_id}
    rows: dict[Any, dict[str, Any]] = {}
    for it in items:
        mutation_id, seq = it.mutation["id"], it.mutation["seq"]  # type: ignore[index]
        if mutation_id in taken_ids or seq in taken_seqs:
            continue  # what ON CONFLICT DO NOTHING would have skipped
        taken_ids.add(mutation_id)
        taken_seqs.add(seq)
        rows[mutation_id] = {
            "mutation_id": mutation_id, "device_id": batch.device_id, "seq": seq,
            "batch_id": batch.batch_id, "type": it.mutation["type"],  # type: ignore[index]
            "content_hash": it.digest, "inbox_id": it.inbox_id, "received_at": now}
        held.append(_Claimed(mutation_id, batch.device_id, seq, it.digest))
    return Claims(set(rows), held, rows)


def _replayed(session: Session, batch: SyncBatch, items: list[Item], actor: audit.Actor,
              now: datetime, held: list[Any] | None = None) -> None:
    """Answer mutations whose id (or seq) the ledger already holds (``held``: as read by
    ``_claim_by_reading``, with this batch's claims)."""
    if not items:
        return
    if held is None:
        ids = [it.mutation["id"] for it in items]  # type: ignore[index]
        seqs = [it.mutation["seq"] for it in items]  # type: ignore[index]
        held = list(session.scalars(select(LedgerEntry).where(or_(
            LedgerEntry.mutation_id.in_(ids),
            (LedgerEntry.device_id == batch.device_id) & LedgerEntry.seq.in_(seqs)))))
    by_id = {row.mutation_id: row for row in held}
    by_seq = {row.seq: row for row in held if row.device_id == batch.device_id}
    for item in items:
        mutation = item.mutation or {}
        existing = by_id.get(mutation["id"]) or by_seq.get(mutation["seq"])
        if existing is not None and existing.mutation_id == mutation["id"] and \
                existing.content_hash == item.digest:
            item.keep, item.outcome = False, Outcome.DUPLICATE
            original = {k: existing.result[k] for k in ("version", "review_item_id", "errors")
                        if k in existing.result}
            item.result = {**original, "status": Outcome.DUPLICATE.value,
                           "outcome": existing.outcome.value if existing.outcome else None}
            continue
        reason = ("This mutation id was already used for different content."
                  if existing is not None and existing.mutation_id == mutation["id"]
                  else "This seq was already used by another mutation of this device.")
        audit.record(session, actor, "sync.mutation", "sync_ledger", at=now,
                     entity_id=mutation["id"], outcome="suspicious", details={"reason": reason})
        item.refuse({"id": [reason]})


def _apply(session: Session, device: Device, batch: SyncBatch, items: list[Item],
           cache: BatchCache, actor: audit.Actor, now: datetime) -> None:
    """Run each claimed mutation's handler, in seq order."""
    flags = ["device_clock_skew"] if batch.clock_flagged else []
    for item in sorted(items, key=lambda it: it.mutation["seq"]):  # type: ignore[index]
        mutation, raw = item.mutation or {}, item.raw
        ctx = MutationContext(session=session, device=device, mutation=mutation,
                              data=item.data or {}, raw_data=raw.get("data", {}),
                              raw_occurred_at=str(raw.get("occurred_at")),
                              batch_id=batch.batch_id, now=now, flags=list(flags), cache=cache)
        result: Result = HANDLERS[mutation["type"]](ctx)
        item.outcome, item.patient_id = result.outcome, result.patient_id
        item.result = {**result.as_dict(), "flags": ctx.flags}
        if result.visit is not None:
            item.result["_visit"] = result.visit
        if result.record_id is not None:
            item.result["_record"] = str(result.record_id)
        if result.outcome is Outcome.REJECTED:
            audit.record(session, actor, "sync.mutation", "sync_ledger", at=now,
                         entity_id=mutation["id"], patient_id=result.patient_id,
                         outcome="rejected", details={"fields": sorted(result.errors)})


def _first_claims(valid: list[Item], claimed: set[Any]
                  ) -> tuple[dict[int, Item], list[tuple[Item, Item]]]:
    """The items that claimed their id, and later items of this batch repeating an id."""
    fresh: dict[int, Item] = {}
    first_by_id: dict[Any, Item] = {}
    repeats: list[tuple[Item, Item]] = []
    for item in valid:
        mutation_id = item.mutation["id"]  # type: ignore[index]
        if mutation_id in first_by_id:
            repeats.append((item, first_by_id[mutation_id]))
        elif mutation_id in claimed:
            first_by_id[mutation_id] = item
            fresh[item.index] = item
    return fresh, repeats


def _answer_repeats(repeats: list[tuple[Item, Item]], fresh: dict[int, Item]) -> None:
    """A mutation sent twice in one batch: the second copy answers like a replay."""
    for item, first in repeats:
        if item.digest == first.digest:
            item.keep, item.outcome = False, Outcome.DUPLICATE
            item.result = {"status": Outcome.DUPLICATE.value,
                           "outcome": first.outcome.value if first.outcome else None}
        else:
            item.refuse({"id": ["This mutation id was already used for different content."]})


def _settle_visits(session: Session, cache: BatchCache, items: list[Item],
                   now: datetime) -> None:
    """Re-derive each touched visit once; report versions and the review items it found."""
    cache.insert_pending()
    found: dict[str, list[ReviewItem]] = {}
    session.flush()
    # One query for every touched visit's events (re-deriving one visit adds no events).
    events = events_of(session, list(cache.touched)) if cache.touched else {}
    for visit in cache.touched.values():
        for review in recompute(session, visit, now, events=events[visit.id]):
            found.setdefault(review.details.get("record_id") or "", []).append(review)
    session.flush()
    for item in items:
        visit, record = item.result.pop("_visit", None), item.result.pop("_record", None)
        if visit is not None:
            item.result["version"] = visit.version
        late = most_severe(found.get(record or "", []))
        if late is not None and "review_item_id" not in item.result:
            item.result["review_item_id"] = str(late.id)


def _write(session: Session, batch: SyncBatch, items: list[Item], claims: Claims,
           now: datetime, data_key: bytes) -> None:
    """Outcomes onto the ledger, every kept mutation into the encrypted inbox."""
    # The first item with a claimed id is the one that claimed it (``_first_claims``); a
    # later copy in the batch (a duplicate, or other content refused) must not overwrite
    # the outcome the ledger keeps for it.
    first: dict[Any, dict[str, Any]] = {}
    for it in items:
        if it.mutation and it.mutation["id"] in claims.ids:
            first.setdefault(it.mutation["id"], {"key": it.mutation["id"],
                                                 "outcome": it.outcome, "result": it.result})
    if claims.rows and _postgresql(session):  # the claimed rows go in now, with outcomes
        # In mutation id order, so that two pushes with overlapping ids wait on each other
        # rather than deadlock.
        try:
            session.execute(_PG_LEDGER, {"rows": json.dumps([
                {"id": str(key), "seq": row["seq"], "type": row["type"],
                 "hash": row["content_hash"], "inbox_id": str(row["inbox_id"]),
                 "outcome": _text(first[key]["outcome"]),
                 "result": json.dumps(first[key]["result"])}
                for key, row in sorted(claims.rows.items(), key=lambda kv: str(kv[0]))]),
                "device_id": batch.device_id, "batch_id": batch.batch_id, "received_at": now})
        except DBAPIError as exc:
            if race_state(exc):
                raise LedgerRace(str(batch.batch_id)) from exc
            raise
    elif claims.rows:
        sqlite_insert(session, _LEDGER, {
            "device_id": batch.device_id, "batch_id": batch.batch_id, "received_at": now},
            ("mutation_id", "seq", "type", "content_hash", "inbox_id", "outcome", "result"),
            [(key, row["seq"], row["type"], row["content_hash"], row["inbox_id"],
              first[key]["outcome"], first[key]["result"])
             for key, row in claims.rows.items()])
    if not _postgresql(session):
        inbox = [(item.inbox_id, _uuid(item.raw_id), item.outcome,
                  item.result.get("errors", {}),
                  item.payload or ledger.seal_payload(data_key, item.inbox_id, item.raw))
                 for item in items if item.keep]
        if inbox:
            sqlite_insert(session, _INBOX, {
                "device_id": batch.device_id, "batch_id": batch.batch_id, "received_at": now},
                ("id", "mutation_id", "outcome", "reasons", "payload"), inbox)
        return
    rows = []
    for item in items:
        if not item.keep:
            continue
        rows.append({
            "id": item.inbox_id, "mutation_id": _uuid(item.raw_id), "device_id": batch.device_id,
            "batch_id": batch.batch_id, "received_at": now, "outcome": item.outcome,
            "reasons": item.result.get("errors", {}),
            "payload": item.payload or ledger.seal_payload(data_key, item.inbox_id, item.raw),
        })
    if rows:
        session.execute(_PG_INBOX, {"rows": json.dumps([
            {"id": str(row["id"]), "mutation_id": _str(row["mutation_id"]),
             "outcome": _text(row["outcome"]), "reasons": json.dumps(row["reasons"]),
             "payload": base64.b64encode(row["payload"]).decode()} for row in rows]),
            "device_id": batch.device_id, "batch_id": batch.batch_id, "received_at": now})


_HEALED = "Every sequence number has arrived."


def _gap_item(session: Session, device: Device) -> ReviewItem | None:
    """The device's open seq_gap item, or else its latest one (None: it never had one)."""
    return session.scalars(select(ReviewItem).where(
        ReviewItem.device_id == device.id, ReviewItem.kind == "seq_gap").order_by(
        (ReviewItem.status == ReviewStatus.OPEN).desc(), ReviewItem.created_at.desc(),
        ReviewItem.id).limit(1)).first()


def _missing_before(item: ReviewItem | None, previous: int) -> int | None:
    """How many seqs were missing before this batch, as the last check left it, or None
    when that cannot be told from the review items (then the ledger is counted).

    Every push ends with this check, in its transaction, and nothing else writes the
    ledger; after a check either nothing is missing, or the open item says how many and
    up to which highest seq. No item ever, or a latest one the check itself healed, means
    nothing was missing; one a reviewer closed (accepted) says nothing of what came since.
    """
    if item is None:
        return 0
    if item.status is ReviewStatus.OPEN:
        details = item.details or {}
        missing, highest = details.get("missing"), details.get("highest_seq")
        if type(missing) is int and highest == previous:
            return missing
        return None
    if item.status is ReviewStatus.RESOLVED and item.resolution == _HEALED \
            and item.resolved_by is None and "resolved_with" not in (item.details or {}):
        return 0
    return None


def check_seq_gap(session: Session, device: Device, now: datetime,
                  claimed_seqs: set[int] | None = None) -> None:
    """Open (or heal) the device's review item for sequence numbers that never arrived.

    Missing = the device's highest seq - how many ledger rows it has. With the seqs this
    batch wrote to the ledger (``claimed_seqs``), that is worked out from the batch alone:
    the highest seqs through the (device, seq) unique index tell the previous high-water
    mark, and missing-before comes from the review item the previous check left
    (``_missing_before``), so a push no longer counts every row the device ever sent. The
    count stays the fallback when the items cannot tell.
    """
    if claimed_seqs is not None and _postgresql(session):
        # Two pushes of one device at once: the second waits here until the first commits,
        # then reads its ledger rows and item (each statement sees what committed before it
        # began), so that neither works from a state the other is changing. (Counting
        # needed no such lock: the next push's count healed a wrong item; an item worked
        # out from the previous one would keep it.)
        session.execute(select(Device.id).where(Device.id == device.id).with_for_update())
    found = _gap_item(session, device)
    item = found if found is not None and found.status is ReviewStatus.OPEN else None
    missing: int | None = None
    if claimed_seqs is not None:
        top = list(session.scalars(select(LedgerEntry.seq).where(
            LedgerEntry.device_id == device.id).order_by(LedgerEntry.seq.desc()).limit(
            len(claimed_seqs) + 1)))
        highest = top[0] if top else None
        previous = next((seq for seq in top if seq not in claimed_seqs), 0)
        before = _missing_before(found, previous)
        if before is not None:
            missing = before + (highest or 0) - previous - len(claimed_seqs)
    if missing is None or missing < 0:  # unknown, or the items disagree with the ledger
        highest, count = session.execute(select(func.max(LedgerEntry.seq), func.count()).where(
            LedgerEntry.device_id == device.id)).one()
        missing = (highest or 0) - count
    if missing > 0 and item is None:
        session.add(ReviewItem(
            kind="seq_gap", severity=Severity.WARNING, device_id=device.id, created_at=now,
            summary=f"{missing} mutation(s) from this device have not arrived: "
                    "documentation may be missing on the device.",
            details={"missing": missing, "highest_seq": highest,
                     "allowed_resolutions": ["accept"]}))
    elif missing > 0 and item is not None:
        item.details = {**item.details, "missing": missing, "highest_seq": highest}
    elif item is not None:
        item.status, item.resolved_at = ReviewStatus.RESOLVED, now
        item.resolution = _HEALED


def _response_results(items: list[Item]) -> list[dict[str, Any]]:
    results = []
    for item in items:
        public = {k: v for k, v in item.result.items() if k != "flags"}
        results.append({"id": item.raw_id, **public})
    return results


def prepare(raws: list[Any], device_id: uuid.UUID, data_key: bytes) -> list[Item]:
    """Validate every mutation and seal its inbox payload.

    CPU only, no database: the push runs it before its write transaction begins (on SQLite
    that transaction holds the database's one write lock).
    """
    items = [Item(index, raw) for index, raw in enumerate(raws)]
    for item in items:
        _validate(item, device_id)
        item.payload = ledger.seal_payload(data_key, item.inbox_id, item.raw)
    return items


def apply_mutations(session: Session, device: Device, batch: SyncBatch, raws: list[Any],
                    actor: audit.Actor, now: datetime, data_key: bytes) -> list[dict[str, Any]]:
    """Apply every mutation of the batch; results come back in the order sent."""
    return apply_prepared(session, device, batch, prepare(raws, device.id, data_key), actor,
                          now, data_key)


def apply_prepared(session: Session, device: Device, batch: SyncBatch, items: list[Item],
                   actor: audit.Actor, now: datetime, data_key: bytes) -> list[dict[str, Any]]:
    """Apply the ``prepare``d mutations of the batch; results come back in the order sent."""
    valid = [it for it in items if it.mutation is not None]
    claims = _claim(session, batch, valid, now)
    fresh, repeats = _first_claims(valid, claims.ids)
    repeated = {item.index for item, _first in repeats}
    _replayed(session, batch, [it for it in valid
                               if it.index not in fresh and it.index not in repeated], actor, now,
              claims.held)
    cache = BatchCache(session)
    cache.prefetch(it.mutation for it in fresh.values())  # type: ignore[misc]
    _apply(session, device, batch, list(fresh.values()), cache, actor, now)
    _answer_repeats(repeats, fresh)
    _settle_visits(session, cache, items, now)
    _write(session, batch, items, claims, now, data_key)
    check_seq_gap(session, device, now, {it.mutation["seq"] for it in fresh.values()})  # type: ignore[index]
    patients = sorted({str(it.patient_id) for it in items if it.patient_id})
    counts: dict[str, int] = {}
    for item in items:
        counts[item.result["status"]] = counts.get(item.result["status"], 0) + 1
    audit.record(session, actor, "sync.push", "sync_batches", at=now, entity_id=batch.batch_id,
                 details={"counts": counts, "patient_ids": patients})
    return _response_results(items)
