"""Visits: coordinators schedule, reassign, reschedule and cancel; nurses read their own."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from schemas.assignment import (
    AssignedVisitSchema,
    AssignSchema,
    BulkAssignSchema,
    BulkResponseSchema,
    CandidatesQuerySchema,
    CandidatesSchema,
    UnassignSchema,
)
from schemas.documentation import EvvSchema, VisitDetailSchema
from schemas.visits import VisitQuerySchema, VisitSchema, VisitUpdateSchema
from server import clock
from server.api.access import access_for, expected_version
from server.api.blueprint import Blueprint
from server.api.guards import PATIENT_READERS, STAFF_WRITERS, roles_required
from server.api.refusals import refusals
from server.api.resource import Resource, register_crud
from server.extensions import current_session
from server.services import assignment, candidates, scope, visit_record, visits

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
    patch_refusals=(409, 428),
))


@blp.route("/<uuid:visit_id>/evv")
class VisitEvv(MethodView):
    """Electronic visit verification."""

    @roles_required(*PATIENT_READERS)
    @blp.response(200, EvvSchema)
    @blp.doc(summary="The six federal EVV elements of a visit and whether check-in and "
                     "check-out were verified (404 when it is not in your scope)")
    def get(self, visit_id: uuid.UUID) -> Any:
        return visit_record.get_evv(current_session(), visit_id, access_for(scope.visit_condition))


@blp.route("/<uuid:visit_id>/assign")
class VisitAssign(MethodView):
    """Give a visit to a nurse."""

    @roles_required(*STAFF_WRITERS)
    @refusals(409, 428)
    @blp.arguments(AssignSchema)
    @blp.response(200, AssignedVisitSchema)
    @blp.doc(summary="Assign a nurse; If-Match or version required. 409 not_eligible lists "
                     "details.reasons (e.g. 'missing_competency: tpn'); override_reason "
                     "lifts competency, training and started-visit refusals, and is audited")
    def post(self, data: dict[str, Any], visit_id: uuid.UUID) -> Any:
        version = expected_version(data)
        req = assignment.Request(visit_id, data["nurse_id"], data.get("override_reason"),
                                 version)
        return assignment.assign(current_session(), req, access_for())


@blp.route("/<uuid:visit_id>/unassign")
class VisitUnassign(MethodView):
    """Take a visit back from its nurse."""

    @roles_required(*STAFF_WRITERS)
    @refusals(409, 428)
    @blp.arguments(UnassignSchema)
    @blp.response(200, AssignedVisitSchema)
    @blp.doc(summary="Unassign a visit that is not started; If-Match or version required")
    def post(self, data: dict[str, Any], visit_id: uuid.UUID) -> Any:
        return assignment.unassign(current_session(), visit_id, expected_version(data),
                                   access_for())


@blp.route("/assign")
class VisitBulkAssign(MethodView):
    """Assign many visits at once."""

    @roles_required(*STAFF_WRITERS)
    @blp.arguments(BulkAssignSchema)
    @blp.response(200, BulkResponseSchema)
    @blp.doc(summary="Assign up to 200 visits; each item succeeds or is refused on its own "
                     "(results in request order; version per item optional)")
    def post(self, data: dict[str, Any]) -> Any:
        return assignment.assign_many(current_session(), data["assignments"],
                                      data.get("override_reason"), access_for())


@blp.route("/<uuid:visit_id>/candidates")
class VisitCandidates(MethodView):
    """Who could take a visit."""

    @roles_required(*STAFF_WRITERS)
    @blp.arguments(CandidatesQuerySchema, location="query")
    @blp.response(200, CandidatesSchema)
    @blp.doc(summary="Active nurses for the visit with eligibility and reasons, load that "
                     "local day and distance from their previous visit; eligible first, "
                     "then nearest, then least loaded")
    def get(self, query: dict[str, Any], visit_id: uuid.UUID) -> Any:
        return candidates.candidates(current_session(), visit_id, query["include_ineligible"],
                                     clock.agency_zone(), access_for())
