"""Therapy orders."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.orders import OrderSchema, schedule_errors
from server import audit
from server.errors import Invalid
from server.models import FrequencyKind, OrderStatus, Role, ServiceLocation, TherapyOrder
from server.services import changes, visit_generation
from server.services.existing_visits import Run
from server.services.records import Access, Page, get_one, list_page
from server.services.references import require_patient, require_user
from server.services.visit_generation import Horizon

# Edits that change the visits an order already has, not only which occurrences exist.
RESHAPING = frozenset({"window_minutes", "service_location_id"})


def _dump(order: TherapyOrder) -> Any:
    return OrderSchema().dump(order)


def _enums(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if "frequency_kind" in data:
        data["frequency_kind"] = FrequencyKind(data["frequency_kind"])
    if "status" in data:
        data["status"] = OrderStatus(data["status"])
    return data


def _check_schedule(session: Session, order: TherapyOrder) -> None:
    """The merged order's repetition fits its kind and its location is the patient's."""
    errors = schedule_errors(order.frequency_kind.value, order.frequency_interval,
                             list(order.weekdays or ()))
    if errors:
        raise Invalid("The order's schedule does not fit its frequency.", errors)
    if order.service_location_id is not None:
        location = session.get(ServiceLocation, order.service_location_id)
        if location is None or location.patient_id != order.patient_id:
            raise Invalid("The service location must be one of the patient's.",
                          {"service_location_id": ["Not a location of this patient."]})


def _follow_with_visits(session: Session, order: TherapyOrder, access: Access,
                        horizon: Horizon, reshape: bool = False) -> Run:
    """Write the order, then bring its future visits in line with it (same transaction)."""
    changes.flush(session, order, "This order conflicts with a stored one.")
    return visit_generation.refresh(session, access.now, horizon, [order.id], reshape)


def apply_create(session: Session, data: dict[str, Any], access: Access,
                 horizon: Horizon) -> tuple[TherapyOrder, Run]:
    """The new order and its visits, flushed but neither audited nor committed: shared by
    ``create_order`` and the console's preview (``services/order_preview``)."""
    require_patient(session, data["patient_id"])
    require_user(session, data["physician_id"], Role.PHYSICIAN, "physician_id")
    order = TherapyOrder(**_enums(data))
    _check_schedule(session, order)
    session.add(order)
    return order, _follow_with_visits(session, order, access, horizon)


def create_order(session: Session, data: dict[str, Any], access: Access,
                 horizon: Horizon) -> TherapyOrder:
    """Enter a physician's order for a patient; its visits over the horizon come with it."""
    order, _run = apply_create(session, data, access, horizon)
    audit.record(session, access.actor, "create", "therapy_orders", at=access.now,
                 entity_id=order.id, patient_id=order.patient_id)
    changes.commit(session, "This order conflicts with a stored one.", order, _dump)
    return order


def list_orders(session: Session, filters: dict[str, Any], access: Access, page: int,
                size: int) -> Page:
    """Orders in the user's scope, newest start first."""
    stmt = select(TherapyOrder).order_by(TherapyOrder.start_date.desc(), TherapyOrder.id)
    if "patient_id" in filters:
        stmt = stmt.where(TherapyOrder.patient_id == filters["patient_id"])
    if "patient_ids" in filters:  # the patients one page of the console shows
        stmt = stmt.where(TherapyOrder.patient_id.in_(filters["patient_ids"]))
    if "status" in filters:
        stmt = stmt.where(TherapyOrder.status == OrderStatus(filters["status"]))
    return list_page(session, stmt, access, "therapy_orders", page, size, lambda o: o.patient_id)


def get_order(session: Session, order_id: uuid.UUID, access: Access) -> TherapyOrder:
    """One order in the user's scope."""
    return get_one(session, TherapyOrder, order_id, access, lambda o: o.patient_id)


def _changed(order: TherapyOrder, data: dict[str, Any]) -> dict[str, Any]:
    """The fields whose value differs from the stored one: a form sends every field, and
    only real changes should reshape visits or be named in the audit event."""
    return {name: value for name, value in data.items()
            if getattr(order, name) != value and not (name == "weekdays" and
                                                       not value and not order.weekdays)}


def apply_update(session: Session, order_id: uuid.UUID, data: dict[str, Any],
                 expected_version: int | None, access: Access,
                 horizon: Horizon) -> tuple[TherapyOrder, Run]:
    """The changed order and its visits, flushed but neither audited nor committed: shared
    by ``update_order`` and the console's preview (``services/order_preview``)."""
    order = get_one(session, TherapyOrder, order_id, access, lambda o: o.patient_id, "update")
    changes.check_version(session, access, order, expected_version, _dump, order.patient_id)
    if "physician_id" in data:
        require_user(session, data["physician_id"], Role.PHYSICIAN, "physician_id")
    data = _changed(order, _enums(data))
    changes.assign(order, data)
    if order.end_date and order.end_date < order.start_date:
        raise Invalid("The end date is before the start date.", {"end_date": ["Before start."]})
    _check_schedule(session, order)
    return order, _follow_with_visits(session, order, access, horizon,
                                      reshape=bool(RESHAPING & set(data)))


def update_order(session: Session, order_id: uuid.UUID, data: dict[str, Any],
                 expected_version: int | None, access: Access,
                 horizon: Horizon) -> TherapyOrder:
    """Change an order (dose, rate, dates, schedule, status such as discontinued); its
    future visits follow in the same transaction."""
    order, _run = apply_update(session, order_id, data, expected_version, access, horizon)
    audit.record(session, access.actor, "update", "therapy_orders", at=access.now,
                 entity_id=order.id, patient_id=order.patient_id,
                 details={"fields": sorted(data)})
    changes.commit(session, "This order conflicts with a stored one.", order, _dump)
    return order
