"""Key material the server needs at start-up: the Flask secret and the data key.

In production both must be provided (``INFUSYNC_SECRET_KEY`` or ``INFUSYNC_SECRET_KEY_FILE``,
and ``INFUSYNC_DATA_KEY_FILE``); the server refuses to start otherwise. In development the
missing ones are generated once into ``<instance>/keys/`` with mode 0600 and reused.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from server.config import ConfigError, is_production

log = logging.getLogger(__name__)

DATA_KEY_BYTES = 32


def _read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read key file {path}: {exc.strerror}") from exc
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(raw) < DATA_KEY_BYTES:
        raise ConfigError(f"key file {path} must hold at least {DATA_KEY_BYTES} random bytes")
    return raw


def _generate_key_file(path: Path) -> bytes:
    """Write a fresh random key readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    raw = secrets.token_bytes(DATA_KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    log.warning("generated development key", extra={"key_file": str(path)})
    return raw


def _load_or_generate(config: dict[str, Any], file_key: str, name: str, instance: Path) -> bytes:
    configured = config.get(file_key)
    if configured:
        return _read_key_file(Path(configured))
    if is_production(config):
        raise ConfigError(f"production needs INFUSYNC_{file_key.removeprefix('INFUSYNC_')}")
    path = instance / "keys" / name
    return _read_key_file(path) if path.exists() else _generate_key_file(path)


def load_keys(config: dict[str, Any], instance_path: str) -> None:
    """Fill ``SECRET_KEY`` and ``INFUSYNC_DATA_KEY`` in ``config`` or refuse to start."""
    instance = Path(instance_path)
    if not config.get("SECRET_KEY"):
        secret = _load_or_generate(config, "INFUSYNC_SECRET_KEY_FILE", "secret_key", instance)
        config["SECRET_KEY"] = secret.hex()
    if not config.get("INFUSYNC_DATA_KEY"):
        config["INFUSYNC_DATA_KEY"] = _load_or_generate(
            config, "INFUSYNC_DATA_KEY_FILE", "data_key", instance
        )
