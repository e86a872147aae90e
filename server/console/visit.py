"""A visit's page (schedule, documentation, review items, history) and its actions: assign
or reassign from the candidates (an override asks for its reason), unassign, cancel with a
reason, reschedule.

Every action is a plain form posting to its own URL, parsed with the API's own schema and
handed to the API's own service (same rules, same audit events, same refusals); a refused
form re-renders the page with what was typed and why, a successful one redirects back.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from schemas.assignment import AssignSchema
from schemas.visits import VisitUpdateSchema
from server import clock
from server.api.access import access_for
from server.api.guards import STAFF_WRITERS
from server.console.auth import current_user, login_required
from server.console.blueprint import bp
from server.console.forms import Form
from server.console.nurse_search import nurse_query
from server.errors import AppError
from server.extensions import current_session
from server.models import Role
from server.services import assignment, scope, visits
from server.services.visit_page import visit_page

# Who opens a visit's page in the console (scope still applies); who acts on it.
VISIT_READERS = (Role.ADMIN, Role.COORDINATOR, Role.QC)
DONE = {"assigned": "The visit is assigned.", "unassigned": "The visit is unassigned.",
        "cancelled": "The visit is cancelled.", "rescheduled": "The visit is rescheduled."}
# The services' field names → this page's.
ASSIGN_FIELDS = {"nurse_id": "nurse_id", "override_reason": "override_reason",
                 "version": "version"}
SCHEDULE_FIELDS = {"scheduled_start": "start", "scheduled_end": "end", "version": "version"}
CANCEL_FIELDS = {"cancel_reason": "cancel_reason", "status": "cancel_reason",
                 "version": "version"}
LABELS = {"nurse_id": "Nurse", "override_reason": "Reason for the override",
          "day": "Date", "start": "Start", "end": "End", "cancel_reason": "Reason",
          "version": "Version"}


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _page(visit_id: uuid.UUID, forms: dict[str, Form], status: int = 200) -> tuple[str, int]:
    """Render the page (one audited read), with any refused form shown as typed."""
    acts = current_user().role in STAFF_WRITERS
    assign = forms.get("assign")
    page = visit_page(current_session(), visit_id, clock.agency_zone(),
                      access_for(scope.visit_condition), acts, nurse_query(),
                      _uuid(assign.values.get("nurse_id", "")) if assign else None)
    refused = next((form for form in forms.values() if form.refused), None)
    return render_template("console/visit.html", title="Visit", page=page, forms=forms,
                           refused=refused, labels=LABELS, acts=acts, nurse_q=nurse_query(),
                           done=DONE.get(request.args.get("done", ""))), status


@bp.get("/visits/<uuid:visit_id>", endpoint="visit")
@login_required(*VISIT_READERS)
def visit_view(visit_id: uuid.UUID) -> tuple[str, int]:
    """A visit's page."""
    return _page(visit_id, {})


def _version(form: Form) -> int | None:
    text = request.form.get("version", "").strip()
    if text.isascii() and text.isdigit():
        return int(text)
    form.message = "Reload the page: the form lost the visit's version."
    return None


def _done(visit_id: uuid.UUID, what: str) -> Response:
    return redirect(url_for("console.visit", visit_id=visit_id, done=what))


def _refused(visit_id: uuid.UUID, name: str, form: Form, error: AppError | None,
             fields: dict[str, str]) -> tuple[str, int]:
    """The page again with ``form`` refused: by ``error`` (its status) or by its fields."""
    if error is not None:
        form.refuse(error, fields)
    return _page(visit_id, {name: form}, error.status if error else 422)


@bp.post("/visits/<uuid:visit_id>/assign")
@login_required(*STAFF_WRITERS)
def visit_assign(visit_id: uuid.UUID) -> Response | tuple[str, int]:
    """Assign or reassign; a refusal names its reasons and, when it can be lifted, asks for
    the override's reason."""
    form = Form.of(request.form)
    data: dict[str, Any] = {"nurse_id": request.form.get("nurse_id", ""),
                            "version": _version(form)}
    if request.form.get("override_reason", "").strip():
        data["override_reason"] = request.form["override_reason"]
    loaded = form.load(AssignSchema(), data, ASSIGN_FIELDS) if data["version"] else None
    if loaded is None:
        return _refused(visit_id, "assign", form, None, ASSIGN_FIELDS)
    req = assignment.Request(visit_id, loaded["nurse_id"], loaded.get("override_reason"),
                             loaded["version"])
    try:
        assignment.assign(current_session(), req, access_for())
    except AppError as error:
        if error.code == "not_eligible" and error.details.get("overridable") \
                and "override_reason" not in loaded:
            form.add("override_reason", "To assign her anyway, say why you override the rules.")
        return _refused(visit_id, "assign", form, error, ASSIGN_FIELDS)
    return _done(visit_id, "assigned")


@bp.post("/visits/<uuid:visit_id>/unassign")
@login_required(*STAFF_WRITERS)
def visit_unassign(visit_id: uuid.UUID) -> Response | tuple[str, int]:
    """Take the visit back to the unassigned list."""
    form = Form.of(request.form)
    version = _version(form)
    if version is None:
        return _refused(visit_id, "unassign", form, None, {})
    try:
        assignment.unassign(current_session(), visit_id, version, access_for())
    except AppError as error:
        return _refused(visit_id, "unassign", form, error, {})
    return _done(visit_id, "unassigned")


def _update(visit_id: uuid.UUID, name: str, form: Form, data: dict[str, Any],
            fields: dict[str, str], done: str) -> Response | tuple[str, int]:
    """Reschedule or cancel through the API's PATCH rules (schema, then service)."""
    loaded = form.load(VisitUpdateSchema(), data, fields) if data.get("version") else None
    if loaded is None:
        return _refused(visit_id, name, form, None, fields)
    version = loaded.pop("version")
    try:
        visits.update_visit(current_session(), visit_id, loaded, version,
                            access_for(scope.visit_condition))
    except AppError as error:
        return _refused(visit_id, name, form, error, fields)
    return _done(visit_id, done)


@bp.post("/visits/<uuid:visit_id>/cancel")
@login_required(*STAFF_WRITERS)
def visit_cancel(visit_id: uuid.UUID) -> Response | tuple[str, int]:
    """Cancel, with the reason the schedule keeps."""
    form = Form.of(request.form)
    data = {"status": "cancelled", "cancel_reason": request.form.get("cancel_reason", "").strip(),
            "version": _version(form)}
    if not data["cancel_reason"]:
        data.pop("cancel_reason")
    return _update(visit_id, "cancel", form, data, CANCEL_FIELDS, "cancelled")


def _local(form: Form, day: date | None, name: str) -> str | None:
    """The form's ``name`` time on ``day`` in the agency's zone, as an ISO UTC string."""
    try:
        moment = time.fromisoformat(request.form.get(name, "").strip())
    except ValueError:
        form.add(name, "Enter a time like 09:30.")
        return None
    if day is None:
        return None
    return datetime.combine(day, moment, tzinfo=clock.agency_zone()).isoformat()


@bp.post("/visits/<uuid:visit_id>/reschedule")
@login_required(*STAFF_WRITERS)
def visit_reschedule(visit_id: uuid.UUID) -> Response | tuple[str, int]:
    """Move the visit's window (local date and times of the agency)."""
    form = Form.of(request.form)
    try:
        day: date | None = date.fromisoformat(request.form.get("day", "").strip())
    except ValueError:
        day = None
        form.add("day", "Enter a date like 2026-11-23.")
    start, end = _local(form, day, "start"), _local(form, day, "end")
    version = _version(form)
    if form.refused or start is None or end is None:
        form.message = form.message or "Some fields are not right; see below."
        return _refused(visit_id, "reschedule", form, None, SCHEDULE_FIELDS)
    data = {"scheduled_start": start, "scheduled_end": end, "version": version}
    return _update(visit_id, "reschedule", form, data, SCHEDULE_FIELDS, "rescheduled")


