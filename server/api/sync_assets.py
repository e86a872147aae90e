"""Training attachments for devices: content-addressed, resumable with HTTP Range."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView

from server import clock
from server.api.blueprint import Blueprint
from server.api.guards import bearer_token
from server.errors import NotFound
from server.extensions import current_session
from server.services import devices
from server.training.delivery import asset_for

blp = Blueprint("sync_assets", __name__, url_prefix="/sync/assets",
                description="Training attachments for devices")


@blp.route("/<string:sha256>")
class Asset(MethodView):
    """The bytes of one attachment; ETag is the SHA-256, Range resumes a cut download."""

    @blp.doc(security=[{"deviceToken": []}],
             summary="Download an attachment of a module in your audience (Range: 206/416)")
    def get(self, sha256: str) -> Any:
        session = current_session()
        device = devices.authenticate(session, bearer_token(), clock.now(), pulling=True)
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise NotFound("No such attachment on a training module for you.")
        asset = asset_for(session, device.user, sha256)
        session.commit()  # authenticate may have noted the device's activity
        response = Response(asset.data, mimetype=asset.content_type)
        response.set_etag(asset.sha256)
        response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
        return response.make_conditional(request, accept_ranges=True,
                                         complete_length=asset.size)
