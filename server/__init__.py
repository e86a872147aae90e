"""infusync's Flask application: ``create_app`` builds it from small ``register_*`` steps."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from server import clock, config, keys, wire_check
from server.config import ConfigError


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, then ``overrides`` (tests pass a mapping)."""
    settings = config.from_environment()
    settings.update(overrides or {})
    instance_path = settings.get("INFUSYNC_INSTANCE_PATH") or os.path.join(os.getcwd(), "instance")
    app = Flask(__name__, instance_path=str(Path(instance_path).resolve()))
    app.config.update(settings)
    register_logging(app)
    register_configuration(app)
    register_proxies(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_headers(app)
    register_commands(app)
    return app


def register_configuration(app: Flask) -> None:
    """Resolve the database URL and key material, or refuse to start."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        if config.is_production(app.config):
            raise ConfigError("production needs INFUSYNC_DATABASE_URL")
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'infusync.sqlite3'}"
        )
    if app.config.get("DATABASE_POOL_SIZE"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
            "pool_size": app.config["DATABASE_POOL_SIZE"]}
    keys.load_keys(app.config, app.instance_path)
    config.check_time_zone(app.config)
    config.check_mfa_roles(app.config)
    config.check_mail(app.config)
    wire_check.register(app)


def register_proxies(app: Flask) -> None:
    """Trust ``X-Forwarded-*`` from ``TRUSTED_PROXIES`` reverse proxies, and no one else."""
    from server import proxies

    proxies.init_app(app)


def register_logging(app: Flask) -> None:
    """Structured logs without patient data."""
    from server import logs

    logs.init_app(app)


def register_extensions(app: Flask) -> None:
    """Bind the database, migrations, the API, the clock, the rate limits, the audit chain
    and the signing keyring."""
    from server import audit_chain, feed_fanout, health, history, rate_limits
    from server.database import configure_engine
    from server.extensions import api, db, migrate
    from server.services.server_keys import SigningKeyring

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    api.init_app(app)
    clock.init_app(app, app.config.get("INFUSYNC_CLOCK"))
    feed_fanout.init_app()
    audit_chain.install()
    history.init_app()
    rate_limits.init_app(app, exempt=(health.blueprint,))
    app.extensions["infusync_signing_keys"] = SigningKeyring()
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def register_blueprints(app: Flask) -> None:
    """Health probes, metrics (and the request counts), the /api/v1 resources and the
    staff console at /console/."""
    from server import api as api_package
    from server import console, docs_assets, health, metrics
    from server.extensions import api

    app.register_blueprint(health.blueprint)
    metrics.init_app(app)
    docs_assets.init_app(app)
    api_package.register(api)
    console.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    """One JSON error shape for everything; every refusal (403, 404) audited."""
    from server import errors
    from server.api import refusal_audit

    errors.register_errorhandlers(app)
    refusal_audit.init_app(app)


def register_headers(app: Flask) -> None:
    """Security headers on every response."""
    from server import headers

    headers.init_app(app)


def register_commands(app: Flask) -> None:
    """CLI commands beside the code they serve."""
    from server.cli import commands

    commands.init_app(app)
