"""Text that is not text: lone UTF-16 surrogates and control characters, at every write route.

Python's JSON decoder turns ``"\\udc80"`` into a str that no database driver, hash or log
can encode; control characters break logs and screens. Every JSON body is refused with a
422 (400 for the push envelope) naming the field, before any view runs. The routes are
enumerated from the app's url_map, so a new write route is covered the day it is added.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from schemas.base import CONTROL_MESSAGE, SURROGATE_MESSAGE

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Whoever may reach a route's body: staff roles first, then a device, then nobody.
CALLERS = ("admin", "coordinator", "training_lead", "qc", "nurse_a", "physician_a",
           "device", "anonymous")
# A raw body that is not JSON by design (checked by its own tests in training/).
RAW_BODY_ROUTES = {("POST", "/api/v1/training/assets")}
BAD_TEXT = {"surrogate": ("a\udc80b", SURROGATE_MESSAGE),
            "high surrogate": ("\ud800", SURROGATE_MESSAGE),
            "bell": ("ring\x07", CONTROL_MESSAGE), "escape": ("\x1b[2J", CONTROL_MESSAGE),
            "delete": ("x\x7f", CONTROL_MESSAGE), "c1": ("\x85", CONTROL_MESSAGE)}


def openapi_path(rule: str) -> str:
    """``/a/<uuid:id>`` → ``/a/{id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def write_routes(app: Flask) -> list[tuple[str, str]]:
    """Every (method, OpenAPI path) of the API that writes, from its url_map (the console's
    forms are not JSON: tests/integration/console checks their fields)."""
    routes = {(method, openapi_path(rule.rule)) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/")
              for method in rule.methods or () if method in WRITE_METHODS}
    return sorted(routes - RAW_BODY_ROUTES)


def json_body_field(spec: dict[str, Any], method: str, path: str) -> str | None:
    """A field of the route's JSON body schema, or None when the route takes no body."""
    operation = spec["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    ref = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = spec["components"]["schemas"][ref]["properties"]
    writable = sorted((field.get("type") != "string", name)
                      for name, field in properties.items() if not field.get("readOnly"))
    return writable[0][1]  # a text field where there is one


def concrete(spec: dict[str, Any], method: str, path: str) -> str:
    """The path with a value for each parameter (a fresh UUID where one is expected)."""
    params = spec["paths"][path].get("parameters", []) + \
        spec["paths"][path][method.lower()].get("parameters", [])
    for param in params:
        if param["in"] == "path":
            value = str(uuid.uuid4()) if param["schema"].get("format") == "uuid" else "x"
            path = path.replace("{" + param["name"] + "}", value)
    return path


@pytest.fixture
def callers(as_user: Any, enroll: Any) -> dict[str, dict[str, str]]:
    """Headers of each kind of caller."""
    headers = {who: as_user(who) for who in CALLERS[:6]}
    return {**headers, "device": enroll("nurse_a").headers, "anonymous": {}}


def send(client: FlaskClient, method: str, url: str, headers: dict[str, str],
         body: dict[str, Any]) -> Any:
    """``body`` as JSON (lone surrogates written as JSON escapes, as a client would)."""
    return client.open(url, method=method, headers=headers, data=json.dumps(body),
                       content_type="application/json")


def test_every_write_route_is_documented_with_its_body(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    routes = write_routes(app)
    assert len(routes) > 20
    for method, path in routes:
        assert method.lower() in spec["paths"].get(path, {}), (method, path)


@pytest.mark.parametrize("case", sorted(BAD_TEXT))
def test_every_write_route_refuses_bad_text_naming_the_field(client, app, callers, case):
    spec = client.get("/api/v1/openapi.json").get_json()
    text, message = BAD_TEXT[case]
    checked = 0
    for method, path in write_routes(app):
        field = json_body_field(spec, method, path)
        if field is None:
            continue
        url = concrete(spec, method, path)
        for caller in CALLERS:
            response = send(client, method, url, callers[caller], {field: text})
            if response.status_code not in (401, 403):
                break
        assert response.status_code in (400, 422), (method, path, caller, response.get_json())
        details = response.get_json()["error"]["details"]
        assert details == {field: [message]}, (method, path, caller)
        checked += 1
    assert checked > 15


def test_bad_text_nested_in_a_list_or_object_names_the_top_field(client, as_user, agency):
    admin = as_user("admin")
    for allergies in (["latex", "nu\udc80ts"], ["\x01"]):
        response = send(client, "POST", "/api/v1/patients", admin, {
            "mrn": "MRN-X", "first_name": "A", "last_name": "B", "birth_date": "1950-01-01",
            "allergies": allergies})
        assert response.status_code == 422
        assert list(response.get_json()["error"]["details"]) == ["allergies"]


def test_a_bad_key_is_named_by_its_escape(client, as_user, agency):
    response = send(client, "POST", "/api/v1/pumps", as_user("admin"), {"s\udc80": "x"})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"s\\udc80": [SURROGATE_MESSAGE]}


def test_tab_newline_and_carriage_return_are_text(client, as_user, agency):
    response = send(client, "POST", "/api/v1/pumps", as_user("admin"), {
        "serial": "PMP-TAB", "manufacturer": "Moog", "model": "CADD\tPrizm\r\nII"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["model"] == "CADD\tPrizm\r\nII"


def test_bad_text_in_a_query_string_is_refused(client, as_user, agency):
    response = client.get("/api/v1/patients", headers=as_user("admin"),
                          query_string={"q": "a\x1bb"})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"query": {"q": [CONTROL_MESSAGE]}}
