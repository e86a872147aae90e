"""Therapy orders: coordinators and admins write; clinicians read their patients'."""

from __future__ import annotations

from schemas.orders import OrderQuerySchema, OrderSchema, OrderUpdateSchema
from server.api.blueprint import Blueprint
from server.api.guards import PATIENT_READERS, STAFF_WRITERS
from server.api.resource import Resource, register_crud
from server.services import orders, scope

blp = Blueprint("orders", __name__, url_prefix="/orders", description="Therapy orders")

register_crud(blp, Resource(
    noun="order",
    schema=OrderSchema,
    update_schema=OrderUpdateSchema,
    query_schema=OrderQuerySchema,
    create=orders.create_order,
    list=orders.list_orders,
    get=orders.get_order,
    update=orders.update_order,
    readers=PATIENT_READERS,
    writers=STAFF_WRITERS,
    scope=scope.order_condition,
))
