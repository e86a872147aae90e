"""QC's review queue and an item's page: filter what sync flagged, read an item beside its
evidence, acknowledge it, resolve it (accept, amend, reassign documentation, entered in
error) with a reason.

The filters go through the API's ``ReviewItemQuerySchema`` and the actions through the
API's ``ResolveSchema`` and ``services.review`` (same scope, audit events, refusals, and
the same delivery of the resolution to the nurse's device, which follows the stored item).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from schemas.patients import PatientQuerySchema
from schemas.review import ResolveSchema, ReviewItemQuerySchema
from server import clock
from server.api.access import access_for
from server.api.review import REVIEWERS
from server.console import navigation, paging
from server.console.auth import current_user, login_required
from server.console.blueprint import bp
from server.console.filters import local
from server.console.forms import Form
from server.console.nurse_search import nurse_query
from server.errors import AppError
from server.extensions import current_session
from server.review_items import AMEND, REASSIGN
from server.services import review, scope
from server.services.records import Page
from server.services.review_page import PatientFilter, item_page, patient_filter, queue_page

navigation.add("console.review", "Review", REVIEWERS, order=20)

PAGE_SIZE = 25
# ``patient`` carries the chosen patient's id; ``patient_search`` the name or MRN typed to
# find her (resolved to ``patient`` before the queue is read).
FILTERS = ("status", "severity", "kind", "nurse", "patient", "patient_search", "from", "to")
# The service's names → the filter form's (a bad patient id is shown at the search field).
FILTER_FIELDS = {"status": "status", "severity": "severity", "kind": "kind",
                 "nurse_id": "nurse", "patient_id": "patient_search", "created_from": "from",
                 "created_before": "to", "page": "page", "q": "patient_search",
                 "patient_search": "patient_search"}
RESOLVE_FIELDS = {"resolution": "resolution", "comment": "comment",
                  "target_visit_id": "target_visit_id", "changes": "changes"}
LABELS = {"status": "Status", "severity": "Severity", "kind": "Kind", "nurse": "Nurse",
          "patient": "Patient", "patient_search": "Patient", "from": "Raised from",
          "to": "Raised to", "page": "Page",
          "resolution": "Resolution", "comment": "Reason", "target_visit_id": "Visit",
          "changes": "Corrections"}
DONE = {"resolved": "The item is resolved.", "acknowledged": "You have acknowledged the item."}
CHANGE_PREFIX = "change."


def _local_start(day: date) -> datetime:
    """The instant an agency-local day begins."""
    return datetime.combine(day, time(), clock.agency_zone())


def _day(form: Form, name: str) -> date | None:
    text = request.args.get(name, "").strip()
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        form.add(name, "Enter a date like 2026-11-23.")
        return None


def _filters(form: Form) -> dict[str, Any] | None:
    """The query's filters in the service's names (status ``open`` unless asked), or None
    with the form's errors."""
    args = request.args
    data: dict[str, Any] = {"status": args.get("status", "open")}
    for arg, name in (("severity", "severity"), ("kind", "kind"), ("nurse", "nurse_id"),
                      ("patient", "patient_id")):
        if args.get(arg, "").strip():
            data[name] = args[arg].strip()
    if data["status"] == "all":
        data.pop("status")
    start, end = _day(form, "from"), _day(form, "to")
    if start:
        data["created_from"] = _local_start(start).isoformat()
    if end:
        data["created_before"] = _local_start(end + timedelta(days=1)).isoformat()
    loaded = form.load(ReviewItemQuerySchema(), data, FILTER_FIELDS)
    return None if form.errors else loaded


def _patient(form: Form, filters: dict[str, Any]) -> PatientFilter | None:
    """Resolve the patient search (or the chosen id) into ``filters`` and the form: a
    single match becomes the chosen ``patient``; several leave the queue unfiltered by
    patient until one is chosen. None, with the field's error, when nobody matches."""
    search = form.values["patient_search"]
    if search and form.load(PatientQuerySchema(), {"q": search}, FILTER_FIELDS) is None:
        return None
    try:
        found = patient_filter(current_session(), search or None, filters.get("patient_id"),
                               access_for(scope.patient_scope))
    except AppError as error:
        form.refuse(error, FILTER_FIELDS)
        return None
    filters.pop("patient_id", None)
    form.values["patient"] = ""
    if found.chosen:
        filters["patient_id"] = found.chosen[0]
        form.values.update(patient=str(found.chosen[0]), patient_search="")
    return found


@bp.get("/review", endpoint="review")
@login_required(*REVIEWERS)
def review_queue() -> tuple[str, int]:
    """The queue, filtered by the query (bookmarkable), a page at a time; filters that are
    not right show the open queue with their errors (422)."""
    form = Form({name: request.args.get(name, "").strip() for name in FILTERS})
    form.values["status"] = form.values["status"] or "open"
    number, filters, status = paging.page_number(), _filters(form), 200
    patient = _patient(form, filters) if filters is not None and not form.errors else None
    if filters is None or patient is None or form.errors:
        form.message = "Some filters are not right; see below."
        number, filters, status = 1, {"status": "open"}, 422
        patient = PatientFilter(None, [], 0)
    page = queue_page(current_session(), filters, access_for(), number, PAGE_SIZE,
                      nurse_query())
    pager = paging.pager(Page(page.items, page.total), number, PAGE_SIZE)
    # The other filters, for the links that choose a patient or drop her.
    others = {k: v for k, v in request.args.items()
              if v.strip() and k not in ("page", "done", "patient", "patient_search")}
    return render_template("console/review.html", title="Review queue", page=page, form=form,
                           labels=LABELS, pager=pager, nurse_q=nurse_query(), patient=patient,
                           others=others,
                           kinds=[(kind, kind.replace("_", " ")) for kind in page.kinds]), status


def _item(item_id: uuid.UUID, form: Form | None, status: int = 200) -> tuple[str, int]:
    """Render an item's page (one audited read), with a refused form shown as typed."""
    if form is not None and form.refused:
        current_session().rollback()  # a refused action leaves nothing for the read to commit
    page = item_page(current_session(), item_id, access_for())
    visit_options = [(str(v.id), f"{local(v.scheduled_start, True)} ({v.status.value})")
                     for v in page.other_visits]
    return render_template("console/review_item.html", title="Review item", page=page,
                           form=form, labels=LABELS, change_prefix=CHANGE_PREFIX,
                           visit_options=visit_options,
                           done=DONE.get(request.args.get("done", ""))), status


@bp.get("/review/<uuid:item_id>", endpoint="review_item")
@login_required(*REVIEWERS)
def review_item(item_id: uuid.UUID) -> tuple[str, int]:
    """An item beside its evidence, with what may be done about it."""
    return _item(item_id, None)


def _resolution(submitted: MultiDict[str, str]) -> dict[str, Any]:
    """The form as ``ResolveSchema`` reads it: only the resolution's own extra field."""
    data: dict[str, Any] = {"comment": submitted.get("comment", "")}
    if submitted.get("resolution"):
        data["resolution"] = submitted["resolution"]
    if data.get("resolution") == REASSIGN:
        data["target_visit_id"] = submitted.get("target_visit_id") or None
    if data.get("resolution") == AMEND:
        data["changes"] = {name.removeprefix(CHANGE_PREFIX): value.strip()
                           for name, value in submitted.items()
                           if name.startswith(CHANGE_PREFIX) and value.strip()}
    return data


@bp.post("/review/<uuid:item_id>/resolve")
@login_required(*REVIEWERS)
def review_resolve(item_id: uuid.UUID) -> Response | tuple[str, int]:
    """Resolve the item as the API does; a refusal keeps what was typed."""
    form = Form.of(request.form)
    loaded = form.load(ResolveSchema(), _resolution(request.form), RESOLVE_FIELDS)
    if loaded is None:
        return _item(item_id, form, 422)
    try:
        review.resolve_item(current_session(), item_id, loaded, access_for())
    except AppError as error:
        form.refuse(error, RESOLVE_FIELDS)
        return _item(item_id, form, error.status)
    return redirect(url_for("console.review_item", item_id=item_id, done="resolved"))


@bp.post("/review/<uuid:item_id>/acknowledge")
@login_required(*REVIEWERS)
def review_acknowledge(item_id: uuid.UUID) -> Response | tuple[str, int]:
    """Say you have the item in hand (stops a critical item's escalation)."""
    form = Form.of(request.form)
    try:
        review.acknowledge_item(current_session(), item_id, current_user().role, access_for())
    except AppError as error:
        form.refuse(error)
        return _item(item_id, form, error.status)
    return redirect(url_for("console.review_item", item_id=item_id, done="acknowledged"))
