"""A patient's service locations in the console: add one, or change one (its address,
coordinates and the EVV radius that says how close a check-in counts as there).

Both go through the API's patient PATCH (``patients.update_patient`` with one entry in
``locations``): the same schema, the same checks, one ``update`` audit event.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from schemas.patients import PatientUpdateSchema
from server.api import schedule_settings
from server.api.access import access_for
from server.api.guards import STAFF_WRITERS
from server.console import form_input
from server.console.auth import login_required
from server.console.blueprint import bp
from server.console.forms import Form
from server.console.patients import LABELS, LOCATION
from server.errors import AppError, NotFound
from server.extensions import current_session
from server.models import Patient, ServiceLocation
from server.services import patients, scope

FIELDS = {**{f"locations.0.{k}": k for k in LOCATION}, "locations": "address",
          "version": "version"}


def _location(patient: Patient, location_id: uuid.UUID | None) -> ServiceLocation | None:
    if location_id is None:
        return None
    found = next((loc for loc in patient.locations if loc.id == location_id), None)
    if found is None:
        raise NotFound("This patient has no such service location.")
    return found


def _form_page(patient_id: uuid.UUID, location_id: uuid.UUID | None, form: Form | None,
               status: int) -> tuple[str, int]:
    """The form, with the chart read (and audited) as the API reads it."""
    patient = patients.get_patient(current_session(), patient_id,
                                   access_for(scope.patient_scope))
    location = _location(patient, location_id)
    return render_template("console/location_form.html",
                           title="Change a location" if location else "Add a location",
                           patient=patient, location=location, form=form,
                           labels=LABELS), status


def _save(patient_id: uuid.UUID, location_id: uuid.UUID | None) -> Response | tuple[str, int]:
    form = Form.of(request.form)
    item: dict[str, Any] = form_input.read(request.form, LOCATION, ints=("evv_radius_m",),
                                           optional=("evv_radius_m",))
    if location_id is not None:
        item["id"] = str(location_id)
    version = form_input.read(request.form, ("version",), ints=("version",)).get("version")
    loaded = form.load(PatientUpdateSchema(partial=True),
                       {"locations": [item], "version": version}, FIELDS)
    if loaded is None:
        return _form_page(patient_id, location_id, form, 422)
    try:
        patients.update_patient(current_session(), patient_id, loaded,
                                loaded.pop("version", None), access_for(),
                                schedule_settings.horizon())
    except AppError as error:
        form.refuse(error, FIELDS)
        return _form_page(patient_id, location_id, form, error.status)
    return redirect(url_for("console.patient", patient_id=patient_id, done="location"))


@bp.route("/patients/<uuid:patient_id>/locations/new", methods=["GET", "POST"],
          endpoint="location_new")
@login_required(*STAFF_WRITERS)
def location_new(patient_id: uuid.UUID) -> Response | tuple[str, int]:
    """Add a service location (a PATCH of the patient with a new ``locations`` entry)."""
    if request.method == "GET":
        return _form_page(patient_id, None, None, 200)
    return _save(patient_id, None)


@bp.route("/patients/<uuid:patient_id>/locations/<uuid:location_id>/edit",
          methods=["GET", "POST"], endpoint="location_edit")
@login_required(*STAFF_WRITERS)
def location_edit(patient_id: uuid.UUID, location_id: uuid.UUID) -> Response | tuple[str, int]:
    """Change a service location (a PATCH of the patient naming the location's id)."""
    if request.method == "GET":
        return _form_page(patient_id, location_id, None, 200)
    return _save(patient_id, location_id)
