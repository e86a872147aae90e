"""Feed entries for training, called from ``server.feed_fanout``'s ``after_flush`` hook.

Publishing or retiring a module version mentions it in the feed of everyone in its
audience; a user whose role, competencies or active flag change gets a mention of every
published module she enters or leaves; a status change mentions the status to its nurse.
Each mention is resolved at pull time against the audience *now*.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, inspect, select

from server.models import ModuleStatus, TrainingModule, TrainingStatus, User
from server.training import rules
from sync import feed

AUDIENCE_FIELDS = ("role", "competencies", "active")


def _old(obj: Any, name: str) -> Any:
    history = inspect(obj).attrs[name].history
    return history.deleted[0] if history.deleted else getattr(obj, name)


def _status_changed(module: TrainingModule) -> bool:
    history = inspect(module).attrs["status"].history
    return bool(history.added) and module.status is not ModuleStatus.DRAFT


def _audience_users(connection: Connection) -> list[Any]:
    rows = connection.execute(select(User.id, User.role, User.competencies, User.active))
    return [SimpleNamespace(id=r.id, role=r.role, competencies=r.competencies or [],
                            active=r.active) for r in rows]


def _published(connection: Connection) -> list[Any]:
    return list(connection.execute(select(TrainingModule.id, TrainingModule.audience).where(
        TrainingModule.status == ModuleStatus.PUBLISHED)))


def _user_changes(connection: Connection, user: User) -> Iterator[feed.Change]:
    if not any(inspect(user).attrs[name].history.has_changes() for name in AUDIENCE_FIELDS):
        return
    now = SimpleNamespace(id=user.id, role=user.role, competencies=user.competencies or [],
                          active=user.active)
    before = SimpleNamespace(id=user.id, role=_old(user, "role"),
                             competencies=_old(user, "competencies") or [],
                             active=_old(user, "active"))
    for module_id, audience in _published(connection):
        if rules.in_audience(audience, now) or rules.in_audience(audience, before):
            yield user.id, "training", module_id


def changes(connection: Connection, obj: Any) -> Iterator[feed.Change]:
    """The feed entries this flushed object calls for (none for non-training objects)."""
    if isinstance(obj, TrainingModule) and _status_changed(obj):
        for user in _audience_users(connection):
            if rules.in_audience(obj.audience, user):
                yield user.id, "training", obj.id
    elif isinstance(obj, TrainingStatus):
        yield obj.nurse_id, "training_status", obj.id
    elif isinstance(obj, User) and obj.id is not None:
        yield from _user_changes(connection, obj)


