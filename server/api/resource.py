"""The four routes every EHR resource has, built once: list, create, read, patch.

A resource module describes itself with a ``Resource`` (schemas, service verbs, who may read
and write, how reads are scoped) and calls ``register_crud``; the views stay parse → one
service call → return.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask.views import MethodView
from marshmallow import Schema
from sqlalchemy import ColumnElement

from server.api.access import access_for, expected_version
from server.api.blueprint import Blueprint
from server.api.guards import roles_required
from server.api.refusals import refusals
from server.extensions import current_session
from server.models import Role, User

Scope = Callable[[User], ColumnElement[bool] | None]


@dataclass(frozen=True)
class Resource:
    """What the generic routes need to know about one resource."""

    noun: str
    schema: type[Schema]
    update_schema: type[Schema]
    query_schema: type[Schema]
    create: Callable[..., Any]
    list: Callable[..., Any]
    get: Callable[..., Any]
    update: Callable[..., Any]
    readers: tuple[Role, ...]
    writers: tuple[Role, ...]
    scope: Scope | None = None
    # GET one may answer more than the list (a visit with all its documentation).
    detail_schema: type[Schema] | None = None
    # Statuses only the service knows (documented): 409 for a unique key on create; a
    # PATCH is 409 on a stale version, and 428 where the version is required.
    create_refusals: tuple[int, ...] = ()
    patch_refusals: tuple[int, ...] = (409,)


def register_crud(blp: Blueprint, res: Resource) -> None:
    """Add ``GET/POST ""`` and ``GET/PATCH "/<id>"`` for ``res`` to ``blp``."""
    blp.route("")(_collection_view(blp, res))
    blp.route("/<uuid:entity_id>")(_item_view(blp, res))


def _collection_view(blp: Blueprint, res: Resource) -> type[MethodView]:
    """``GET ""`` (a scoped page) and ``POST ""`` for ``res``."""

    class Collection(MethodView):
        @roles_required(*res.readers)
        @blp.arguments(res.query_schema, location="query")
        @blp.response(200, res.schema(many=True))
        @blp.paginate()
        @blp.doc(summary=f"List {res.noun}s you may see")
        def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
            page = res.list(current_session(), filters, access_for(res.scope),
                            pagination_parameters.page, pagination_parameters.page_size)
            pagination_parameters.item_count = page.total
            return page.items

        @roles_required(*res.writers)
        @refusals(*res.create_refusals)
        @blp.arguments(res.schema)
        @blp.response(201, res.schema)
        @blp.doc(summary=f"Create a {res.noun}")
        def post(self, data: dict[str, Any]) -> Any:
            return res.create(current_session(), data, access_for())

    # Flask names the endpoint after the class: one per resource.
    Collection.__name__ = f"{res.noun.title()}Collection"
    return Collection


def _item_view(blp: Blueprint, res: Resource) -> type[MethodView]:
    """``GET "/<id>"`` (scoped) and ``PATCH "/<id>"`` (version-checked unless opted out)."""

    class Item(MethodView):
        @roles_required(*res.readers)
        @blp.response(200, res.detail_schema or res.schema)
        @blp.doc(summary=f"Read a {res.noun} (404 when it is not in your scope)")
        def get(self, entity_id: uuid.UUID) -> Any:
            return res.get(current_session(), entity_id, access_for(res.scope))

        @roles_required(*res.writers)
        @refusals(*res.patch_refusals)
        @blp.arguments(res.update_schema(partial=True))
        @blp.response(200, res.schema)
        @blp.doc(summary=f"Change a {res.noun}; If-Match or version guards against lost "
                         "updates (409 stale_version)")
        def patch(self, data: dict[str, Any], entity_id: uuid.UUID) -> Any:
            version = expected_version(data)
            return res.update(current_session(), entity_id, data, version, access_for())

    Item.__name__ = f"{res.noun.title()}Item"
    return Item
