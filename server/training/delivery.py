"""What a nurse's devices receive of training: modules without answers, her statuses, and
the attachments of modules in her audience."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, object_session

from server.errors import NotFound
from server.models import (
    ModuleStatus,
    TrainingAsset,
    TrainingAttempt,
    TrainingModule,
    TrainingStatus,
    User,
)
from server.training import rules

# Built once: every snapshot pull reads them (see ``server.services.pull._in_hand``).
_PUBLISHED = select(TrainingModule).where(
    TrainingModule.status == ModuleStatus.PUBLISHED).order_by(TrainingModule.id)


def modules_for(session: Session, user: User) -> list[TrainingModule]:
    """Published modules whose audience holds ``user``."""
    return [module for module in session.scalars(_PUBLISHED)
            if rules.in_audience(module.audience, user)]


def module_data(module: TrainingModule) -> dict[str, Any]:
    """A module as devices see it: no correct options."""
    return {
        "id": str(module.id), "lineage_id": str(module.lineage_id), "version": module.version,
        "title": module.title, "summary": module.summary, "body_md": module.body_md,
        "attachments": [dict(a) for a in module.attachments],
        "quiz": rules.quiz_for_device(module.quiz), "competency": module.competency,
        "required": module.required, "due_rule": dict(module.due_rule),
        "published_at": module.published_at.isoformat() if module.published_at else None,
    }


def last_attempt(session: Session, status: TrainingStatus) -> TrainingAttempt | None:
    """Her latest attempt at any version of the module, as received."""
    return session.scalar(select(TrainingAttempt).where(
        TrainingAttempt.nurse_id == status.nurse_id,
        TrainingAttempt.lineage_id == status.lineage_id)
        .order_by(TrainingAttempt.received_at.desc(), TrainingAttempt.id.desc()).limit(1))


def status_data(session: Session, status: TrainingStatus) -> dict[str, Any]:
    """Her standing on one module, with the server's verdict on her last attempt."""
    attempt = last_attempt(session, status)
    return {
        "module_id": str(status.module_id), "lineage_id": str(status.lineage_id),
        "state": status.state.value,
        "due_on": status.due_on.isoformat() if status.due_on else None,
        "passed_at": status.passed_at.isoformat() if status.passed_at else None,
        "attempts": status.attempts,
        "last_attempt": None if attempt is None else {
            "mutation_id": str(attempt.mutation_id), "module_id": str(attempt.module_id),
            "version": attempt.version, "score_percent": float(attempt.score_percent),
            "passed": attempt.passed, "on_retired_version": attempt.on_retired_version,
            "received_at": attempt.received_at.isoformat()},
    }


def asset_for(session: Session, user: User, sha256: str) -> TrainingAsset:
    """An attachment of a module in her audience; anything else is a 404."""
    for module in modules_for(session, user):
        if any(a.get("sha256") == sha256 for a in module.attachments):
            asset = session.get(TrainingAsset, sha256)
            if asset is not None:
                return asset
    raise NotFound("No such attachment on a training module for you.")


def status_ids_for(session: Session, nurse_id: uuid.UUID) -> list[uuid.UUID]:
    """Ids of her statuses."""
    return list(session.scalars(select(TrainingStatus.id).where(
        TrainingStatus.nurse_id == nurse_id).order_by(TrainingStatus.id)))


TRAINING_KINDS = ("training", "training_status")


def upsert(kind: str, entity: Any) -> dict[str, Any]:
    """An upsert change for a module (without answers) or one of her statuses."""
    if kind == "training":
        return {"type": kind, "id": str(entity.id), "op": "upsert",
                "version": entity.version, "data": module_data(entity)}
    session = object_session(entity)
    assert session is not None
    return {"type": kind, "id": str(entity.id), "op": "upsert", "version": entity.version,
            "data": status_data(session, entity)}


def _remove(kind: str, entity_id: uuid.UUID) -> dict[str, Any]:
    return {"type": kind, "id": str(entity_id), "op": "remove", "version": None, "data": None}


def resolve(session: Session, nurse_id: uuid.UUID, by_type: dict[str, set[uuid.UUID]],
            add: Callable[[dict[str, Any]], None]) -> None:
    """Training mentions → upserts (published, in her audience, hers) or removes."""
    module_ids, status_ids = by_type.get("training", set()), by_type.get("training_status", set())
    if module_ids:
        nurse = session.get_one(User, nurse_id)
        found = {m.id: m for m in session.scalars(
            select(TrainingModule).where(TrainingModule.id.in_(module_ids)))}
        for module_id in sorted(module_ids, key=str):
            module = found.get(module_id)
            add(upsert("training", module) if module is not None and rules.delivered(
                module, nurse) else _remove("training", module_id))
    if status_ids:
        found_statuses = {s.id: s for s in session.scalars(select(TrainingStatus).where(
            TrainingStatus.id.in_(status_ids), TrainingStatus.nurse_id == nurse_id))}
        for status_id in sorted(status_ids, key=str):
            status = found_statuses.get(status_id)
            add(upsert("training_status", status) if status is not None
                else _remove("training_status", status_id))


def statuses_query(nurse_id: Any) -> Select[TrainingStatus]:
    """Her statuses, for a snapshot (keyset on id; ``nurse_id`` a value or a bind
    parameter); her modules are ``modules_for``."""
    return select(TrainingStatus).where(TrainingStatus.nurse_id == nurse_id)
