"""The OpenAPI document says what the routes enforce."""

from __future__ import annotations

from typing import Any

from tests.factories import EMAILS, PASSWORD


def patch_body_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    """The JSON schema of a PATCH route's body, its ``$ref`` resolved."""
    body = spec["paths"][path]["patch"]["requestBody"]["content"]["application/json"]
    ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
    return spec["components"]["schemas"][ref]  # type: ignore[no-any-return]


def test_cancelling_a_visit_documents_its_required_reason(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    fields = patch_body_schema(spec, "/api/v1/visits/{entity_id}")["properties"]
    assert "Required with status 'cancelled'" in fields["cancel_reason"]["description"]
    assert "requires cancel_reason" in fields["status"]["description"]


def test_patch_user_documents_the_version_it_accepts(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/users/{entity_id}"]["patch"]
    assert "If-Match or version" in operation["summary"]
    version = patch_body_schema(spec, "/api/v1/users/{entity_id}")["properties"]["version"]
    assert version["type"] == "integer"
    assert not version.get("readOnly", False)


def test_login_documents_both_of_its_answers(client, agency):
    """A held login (the admin's: a second factor is due) and a token answer each show only
    properties the document lists for the login's 200."""
    spec = client.get("/api/v1/openapi.json").get_json()
    content = spec["paths"]["/api/v1/auth/login"]["post"]["responses"]["200"]["content"]
    ref = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    documented = set(spec["components"]["schemas"][ref]["properties"])
    held = client.post("/api/v1/auth/login", json={"email": EMAILS["admin"],
                                                   "password": PASSWORD}).get_json()
    token = client.post("/api/v1/auth/login", json={"email": EMAILS["nurse_a"],
                                                    "password": PASSWORD}).get_json()
    assert held["status"] == "mfa_required" and "token" not in held
    assert set(held) <= documented and set(token) <= documented
    assert {"status", "mfa_token", "token", "user"} <= documented


def test_the_push_documents_each_refusal_status_and_its_envelope(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/sync/push"]["post"]
    assert {"400", "401", "403", "409", "413", "415", "422"} <= set(operation["responses"])
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    fields = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]["properties"]
    assert fields["batch_id"]["format"] == "uuid"
    assert "either case" in fields["batch_id"]["description"]
    assert fields["signature"]["pattern"] == "^[A-Za-z0-9_-]+$"
    assert "without padding" in fields["sealed"]["description"]
