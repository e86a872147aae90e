"""The one place that reads configuration: ``INFUSYNC_*`` environment variables.

Everything else receives a plain mapping. Production refuses to start without its secrets;
development generates missing key material into the instance folder (see ``keys.py``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENV_PREFIX = "INFUSYNC_"


class ConfigError(RuntimeError):
    """Configuration that cannot run (raised at start-up, never at request time)."""


@dataclass(frozen=True)
class Setting:
    """One ``INFUSYNC_*`` variable: its Flask config name, parser and default."""

    env: str
    key: str
    parse: Any = str
    default: Any = None


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"must be 1 or more, not {number}")
    return number


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _not_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(f"must be 0 or more, not {number}")
    return number


def _names(value: str) -> tuple[str, ...]:
    """A comma-separated list of names, trimmed and lower-cased, blanks dropped."""
    return tuple(name.strip().lower() for name in value.split(",") if name.strip())


def _smtp_url(value: str) -> str:
    """An SMTP URL ``server.mail`` can use (its error never quotes the password)."""
    from server.mail import parse_smtp_url

    parse_smtp_url(value, "check@localhost")
    return value


def _metrics_token(value: str) -> str:
    """The bearer token Prometheus sends for /metrics: long enough not to be guessed."""
    if len(value.strip()) < METRICS_TOKEN_MIN_LENGTH:
        raise ValueError(f"must be at least {METRICS_TOKEN_MIN_LENGTH} characters "
                         "(e.g. `openssl rand -hex 32`)")
    return value.strip()


METRICS_TOKEN_MIN_LENGTH = 32


def _public_url(value: str) -> str:
    """The server's address as staff reach it, e.g. ``https://infusync.example.org``."""
    if not value.startswith(("https://", "http://")):
        raise ValueError("must start with https:// (or http://)")
    return value.rstrip("/")


SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", "INFUSYNC_ENV", str, "development"),
    Setting("DATABASE_URL", "SQLALCHEMY_DATABASE_URI"),
    # Connections each process keeps open (SQLAlchemy's pool_size; its default is 5).
    # ``infusync serve`` sets it to --threads: with fewer, every request beyond them opened
    # a connection of its own and closed it again (on PostgreSQL a backend process each).
    Setting("DATABASE_POOL_SIZE", "DATABASE_POOL_SIZE", _positive),
    Setting("SECRET_KEY", "SECRET_KEY"),
    Setting("SECRET_KEY_FILE", "INFUSYNC_SECRET_KEY_FILE"),
    Setting("DATA_KEY_FILE", "INFUSYNC_DATA_KEY_FILE"),
    Setting("INSTANCE_PATH", "INFUSYNC_INSTANCE_PATH"),
    # The passphrase of the key file ``infusync backup`` writes and ``restore`` reads
    # (prompted for when unset; docs/operations.md, Backups).
    Setting("BACKUP_PASSPHRASE", "INFUSYNC_BACKUP_PASSPHRASE"),
    Setting("TOKEN_IDLE_MINUTES", "TOKEN_IDLE_MINUTES", int, 15),
    Setting("TOKEN_MAX_HOURS", "TOKEN_MAX_HOURS", int, 12),
    # Failed-login throttling (server/services/throttle.py; docs/security.md): per account
    # and address, per address, and per account over a longer window.
    Setting("LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS", "LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS",
            _positive, 5),
    Setting("LOGIN_MAX_FAILURES_PER_ADDRESS", "LOGIN_MAX_FAILURES_PER_ADDRESS", _positive, 50),
    Setting("LOGIN_FAILURE_WINDOW_MINUTES", "LOGIN_FAILURE_WINDOW_MINUTES", _positive, 15),
    Setting("LOGIN_MAX_FAILURES_PER_ACCOUNT", "LOGIN_MAX_FAILURES_PER_ACCOUNT", _positive, 20),
    Setting("LOGIN_ACCOUNT_WINDOW_MINUTES", "LOGIN_ACCOUNT_WINDOW_MINUTES", _positive, 60),
    Setting("LOGIN_KNOWN_ADDRESS_DAYS", "LOGIN_KNOWN_ADDRESS_DAYS", _positive, 30),
    Setting("ENROLLMENT_MAX_FAILURES_PER_ADDRESS", "ENROLLMENT_MAX_FAILURES_PER_ADDRESS",
            _positive, 20),
    Setting("ENROLLMENT_FAILURE_WINDOW_MINUTES", "ENROLLMENT_FAILURE_WINDOW_MINUTES",
            _positive, 15),
    Setting("MAX_BODY_BYTES", "MAX_CONTENT_LENGTH", int, 2 * 1024 * 1024),
    Setting("SQLITE_BUSY_TIMEOUT_MS", "SQLITE_BUSY_TIMEOUT_MS", int, 15000),
    Setting("LOG_LEVEL", "LOG_LEVEL", str, "INFO"),
    Setting("SYNC_MAX_OFFLINE_HOURS", "SYNC_MAX_OFFLINE_HOURS", int, 168),
    Setting("SYNC_MAX_BATCH_MUTATIONS", "SYNC_MAX_BATCH_MUTATIONS", int, 500),
    Setting("SYNC_MAX_BODY_BYTES", "SYNC_MAX_BODY_BYTES", int, 8 * 1024 * 1024),
    Setting("SYNC_CLOCK_SKEW_MINUTES", "SYNC_CLOCK_SKEW_MINUTES", int, 5),
    Setting("SYNC_FEED_RETENTION_HOURS", "SYNC_FEED_RETENTION_HOURS", int, 336),
    Setting("ENROLLMENT_CODE_MINUTES", "ENROLLMENT_CODE_MINUTES", int, 15),
    # How many reverse proxies stand in front (each appends to X-Forwarded-For); 0: none,
    # and a client's X-Forwarded-For is ignored.
    Setting("TRUSTED_PROXIES", "TRUSTED_PROXIES", _not_negative, 0),
    # Rate limits (server/rate_limits.py; why these defaults: docs/security.md). One or more
    # "N/period" separated by ";". memory:// counts per process; redis:// across workers.
    Setting("RATE_LIMIT_ENABLED", "RATE_LIMIT_ENABLED", _bool, True),
    Setting("RATE_LIMIT_PER_TOKEN", "RATE_LIMIT_PER_TOKEN", str, "600/minute"),
    Setting("RATE_LIMIT_PER_DEVICE", "RATE_LIMIT_PER_DEVICE", str, "3000/minute"),
    Setting("RATE_LIMIT_PER_ADDRESS", "RATE_LIMIT_PER_ADDRESS", str, "300/minute"),
    Setting("RATE_LIMIT_STORAGE_URL", "RATE_LIMIT_STORAGE_URL", str, "memory://"),
    # Scheduling: visit windows are local times of the agency's zone (IANA name).
    Setting("AGENCY_TIMEZONE", "AGENCY_TIMEZONE", str, "America/New_York"),
    Setting("SCHEDULE_HORIZON_DAYS", "SCHEDULE_HORIZON_DAYS", int, 14),
    Setting("MISSED_VISIT_GRACE_MINUTES", "MISSED_VISIT_GRACE_MINUTES", int, 60),
    Setting("SILENT_DEVICE_HOURS", "SILENT_DEVICE_HOURS", int, 12),
    Setting("PUMP_PM_DUE_DAYS", "PUMP_PM_DUE_DAYS", int, 7),
    Setting("SCHEDULER_LEASE_SECONDS", "SCHEDULER_LEASE_SECONDS", int, 30),
    Setting("JOB_MISFIRE_GRACE_SECONDS", "JOB_MISFIRE_GRACE_SECONDS", int, 3600),
    # Runs older than this are pruned nightly (each job's newest run and newest success kept).
    Setting("JOB_RUNS_KEEP_DAYS", "JOB_RUNS_KEEP_DAYS", _positive, 90),
    # Testing only (refused in production): read "now" from this file, so a test can move
    # the time of a subprocess (the scheduler) forward.
    Setting("CLOCK_FILE", "INFUSYNC_CLOCK_FILE"),
    # Testing: every push result and pull page validated against schemas/json before it
    # leaves, a mismatch answered 500 (server/wire_check.py; needs the jsonschema extra).
    Setting("WIRE_SCHEMA_CHECK", "INFUSYNC_WIRE_SCHEMA_CHECK", _bool, False),
    # Training: attachment size limit, and how many days before the due date to remind.
    Setting("TRAINING_ASSET_MAX_BYTES", "TRAINING_ASSET_MAX_BYTES", int, 20 * 1024 * 1024),
    Setting("TRAINING_REMINDER_DAYS", "TRAINING_REMINDER_DAYS", int, 7),
    # Roles whose members must log in with a second factor (TOTP); admin and
    # privacy_officer always do, whatever this says (server/services/mfa/settings.py).
    Setting("MFA_REQUIRED_ROLES", "MFA_REQUIRED_ROLES", _names, ("admin", "privacy_officer")),
    # Safety signals (issue 11): a critical review item nobody acknowledged escalates to the
    # coordinators after this long; staff notifications are announced by e-mail when an
    # SMTP server is set (server/mail.py), with a link to PUBLIC_URL.
    Setting("CRITICAL_ESCALATION_MINUTES", "CRITICAL_ESCALATION_MINUTES", _positive, 30),
    Setting("SMTP_URL", "SMTP_URL", _smtp_url),
    Setting("SMTP_FROM", "SMTP_FROM", str, "infusync@localhost"),
    Setting("PUBLIC_URL", "PUBLIC_URL", _public_url),
    # NEWS2 early-warning scores of pushed vital signs (server/reconcile/news2.py): the
    # totals that open a warning and a critical review item, and whether a 3 in any single
    # parameter opens a warning too (the RCP's defaults).
    Setting("NEWS2_WARNING_SCORE", "NEWS2_WARNING_SCORE", _positive, 5),
    Setting("NEWS2_CRITICAL_SCORE", "NEWS2_CRITICAL_SCORE", _positive, 7),
    Setting("NEWS2_SINGLE_PARAMETER_WARNING", "NEWS2_SINGLE_PARAMETER_WARNING", _bool, True),
    # /metrics for Prometheus (server/metrics; docs/production.md): off (404) unless set.
    Setting("METRICS_TOKEN", "METRICS_TOKEN", _metrics_token),
)

DEFAULTS: dict[str, Any] = {
    "API_TITLE": "infusync",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "v1/openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # Served from the swagger-ui-bundle package (server/docs_assets.py), not a CDN.
    "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
    # hide_parameters: database errors are logged, and their bound values may be patient data.
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
}


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the Flask config values set by ``INFUSYNC_*`` variables (and the defaults)."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = dict(DEFAULTS)
    for setting in SETTINGS:
        raw = environ.get(ENV_PREFIX + setting.env)
        if raw is not None and raw != "":
            try:
                config[setting.key] = setting.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{ENV_PREFIX}{setting.env}: {exc}") from exc
        elif setting.default is not None:
            config[setting.key] = setting.default
    return config


def is_production(config: Mapping[str, Any]) -> bool:
    """True when the deployment declared itself production."""
    return str(config.get("INFUSYNC_ENV", "development")).lower() == "production"


def check_time_zone(config: Mapping[str, Any]) -> None:
    """Refuse to start with an agency time zone the IANA database does not know."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = str(config.get("AGENCY_TIMEZONE", ""))
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{ENV_PREFIX}AGENCY_TIMEZONE: unknown time zone {name!r}") from exc


def check_mfa_roles(config: Mapping[str, Any]) -> None:
    """Refuse to start when INFUSYNC_MFA_REQUIRED_ROLES names no role (a typo would silently
    leave that role on passwords alone)."""
    from server.models.users import Role

    known = {role.value for role in Role}
    unknown = sorted(set(config.get("MFA_REQUIRED_ROLES", ())) - known)
    if unknown:
        raise ConfigError(f"{ENV_PREFIX}MFA_REQUIRED_ROLES: unknown roles {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(known))}")


def check_mail(config: Mapping[str, Any]) -> None:
    """Refuse to start with e-mail on and no public address: the e-mail's one link."""
    if config.get("SMTP_URL") and not config.get("PUBLIC_URL"):
        raise ConfigError(f"{ENV_PREFIX}SMTP_URL is set: set {ENV_PREFIX}PUBLIC_URL too "
                          "(the address the e-mails link to)")
