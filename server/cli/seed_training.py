"""The demo agency's training: one published, required module and its nurses' statuses."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from server import clock
from server import demo_data as demo
from server.models import ModuleStatus, TrainingModule, TrainingState, TrainingStatus, User
from server.training import rules


def _unflushed(user: User) -> SimpleNamespace:
    """The user as the audience rule reads her; ``active`` is only defaulted at insert."""
    return SimpleNamespace(id=user.id, role=user.role, competencies=user.competencies or [],
                           active=user.active is not False)


def training_batches(staff: Sequence[User], now: datetime,
                     demo_id: Callable[[str, object], uuid.UUID]) -> list[list[Any]]:
    """[[the module], [its audience's statuses]] with fixed ids, flushed in that order."""
    values: dict[str, Any] = dict(demo.TRAINING_MODULE)
    module = TrainingModule(
        id=demo_id("training_module", 1), lineage_id=demo_id("training_lineage", 1),
        version=1, status=ModuleStatus.PUBLISHED, created_at=now, published_at=now,
        **values)
    today = rules.local_date(now, clock.agency_zone())
    due = rules.first_due(module.due_rule, today, today)
    statuses = [TrainingStatus(id=demo_id("training_status", user.email), nurse_id=user.id,
                               lineage_id=module.lineage_id, module_id=module.id,
                               state=TrainingState.NOT_STARTED, due_on=due)
                for user in staff if rules.in_audience(module.audience, _unflushed(user))]
    return [[module], statuses]
