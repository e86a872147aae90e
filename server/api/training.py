"""Training modules (the training lead writes), their assets, and the status report."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from werkzeug.exceptions import RequestEntityTooLarge

from schemas.training import (
    AssetSchema,
    ModuleQuerySchema,
    ModuleSchema,
    ModuleUpdateSchema,
    StatusQuerySchema,
    StatusSchema,
)
from server import clock
from server.api.access import access_for
from server.api.blueprint import Blueprint
from server.api.bodies import read_body
from server.api.guards import roles_required
from server.api.refusals import refusals
from server.errors import Invalid
from server.extensions import current_session
from server.models import Role
from server.training import modules as training
from server.training import report as training_report

blp = Blueprint("training", __name__, url_prefix="/training",
                description="Training modules, assets and status")

WRITERS = (Role.ADMIN, Role.TRAINING_LEAD)
# The status report as CSV: a header row, then a row per nurse and module.
CSV = {"schema": {"type": "string"}, "content_type": "text/csv", "success": True}
READERS = (Role.ADMIN, Role.TRAINING_LEAD, Role.COORDINATOR, Role.QC)


def _expected_revision(data: dict[str, Any]) -> int | None:
    """The revision a draft edit is based on: If-Match or a ``revision`` body field."""
    body: int | None = data.pop("revision", None)
    header = request.headers.get("If-Match")
    if header is None:
        return body
    text = header.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()):
        raise Invalid("If-Match must carry the draft's revision number.",
                      {"If-Match": ["Expected a revision number like \"2\"."]})
    return int(text)


@blp.route("/modules")
class Modules(MethodView):
    """Every version of every module."""

    @roles_required(*READERS)
    @blp.arguments(ModuleQuerySchema, location="query")
    @blp.response(200, ModuleSchema(many=True))
    @blp.doc(summary="List module versions (drafts, published, retired)")
    def get(self, filters: dict[str, Any]) -> Any:
        return training.list_modules(current_session(), filters)

    @roles_required(*WRITERS)
    @blp.arguments(ModuleSchema)
    @blp.response(201, ModuleSchema)
    @blp.doc(summary="Create a draft module")
    def post(self, data: dict[str, Any]) -> Any:
        return training.create_module(current_session(), data, access_for())


@blp.route("/modules/<uuid:module_id>")
class Module(MethodView):
    """One version; only a draft may change."""

    @roles_required(*READERS)
    @blp.response(200, ModuleSchema)
    @blp.doc(summary="Read a module version")
    def get(self, module_id: uuid.UUID) -> Any:
        return training.get_module(current_session(), module_id)

    @roles_required(*WRITERS)
    @refusals(409)
    @blp.arguments(ModuleUpdateSchema)
    @blp.response(200, ModuleSchema)
    @blp.doc(summary="Edit a draft (409 module_immutable for a published version; "
                     "If-Match: revision)")
    def patch(self, data: dict[str, Any], module_id: uuid.UUID) -> Any:
        expected = _expected_revision(data)
        return training.update_module(current_session(), module_id, data, expected, access_for())


@blp.route("/modules/<uuid:module_id>/versions")
class Versions(MethodView):
    """Start the next version of a published module."""

    @roles_required(*WRITERS)
    @refusals(409)
    @blp.response(201, ModuleSchema)
    @blp.doc(summary="New draft copied from this version, same lineage")
    def post(self, module_id: uuid.UUID) -> Any:
        return training.new_version(current_session(), module_id, access_for())


@blp.route("/modules/<uuid:module_id>/publish")
class Publish(MethodView):
    """Freeze a draft as the next version."""

    @roles_required(*WRITERS)
    @refusals(409, 422)
    @blp.response(200, ModuleSchema)
    @blp.doc(summary="Publish a complete draft (422 lists what is missing)")
    def post(self, module_id: uuid.UUID) -> Any:
        return training.publish(current_session(), module_id, access_for(),
                                clock.agency_zone())


@blp.route("/modules/<uuid:module_id>/retire")
class Retire(MethodView):
    """Take a published version off every device."""

    @roles_required(*WRITERS)
    @refusals(409)
    @blp.response(200, ModuleSchema)
    @blp.doc(summary="Retire a published version")
    def post(self, module_id: uuid.UUID) -> Any:
        return training.retire(current_session(), module_id, access_for())


@blp.route("/assets")
class Assets(MethodView):
    """Attachments: raw bytes in, SHA-256 out."""

    @roles_required(*WRITERS)
    @refusals(413, 415, 422)  # too large, not PNG/JPEG/PDF, empty
    @blp.response(201, AssetSchema)
    @blp.alt_response(200, schema=AssetSchema, description="Already stored")
    @blp.doc(summary="Upload a PNG, JPEG or PDF (raw body with its Content-Type)",
             requestBody={"required": True, "content": {
                 kind: {"schema": {"type": "string", "format": "binary"}}
                 for kind in training.ASSET_TYPES}})
    def post(self) -> Any:
        limit = int(current_app.config["TRAINING_ASSET_MAX_BYTES"])
        request.max_content_length = limit
        try:
            data = read_body(request, cache=False)  # a chunked upload too
        except RequestEntityTooLarge as exc:
            raise training.AssetTooLarge(
                f"This file is over the limit of {limit} bytes.",
                {"body": [f"At most {limit} bytes."]}) from exc
        asset, created = training.store_asset(current_session(), data, request.content_type or "",
                                              limit, access_for())
        return AssetSchema().dump(asset), 201 if created else 200


def _report(filters: dict[str, Any], as_csv: bool) -> Any:
    report = training_report.rows(current_session(), filters, access_for())
    if not as_csv:
        return report
    return Response(training_report.to_csv(report), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="training-status.csv"'})


@blp.route("/status")
class Status(MethodView):
    """Each nurse's standing on each module."""

    @roles_required(*READERS)
    @blp.arguments(StatusQuerySchema, location="query")
    @blp.response(200, StatusSchema(many=True))
    @blp.alt_response(200, **CSV, description="JSON, or CSV with format=csv")
    @blp.doc(summary="Training status per nurse and module (format=csv for the surveyor)")
    def get(self, filters: dict[str, Any]) -> Any:
        return _report(filters, filters.pop("format") == "csv")


@blp.route("/status.csv")
class StatusCsv(MethodView):
    """The status report as CSV."""

    @roles_required(*READERS)
    @blp.arguments(StatusQuerySchema, location="query")
    @blp.alt_response(200, **CSV, description="CSV")
    @blp.doc(summary="Training status as CSV")
    def get(self, filters: dict[str, Any]) -> Any:
        filters.pop("format", None)
        return _report(filters, True)
