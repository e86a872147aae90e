"""The REST API under /api/v1: one module per resource, registered in ``register``."""

from __future__ import annotations

from typing import Any

from flask_smorest import Api, Blueprint

from server.api import (
    audit_events,
    auth,
    board,
    devices,
    jobs,
    mfa,
    notifications,
    orders,
    patients,
    pumps,
    review,
    sync,
    sync_assets,
    training,
    users,
    visits,
)

BLUEPRINTS = (auth.blp, users.blp, patients.blp, orders.blp, pumps.blp, visits.blp,
              devices.blp, sync.blp, review.blp, jobs.blp, training.blp, sync_assets.blp,
              board.blp, mfa.blp, audit_events.blp, notifications.blp)


# The settings the OpenAPI document is made from (flask-smorest's ``_init_spec``).
SPEC_SETTINGS = ("API_TITLE", "API_VERSION", "OPENAPI_VERSION", "API_SPEC_OPTIONS")
# The document built by this process, by those settings: see ``register``.
_documents: dict[str, Any] = {}


def register(api: Api) -> None:
    """Register every resource blueprint on the smorest Api.

    The OpenAPI document depends only on the blueprints and ``SPEC_SETTINGS``, yet building
    it is half of ``create_app``'s time (every schema resolved, every operation deep-copied).
    An app built after the first with the same settings (the test suite builds one a test)
    takes the document already made; its routes are registered as usual.
    """
    key = repr([api._app.config.get(name) for name in SPEC_SETTINGS])
    document = _documents.get(key)
    if document is not None:
        api.spec = document
        for blueprint in BLUEPRINTS:
            api._app.extensions["flask-smorest"]["blp_name_to_api"][blueprint.name] = api
            api._app.register_blueprint(blueprint, url_prefix=_prefix(blueprint))
        return
    _document(api)
    _documents[key] = api.spec


def _prefix(blueprint: Blueprint) -> str:
    return f"/api/v1{blueprint.url_prefix or ''}"


def _document(api: Api) -> None:
    """Register the blueprints and build their OpenAPI document."""
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "Staff token"}
    )
    api.spec.components.security_scheme(
        "deviceToken", {"type": "http", "scheme": "bearer", "description": "Device token"}
    )
    # Every operation needs a staff token unless its own ``security`` says otherwise
    # (login and enrollment: none; the sync routes: a device token).
    api.spec.options["security"] = [{"bearerAuth": []}]
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=_prefix(blueprint))
