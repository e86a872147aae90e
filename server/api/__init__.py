"""The REST API under /api/v1: one module per resource, registered in ``register``."""

from __future__ import annotations

from flask_smorest import Api

from server.api import (
    audit_events,
    auth,
    board,
    devices,
    jobs,
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
              board.blp, audit_events.blp)


def register(api: Api) -> None:
    """Register every resource blueprint on the smorest Api."""
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "Staff token"}
    )
    api.spec.components.security_scheme(
        "deviceToken", {"type": "http", "scheme": "bearer", "description": "Device token"}
    )
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
