"""Object-level authorization: which patients, visits, orders and pumps a user may see.

Each function returns a SQL condition to add to a query, or ``None`` when the user's role
sees the whole agency. Routes also check the role first (``server.api.guards``).
"""

from __future__ import annotations

import uuid

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    SQLColumnExpression,
    false,
    select,
)

from server.models import (
    OrderStatus,
    Patient,
    Pump,
    Role,
    TherapyOrder,
    User,
    Visit,
    VisitStatus,
)

AGENCY_WIDE = frozenset({Role.ADMIN, Role.COORDINATOR, Role.QC})
# Orders whose prescriber still treats the patient (an order on hold may resume).
CURRENT_ORDERS = (OrderStatus.ACTIVE, OrderStatus.ON_HOLD)


def _nurse_patient_ids(user: User) -> Select[uuid.UUID]:
    return select(Visit.patient_id).where(
        Visit.nurse_id == user.id, Visit.status != VisitStatus.CANCELLED
    )


def _physician_patient_ids(user: User) -> Select[uuid.UUID]:
    ordered = select(TherapyOrder.patient_id).where(TherapyOrder.physician_id == user.id)
    primary = select(Patient.id).where(Patient.primary_physician_id == user.id)
    return select(primary.union(ordered).subquery().c[0])


def treating_physician_ids(patient_id: uuid.UUID) -> CompoundSelect[uuid.UUID | None]:
    """The physicians to tell about ``patient_id``: her primary physician and the
    prescribers of her current orders.

    The same two links as ``_physician_patient_ids`` read the other way, narrowed to
    orders still current: everyone it names may open the patient, so a notification never
    points a physician at a patient she may not see; the prescriber of an order that ended
    may still read the record, but is no longer told. (May hold NULL: a patient without a
    primary physician.)
    """
    primary = select(Patient.primary_physician_id).where(Patient.id == patient_id)
    ordered = select(TherapyOrder.physician_id).where(
        TherapyOrder.patient_id == patient_id, TherapyOrder.status.in_(CURRENT_ORDERS))
    return primary.union(ordered)


def patient_condition(
    user: User, column: SQLColumnExpression[uuid.UUID | None]
) -> ColumnElement[bool] | None:
    """Condition that ``column`` (a patient id) belongs to a patient ``user`` may see."""
    if user.role in AGENCY_WIDE:
        return None
    if user.role is Role.NURSE:
        return column.in_(_nurse_patient_ids(user))
    if user.role is Role.PHYSICIAN:
        return column.in_(_physician_patient_ids(user))
    return false()


def patient_scope(user: User) -> ColumnElement[bool] | None:
    """Patients the user may see (the API's patient routes and the console's pages)."""
    return patient_condition(user, Patient.id)


def visit_condition(user: User) -> ColumnElement[bool] | None:
    """Nurses see the visits assigned to them; physicians their patients' visits."""
    if user.role is Role.NURSE:
        return Visit.nurse_id == user.id
    return patient_condition(user, Visit.patient_id)


def order_condition(user: User) -> ColumnElement[bool] | None:
    """Orders of the patients the user may see."""
    return patient_condition(user, TherapyOrder.patient_id)


def pump_condition(user: User) -> ColumnElement[bool] | None:
    """Pumps assigned to patients the user may see (all pumps for agency-wide roles)."""
    return patient_condition(user, Pump.patient_id)
