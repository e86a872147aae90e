"""The privacy officer's audit trail: who did what to which record, filtered by patient
(MRN), staff member, dates, action and outcome; newest first, a page at a time, or all of
it as CSV with the same filters.

The filters go through the API's ``AuditEventQuerySchema`` and the events through
``services.audit_trail`` (the same ``audit_read`` event as ``GET /api/v1/audit-events`` and
its ``.csv``); the MRN and the name are resolved to ids by ``services.audit_page``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Response, render_template, request, stream_with_context

from schemas.audit import AuditEventQuerySchema
from server import clock
from server.api.access import access_for
from server.console import navigation, paging
from server.console.auth import login_required
from server.console.blueprint import bp
from server.console.forms import Form
from server.errors import AppError
from server.extensions import current_session
from server.models import Role
from server.services import audit_page, audit_trail

# The privacy officer's page: the API's other reader, the admin, keeps the API (the
# trail is the privacy officer's accounting of disclosures, not an admin screen).
AUDITORS = (Role.PRIVACY_OFFICER,)
navigation.add("console.audit", "Audit trail", AUDITORS, order=10)

FILTERS = ("patient", "user", "from", "to", "action", "outcome")
# The service's names → the filter form's.
FILTER_FIELDS = {"patient_id": "patient", "user_id": "user", "since": "from", "until": "to",
                 "action": "action", "outcome": "outcome"}
LABELS = {"patient": "Patient MRN", "user": "Staff member", "from": "From", "to": "To",
          "action": "Action", "outcome": "Outcome"}
LONGEST = 100  # an MRN, a name or an e-mail is shorter; more is cut, not refused


def _day(form: Form, name: str) -> date | None:
    text = form.values[name]
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        form.add(name, "Enter a date like 2026-11-23.")
        return None


def _local_start(day: date) -> datetime:
    """The instant an agency-local day begins."""
    return datetime.combine(day, time(), clock.agency_zone())


def _resolve(form: Form, data: dict[str, Any]) -> None:
    """The MRN and the staff member typed, as the ids the service filters on."""
    session, access = current_session(), access_for()
    for name, key, find in (("patient", "patient_id", audit_page.patient_id_by_mrn),
                            ("user", "user_id", audit_page.user_id_by_name)):
        if form.values[name]:
            try:
                data[key] = str(find(session, form.values[name], access))
            except AppError as error:
                form.refuse(error, {name: name})


def _filters(form: Form) -> dict[str, Any] | None:
    """The form's filters in the service's names, or None with the form's errors."""
    data: dict[str, Any] = {name: form.values[name] for name in ("action", "outcome")
                            if form.values[name]}
    start, end = _day(form, "from"), _day(form, "to")
    if start and end and end < start:
        form.add("to", "The last day must be on or after the first.")
    if start:
        data["since"] = _local_start(start).isoformat()
    if end:
        data["until"] = _local_start(end + timedelta(days=1)).isoformat()
    _resolve(form, data)
    if form.errors:
        form.message = "Some filters are not right; see below."
        return None
    return form.load(AuditEventQuerySchema(), data, FILTER_FIELDS)


def _form() -> Form:
    return Form({name: request.args.get(name, "").strip()[:LONGEST] for name in FILTERS})


def _refused(form: Form) -> tuple[str, int]:
    """The page with the filters as typed and their errors, and no events (422)."""
    return render_template("console/audit.html", title="Audit trail", form=form,
                           labels=LABELS, trail=None, pager=None), 422


@bp.get("/audit", endpoint="audit")
@login_required(*AUDITORS)
def audit_view() -> tuple[str, int]:
    """The events matching the query's filters (bookmarkable), newest first, a page at a
    time, with the chain's state; filters that are not right show no events (422)."""
    form = _form()
    number, filters = paging.page_number(), _filters(form)
    if filters is None:
        return _refused(form)
    trail = audit_page.trail_page(current_session(), filters, access_for(), number,
                                  paging.PAGE_SIZE)
    return render_template("console/audit.html", title="Audit trail", form=form,
                           labels=LABELS, trail=trail,
                           pager=paging.pager(trail.events, number, paging.PAGE_SIZE)), 200


@bp.get("/audit.csv", endpoint="audit_csv")
@login_required(*AUDITORS)
def audit_csv() -> Response | tuple[str, int]:
    """Every event matching the filters as CSV, streamed (the API's export and columns)."""
    form = _form()
    filters = _filters(form)
    if filters is None:
        return _refused(form)
    rows = audit_trail.export(current_session(), filters, access_for())
    return Response(stream_with_context(audit_trail.csv_lines(rows)), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'})
