"""Rate limits on every route: per staff token, per device, per client address.

A stolen token must not read at machine speed. Every request that presents a bearer token
counts against that token (on the device sync routes, against the device: a device has one
token), and every request that presents none — or one the server refused (401) — counts
against the client's address, so inventing tokens does not escape the address's limit.
Counts live in ``RATE_LIMIT_STORAGE_URL``: ``memory://`` counts in each process apart (each
gunicorn worker has its own), ``redis://`` once for every worker and host. Over a limit the
answer is a 429 in the one error shape with ``Retry-After`` (``server.errors``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, request
from flask.wrappers import Response
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse_many
from limits.errors import ConfigurationError

from server import config
from server.config import ConfigError

log = logging.getLogger(__name__)

# Blueprints whose bearer token is a device's token (see server/api/sync*.py).
DEVICE_BLUEPRINTS = frozenset({"sync", "sync_assets"})
LIMIT_SETTINGS = ("RATE_LIMIT_PER_TOKEN", "RATE_LIMIT_PER_DEVICE", "RATE_LIMIT_PER_ADDRESS")
# A Redis that stops answering must not hold every request: give up, count in memory.
REDIS_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}


def presented_token() -> str | None:
    """The bearer token of this request, valid or not (None without one)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class Keys:
    """Limiter keys as keyed hashes: the storage (Redis) never holds a token or an address,
    and the same token is the same key in every worker and host (they share SECRET_KEY)."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"infusync rate-limit keys", hashlib.sha256).digest()

    def digest(self, value: str) -> str:
        """128 bits of HMAC-SHA256: no two credentials or addresses share a count."""
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:32]

    def credential(self) -> str:
        """The device on the device sync routes, the staff token everywhere else."""
        kind = "device" if request.blueprint in DEVICE_BLUEPRINTS else "token"
        return f"{kind}:{self.digest(presented_token() or '')}"

    def address(self) -> str:
        """The client's address (the proxy-resolved ``remote_addr``)."""
        return f"address:{self.digest(request.remote_addr or 'unknown')}"


def credential_limit() -> str:
    """The limit of the credential this request presents: a device's or a staff token's."""
    device = request.blueprint in DEVICE_BLUEPRINTS
    name = "RATE_LIMIT_PER_DEVICE" if device else "RATE_LIMIT_PER_TOKEN"
    return str(current_app.config[name])


def address_limit() -> str:
    """The limit of unauthenticated (or refused) requests from one address."""
    return str(current_app.config["RATE_LIMIT_PER_ADDRESS"])


def no_token() -> bool:
    """True when the request presents no bearer token (only its address can be counted)."""
    return presented_token() is None


def counts_against_address(response: Response) -> bool:
    """Requests without a token, and those whose token was refused; never the 429 itself."""
    if response.status_code == 429:
        return False
    return no_token() or response.status_code == 401


def check_settings(settings: Mapping[str, Any]) -> None:
    """Refuse to start on a limit that does not parse (``"600/minute;30/second"`` syntax)."""
    for name in LIMIT_SETTINGS:
        value = str(settings.get(name, ""))
        try:
            if not parse_many(value):
                raise ValueError("no limit given")
        except ValueError as exc:
            raise ConfigError(f"{config.ENV_PREFIX}{name}: {value!r} is not a rate limit "
                              "such as '600/minute' or '600/minute;30/second'") from exc


def build_limiter(settings: Mapping[str, Any]) -> Limiter:
    """The two shared limits: per credential (token or device) and per address."""
    keys = Keys(str(settings["SECRET_KEY"]))
    url = str(settings["RATE_LIMIT_STORAGE_URL"])
    return Limiter(
        key_func=keys.credential,
        application_limits=[
            ApplicationLimit(credential_limit, key_function=keys.credential,
                             scope="credential", exempt_when=no_token),
            ApplicationLimit(address_limit, key_function=keys.address, scope="address",
                             deduct_when=counts_against_address),
        ],
        # Counts a smooth minute (no double burst across a window edge) in O(1) storage.
        strategy="sliding-window-counter",
        storage_uri=url,
        storage_options=dict(REDIS_OPTIONS) if url.startswith(("redis", "rediss")) else {},
        key_prefix="infusync",
        # Storage trouble never answers 500: counts move to memory until the storage is back.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        enabled=bool(settings["RATE_LIMIT_ENABLED"]),
    )


def init_app(app: Flask, exempt: tuple[Any, ...] = ()) -> None:
    """Limit every route of ``app`` but the blueprints in ``exempt`` (the health probes)."""
    check_settings(app.config)
    limiter = build_limiter(app.config)
    try:
        limiter.init_app(app)
    except ConfigurationError as exc:
        raise ConfigError(f"{config.ENV_PREFIX}RATE_LIMIT_STORAGE_URL: {exc} (for redis:// "
                          "install the redis extra: pip install 'infusync[redis]')") from exc
    for blueprint in exempt:
        limiter.exempt(blueprint)
    app.extensions["infusync_rate_limits"] = limiter
    if (limiter.enabled and config.is_production(app.config)
            and app.config["RATE_LIMIT_STORAGE_URL"].startswith("memory")):
        log.warning("rate limits are counted per process (memory://); set "
                    "INFUSYNC_RATE_LIMIT_STORAGE_URL=redis://... to share them between workers")


def retry_after(error: RateLimitExceeded) -> int:
    """Whole seconds until the broken limit lets one more request through (1 to its window)."""
    limiter: Limiter = current_app.extensions["infusync_rate_limits"]
    broken = limiter.current_limit
    window = int(error.limit.limit.get_expiry())
    try:
        reset_at = broken.window.reset_time if broken is not None else None
    except Exception:  # the storage failed while we answer: say its whole window
        reset_at = None
    if reset_at is None:
        return window
    return min(window, max(1, math.ceil(reset_at - time.time())))
