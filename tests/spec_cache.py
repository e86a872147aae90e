"""The OpenAPI document's start skipped when an app of the test run takes a cached one.

``api.init_app`` (flask-smorest's ``_init_spec``) starts a new document for each app: a
response component for every HTTP status, each resolving the error schema, about a third of
the time an app takes once the routing builders are cached (tests/routing_cache.py). Yet an
app built after the first with the same settings is given the document already made
(``server.api.register``), and the new one is dropped. Here that app takes the document,
and the plugins made with it, at the start instead. Tests only: the server builds its app
once per process; tests/integration/app/test_factory_caches.py compares the document such
an app serves with a fresh build's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server import api as server_api
from server.extensions import InfusyncApi


def install() -> None:
    """Wrap ``InfusyncApi._init_spec`` (flask-smorest's, private: left alone if missing)."""
    init_spec: Callable[..., None] | None = getattr(InfusyncApi, "_init_spec", None)
    if init_spec is None or getattr(init_spec, "cached", False):
        return

    def cached(self: Any, **kwargs: Any) -> None:
        key = repr([self._app.config.get(name) for name in server_api.SPEC_SETTINGS])
        document = server_api._documents.get(key)
        if document is None:
            init_spec(self, **kwargs)
            return
        self.spec = document
        self.flask_plugin, self.ma_plugin = document.plugins[:2]

    cached.cached = True  # type: ignore[attr-defined]
    InfusyncApi._init_spec = cached
