"""Scheduling settings read from the app's configuration, for the views that change orders."""

from __future__ import annotations

from flask import current_app

from server.services.visit_generation import Horizon


def horizon() -> Horizon:
    """How far ahead an order's visits exist, in the agency's zone (services are given it)."""
    return Horizon.from_config(current_app.config)
