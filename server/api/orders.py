"""Therapy orders: coordinators and admins write; clinicians read their patients'."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from schemas.orders import OrderQuerySchema, OrderSchema, OrderUpdateSchema
from server.api import schedule_settings
from server.api.blueprint import Blueprint
from server.api.guards import PATIENT_READERS, STAFF_WRITERS
from server.api.resource import Resource, register_crud
from server.models import TherapyOrder
from server.services import orders, scope
from server.services.records import Access

blp = Blueprint("orders", __name__, url_prefix="/orders", description="Therapy orders")


def _create(session: Session, data: dict[str, Any], access: Access) -> TherapyOrder:
    """Create, generating its visits over the app's schedule horizon."""
    return orders.create_order(session, data, access, schedule_settings.horizon())


def _update(session: Session, order_id: uuid.UUID, data: dict[str, Any],
            expected_version: int | None, access: Access) -> TherapyOrder:
    """Update, bringing its visits in line over the app's schedule horizon."""
    return orders.update_order(session, order_id, data, expected_version, access,
                               schedule_settings.horizon())


register_crud(blp, Resource(
    noun="order",
    schema=OrderSchema,
    update_schema=OrderUpdateSchema,
    query_schema=OrderQuerySchema,
    create=_create,
    list=orders.list_orders,
    get=orders.get_order,
    update=_update,
    readers=PATIENT_READERS,
    writers=STAFF_WRITERS,
    scope=scope.order_condition,
))
