"""What apps built one after another share (the suite builds one a test) is what a fresh
build would make: the OpenAPI document (server/api) and werkzeug's URL builders
(tests/routing_cache.py)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from werkzeug.routing import IntegerConverter, UUIDConverter

from server import api as server_api
from tests import routing_cache
from tests.conftest import FakeClock, app_on


def _document(tmp: Path, clock: FakeClock) -> dict[str, Any]:
    with app_on(f"sqlite:///{tmp / 'infusync.sqlite3'}", tmp, clock) as app:
        response = app.test_client().get("/api/v1/openapi.json")
        assert response.status_code == 200
        return dict(response.get_json())


def test_a_later_app_serves_the_document_a_fresh_build_makes(
        tmp_path: Path, clock: FakeClock) -> None:
    _document(tmp_path, clock)  # the process has built one
    cached = _document(tmp_path, clock)
    server_api._documents.clear()
    fresh = _document(tmp_path, clock)
    assert cached == fresh
    assert len(fresh["paths"]) > 50
    assert fresh["components"]["securitySchemes"]["deviceToken"]["scheme"] == "bearer"


def _sample(converter: Any) -> Any:
    if isinstance(converter, UUIDConverter):
        return uuid.UUID("00000000-0000-4000-8000-000000000001")
    if isinstance(converter, IntegerConverter):
        return 7
    return "some-name"


def test_cached_url_builders_build_what_werkzeug_compiles(tmp_path: Path,
                                                          clock: FakeClock) -> None:
    assert routing_cache.uncached is not None, "werkzeug's Rule._compile_builder is gone"
    with app_on(f"sqlite:///{tmp_path / 'infusync.sqlite3'}", tmp_path, clock) as app:
        rules = list(app.url_map.iter_rules())
    assert len(rules) > 100
    for rule in rules:
        values = {name: _sample(rule._converters[name]) for name in rule.arguments}
        for append_unknown in (False, True):
            fresh = routing_cache.uncached(rule, append_unknown).__get__(rule, None)
            extra = {"page": "2"} if append_unknown else {}
            assert rule.build({**values, **extra}, append_unknown) == fresh(
                **values, **extra), rule.rule
