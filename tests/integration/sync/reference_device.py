"""The reference client (``offline_store.SyncClient``) enrolled against the real app.

It talks through ``FlaskTransport`` and a ``Wire`` that records every exchange and may
rewrite answers the way something on the path could: strip a header, swap in an answer
recorded earlier.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from offline_store.client import SyncClient
from offline_store.store import Store
from offline_store.transport import Response, Transport
from tests.integration.sync.flask_transport import FlaskTransport

PIN = "135790"
Rewrite = Callable[[str, Response], Response]


@dataclass(frozen=True)
class Exchange:
    """One request as sent and the answer the client got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    response: Response


@dataclass
class Wire:
    """Records every exchange and applies ``rewrite`` (if any) to the answers."""

    inner: Transport
    rewrite: Rewrite | None = None
    exchanges: list[Exchange] = field(default_factory=list)

    def request(self, method: str, url: str, headers: Mapping[str, str],
                body: bytes | None) -> Response:
        response = self.inner.request(method, url, headers, body)
        path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        if self.rewrite is not None:
            response = self.rewrite("/" + path, response)
        self.exchanges.append(Exchange(method, "/" + path, dict(headers), body, response))
        return response

    def to(self, suffix: str) -> list[Exchange]:
        """The exchanges whose path ends with ``suffix``, oldest first."""
        return [exchange for exchange in self.exchanges if exchange.path.endswith(suffix)]


@dataclass
class ReferenceDevice:
    """An enrolled reference client, its store (still open) and its wire."""

    sync: SyncClient
    store: Store
    wire: Wire
    path: Path

    @property
    def device_id(self) -> str:
        return str(self.store.get_meta("device_id"))


def enroll_reference_device(client: FlaskClient, as_user: Any, agency: Any, folder: Path,
                            nurse: str = "nurse_a") -> ReferenceDevice:
    """Enroll a fresh store for ``nurse`` with a code the coordinator issues."""
    code = client.post(f"/api/v1/users/{agency[nurse]}/enrollment-codes",
                       headers=as_user("coordinator")).get_json()["code"]
    path = folder / f"{nurse}-{len(list(folder.glob('*.sqlite3')))}.sqlite3"
    store = Store.create(path, PIN, scrypt_n=2**10)
    wire = Wire(FlaskTransport(client))
    device = SyncClient(store, wire, app_version="1.1.0")
    device.enroll("http://localhost", code, f"{nurse}'s tablet")
    return ReferenceDevice(device, store, wire, path)
