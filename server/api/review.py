"""The review queue: coordinators, QC and admins see what sync flagged and resolve it."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from schemas.review import (
    ResolveSchema,
    ReviewCountsSchema,
    ReviewItemQuerySchema,
    ReviewItemSchema,
)
from server.api.access import access_for
from server.api.blueprint import Blueprint
from server.api.guards import current_user, roles_required
from server.api.refusals import refusals
from server.extensions import current_session
from server.models import Role
from server.services import review

blp = Blueprint("review", __name__, url_prefix="/review-items",
                description="Review queue: doubts about synced documentation")

REVIEWERS = (Role.ADMIN, Role.COORDINATOR, Role.QC)


@blp.route("")
class ReviewItems(MethodView):
    """The queue."""

    @roles_required(*REVIEWERS)
    @blp.arguments(ReviewItemQuerySchema, location="query")
    @blp.response(200, ReviewItemSchema(many=True))
    @blp.paginate()
    @blp.doc(summary="List review items, most severe and oldest first")
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
        page = review.list_items(current_session(), filters, access_for(),
                                 pagination_parameters.page, pagination_parameters.page_size)
        pagination_parameters.item_count = page.total
        return page.items


@blp.route("/counts")
class ReviewCounts(MethodView):
    """What is waiting, for the dashboard."""

    @roles_required(*REVIEWERS)
    @blp.response(200, ReviewCountsSchema)
    @blp.doc(summary="Open items by severity and by kind")
    def get(self) -> Any:
        return review.open_counts(current_session())


@blp.route("/<uuid:item_id>")
class ReviewItemView(MethodView):
    """One item."""

    @roles_required(*REVIEWERS)
    @blp.response(200, ReviewItemSchema)
    @blp.doc(summary="Read a review item")
    def get(self, item_id: uuid.UUID) -> Any:
        return review.get_item(current_session(), item_id, access_for())


@blp.route("/<uuid:item_id>/resolve")
class ResolveItem(MethodView):
    """A person's decision."""

    @roles_required(*REVIEWERS)
    @refusals(409)
    @blp.arguments(ResolveSchema)
    @blp.response(200, ReviewItemSchema)
    @blp.doc(summary="Resolve an open item as one of its allowed_resolutions (409 when it "
                     "is already resolved)")
    def post(self, data: dict[str, Any], item_id: uuid.UUID) -> Any:
        return review.resolve_item(current_session(), item_id, data, access_for())


@blp.route("/<uuid:item_id>/acknowledge")
class AcknowledgeItem(MethodView):
    """Someone owning the item has it in hand."""

    @roles_required(*REVIEWERS)
    @refusals(409)
    @blp.response(200, ReviewItemSchema)
    @blp.doc(summary="Acknowledge an open item: you have it in hand (stops a critical "
                     "item's escalation). Its owner role or above: QC items by QC, "
                     "coordinators or admins; coordinator items by coordinators or admins. "
                     "409 when it is resolved or acknowledged already")
    def post(self, item_id: uuid.UUID) -> Any:
        return review.acknowledge_item(current_session(), item_id, current_user().role,
                                       access_for())
