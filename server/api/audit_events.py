"""The audit trail for the privacy officer: pages of events, or all of them as CSV."""

from __future__ import annotations

from typing import Any

from flask import Response, stream_with_context
from flask.views import MethodView

from schemas.audit import AuditEventQuerySchema, AuditEventSchema
from server.api.access import access_for
from server.api.blueprint import Blueprint
from server.api.guards import roles_required
from server.extensions import current_session
from server.models import Role
from server.services import audit_trail

blp = Blueprint("audit_events", __name__, url_prefix="",
                description="Audit trail: the accounting of disclosures")

READERS = (Role.PRIVACY_OFFICER, Role.ADMIN)


@blp.route("/audit-events")
class AuditEvents(MethodView):
    """Who did what to which record, when, and with what outcome."""

    @roles_required(*READERS)
    @blp.arguments(AuditEventQuerySchema, location="query")
    @blp.response(200, AuditEventSchema(many=True))
    @blp.paginate()
    @blp.doc(summary="List audit events, oldest first (patient_id= gives her accounting)")
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
        page = audit_trail.list_events(current_session(), filters, access_for(),
                                       pagination_parameters.page,
                                       pagination_parameters.page_size)
        pagination_parameters.item_count = page.total
        return page.items


@blp.route("/audit-events.csv")
class AuditEventsCsv(MethodView):
    """The same events as CSV, streamed."""

    @roles_required(*READERS)
    @blp.arguments(AuditEventQuerySchema, location="query")
    @blp.doc(summary="Audit events as CSV (same filters; every event before the export)",
             responses={"200": {"description": "CSV, one event per line after the header",
                                "content": {"text/csv": {}}}})
    def get(self, filters: dict[str, Any]) -> Response:
        rows = audit_trail.export(current_session(), filters, access_for())
        return Response(stream_with_context(audit_trail.csv_lines(rows)), mimetype="text/csv",
                        headers={"Content-Disposition":
                                 'attachment; filename="audit-events.csv"'})
