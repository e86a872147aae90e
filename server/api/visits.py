"""Visits: coordinators schedule, reassign, reschedule and cancel; nurses read their own."""

from __future__ import annotations

from schemas.visits import VisitQuerySchema, VisitSchema, VisitUpdateSchema
from server.api.blueprint import Blueprint
from server.api.guards import PATIENT_READERS, STAFF_WRITERS
from server.api.resource import Resource, register_crud
from server.services import scope, visits

blp = Blueprint("visits", __name__, url_prefix="/visits", description="Visits")

register_crud(blp, Resource(
    noun="visit",
    schema=VisitSchema,
    update_schema=VisitUpdateSchema,
    query_schema=VisitQuerySchema,
    create=visits.create_visit,
    list=visits.list_visits,
    get=visits.get_visit,
    update=visits.update_visit,
    readers=PATIENT_READERS,
    writers=STAFF_WRITERS,
    scope=scope.visit_condition,
))
