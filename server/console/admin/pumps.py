"""The pump registry: status and preventive-maintenance dates, and marking a pump recalled
(``services.pumps.update_pump``, as ``PATCH /api/v1/pumps/<id>``: a recalled pump is traced
to the patients it served and their critical review items are opened in that service)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from schemas.pumps import PUMP_STATUSES, PumpUpdateSchema
from server.api.access import access_for
from server.console import navigation, paging
from server.console.admin.common import ADMIN, PAGE_SIZE, form_version
from server.console.auth import login_required
from server.console.blueprint import bp
from server.console.forms import Form
from server.errors import AppError
from server.extensions import current_session
from server.services import pumps

navigation.add("console.pumps", "Pumps", ADMIN, order=80)
LABELS = {"status": "Status", "last_pm_on": "Last maintenance",
          "next_pm_due_on": "Next maintenance due", "version": "Version"}
FIELDS = {name: name for name in LABELS}
DONE = {"updated": "The pump is changed.",
        "recalled": "The pump is marked recalled; the patients it served are on the review "
                    "list."}


def _page(forms: dict[uuid.UUID, Form], status: int = 200) -> tuple[str, int]:
    status_filter = request.args.get("status", "")
    filters = {"status": status_filter} if status_filter in PUMP_STATUSES else {}
    number = paging.page_number()
    found = pumps.list_pumps(current_session(), filters, access_for(), number, PAGE_SIZE)
    refused = next((form for form in forms.values() if form.refused), None)
    return render_template("console/admin/pumps.html", title="Pumps", page=found, forms=forms,
                           pager=paging.pager(found, number, PAGE_SIZE),
                           refused=refused, labels=LABELS, statuses=PUMP_STATUSES,
                           done=DONE.get(request.args.get("done", ""))), status


@bp.get("/admin/pumps", endpoint="pumps")
@login_required(*ADMIN)
def pumps_page() -> tuple[str, int]:
    """Every pump by serial (or those of one status), with its maintenance dates."""
    return _page({})


def _update(pump_id: uuid.UUID, form: Form, data: dict[str, Any],
            done: str) -> Response | tuple[str, int]:
    version = form_version(form)
    loaded = form.load(PumpUpdateSchema(partial=True), data, FIELDS) if version else None
    if loaded is None:
        return _page({pump_id: form}, 422)
    try:
        pumps.update_pump(current_session(), pump_id, loaded, version, access_for())
    except AppError as error:
        form.refuse(error, FIELDS)
        return _page({pump_id: form}, error.status)
    return redirect(url_for("console.pumps", done=done))


@bp.post("/admin/pumps/<uuid:pump_id>")
@login_required(*ADMIN)
def pump_update(pump_id: uuid.UUID) -> Response | tuple[str, int]:
    """Status and preventive-maintenance dates (an empty date clears it)."""
    form = Form.of(request.form)
    data: dict[str, Any] = {"status": request.form.get("status", "")}
    for name in ("last_pm_on", "next_pm_due_on"):
        data[name] = request.form.get(name, "").strip() or None
    return _update(pump_id, form, data, "updated")


@bp.post("/admin/pumps/<uuid:pump_id>/recall")
@login_required(*ADMIN)
def pump_recall(pump_id: uuid.UUID) -> Response | tuple[str, int]:
    """Mark recalled: the service traces it and opens the critical review items."""
    return _update(pump_id, Form.of(request.form), {"status": "recalled"}, "recalled")
