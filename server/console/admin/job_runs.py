"""Scheduler job runs, newest first (``services.job_runs``, as ``GET /api/v1/jobs/runs``):
counts and error types only, no patient data."""

from __future__ import annotations

from flask import render_template, request

from server.console import navigation, paging
from server.console.admin.common import ADMIN, PAGE_SIZE
from server.console.auth import login_required
from server.console.blueprint import bp
from server.extensions import current_session
from server.services import job_runs

navigation.add("console.job_runs", "Job runs", ADMIN, order=85)
OUTCOMES = ("running", "succeeded", "failed")


@bp.get("/admin/jobs", endpoint="job_runs")
@login_required(*ADMIN)
def job_runs_page() -> str:
    """The last runs of every job, or of one job or outcome (``?job_id=``, ``?outcome=``)."""
    filters = {name: request.args[name].strip() for name in ("job_id", "outcome")
               if request.args.get(name, "").strip()}
    if filters.get("outcome") not in (None, *OUTCOMES):
        filters.pop("outcome")
    number = paging.page_number()
    found = job_runs.list_runs(current_session(), filters, number, PAGE_SIZE)
    return render_template("console/admin/job_runs.html", title="Job runs", page=found,
                           filters=filters, outcomes=OUTCOMES,
                           pager=paging.pager(found, number, PAGE_SIZE))
