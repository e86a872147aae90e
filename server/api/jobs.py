"""Scheduled job runs: what ran, when, with what outcome (admins and coordinators)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from schemas.jobs import JobRunQuerySchema, JobRunSchema
from server.api.blueprint import Blueprint
from server.api.guards import roles_required
from server.extensions import current_session
from server.models import Role
from server.services import job_runs

blp = Blueprint("jobs", __name__, url_prefix="/jobs",
                description="Scheduled jobs run by 'infusync scheduler'")


@blp.route("/runs")
class JobRuns(MethodView):
    """The record of runs."""

    @roles_required(Role.ADMIN, Role.COORDINATOR)
    @blp.arguments(JobRunQuerySchema, location="query")
    @blp.response(200, JobRunSchema(many=True))
    @blp.paginate()
    @blp.doc(summary="List job runs, newest scheduled time first")
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
        size = filters.pop("limit", None) or pagination_parameters.page_size
        page = job_runs.list_runs(current_session(), filters, pagination_parameters.page, size)
        pagination_parameters.item_count = page.total
        return page.items
