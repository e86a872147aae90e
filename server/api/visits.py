"""Visits: coordinators schedule, reassign, reschedule and cancel; nurses read their own."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from schemas.documentation import EvvSchema, VisitDetailSchema
from schemas.visits import VisitQuerySchema, VisitSchema, VisitUpdateSchema
from server.api.access import access_for
from server.api.blueprint import Blueprint
from server.api.guards import PATIENT_READERS, STAFF_WRITERS, roles_required
from server.api.resource import Resource, register_crud
from server.extensions import db
from server.services import scope, visit_record, visits

blp = Blueprint("visits", __name__, url_prefix="/visits", description="Visits")

register_crud(blp, Resource(
    noun="visit",
    schema=VisitSchema,
    update_schema=VisitUpdateSchema,
    query_schema=VisitQuerySchema,
    create=visits.create_visit,
    list=visits.list_visits,
    get=visit_record.get_visit_record,
    update=visits.update_visit,
    readers=PATIENT_READERS,
    writers=STAFF_WRITERS,
    scope=scope.visit_condition,
    detail_schema=VisitDetailSchema,
))


@blp.route("/<uuid:visit_id>/evv")
class VisitEvv(MethodView):
    """Electronic visit verification."""

    @roles_required(*PATIENT_READERS)
    @blp.response(200, EvvSchema)
    @blp.doc(summary="The six federal EVV elements of a visit and whether check-in and "
                     "check-out were verified (404 when it is not in your scope)")
    def get(self, visit_id: uuid.UUID) -> Any:
        return visit_record.get_evv(db.session, visit_id, access_for(scope.visit_condition))
