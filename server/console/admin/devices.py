"""Devices: an enrollment code for a nurse (as text and as a QR code, shown once), the
enrolled devices, retire and revoke with wipe (``services.devices``, as ``/api/v1``)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.api.access import access_for
from server.console import navigation, paging
from server.console.admin.common import ADMIN, PAGE_SIZE
from server.console.auth import login_required
from server.console.blueprint import bp
from server.console.forms import Form
from server.console.nurse_search import nurse_choices, nurse_query
from server.console.qr import qr_svg
from server.errors import AppError, Invalid
from server.extensions import current_session
from server.models import DeviceStatus
from server.services import devices

navigation.add("console.devices", "Devices", ADMIN, order=75)
LABELS = {"user_id": "Nurse"}
DONE = {"retired": "The device is retired: it may push what it holds, and pulls no more.",
        "revoked": "The device is revoked: everything it sends is refused and it is told "
                   "to wipe itself."}


def _page(form: Form, status: int = 200, issued: dict[str, object] | None = None,
          ) -> tuple[str, int]:
    number = paging.page_number()
    found = devices.list_devices(current_session(), {}, access_for(), number, PAGE_SIZE)
    choices = nurse_choices(nurse_query(), [form.values.get("user_id", "")])
    return render_template("console/admin/devices.html", title="Devices", page=found,
                           pager=paging.pager(found, number, PAGE_SIZE), choices=choices,
                           form=form, labels=LABELS, issued=issued,
                           done=DONE.get(request.args.get("done", ""))), status


@bp.get("/admin/devices", endpoint="devices")
@login_required(*ADMIN)
def devices_page() -> tuple[str, int]:
    """Enrolled devices, newest first, and the form that issues an enrollment code."""
    return _page(Form())


def _nurse_id(form: Form) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.form.get("user_id", ""))
    except ValueError:
        form.message = "Some fields are not right; see below."
        form.add("user_id", "Choose the nurse whose device is enrolled.")
        return None


@bp.post("/admin/devices/codes")
@login_required(*ADMIN)
def device_code() -> tuple[str, int]:
    """A one-time code for a nurse's device, shown on this POST's own page only (it is
    stored hashed: a reload cannot show it again)."""
    form = Form.of(request.form)
    nurse_id = _nurse_id(form)
    if nurse_id is None:
        return _page(form, 422)
    lifetime = timedelta(minutes=current_app.config["ENROLLMENT_CODE_MINUTES"])
    try:
        code, expires_at = devices.issue_code(current_session(), nurse_id, access_for(),
                                              lifetime)
    except AppError as error:
        form.refuse(error, {"user_id": "user_id"})
        return _page(form, error.status)
    qr = qr_svg(code, "Enrollment code as a QR code")
    return _page(Form(), 201, {"code": code, "expires_at": expires_at, "qr": qr})


def _change(device_id: uuid.UUID, status: DeviceStatus) -> Response | tuple[str, int]:
    form = Form()
    try:
        devices.change_status(current_session(), device_id, status, access_for())
    except AppError as error:
        form.refuse(error)
        return _page(form, error.status)
    return redirect(url_for("console.devices", done=status.value))


@bp.post("/admin/devices/<uuid:device_id>/retire")
@login_required(*ADMIN)
def device_retire(device_id: uuid.UUID) -> Response | tuple[str, int]:
    """Retire a device that leaves service in good order."""
    return _change(device_id, DeviceStatus.RETIRED)


@bp.post("/admin/devices/<uuid:device_id>/revoke")
@login_required(*ADMIN)
def device_revoke(device_id: uuid.UUID) -> Response | tuple[str, int]:
    """Revoke a lost or stolen device; it is told to wipe itself on its next contact."""
    if request.form.get("confirm") != "yes":
        form = Form()
        form.refuse(Invalid("Tick the box to confirm the device is lost or stolen.", {}))
        return _page(form, 422)
    return _change(device_id, DeviceStatus.REVOKED)
