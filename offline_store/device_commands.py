"""Commands the server gives a device: today only ``wipe`` (revoked, lost or stolen device)."""

from __future__ import annotations

from typing import Any, NoReturn

from offline_store.api import ApiError
from offline_store.errors import DeviceWiped
from offline_store.store import Store

WIPE = "wipe"


def is_wipe(command: Any) -> bool:
    """Whether a command object (``{"type": "wipe"}``) orders a wipe."""
    return isinstance(command, dict) and command.get("type") == WIPE


def wipe_device(store: Store, reason: str) -> NoReturn:
    """Destroy the store now, then tell the caller; nothing more may be read or sent."""
    store.wipe()
    raise DeviceWiped(f"this device was wiped: {reason}")


def obey_revocation(store: Store, error: ApiError) -> None:
    """A 403 ``device_revoked`` that carries a wipe command wipes the device at once."""
    if error.status == 403 and error.code == "device_revoked" \
            and is_wipe(error.details.get("command")):
        wipe_device(store, "the server revoked it")
