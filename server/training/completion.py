"""``training.complete``: a quiz taken offline, scored here (the device never decides).

The attempt is stored once per mutation id. An attempt at a version retired (or
superseded) before it arrived is kept and marked ``on_retired_version``; it does not count
as a pass of the current version. Any verdict the device might claim is not part of the
mutation's schema (an unknown field refuses it).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.models import (
    ModuleStatus,
    TrainingAttempt,
    TrainingModule,
    TrainingState,
    TrainingStatus,
    User,
)
from server.reconcile.context import MutationContext, Result, rejected
from server.training import rules, standing
from sync.ledger import Outcome

UNKNOWN = "No training module with this id was published to you."


def _status(ctx: MutationContext, module: TrainingModule, zone: ZoneInfo) -> TrainingStatus:
    """Her status on the lineage, created when the daily job has not made it yet."""
    status = ctx.session.scalar(select(TrainingStatus).where(
        TrainingStatus.nurse_id == ctx.nurse_id,
        TrainingStatus.lineage_id == module.lineage_id))
    if status is not None:
        return status
    status = TrainingStatus(nurse_id=ctx.nurse_id, lineage_id=module.lineage_id,
                            module_id=module.id, state=TrainingState.NOT_STARTED,
                            due_on=standing.first_due(module, rules.local_date(ctx.now, zone),
                                                      zone))
    try:
        with ctx.session.begin_nested():
            ctx.session.add(status)
    except IntegrityError:  # the daily job made it at the same moment
        return ctx.session.scalars(select(TrainingStatus).where(
            TrainingStatus.nurse_id == ctx.nurse_id,
            TrainingStatus.lineage_id == module.lineage_id)).one()
    return status


def complete(ctx: MutationContext) -> Result:
    """Score the answers, store the attempt, and move her status."""
    data = ctx.data
    module = ctx.session.get(TrainingModule, data["module_id"])
    nurse = ctx.session.get_one(User, ctx.nurse_id)
    if module is None or module.status is ModuleStatus.DRAFT or module.version is None:
        return rejected("data.module_id", UNKNOWN)
    if not rules.in_audience(module.audience, nurse):
        return rejected("data.module_id", "This module is not assigned to you.")
    if data["version"] != module.version:
        return rejected("data.version", f"This module id is version {module.version}, "
                                   f"not {data['version']}.")
    problems = rules.answer_errors(module.quiz, data["answers"])
    if problems:
        return Result(Outcome.REJECTED, errors={"data.answers": problems})
    verdict = rules.score(module.quiz, data["answers"])
    retired = module.status is ModuleStatus.RETIRED
    attempt = TrainingAttempt(
        id=ctx.mutation["entity_id"], mutation_id=ctx.mutation_id, nurse_id=ctx.nurse_id,
        device_id=ctx.device.id, module_id=module.id, lineage_id=module.lineage_id,
        version=module.version, answers=dict(data["answers"]), started_at=data["started_at"],
        completed_at=data["completed_at"], score_percent=verdict.percent,
        passed=verdict.passed, on_retired_version=retired, received_at=ctx.now)
    try:
        with ctx.session.begin_nested():
            ctx.session.add(attempt)
    except IntegrityError:
        return rejected("entity_id", "An attempt with this id is already stored.")
    if retired:
        ctx.flags.append("retired_version")
        current = ctx.session.scalar(select(TrainingStatus).where(
            TrainingStatus.nurse_id == ctx.nurse_id,
            TrainingStatus.lineage_id == module.lineage_id))
        if current is not None:  # her status still changes: the device learns the verdict
            current.attempts += 1
            current.last_attempt_at = ctx.now
    else:
        standing.record_attempt(_status(ctx, module, ctx.zone), module, verdict.passed, ctx.now,
                                ctx.zone)
    # ``version``: the attempt's (a new record); no visit is involved.
    return Result(Outcome.APPLIED, 1, record_id=ctx.mutation["entity_id"])
