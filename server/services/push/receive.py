"""Receiving a pushed batch: check, open, then apply each mutation exactly once.

Order of checks (docs/protocol.md): token ↔ device, device state, signature, key, envelope.
Anything refused before the envelope opens stores nothing but an audit event. Once open,
every mutation is kept in the inbox, whatever becomes of it, and the whole batch commits as
one transaction with its stored response, so a retry gets the same answer.

On SQLite the checks read in a transaction of their own, which ends before the envelope
opens; the batch's writes then begin with the device read and checked again (see
``_end_read_transaction``). Validation and sealing run between the two, without the lock.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from schemas.base import text_problem
from schemas.mutations import fast_aware_datetime
from schemas.sync import BatchSchema
from server import audit
from server.errors import AppError, Conflict, Invalid, Unauthorized
from server.metrics import instruments
from server.models import Device
from server.reconcile.news2 import Thresholds
from server.services import devices, server_keys
from server.services.push.apply import apply_prepared, prepare
from server.services.push.batch_run import Prepared
from sync import batches, compression, envelope, replays
from sync.claims import race_state


@dataclass(frozen=True)
class PushSettings:
    """What the push needs from configuration."""

    data_key: bytes
    policy: devices.SyncPolicy
    max_clock_skew: timedelta
    zone: ZoneInfo  # the agency's: training due dates are its local dates
    # When a NEWS2 score opens a review item (the RCP's thresholds by default).
    news2: Thresholds = field(default_factory=Thresholds)


@dataclass(frozen=True)
class TokenCheck:
    """The token's device as the caller authenticated it in the session's current
    transaction: the push uses it instead of reading it again."""

    device: Device


class TooLarge(AppError):
    """More mutations than the policy allows in one batch."""

    status = 413
    code = "too_many_mutations"


class InflatedTooLarge(AppError):
    """A compressed plaintext that inflates beyond the body limit (a decompression bomb)."""

    status = 413
    code = "inflated_too_large"


def _inflated(plaintext: bytes, encoding: str | None, limit: int) -> bytes:
    """The batch's JSON: as opened, or inflated when the envelope declares an encoding.

    Bounded by the body limit, so a compressed push can carry no more than a plain one.
    """
    if encoding is None:
        return plaintext
    try:
        return compression.inflate(plaintext, limit)
    except compression.InflatedTooLarge:
        raise InflatedTooLarge(
            f"The batch inflates beyond {limit} bytes, the limit of a push body; split it.",
            {"max_body_bytes": limit}) from None
    except compression.NotCompressed:
        raise Invalid(f"The opened batch is not the {encoding} stream its encoding declares.",
                      code="invalid_batch") from None


def _refuse(session: Session, device: Device, actor: audit.Actor, now: datetime, why: str,
            error: AppError) -> AppError:
    """Audit a refused push (nothing else is stored) and return the error to raise."""
    audit.record(session, actor, "sync.push", "devices", at=now, entity_id=device.id,
                 outcome="refused", details={"reason": why})
    session.commit()
    return error


def _end_read_transaction(session: Session) -> bool:
    """On SQLite, end the transaction that only read (nothing is pending), so that the
    CPU-bound work before the writes (opening, parsing, validating, sealing) holds no lock:
    there every transaction begins IMMEDIATE, taking the database's one write lock, and held
    from the first read it let one worker at a time push while the others waited. True when
    it ended (PostgreSQL locks rows, not the database: its push stays one transaction)."""
    if session.get_bind().dialect.name != "sqlite" or \
            session.new or session.dirty or session.deleted:
        return False
    session.commit()
    return True


NOT_CANONICAL = ("The push was signed over device_id and batch_id as sent, not in lowercase: "
                 "sign the lowercase form of each id, whatever case the body carries.")

NOT_CANONICAL_SEAL = ("The batch was sealed with device_id and batch_id as sent, not in "
                      "lowercase: seal with the lowercase form of each id, whatever case the "
                      "body carries.")


def _open(session: Session, device: Device, body: dict[str, Any], actor: audit.Actor,
          now: datetime, data_key: bytes) -> tuple[bytes, bool]:
    """Verify the signature, find the key, open the envelope (in that order); the database
    is only read before opening. The plaintext, and whether the read transaction ended."""
    device_id, batch_id = body["device_id"], body["batch_id"]
    signed = (envelope.ed25519_public_key_from_b64u(device.signing_key), body["signature"],
              device_id, batch_id, body["key_id"], body["sealed"])
    try:
        envelope.verify_push(*signed)
    except envelope.EnvelopeError:
        if envelope.signed_over_ids_as_sent(*signed):  # a slip of case, not a forgery
            raise Invalid(NOT_CANONICAL, code="identifiers_not_canonical") from None
        raise _refuse(session, device, actor, now, "bad_signature", Invalid(
            "The push signature does not verify with this device's key.",
            code="bad_signature")) from None
    key = next((k for k in server_keys.usable_hpke_keys(session, now)
                if k.key_id == body["key_id"]), None)
    if key is None:
        keys = server_keys.public_keys(session, now)
        raise _refuse(session, device, actor, now, "unknown_key", Conflict(
            "Seal to one of the current server keys.", {"hpke_keys": keys["hpke_keys"]},
            code="unknown_key"))
    private_key = server_keys.hpke_private_key(key, data_key)
    ended = _end_read_transaction(session)
    try:
        return envelope.open_sealed(body["sealed"], private_key, device_id, batch_id), ended
    except envelope.EnvelopeError:
        if envelope.opens_with_ids_as_sent(body["sealed"], private_key, device_id, batch_id):
            raise Invalid(NOT_CANONICAL_SEAL, code="identifiers_not_canonical") from None
        raise _refuse(session, device, actor, now, "envelope_does_not_open", Invalid(
            "The sealed batch does not open for this device, batch and key.",
            code="envelope_does_not_open")) from None


_BATCH_SCHEMA = BatchSchema()
_BATCH_KEYS = frozenset(_BATCH_SCHEMA.fields)
_DEVICE_CLOCK = _BATCH_SCHEMA.fields["device_clock"]


def _fast_batch(plaintext: bytes, raw: Any) -> dict[str, Any] | None:
    """``BatchSchema().load(raw)`` for a plainly valid batch; None to let the schema decide.

    The schema leaves the mutations' text to each mutation's own check; of the batch's own
    fields only ``app_version`` is free text.
    """
    if type(raw) is not dict or raw.keys() != _BATCH_KEYS \
            or json.detect_encoding(plaintext) != "utf-8":
        return None
    version, app_version, mutations = raw["schema_version"], raw["app_version"], raw["mutations"]
    if type(version) is not int or version != 1 or type(app_version) is not str \
            or len(app_version) > 40 or text_problem(app_version) is not None \
            or type(mutations) is not list \
            or any(mutation is None for mutation in mutations):  # fields.Raw refuses null
        return None
    device_clock = fast_aware_datetime(_DEVICE_CLOCK, raw["device_clock"])
    if device_clock is None:
        return None
    return {"schema_version": version, "device_clock": device_clock,
            "app_version": app_version, "mutations": list(mutations)}


def _parse(plaintext: bytes, max_mutations: int) -> tuple[dict[str, Any], Any]:
    """The batch plaintext, validated, and as sent; 422 when it is not a batch, 413 when
    too large."""
    try:
        raw = json.loads(plaintext)
        batch = _fast_batch(plaintext, raw) or _BATCH_SCHEMA.load(raw)
    except (ValueError, ValidationError) as exc:
        details = exc.messages if isinstance(exc, ValidationError) else {}
        raise Invalid("The opened batch is not a valid batch.", details,  # type: ignore[arg-type]
                      code="invalid_batch") from exc
    if len(batch["mutations"]) > max_mutations:
        raise TooLarge(f"At most {max_mutations} mutations per batch; split it.",
                       {"max_batch_mutations": max_mutations})
    return batch, raw


def _device(session: Session, token: str, device_id: Any, now: datetime,
            known: Device | None = None) -> Device:
    """The token's device, which must be the one the push names: checked when the push
    arrives, and again in every write transaction (the device may have changed since).
    ``known``: the token's device as already authenticated in this transaction."""
    device = known if known is not None else \
        devices.authenticate(session, token, now, pulling=False)
    if device.id != device_id:
        raise Unauthorized("This token belongs to another device.", code="device_mismatch")
    return device


def push(session: Session, token: str, body: dict[str, Any], actor: audit.Actor,
         now: datetime, settings: PushSettings, checked: TokenCheck | None = None
         ) -> dict[str, Any]:
    """Apply one pushed batch and return the response (stored for retries).

    ``checked``: the token's device, when the caller read it in the session's
    current transaction (not read again). Counted by outcome for /metrics: applied and
    replayed where they happen, refused (any 4xx) and failed (anything else, a 500) here,
    as they leave.
    """
    try:
        return _push(session, token, body, actor, now, settings, checked)
    except AppError:
        instruments.push_batches.labels("refused").inc()
        raise
    except Exception:
        instruments.push_batches.labels("failed").inc()
        raise


def _push(session: Session, token: str, body: dict[str, Any], actor: audit.Actor,
          now: datetime, settings: PushSettings, checked: TokenCheck | None
          ) -> dict[str, Any]:
    device = _device(session, token, uuid.UUID(body["device_id"]), now,
                     checked.device if checked else None)
    device_id = device.id
    actor = audit.Actor(device.user_id, actor.remote_addr, actor.request_id, device_id)
    plaintext, ended = _open(session, device, body, actor, now, settings.data_key)
    # Hashed inflated: the same batch sent again, compressed or not, is the same batch.
    plaintext = _inflated(plaintext, body.get("encoding"), settings.policy.max_body_bytes)
    batch, raw = _parse(plaintext, settings.policy.max_batch_mutations)
    items = prepare(batch["mutations"], device_id, settings.data_key)
    if ended:  # a new (write) transaction: the device is read and checked again inside it
        device = _device(session, token, device_id, now)
    skew = (batch["device_clock"] - now).total_seconds()
    for attempt in range(_ATTEMPTS):
        record = batches.SyncBatch(
            device_id=device_id, batch_id=uuid.UUID(body["batch_id"]),
            plaintext_hash=batches.plaintext_hash(plaintext), received_at=now,
            device_clock=raw.get("device_clock"), clock_skew_s=skew,
            clock_flagged=abs(skew) > settings.max_clock_skew.total_seconds(),
            mutation_count=len(batch["mutations"]),
        )
        try:
            return _apply_batch(session, device, record, items, actor, now, settings)
        except Exception as exc:
            if not race_state(exc) or attempt == _ATTEMPTS - 1:
                raise
            # A concurrent push took one of these mutation ids (PostgreSQL): nothing of
            # this attempt stays; the next one finds them in the ledger.
            # The prepared mutations are values, untouched by the attempt: reused as they are.
            session.rollback()
            device = _device(session, token, device_id, now)
    raise AssertionError("unreachable")


# A push that lost a race for a mutation id runs again; a third loss in a row is an error.
_ATTEMPTS = 3


def _apply_batch(session: Session, device: Device, record: batches.SyncBatch,
                 items: list[Prepared], actor: audit.Actor, now: datetime,
                 settings: PushSettings) -> dict[str, Any]:
    """Claim the batch, apply its mutations and commit with the stored response."""
    try:
        batches.claim(session, record)
    except batches.BatchReplayed as replay:
        response = replays.upgraded_response(session, replay.response)
        session.rollback()
        instruments.push_batches.labels("replayed").inc()
        return response
    except batches.BatchIdReused:
        session.rollback()
        raise Conflict("This batch id was already used for a different batch.",
                       code="batch_id_reused") from None
    applied = apply_prepared(session, device, record, items, actor, now, settings.zone,
                             settings.news2)
    results = applied.results
    device.last_push_at = device.last_seen_at = now
    answer: dict[str, Any] = {"batch_id": str(record.batch_id), "results": results,
                              "server_time": now.isoformat()}
    if applied.missing_seqs:
        answer["missing_seqs"] = applied.missing_seqs
    batches.store_response(session, record, answer)
    session.commit()
    _count_applied(results)
    return answer


def _count_applied(results: list[dict[str, Any]]) -> None:
    """The batch and each of its mutations by outcome, once the batch is committed."""
    instruments.push_batches.labels("applied").inc()
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[result["status"]] = outcomes.get(result["status"], 0) + 1
    for outcome, count in outcomes.items():
        instruments.push_mutations.labels(outcome).inc(count)
