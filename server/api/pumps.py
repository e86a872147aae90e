"""The pump registry: coordinators and admins write; clinicians see their patients' pumps."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from flask.views import MethodView

from schemas.documentation import PumpHistorySchema
from schemas.pumps import PumpQuerySchema, PumpSchema, PumpUpdateSchema
from server.api.access import access_for
from server.api.blueprint import Blueprint
from server.api.guards import PATIENT_READERS, STAFF_WRITERS, current_user, roles_required
from server.api.resource import Resource, register_crud
from server.extensions import current_session
from server.services import pump_history, pumps, scope

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
