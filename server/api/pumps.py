"""The pump registry: coordinators and admins write; clinicians see their patients' pumps."""

from __future__ import annotations

from schemas.pumps import PumpQuerySchema, PumpSchema, PumpUpdateSchema
from server.api.blueprint import Blueprint
from server.api.guards import PATIENT_READERS, STAFF_WRITERS
from server.api.resource import Resource, register_crud
from server.services import pumps, scope

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
))
