"""The REST API under /api/v1: one module per resource, registered in ``register``."""

from __future__ import annotations

from flask_smorest import Api

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


def register(api: Api) -> None:
    """Register every resource blueprint on the smorest Api."""
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
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
