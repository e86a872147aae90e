"""A pump's status change that withdraws it becomes a ``PumpRecall`` event, then is traced."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.models import Pump, PumpRecall, PumpStatus
from server.services.recalls.trace import Traced, trace
from server.services.records import Access

WITHDRAWN = (PumpStatus.RECALLED, PumpStatus.OUT_OF_SERVICE)


@dataclass(frozen=True)
class Withdrawal:
    """How the pump was withdrawn: ``pump_update`` (PATCH) or ``recall_list`` (CSV)."""

    source: str
    recall_number: str | None = None
    reason: str | None = None


def is_withdrawal(before: PumpStatus, after: PumpStatus) -> bool:
    """Recalled from any other status; out of service from a status that may infuse.

    Staying recalled (a list imported again) is no new event; neither is a recalled pump
    marked out of service, whose patients the recall already reached.
    """
    if after is PumpStatus.RECALLED:
        return before is not PumpStatus.RECALLED
    return after is PumpStatus.OUT_OF_SERVICE and before not in WITHDRAWN


def withdraw(session: Session, pump: Pump, before: PumpStatus, access: Access,
             how: Withdrawal, previous_patient: uuid.UUID | None = None) -> Traced | None:
    """Record and trace the change from ``before`` to ``pump.status`` when it withdraws the
    pump (None otherwise); the caller has set the status and commits."""
    if not is_withdrawal(before, pump.status):
        return None
    event = PumpRecall(id=uuid.uuid4(), pump_id=pump.id, status=pump.status,
                       recall_number=how.recall_number, reason=how.reason, source=how.source,
                       recorded_by=access.actor.user_id, recorded_at=access.now)
    session.add(event)
    session.flush()
    return trace(session, pump, event, access, previous_patient)
