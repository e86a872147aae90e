"""Therapy orders in the console: enter one, change it, hold or discontinue it — always
through a preview of the visits the change will create or cancel, then a save.

The preview (``services/order_preview``) runs the save's own code and rolls it back; the
save is the API's (``orders.create_order`` / ``orders.update_order``). The form carries a
fingerprint of what was previewed: a save of anything else is previewed again first, so
nobody saves a change whose visits they did not see.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from schemas.orders import FREQUENCY_KINDS, ORDER_STATUSES, ROUTES, OrderSchema, OrderUpdateSchema
from schemas.users import COMPETENCIES
from server.api import schedule_settings
from server.api.access import access_for
from server.api.guards import STAFF_WRITERS
from server.console import form_input
from server.console.auth import login_required
from server.console.blueprint import bp
from server.console.forms import Form
from server.errors import AppError
from server.extensions import current_session
from server.models import Patient, TherapyOrder
from server.services import directory, order_preview, orders, patients, scope
from server.services.order_preview import OrderPreview
from server.services.patient_page import staff_names

TEXT = ("physician_id", "medication", "dose", "dose_unit", "route", "rate_ml_h", "volume_ml",
        "frequency_kind", "frequency_interval", "start_date", "end_date",
        "service_location_id", "required_competency", "status")
NULLABLE = ("rate_ml_h", "volume_ml", "end_date", "service_location_id",
            "required_competency")
# Optional but never null on the wire: left out when empty.
OMITTED = ("window_start", "window_minutes")
INTS = ("frequency_interval", "window_minutes", "version")
FIELDS = {name: name for name in (*TEXT, *OMITTED, "weekdays", "pump_required", "version",
                                  "patient_id")}
LABELS = {"physician_id": "Prescribing physician", "medication": "Medication",
          "dose": "Dose", "dose_unit": "Dose unit", "route": "Route",
          "rate_ml_h": "Rate (mL/h)", "volume_ml": "Volume (mL)",
          "frequency_kind": "Frequency", "frequency_interval": "Every (N)",
          "start_date": "Start date", "end_date": "End date",
          "service_location_id": "Where", "window_start": "Visit starts at",
          "window_minutes": "Visit length (minutes)", "weekdays": "Weekdays",
          "pump_required": "Pump required", "required_competency": "Required competency",
          "status": "Status", "version": "Version", "patient_id": "Patient"}
CHOICES = {"routes": ROUTES, "frequencies": FREQUENCY_KINDS, "statuses": ORDER_STATUSES,
           "competencies": COMPETENCIES}


def _submitted(full: bool) -> dict[str, Any]:
    """The order's fields as the API takes them; ``full`` for the whole form (checkboxes
    unticked mean false and no weekdays), else only what was sent (hold, discontinue)."""
    data = form_input.read(request.form, TEXT, ints=INTS, optional=NULLABLE, clearing=full)
    data.update(form_input.read(request.form, OMITTED, ints=INTS, optional=OMITTED))
    if full:
        data["weekdays"] = form_input.integers(request.form, "weekdays")
        data["pump_required"] = "pump_required" in request.form
    return data


def fingerprint() -> str:
    """A digest of what the form holds, to tell a previewed change from another."""
    parts = sorted((k, v) for k, vs in request.form.lists()
                   if k not in ("csrf_token", "step", "previewed") for v in vs)
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _wants_save(form: Form) -> bool:
    """A save of exactly what was previewed; any other save is previewed (again) first."""
    if request.form.get("step") != "save":
        return False
    if request.form.get("previewed") == fingerprint():
        return True
    form.message = "The order changed since its preview: check the visits below, then save."
    return False


def _render(patient: Patient, order: TherapyOrder | None, form: Form,
            preview: OrderPreview | None, status: int) -> tuple[str, int]:
    weekdays = (request.form.getlist("weekdays") if request.method == "POST"
                else [str(d) for d in (order.weekdays or ())] if order else [])
    lines = [] if preview is None else [*preview.created, *preview.cancelled,
                                        *preview.reinstated, *preview.moved, *preview.kept]
    return render_template(
        "console/order_form.html", title="Change an order" if order else "New order",
        patient=patient, order=order, form=form, preview=preview,
        previewed=fingerprint() if preview is not None else "", weekdays=weekdays,
        physicians=directory.physicians(current_session()), labels=LABELS,
        staff=staff_names(current_session(), {line.nurse_id for line in lines}),
        **CHOICES), status


def _values(order: TherapyOrder) -> dict[str, str]:
    """The stored order as the form shows it (every value as text)."""
    dumped = OrderSchema().dump(order)
    return {k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in dumped.items() if not isinstance(v, list)}


@bp.route("/patients/<uuid:patient_id>/orders/new", methods=["GET", "POST"],
          endpoint="order_new")
@login_required(*STAFF_WRITERS)
def order_new(patient_id: uuid.UUID) -> Response | tuple[str, int]:
    """Enter an order: preview the visits it brings, then save (POST /api/v1/orders)."""
    session = current_session()
    patient = patients.get_patient(session, patient_id, access_for(scope.patient_scope))
    if request.method == "GET":
        return _render(patient, None, Form({"route": "IV", "frequency_kind": "daily",
                                            "frequency_interval": "1"}), None, 200)
    form = Form.of(request.form)
    loaded = form.load(OrderSchema(), {**_submitted(True), "patient_id": str(patient_id)},
                       FIELDS)
    if loaded is None:
        return _render(patient, None, form, None, 422)
    horizon = schedule_settings.horizon()
    try:
        if _wants_save(form):
            orders.create_order(session, loaded, access_for(), horizon)
            return redirect(url_for("console.patient", patient_id=patient_id, done="order"))
        found = order_preview.preview_create(session, loaded, access_for(), horizon)
    except AppError as error:
        form.refuse(error, FIELDS)
        return _render(patient, None, form, None, error.status)
    return _render(patient, None, form, found, 200)


@bp.route("/orders/<uuid:order_id>/edit", methods=["GET", "POST"], endpoint="order_edit")
@login_required(*STAFF_WRITERS)
def order_edit(order_id: uuid.UUID) -> Response | tuple[str, int]:
    """Change, hold or discontinue an order: preview what happens to its visits, then save
    (PATCH /api/v1/orders/<id>)."""
    session = current_session()
    order = orders.get_order(session, order_id, access_for(scope.order_condition))
    patient = order.patient
    if request.method == "GET":
        form = Form(_values(order))
        if request.args.get("status") in ORDER_STATUSES:  # the Hold / Discontinue links
            form.values["status"] = request.args["status"]
        return _render(patient, order, form, None, 200)
    form = Form.of(request.form)
    data = {**_submitted("medication" in request.form),
            **form_input.read(request.form, ("version",), ints=INTS)}
    loaded = form.load(OrderUpdateSchema(partial=True), data, FIELDS)
    if loaded is None:
        return _render(patient, order, form, None, 422)
    version, horizon = loaded.pop("version", None), schedule_settings.horizon()
    try:
        if _wants_save(form):
            orders.update_order(session, order_id, loaded, version, access_for(), horizon)
            return redirect(url_for("console.patient", patient_id=patient.id, done="order"))
        found = order_preview.preview_update(session, order_id, loaded, version,
                                             access_for(), horizon)
    except AppError as error:
        form.refuse(error, FIELDS)
        return _render(patient, order, form, None, error.status)
    return _render(patient, order, form, found, 200)
