"""The outcome of a pushed batch, asked for by its id after the push's answer was lost.

At 32 kbit/s sending a large batch again costs minutes just to hear the answer the server
already committed; asking costs a few hundred bytes up. The answer is the batch's stored
response, exactly what the push would answer if sent again (``sync.replays``), and only to
the device that pushed it: any other batch id is unknown, whether another device used it
or nobody did.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server import audit
from server.errors import Conflict, NotFound
from server.services import devices
from sync import batches, envelope, replays

UNKNOWN = ("This device sent no batch with this id that the server applied: send the "
           "batch again.")
IN_PROGRESS = "This batch is being applied now: ask again in a moment."


def _batch_uuid(batch_id: str) -> uuid.UUID:
    """The id as a UUID (either case); anything else is no batch of anyone's."""
    try:
        envelope.uuid_identifier("batch_id", batch_id)
    except envelope.EnvelopeError:
        raise NotFound(UNKNOWN, code="batch_unknown") from None
    return uuid.UUID(batch_id)


def push_outcome(session: Session, token: str, batch_id: str, actor: audit.Actor,
                 now: datetime) -> dict[str, Any]:
    """The stored response of this device's batch; 404 ``batch_unknown`` or 409
    ``batch_in_progress`` otherwise. Audited when answered (the results name records)."""
    device = devices.authenticate(session, token, now, pulling=False)
    wanted = _batch_uuid(batch_id)
    try:
        stored = batches.answer_of(session, device.id, wanted)
    except batches.BatchInProgress:
        session.rollback()
        raise Conflict(IN_PROGRESS, code="batch_in_progress") from None
    if stored is None:
        session.rollback()
        raise NotFound(UNKNOWN, code="batch_unknown")
    answer = replays.upgraded_response(session, stored)
    device.last_seen_at = now
    audit.record(session, audit.Actor(device.user_id, actor.remote_addr, actor.request_id,
                                      device.id),
                 "sync.push_outcome", "sync_batches", at=now, entity_id=wanted,
                 details={"mutations": len(answer.get("results") or [])})
    session.commit()
    return answer
