"""Devices: enrollment codes and enrollment, listing, retiring and revoking."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import current_app
from flask.views import MethodView

from schemas.devices import (
    DeviceQuerySchema,
    DeviceSchema,
    EnrollmentCodeSchema,
    EnrollmentSchema,
    EnrollSchema,
)
from server import clock
from server.api import sync_settings, throttle_settings
from server.api.access import access_for
from server.api.blueprint import Blueprint
from server.api.guards import STAFF_WRITERS, request_actor, roles_required
from server.api.refusals import refusals
from server.extensions import current_session
from server.models import DeviceStatus
from server.services import devices

blp = Blueprint("devices", __name__, url_prefix="", description="Device enrollment and management")


@blp.route("/users/<uuid:user_id>/enrollment-codes")
class EnrollmentCodes(MethodView):
    """One-time codes that enroll a nurse's device."""

    @roles_required(*STAFF_WRITERS)
    @refusals(422)  # not an active nurse
    @blp.response(201, EnrollmentCodeSchema)
    def post(self, user_id: uuid.UUID) -> Any:
        """Issue a code for a nurse (valid 15 minutes, single use)."""
        lifetime = timedelta(minutes=current_app.config["ENROLLMENT_CODE_MINUTES"])
        code, expires_at = devices.issue_code(current_session(), user_id, access_for(), lifetime)
        return {"code": code, "expires_at": expires_at}


@blp.route("/devices/enroll")
class Enroll(MethodView):
    """A device enrolls itself with a code."""

    @blp.doc(security=[])
    @refusals(401, 403)  # the code is unknown, used or expired; the nurse is disabled
    @blp.arguments(EnrollSchema)
    @blp.response(201, EnrollmentSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Enroll: returns the device id, its token (shown once), server keys and policy.

        Failed codes are throttled per address (429 with Retry-After)."""
        return devices.enroll(current_session(), data, request_actor(), clock.now(),
                              sync_settings.data_key(), sync_settings.policy(),
                              throttle_settings.enrollment_limit())


@blp.route("/devices")
class Devices(MethodView):
    """Enrolled devices."""

    @roles_required(*STAFF_WRITERS)
    @blp.arguments(DeviceQuerySchema, location="query")
    @blp.response(200, DeviceSchema(many=True))
    @blp.paginate()
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
        """List devices, by nurse or status."""
        page = devices.list_devices(current_session(), filters, access_for(),
                                    pagination_parameters.page, pagination_parameters.page_size)
        pagination_parameters.item_count = page.total
        return page.items


def _status_route(status: DeviceStatus, summary: str) -> type[MethodView]:
    class StatusChange(MethodView):
        @roles_required(*STAFF_WRITERS)
        @refusals(409)  # already revoked
        @blp.response(200, DeviceSchema)
        @blp.doc(summary=summary)
        def post(self, device_id: uuid.UUID) -> Any:
            return devices.change_status(current_session(), device_id, status, access_for())

    StatusChange.__name__ = f"Device{status.value.title()}"
    return StatusChange


blp.route("/devices/<uuid:device_id>/retire")(_status_route(
    DeviceStatus.RETIRED, "Retire a device: it may push what it holds, but pulls no more"))
blp.route("/devices/<uuid:device_id>/revoke")(_status_route(
    DeviceStatus.REVOKED, "Revoke a lost or stolen device: everything refused, wipe on contact"))
