"""Training attachments for devices: content-addressed, resumable with HTTP Range."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView

from server import clock
from server.api.blueprint import Blueprint
from server.api.guards import bearer_token
from server.api.refusals import refusals
from server.errors import NotFound
from server.extensions import current_session
from server.services import devices
from server.training.delivery import asset_for
from server.training.modules import ASSET_TYPES

blp = Blueprint("sync_assets", __name__, url_prefix="/sync/assets",
                description="Training attachments for devices")

_BYTES = {"content": {kind: {"schema": {"type": "string", "format": "binary"}}
                      for kind in ASSET_TYPES}}
# 304 for If-None-Match with the ETag; 206 for a Range; 416 for a Range past the end.
RESPONSES = {200: {"description": "The attachment", **_BYTES},
             206: {"description": "The requested range of it", **_BYTES},
             304: {"description": "Not modified (If-None-Match matched its ETag)"}}


@blp.route("/<string:sha256>")
class Asset(MethodView):
    """The bytes of one attachment; ETag is the SHA-256, Range resumes a cut download."""

    @blp.doc(security=[{"deviceToken": []}], responses=RESPONSES,
             summary="Download an attachment of a module in your audience (Range: 206/416)")
    @refusals(401, 403, 416)
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
