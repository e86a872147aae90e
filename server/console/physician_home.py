"""The physician's first page: his patients (only those the treating-physician rule gives
him), their active orders and latest visit with its NEWS2 score, and his inbox, where he
marks a notification read (``services/home/physician.py``, ``services/inbox.py``)."""

from __future__ import annotations

import uuid

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.api.access import access_for
from server.console import navigation, paging
from server.console.auth import current_user, login_required
from server.console.blueprint import bp
from server.extensions import current_session
from server.models import Role
from server.services import inbox
from server.services.home import physician
from server.services.records import Page

PHYSICIAN = (Role.PHYSICIAN,)
navigation.add("console.my_patients", "My patients", PHYSICIAN, order=5)
DONE = {"read": "The notification is marked read."}


@bp.get("/my-patients", endpoint="my_patients")
@login_required(*PHYSICIAN)
def my_patients() -> str:
    """His patients with their orders and latest visit, and his newest notifications."""
    number = paging.page_number()
    home = physician.physician_home(current_session(), current_user(), access_for(), number)
    found = Page([summary.patient for summary in home.patients], home.patients_total)
    pager = paging.pager(found, number, physician.PATIENTS_PER_PAGE)
    return render_template("console/my_patients.html", title="My patients", home=home,
                           pager=pager,
                           done=DONE.get(request.args.get("done", "")))


@bp.post("/notifications/<uuid:notification_id>/read", endpoint="notification_read")
@login_required(*PHYSICIAN)
def notification_read(notification_id: uuid.UUID) -> Response:
    """Mark one of his notifications read (another's is a 404, as in the API)."""
    inbox.mark_read(current_session(), notification_id, access_for())
    return redirect(url_for("console.my_patients", done="read"))
