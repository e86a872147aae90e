"""Swagger UI's files served by infusync itself, so /api/docs works on an offline LAN."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask
from swagger_ui_bundle import swagger_ui_path

ASSETS_URL = "/api/docs/assets"
# Our script that starts Swagger UI (the page's CSP forbids the inline one flask-smorest
# ships; server/templates/swagger_ui.html replaces its page).
START_URL = "/api/docs/start"


def init_app(app: Flask) -> None:
    """Serve the bundled Swagger UI and point flask-smorest's docs page at it."""
    blueprint = Blueprint("swagger_ui_assets", __name__, static_folder=swagger_ui_path,
                          static_url_path=ASSETS_URL)
    app.register_blueprint(blueprint)
    start = Blueprint("swagger_ui_start", __name__,
                      static_folder=Path(__file__).parent / "docs_static",
                      static_url_path=START_URL)
    app.register_blueprint(start)
