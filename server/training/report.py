"""The training status report: each nurse's standing per module, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import audit
from server.csv_cells import cell
from server.models import TrainingAttempt, TrainingModule, TrainingState, TrainingStatus, User
from server.services.records import Access

CSV_COLUMNS = ("nurse_id", "nurse_name", "module_title", "version", "competency", "required",
               "state", "due_on", "passed_at", "last_attempt_at", "attempts",
               "last_score_percent", "module_id", "lineage_id")


def _last_scores(session: Session, statuses: list[TrainingStatus]) -> dict[Any, Any]:
    """Score of each (nurse, lineage)'s most recent attempt."""
    nurses = {s.nurse_id for s in statuses}
    if not nurses:
        return {}
    latest: dict[Any, Any] = {}
    for attempt in session.scalars(select(TrainingAttempt).where(
            TrainingAttempt.nurse_id.in_(nurses)).order_by(TrainingAttempt.received_at,
                                                          TrainingAttempt.id)):
        latest[(attempt.nurse_id, attempt.lineage_id)] = attempt.score_percent
    return latest


def rows(session: Session, filters: dict[str, Any], access: Access) -> list[dict[str, Any]]:
    """Statuses matching the filters, by module title then nurse name."""
    stmt = (select(TrainingStatus, TrainingModule, User)
            .join(TrainingModule, TrainingModule.id == TrainingStatus.module_id)
            .join(User, User.id == TrainingStatus.nurse_id)
            .order_by(TrainingModule.title, User.name, User.id))
    if "module_id" in filters:
        module = session.get(TrainingModule, filters["module_id"])
        lineage = module.lineage_id if module is not None else filters["module_id"]
        stmt = stmt.where(TrainingStatus.lineage_id == lineage)
    if "nurse_id" in filters:
        stmt = stmt.where(TrainingStatus.nurse_id == filters["nurse_id"])
    if "state" in filters:
        stmt = stmt.where(TrainingStatus.state == TrainingState(filters["state"]))
    found: list[tuple[TrainingStatus, TrainingModule, User]] = [
        (row[0], row[1], row[2]) for row in session.execute(stmt)]
    scores = _last_scores(session, [status for status, _m, _u in found])
    audit.record(session, access.actor, "list", "training_statuses", at=access.now,
                 details={"count": len(found)})
    session.commit()
    return [{
        "nurse_id": status.nurse_id, "nurse_name": user.name, "module_id": module.id,
        "lineage_id": module.lineage_id, "module_title": module.title,
        "version": module.version, "competency": module.competency,
        "required": module.required, "state": status.state.value, "due_on": status.due_on,
        "passed_at": status.passed_at, "last_attempt_at": status.last_attempt_at,
        "attempts": status.attempts,
        "last_score_percent": (float(scores[(status.nurse_id, status.lineage_id)])
                               if (status.nurse_id, status.lineage_id) in scores else None),
    } for status, module, user in found]


def to_csv(report: list[dict[str, Any]]) -> str:
    """The report as CSV for the accreditation surveyor (one row per nurse and module)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in report:
        writer.writerow([cell(row[name]) for name in CSV_COLUMNS])
    return out.getvalue()


def matrix(report: list[dict[str, Any]]) -> dict[str, Any]:
    """The report as a grid: a row per nurse, a column per module (lineage), each cell her
    row of the report or None when the module is not hers (the console's standing matrix)."""
    modules: dict[Any, str] = {}
    nurses: dict[Any, str] = {}
    cells: dict[tuple[Any, Any], dict[str, Any]] = {}
    for row in report:
        modules.setdefault(row["lineage_id"], row["module_title"])
        nurses.setdefault(row["nurse_id"], row["nurse_name"])
        cells[(row["nurse_id"], row["lineage_id"])] = row
    columns = sorted(modules.items(), key=lambda item: (item[1], str(item[0])))
    rows = [{"nurse_id": nurse_id, "nurse_name": name,
             "cells": [cells.get((nurse_id, lineage)) for lineage, _title in columns]}
            for nurse_id, name in sorted(nurses.items(), key=lambda i: (i[1], str(i[0])))]
    return {"modules": [{"lineage_id": lineage, "title": title} for lineage, title in columns],
            "rows": rows,
            "overdue": sum(1 for row in report if row["state"] == "overdue")}
