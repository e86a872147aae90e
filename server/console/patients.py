"""Patients in the console: the searchable list, a patient's page, and the forms that
admit a patient and change her chart (demographics, status, vascular access device).

Each view calls the service the API's patient routes call, in the same scope
(``scope.patient_scope``), with the API's own schemas: the same rules, the same
audit events, the same refusals. Service locations are on ``locations.py``, orders on
``orders.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from schemas.patients import PatientQuerySchema, PatientSchema, PatientUpdateSchema
from server.api import schedule_settings
from server.api.access import access_for
from server.api.guards import STAFF_WRITERS
from server.console import form_input, navigation, paging
from server.console.auth import current_user, login_required
from server.console.blueprint import bp
from server.console.forms import Form, messages_of
from server.errors import AppError
from server.extensions import current_session
from server.models import Role
from server.services import directory, patients, scope
from server.services.patient_page import patient_page

# Who opens patients in the console (the office; nurses and physicians use their apps).
PATIENT_PAGE_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.QC)
PAGE_SIZE = paging.PAGE_SIZE
navigation.add("console.patients", "Patients", PATIENT_PAGE_ROLES, order=30)

DONE = {"created": "The patient is admitted.", "updated": "The chart is saved.",
        "location": "The service location is saved.", "order": "The order is saved."}
DEMOGRAPHICS = ("mrn", "first_name", "last_name", "birth_date", "phone", "referral_source",
                "primary_physician_id", "status")
OPTIONAL = ("phone", "referral_source", "primary_physician_id")
ACCESS = {"type": "access_type", "placed_on": "access_placed_on", "side": "access_side",
          "external_length_cm": "access_external_length_cm"}
LOCATION = ("kind", "address", "latitude", "longitude", "evv_radius_m")
# The schemas' and services' field names → the form's.
FIELDS = {**{name: name for name in (*DEMOGRAPHICS, "allergies", "version")},
          **{f"vascular_access.{k}": v for k, v in ACCESS.items()},
          **{f"locations.0.{k}": k for k in LOCATION}, "locations": "address"}
LABELS = {"mrn": "MRN", "first_name": "First name", "last_name": "Last name",
          "birth_date": "Date of birth", "phone": "Phone", "allergies": "Allergies",
          "referral_source": "Referral source", "primary_physician_id": "Primary physician",
          "status": "Status", "access_type": "Vascular access device",
          "access_placed_on": "Placed on", "access_side": "Side",
          "access_external_length_cm": "External length (cm)", "kind": "Kind of place",
          "address": "Address", "latitude": "Latitude", "longitude": "Longitude",
          "evv_radius_m": "EVV radius (metres)", "version": "Version", "q": "Name or MRN"}


def _writes() -> bool:
    """Whether the signed-in user gets the links to the forms (the API's writers)."""
    return current_user().role in STAFF_WRITERS


@bp.get("/patients", endpoint="patients")
@login_required(*PATIENT_PAGE_ROLES)
def patient_list() -> tuple[str, int]:
    """Patients by last name; search by MRN or the start of a name (one ``list`` event)."""
    search = Form({"q": request.args.get("q", "").strip()})
    filters: dict[str, Any] = {}
    if search.values["q"]:
        try:
            filters = PatientQuerySchema().load({"q": search.values["q"]})
        except ValidationError as error:
            search.message = "The search is not right; see below."
            search.errors = {"q": messages_of(error, "q")}
            return render_template("console/patients.html", title="Patients", search=search,
                                   found=None, labels=LABELS, writes=_writes()), 422
    number = paging.page_number()
    found = patients.list_patients(current_session(), filters,
                                   access_for(scope.patient_scope), number, PAGE_SIZE)
    return render_template("console/patients.html", title="Patients", search=search,
                           found=found, pager=paging.pager(found, number, PAGE_SIZE),
                           labels=LABELS, writes=_writes()), 200


@bp.get("/patients/<uuid:patient_id>", endpoint="patient")
@login_required(*PATIENT_PAGE_ROLES)
def patient_view(patient_id: uuid.UUID) -> str:
    """A patient's page (one audited read, as GET /api/v1/patients/<id>)."""
    page = patient_page(current_session(), patient_id,
                        access_for(scope.patient_scope))
    return render_template("console/patient.html", title="Patient", page=page,
                           writes=_writes(),
                           done=DONE.get(request.args.get("done", "")))


def _access_device(clearing: bool) -> dict[str, Any]:
    """The vascular access fields as the API nests them; no type: no device."""
    device = form_input.read(request.form, ACCESS.values(), optional=ACCESS.values(),
                             clearing=True)
    if not device.get("access_type"):
        return {"vascular_access": None} if clearing else {}
    return {"vascular_access": {k: device.get(v) for k, v in ACCESS.items()}}


def _chart(clearing: bool) -> dict[str, Any]:
    """The submitted demographics and device in the API's shape."""
    data = form_input.read(request.form, DEMOGRAPHICS, optional=OPTIONAL, clearing=clearing)
    if "allergies" in request.form:
        data["allergies"] = form_input.words(request.form["allergies"])
    return {**data, **_access_device(clearing)}


def _form_page(form: Form | None, status: int, patient: Any = None) -> tuple[str, int]:
    physicians = directory.physicians(current_session())
    return render_template("console/patient_form.html",
                           title="Edit the chart" if patient else "Admit a patient",
                           form=form, patient=patient, physicians=physicians,
                           labels=LABELS), status


def _refused(form: Form, error: AppError) -> None:
    form.refuse(error, FIELDS)
    if error.code == "duplicate":
        form.add("mrn", error.message)


@bp.route("/patients/new", methods=["GET", "POST"], endpoint="patient_new")
@login_required(*STAFF_WRITERS)
def patient_new() -> Response | tuple[str, int]:
    """Admit a patient with her first service location (POST /api/v1/patients)."""
    if request.method == "GET":
        return _form_page(None, 200)
    form = Form.of(request.form)
    location = form_input.read(request.form, LOCATION, ints=("evv_radius_m",),
                               optional=("evv_radius_m",))
    loaded = form.load(PatientSchema(), {**_chart(False), "locations": [location]}, FIELDS)
    if loaded is None:
        return _form_page(form, 422)
    try:
        patient = patients.create_patient(current_session(), loaded, access_for())
    except AppError as error:
        _refused(form, error)
        return _form_page(form, error.status)
    return redirect(url_for("console.patient", patient_id=patient.id, done="created"))


@bp.route("/patients/<uuid:patient_id>/edit", methods=["GET", "POST"], endpoint="patient_edit")
@login_required(*STAFF_WRITERS)
def patient_edit(patient_id: uuid.UUID) -> Response | tuple[str, int]:
    """Change demographics, status or the access device (PATCH /api/v1/patients/<id>)."""
    session, access = current_session(), access_for(scope.patient_scope)
    if request.method == "GET":  # a read of the chart, audited as the API's
        return _form_page(None, 200, patients.get_patient(session, patient_id, access))
    form = Form.of(request.form)
    data = {**_chart(True), "version": form_input.read(request.form, ("version",),
                                                      ints=("version",)).get("version")}
    loaded = form.load(PatientUpdateSchema(partial=True), data, FIELDS)
    if loaded is not None:
        try:
            patients.update_patient(session, patient_id, loaded, loaded.pop("version", None),
                                    access_for(), schedule_settings.horizon())
        except AppError as error:
            _refused(form, error)
            return _form_page(form, error.status, patients.get_patient(session, patient_id,
                                                                       access))
        return redirect(url_for("console.patient", patient_id=patient_id, done="updated"))
    return _form_page(form, 422, patients.get_patient(session, patient_id, access))
