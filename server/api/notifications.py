"""The staff inbox: a signed-in user's own notifications, and marking one read."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from schemas.inbox import InboxNotificationSchema, InboxQuerySchema
from server.api.access import access_for
from server.api.blueprint import Blueprint
from server.api.guards import roles_required
from server.extensions import current_session
from server.services import inbox

blp = Blueprint("notifications", __name__, url_prefix="/notifications",
                description="Your notifications: critical findings on your patients, "
                            "escalations, reminders")


@blp.route("")
class Notifications(MethodView):
    """The signed-in user's inbox."""

    @roles_required()
    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, InboxNotificationSchema(many=True))
    @blp.paginate()
    @blp.doc(summary="Your notifications, newest first (?unread=true: only the unread)")
    def get(self, query: dict[str, Any], pagination_parameters: Any) -> Any:
        page = inbox.list_own(current_session(), access_for(), query.get("unread"),
                              pagination_parameters.page, pagination_parameters.page_size)
        pagination_parameters.item_count = page.total
        return page.items


@blp.route("/<uuid:notification_id>/read")
class ReadNotification(MethodView):
    """Marking one read."""

    @roles_required()
    @blp.response(200, InboxNotificationSchema)
    @blp.doc(summary="Mark one of your notifications read (404 for anyone else's)")
    def post(self, notification_id: uuid.UUID) -> Any:
        return inbox.mark_read(current_session(), notification_id, access_for())
