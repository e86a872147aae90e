"""The pump registry: coordinators and admins write; clinicians see their patients' pumps."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from flask import request
from flask.views import MethodView

from schemas.documentation import PumpHistorySchema
from schemas.pumps import PumpQuerySchema, PumpSchema, PumpUpdateSchema
from schemas.recalls import RecallImportSchema
from server.api.access import access_for
from server.api.blueprint import Blueprint
from server.api.guards import PATIENT_READERS, STAFF_WRITERS, current_user, roles_required
from server.api.refusals import refusals
from server.api.resource import Resource, register_crud
from server.extensions import current_session
from server.services import pump_history, pumps, scope
from server.services.recalls import imports
from server.services.recalls.recall_list import UnsupportedRecallList

blp = Blueprint("pumps", __name__, url_prefix="/pumps", description="Infusion pumps")

register_crud(blp, Resource(
    noun="pump",
    schema=PumpSchema,
    update_schema=PumpUpdateSchema,
    query_schema=PumpQuerySchema,
    create=pumps.create_pump,
    list=pumps.list_pumps,
    get=pumps.get_pump,
    update=pumps.update_pump,
    readers=PATIENT_READERS,
    writers=STAFF_WRITERS,
    scope=scope.pump_condition,
    create_refusals=(409,),  # a unique key (e-mail, MRN, serial) already taken
))


@blp.route("/<uuid:pump_id>/history")
class PumpHistory(MethodView):
    """Where the pump has been and what it infused."""

    @roles_required(*PATIENT_READERS)
    @blp.response(200, PumpHistorySchema)
    @blp.doc(summary="A pump's assignments and administrations (404 when it is not in "
                     "your scope)")
    def get(self, pump_id: uuid.UUID) -> Any:
        return pump_history.get_history(
            current_session(), pump_id, access_for(scope.pump_condition),
            functools.partial(scope.patient_condition, current_user()))


# The recall list travels as the raw CSV, or as the "file" field of an HTML form upload.
RECALL_LIST_BODY = {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}}}}}}


def _recall_list() -> bytes:
    """The uploaded CSV's bytes: a text/csv body, or the ``file`` part of a form."""
    if request.mimetype == "text/csv":
        return request.get_data(cache=False)
    if request.mimetype == "multipart/form-data" and "file" in request.files:
        upload: bytes = request.files["file"].read()
        return upload
    raise UnsupportedRecallList(
        "Send the recall list as a text/csv body, or as the file field of a "
        "multipart/form-data upload.", {"Content-Type": [request.mimetype or "missing"]})


@blp.route("/recalls")
class Recalls(MethodView):
    """A manufacturer's or the agency's recall list: pumps by serial or UDI-DI."""

    @roles_required(*STAFF_WRITERS)
    @refusals(413, 415, 422)  # too large, not CSV, a bad line (nothing applied)
    @blp.response(200, RecallImportSchema)
    @blp.doc(summary="Import a recall list (CSV: serial and/or udi_di, recall_number, "
                     "reason): each pump recalled and traced to the patients it served; "
                     "all or nothing, and importing it again changes nothing",
             requestBody=RECALL_LIST_BODY)
    def post(self) -> Any:
        return imports.import_recall_list(current_session(), _recall_list(), access_for())
