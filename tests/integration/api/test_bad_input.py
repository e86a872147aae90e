"""Bad bodies, types, routes and sizes: always a 4xx in the one error shape, never a row."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from schemas.base import CONTROL_MESSAGE, NUL_MESSAGE, READ_ONLY_MESSAGE, SURROGATE_MESSAGE
from server.extensions import db
from server.models import (
    AuthToken,
    Patient,
    Pump,
    ServiceLocation,
    TherapyOrder,
    TrainingModule,
    User,
    Visit,
)
from tests.assertions import count_rows, error_of
from tests.factories import PHYSICIAN_NPI

ROUTES = ("users", "patients", "orders", "pumps", "visits")
MODELS = (User, Patient, ServiceLocation, TherapyOrder, Pump, Visit)




def counts(app: Flask) -> dict[str, int]:
    """Rows in every EHR table."""
    with app.app_context():
        return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
                or 0 for model in MODELS}


def valid_body(route: str, agency: Any) -> dict[str, Any]:
    """A body the route would accept (so one change makes it bad for one reason)."""
    return {
        "users": {"email": "new@agency.test", "name": "New Nurse", "role": "nurse",
                  "password": "a long enough passphrase"},
        "patients": {"mrn": "MRN-NEW", "first_name": "Ada", "last_name": "Byron",
                     "birth_date": "1950-12-10",
                     "locations": [{"kind": "home", "address": "1 Main St", "latitude": 1.5,
                                    "longitude": 2.5}]},
        "orders": {"patient_id": str(agency["patient_a"]),
                   "physician_id": str(agency["physician_a"]), "medication": "ertapenem",
                   "dose": 1, "dose_unit": "g", "frequency_kind": "daily",
                   "start_date": "2026-11-24"},
        "pumps": {"serial": "PMP-NEW", "manufacturer": "Moog", "model": "CADD-Prizm"},
        "visits": {"patient_id": str(agency["patient_a"]),
                   "service_location_id": str(agency["location_a"]),
                   "scheduled_start": "2026-11-24T14:00:00+00:00",
                   "scheduled_end": "2026-11-24T15:00:00+00:00"},
    }[route]


def url(route: str) -> str:
    """The collection URL of ``route``."""
    return f"/api/v1/{route}"


def post_raw(client: FlaskClient, headers: dict[str, str], route: str, data: str | bytes) -> Any:
    """POST ``data`` as an application/json body."""
    return client.post(url(route), headers=headers, data=data, content_type="application/json")


@pytest.fixture
def admin(as_user: Any) -> dict[str, str]:
    """Headers of the admin, who may write to every route."""
    return as_user("admin")  # type: ignore[no-any-return]


def test_valid_bodies_are_accepted(client, admin, agency):
    """The baseline the other tests spoil one way at a time."""
    for route in ROUTES:
        response = client.post(url(route), headers=admin, json=valid_body(route, agency))
        assert response.status_code == 201, response.get_json()


def test_unknown_field_is_named(client, admin, agency, app):
    before = counts(app)
    for route in ROUTES:
        body = {**valid_body(route, agency), "colour": "blue"}
        details = error_of(client.post(url(route), headers=admin, json=body), 422,
                           "validation_failed")["details"]
        assert details == {"colour": ["Unknown field."]}, route
    assert counts(app) == before


READ_ONLY = {"id": str(uuid.uuid4()), "version": 7, "created_at": "2026-11-23T13:00:00+00:00"}


def test_read_only_fields_are_named_as_read_only(client, admin, agency, app):
    before = counts(app)
    visit_only = {"status": "completed", "cancel_reason": "none",
                  "updated_at": READ_ONLY["created_at"]}
    for route in ROUTES:
        sent = {**READ_ONLY, **(visit_only if route == "visits" else {})}
        for field, value in sent.items():
            body = {**valid_body(route, agency), field: value}
            details = error_of(client.post(url(route), headers=admin, json=body), 422,
                               "validation_failed")["details"]
            assert details == {field: [READ_ONLY_MESSAGE]}, (route, field)
    assert counts(app) == before


WRONG_TYPES: dict[str, list[tuple[str, Any]]] = {
    "users": [("name", 123), ("role", ["nurse"]), ("competencies", "tpn"),
              ("active", "maybe"), ("email", {"address": "x@y.z"})],
    "patients": [("birth_date", 19501210), ("mrn", 1234), ("vascular_access", ["picc"]),
                 ("locations", {"kind": "home"}), ("allergies", "latex"),
                 ("locations", [{"kind": "home", "address": "x", "latitude": "north",
                                 "longitude": 1}])],
    "orders": [("dose", "two grams"), ("dose", True), ("frequency_interval", "twice"),
               ("start_date", 20261124), ("medication", ["ertapenem"]),
               ("pump_required", "maybe"), ("patient_id", 42)],
    "pumps": [("serial", 12345), ("last_pm_on", 20260601), ("patient_id", {"id": 1}),
              ("status", ["in_service"])],
    "visits": [("scheduled_start", 1764000000), ("patient_id", ["x"]), ("nurse_id", 42),
               ("scheduled_end", {"at": "noon"})],
}


def test_wrong_types_name_the_field(client, admin, agency, app):
    before = counts(app)
    for route, cases in WRONG_TYPES.items():
        for field, value in cases:
            body = {**valid_body(route, agency), field: value}
            details = error_of(client.post(url(route), headers=admin, json=body), 422,
                               "validation_failed")["details"]
            assert list(details) == [field], (route, field, value, details)
    assert counts(app) == before


def test_malformed_json_is_400(client, admin, agency, app):
    before = counts(app)
    for route in ROUTES:
        for data in ('{"mrn": ', "{'mrn': 'x'}", b"\xff\xfe{}", '{"a": 1,}'):
            error = error_of(post_raw(client, admin, route, data), 400, "malformed_json")
            assert "JSON" in error["message"]
    assert counts(app) == before


def test_a_body_that_is_not_an_object_is_refused(client, admin, agency, app):
    before = counts(app)
    for route in ROUTES:
        for data in ("[]", "[1, 2]", "42", '"text"', "null", "true", "[" * 50 + "]" * 50):
            error_of(post_raw(client, admin, route, data), 422, "validation_failed")
    assert counts(app) == before


def test_json_the_decoder_cannot_take_is_400_not_500(client, admin, agency, app):
    before = counts(app)
    too_deep = '{"allergies": ' + "[" * 100_000 + "]" * 100_000 + "}"
    too_long = '{"dose": 1' + "0" * 5000 + "}"
    for route in ROUTES:
        for data in (too_deep, too_long):
            error_of(post_raw(client, admin, route, data), 400, "malformed_json")
    assert counts(app) == before


def test_body_over_max_content_length_is_413(client, admin, agency, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    before = counts(app)
    for route in ROUTES:
        body = {**valid_body(route, agency), "padding": "x" * 2000}
        error = error_of(client.post(url(route), headers=admin, json=body), 413,
                         "body_too_large")
        assert error["message"]
    assert counts(app) == before


def test_ten_megabyte_text_within_the_limit_is_refused_by_length(client, admin, agency, app):
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    before = counts(app)
    huge = "x" * (10 * 1024 * 1024)
    cases = [("patients", "mrn"), ("pumps", "serial"), ("users", "name"),
             ("orders", "medication")]
    for route, field in cases:
        body = {**valid_body(route, agency), field: huge}
        details = error_of(client.post(url(route), headers=admin, json=body), 422,
                           "validation_failed")["details"]
        assert list(details) == [field]
    assert counts(app) == before


def test_nan_and_infinity_are_not_numbers(client, admin, agency, app):
    """Python's JSON decoder accepts these tokens; the schemas must not."""
    before = counts(app)
    cases = [("patients", "latitude", "NaN", "locations"),
             ("patients", "evv_radius_m", "-Infinity", "locations"),
             ("orders", "dose", "Infinity", "dose"), ("orders", "rate_ml_h", "NaN", "rate_ml_h"),
             ("orders", "frequency_interval", "NaN", "frequency_interval")]
    for route, field, token, named in cases:
        body = valid_body(route, agency)
        target = body["locations"][0] if route == "patients" else body
        target[field] = "__TOKEN__"
        text = json.dumps(body).replace('"__TOKEN__"', token)
        details = error_of(post_raw(client, admin, route, text), 422,
                           "validation_failed")["details"]
        assert list(details) == [named], (field, token, details)
    assert counts(app) == before


def test_impossible_calendar_dates_are_refused(client, admin, agency, app):
    before = counts(app)
    cases = [("patients", "birth_date", "2026-02-30"), ("orders", "start_date", "2026-13-01"),
             ("pumps", "last_pm_on", "2026-02-29"), ("orders", "end_date", "26-12-01"),
             ("visits", "scheduled_start", "2026-11-31T10:00:00+00:00")]
    for route, field, value in cases:
        body = {**valid_body(route, agency), field: value}
        details = error_of(client.post(url(route), headers=admin, json=body), 422,
                           "validation_failed")["details"]
        assert list(details) == [field], (field, value)
    assert counts(app) == before


def test_visit_times_without_an_offset_are_refused(client, admin, agency, app):
    before = counts(app)
    body = {**valid_body("visits", agency), "scheduled_start": "2026-11-24T14:00:00"}
    details = error_of(client.post(url("visits"), headers=admin, json=body), 422,
                       "validation_failed")["details"]
    assert list(details) == ["scheduled_start"]
    patch = client.patch(f"/api/v1/visits/{agency['visit_a']}", headers=admin,
                         json={"version": 1, "scheduled_end": "2026-11-23T17:00:00"})
    assert "scheduled_end" in error_of(patch, 422, "validation_failed")["details"]
    listing = client.get("/api/v1/visits", headers=admin,
                         query_string={"from": "2026-11-23T00:00:00"})
    assert "from" in error_of(listing, 422, "validation_failed")["details"]["query"]
    assert counts(app) == before


def test_visit_times_past_the_storable_range_are_refused(client, admin, agency, app):
    before = counts(app)
    body = {**valid_body("visits", agency), "scheduled_start": "9999-12-31T20:00:00-05:00",
            "scheduled_end": "9999-12-31T22:00:00-05:00"}
    details = error_of(client.post(url("visits"), headers=admin, json=body), 422,
                       "validation_failed")["details"]
    assert set(details) == {"scheduled_start", "scheduled_end"}
    listing = client.get("/api/v1/visits", headers=admin,
                         query_string={"to": "9999-12-31T23:00:00-05:00"})
    assert "to" in error_of(listing, 422, "validation_failed")["details"]["query"]
    assert counts(app) == before


def test_text_with_nul_characters_is_refused(client, admin, agency, app):
    before = counts(app)
    cases = [("patients", "mrn"), ("pumps", "serial"), ("users", "name"),
             ("orders", "dose_unit")]
    for route, field in cases:
        body = {**valid_body(route, agency), field: "ab\x00c"}
        details = error_of(client.post(url(route), headers=admin, json=body), 422,
                           "validation_failed")["details"]
        assert details == {field: [NUL_MESSAGE]}
    nested = {**valid_body("patients", agency), "allergies": ["latex", "nu\x00ts"]}
    response = client.post(url("patients"), headers=admin, json=nested)
    assert error_of(response, 422)["details"] == {"allergies": [NUL_MESSAGE]}
    for route, query in (("patients", {"q": "a\x00"}), ("pumps", {"serial": "P\x00"})):
        listing = client.get(url(route), headers=admin, query_string=query)
        assert list(error_of(listing, 422)["details"]["query"]) == list(query)
    assert counts(app) == before


# The cases of issue 10: each once answered 500 (the login in its throttle, the others at
# the database). The raw bodies carry the JSON escapes, as the attacker's client sent them.
BAD_TEXT_CASES = [
    ("POST", "/api/v1/auth/login", None,
     '{"email": "a\\udc80@b.c", "password": "whatever-password"}', "email"),
    ("POST", "/api/v1/patients", "admin", '{"mrn": "MRN-S", "first_name": "\\ud800", '
     '"last_name": "B", "birth_date": "1950-12-10"}', "first_name"),
    ("PATCH", "/api/v1/patients/{patient_a}", "admin",
     '{"version": 1, "phone": "555\\udc80"}', "phone"),
    ("POST", "/api/v1/training/modules", "training_lead", '{"title": "Line care \\udfff"}',
     "title"),
    ("POST", "/api/v1/users", "admin", '{"email": "s@agency.test", "name": "S\\udc80", '
     '"role": "nurse", "password": "a long enough passphrase"}', "name"),
]


@pytest.mark.parametrize(("method", "path", "who", "data", "field"), BAD_TEXT_CASES)
def test_lone_surrogates_are_refused_naming_the_field(client, as_user, agency, app, method,
                                                      path, who, data, field):
    headers = as_user(who) if who else {}

    def stored() -> dict[str, int]:
        return {**counts(app), "tokens": count_rows(app, AuthToken),
                "modules": count_rows(app, TrainingModule)}

    before = stored()
    response = client.open(path.format(**agency.ids), method=method, headers=headers,
                           data=data, content_type="application/json")
    assert error_of(response, 422, "validation_failed")["details"] == {
        field: [SURROGATE_MESSAGE]}
    assert stored() == before


def test_control_characters_are_refused_and_tab_newline_kept(client, admin, agency, app):
    before = counts(app)
    for char in ("\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x9b"):
        for route, field in (("patients", "first_name"), ("pumps", "model"),
                             ("orders", "medication"), ("users", "name")):
            body = {**valid_body(route, agency), field: f"a{char}b"}
            details = error_of(client.post(url(route), headers=admin, json=body), 422,
                               "validation_failed")["details"]
            assert details == {field: [CONTROL_MESSAGE]}, (route, field, char)
    assert counts(app) == before
    note = {**valid_body("pumps", agency), "model": "CADD\tPrizm\r\nline two"}
    assert client.post(url("pumps"), headers=admin, json=note).status_code == 201


def test_patch_with_unknown_or_read_only_fields_changes_nothing(client, admin, agency):
    targets = {"users": "nurse_a", "patients": "patient_a", "orders": "order_a",
               "pumps": "pump_a", "visits": "visit_a"}
    for route, target in targets.items():
        item = f"{url(route)}/{agency[target]}"
        original = client.get(item, headers=admin).get_json()
        unknown = client.patch(item, headers=admin, json={"colour": "blue"})
        assert error_of(unknown, 422)["details"] == {"colour": ["Unknown field."]}, route
        for field, value in READ_ONLY.items():
            if field != "version":  # every resource takes a version (7 is stale here)
                read_only = client.patch(item, headers=admin, json={field: value})
                details = error_of(read_only, 422)["details"]
                assert details == {field: [READ_ONLY_MESSAGE]}, (route, field)
        stale = client.patch(item, headers=admin, json={"version": READ_ONLY["version"]})
        error_of(stale, 409, "stale_version")
        assert client.get(item, headers=admin).get_json() == original


def test_patch_of_an_unknown_id_is_404(client, admin, agency):
    for route in ROUTES:
        response = client.patch(f"{url(route)}/{uuid.uuid4()}", headers=admin, json={})
        error_of(response, 404, "not_found")


def test_absurd_paging_is_refused_not_a_server_error(client, admin, agency):
    for route in ROUTES:
        for query in ({"page": 10**20}, {"page": 0}, {"page_size": 0}, {"page_size": 101},
                      {"page": "two"}):
            response = client.get(url(route), headers=admin, query_string=query)
            details = error_of(response, 422, "validation_failed")["details"]
            assert list(details["query"]) == list(query), (route, query)
        far = client.get(url(route), headers=admin, query_string={"page": 10**6})
        assert (far.status_code, far.get_json()) == (200, [])


def test_unknown_route_is_404_in_the_error_shape(client, admin, agency):
    for path in ("/api/v1/nothing", "/api/v1/patients/not-a-uuid", "/nowhere"):
        error_of(client.get(path, headers=admin), 404, "not_found")


def test_wrong_method_is_405_in_the_error_shape_with_allow(client, admin, agency):
    for route in ROUTES:
        item = client.delete(f"{url(route)}/{uuid.uuid4()}", headers=admin)
        error_of(item, 405, "method_not_allowed")
        assert set(item.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "PATCH"}
        collection = client.put(url(route), headers=admin, json={})
        error_of(collection, 405, "method_not_allowed")
        assert set(collection.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS",
                                                                 "POST"}
        assert collection.mimetype == "application/json"


def test_a_body_that_is_not_json_is_415_not_ignored(client, admin, agency, app, row):
    """webargs reads a non-JSON body as absent: a PATCH sent as a form changed nothing and
    answered 200; a POST complained of missing fields."""
    before = counts(app)
    patient = f"{url('patients')}/{agency['patient_a']}"
    sends = [
        client.patch(patient, headers=admin, data={"version": "1", "phone": "555-0100"}),
        client.patch(patient, headers=admin, data='{"version": 1, "phone": "555-0100"}',
                     content_type="text/plain"),
        client.patch(patient, headers=admin, data=b'{"version": 1, "phone": "555-0100"}'),
        *(client.post(url(route), headers=admin, data={"mrn": "X"}) for route in ROUTES),
        client.post(url("pumps"), headers=admin, data=json.dumps(valid_body("pumps", agency)),
                    content_type="application/xml"),
        client.post("/api/v1/auth/login", data="email=a@b.c&password=x",
                    content_type="application/x-www-form-urlencoded"),
    ]
    for response in sends:
        error = error_of(response, 415, "unsupported_media_type")
        assert "application/json" in error["message"]
    assert row(Patient, agency["patient_a"]).phone != "555-0100"
    assert counts(app) == before
    json_suffix = client.post(url("pumps"), headers=admin, data=json.dumps(
        valid_body("pumps", agency)), content_type="application/merge-patch+json")
    assert json_suffix.status_code == 201, json_suffix.get_json()
    no_body = client.post(f"/api/v1/visits/{agency['visit_a']}/unassign", headers=admin,
                          content_type="text/plain")
    assert no_body.status_code != 415


def test_no_token_is_401_and_stores_nothing(client, agency, app):
    before = counts(app)
    for route in ROUTES:
        response = client.post(url(route), json=valid_body(route, agency))
        assert "Bearer" in error_of(response, 401, "unauthorized")["message"]
    assert counts(app) == before


def test_physician_npi_with_letters_is_refused(client, admin, agency, app):
    before = counts(app)
    body = {**valid_body("users", agency), "role": "physician", "npi": PHYSICIAN_NPI + " "}
    details = error_of(client.post(url("users"), headers=admin, json=body), 422)["details"]
    assert list(details) == ["npi"]
    assert counts(app) == before


def test_a_long_request_id_header_does_not_break_the_request(client, admin, agency):
    """The audit column holds 64 characters; a longer header once made a 500 on PostgreSQL."""
    response = client.get(url("patients"), headers={**admin, "X-Request-Id": "r" * 100})
    assert response.status_code == 200, response.get_json()


def test_login_with_deeply_nested_json_is_400(client):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/auth/login", data=body,
                           content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


def test_request_id_with_control_characters_is_not_a_500(client, as_user):
    headers = {**as_user("coordinator"), "X-Request-Id": "abc\x00def\x7f"}
    assert client.get("/api/v1/patients", headers=headers).status_code == 200
