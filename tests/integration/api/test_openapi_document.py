"""The OpenAPI document tells the truth about what the API answers.

Nulls: every GET operation of the document is read as the admin (the known record for each
path parameter), and a pull as the nurse's device, over an agency with a bit of everything
(``world.py``); each JSON body is walked beside its documented schema, and every null must
stand where the document allows null. Schemathesis (``test_openapi_conformance.py``)
checks the same on generated requests; this test reaches states generation does not make
(a visit checked in without a GPS fix, an open review item, a draft module), on both
databases, and names each field it must see null. Then: X-Pagination is documented as the
JSON it holds, and every refusal as the one error shape, with no catch-all ``default``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.integration.api.world import World, build_world

Spec = dict[str, Any]
# Fields this agency answers null, each documented non-nullable until issue 10: the walk
# must reach every one (or it proves nothing about them).
SEEN_NULL = {
    "Visit.cancel_reason", "VisitDetail.cancel_reason", "VisitDetail.checked_out_at",
    "VisitDetail.signed_at", "VisitDetail.missed_reason", "VisitEventRecord.latitude",
    "VisitEventRecord.longitude", "VisitEventRecord.accuracy_m",
    "VisitEventRecord.evv_distance_m", "VisitEventRecord.evv_location_id",
    "EvvVerification.distance_m", "EvvVerification.matched_location_id",
    "EvvVerification.matched_location_kind", "Module.published_at", "Module.retired_at",
    "ReviewItem.resolved_at", "ReviewItem.resolved_by", "ReviewItem.resolution",
    "ReviewItem.resolution_comment", "Device.last_push_at", "Device.last_pull_at",
    "Device.retired_at", "Device.revoked_at", "Device.wipe_delivered_at",
    "PumpAssignmentRecord.unassigned_at",
}


def _component(spec: Spec, schema: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The schema a ``$ref`` names (and its name), or the schema itself."""
    ref = schema.get("$ref")
    if ref is None:
        return schema, None
    name = ref.rsplit("/", 1)[-1]
    return spec["components"]["schemas"][name], name


def _alternatives(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [*schema.get("anyOf", ()), *schema.get("oneOf", ()), *schema.get("allOf", ())]


def _nullable(spec: Spec, schema: dict[str, Any]) -> bool:
    """OpenAPI 3.0: ``nullable`` on the schema or on one of its alternatives."""
    schema, _ = _component(spec, schema)
    return bool(schema.get("nullable")) or any(
        _nullable(spec, alternative) for alternative in _alternatives(schema))


def _structured(spec: Spec, schema: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The alternative that describes a value (properties or items), e.g. of
    ``anyOf: [{$ref}, {type: object, nullable: true}]`` (apispec's nullable Nested)."""
    schema, name = _component(spec, schema)
    for alternative in _alternatives(schema):
        found, found_name = _structured(spec, alternative)
        if "properties" in found or "items" in found:
            return found, found_name
    return schema, name


def nulls(spec: Spec, value: Any, schema: dict[str, Any], where: str
          ) -> Iterator[tuple[str, bool]]:
    """(where, documented nullable) for every null in ``value``, read beside ``schema``;
    ``where`` is ``Component.field`` (free-form values, like a dict's, are not walked)."""
    if value is None:
        yield where, _nullable(spec, schema)
        return
    schema, name = _structured(spec, schema)
    if isinstance(value, dict):
        for key, item in value.items():
            if key in schema.get("properties", {}):
                yield from nulls(spec, item, schema["properties"][key], f"{name or where}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            yield from nulls(spec, item, schema["items"], f"{where}[]")


def json_schema_of(spec: Spec, path: str, method: str = "get") -> dict[str, Any]:
    """The documented schema of the operation's 200 JSON body."""
    content = spec["paths"][path][method]["responses"]["200"]["content"]
    schema: dict[str, Any] = content["application/json"]["schema"]
    return schema


def staff_reads(spec: Spec, world: World) -> Iterator[tuple[str, str]]:
    """(templated path, URL) of each staff GET answering JSON whose records are known."""
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None or get.get("security") is not None or not world.knows_every_parameter(
                path) or "application/json" not in get["responses"]["200"].get("content", {}):
            continue
        yield path, path.format_map(world.known_path_parameters(path))


@pytest.fixture
def world(client: FlaskClient, agency: Any, as_user: Any, enroll: Any) -> World:
    """The agency with devices, documentation, a review item and a draft module."""
    return build_world(client, agency, as_user, enroll)


def test_every_null_answered_is_documented_nullable(client: FlaskClient, world: World,
                                                    as_user: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    seen: list[tuple[str, bool]] = []
    for path, url in staff_reads(spec, world):
        response = client.get(url, headers=as_user("admin"))
        assert response.status_code == 200, (url, response.get_json())
        seen += nulls(spec, response.get_json(), json_schema_of(spec, path), path)
    pulled = world.device.pull()
    assert pulled.status_code == 200, pulled.get_json()
    seen += nulls(spec, pulled.get_json(), json_schema_of(spec, "/api/v1/sync/pull"), "pull")

    assert sorted({where for where, documented in seen if not documented}) == []
    assert SEEN_NULL - {where for where, _ in seen} == set()


def test_paginated_lists_document_x_pagination_as_the_json_it_holds(
        client: FlaskClient, as_user: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    paginated = {path: operations["get"] for path, operations in spec["paths"].items()
                 if any(parameter["name"] == "page"
                        for parameter in operations.get("get", {}).get("parameters", ()))}
    headers = {path: get["responses"]["200"].get("headers", {}).get("X-Pagination", {})
               for path, get in paginated.items()}
    assert len(paginated) >= 7
    assert {path for path, header in headers.items() if "application/json" not in
            header.get("content", {})} == set()
    schema, _ = _component(spec, headers["/api/v1/visits"]["content"]["application/json"][
        "schema"])

    response = client.get("/api/v1/visits?page_size=1", headers=as_user("admin"))

    metadata = json.loads(response.headers["X-Pagination"])
    assert metadata["total"] == 2 and metadata["total_pages"] == 2
    assert {key: schema["properties"][key]["type"] for key in metadata} == dict.fromkeys(
        metadata, "integer")


def _responses(spec: Spec) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                yield f"{method.upper()} {path}", method, operation


def test_every_refusal_is_documented_in_the_one_error_shape(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    refusals = {label: {status: response for status, response in operation["responses"].items()
                        if status == "default" or int(status) >= 400}
                for label, _method, operation in _responses(spec)}

    assert {label for label, found in refusals.items() if "default" in found} == set()
    shapes = {spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]["content"][
        "application/json"]["schema"]["$ref"] for found in refusals.values()
        for response in found.values()}
    assert shapes == {"#/components/schemas/Error"}
    staff = {label for label, _method, operation in _responses(spec)
             if operation.get("security") is None}
    assert {label for label in staff if "401" not in refusals[label]} == set()
    assert {label for label in refusals if "{" in label and "404" not in refusals[label]} == set()
    assert {"401", "429"} <= set(refusals["POST /api/v1/auth/login"])
    assert {"409", "428"} <= set(refusals["PATCH /api/v1/visits/{entity_id}"])
    assert "403" not in refusals["GET /api/v1/auth/me"]  # every role may ask who it is
    assert {"403", "410"} <= set(refusals["GET /api/v1/sync/pull"])
