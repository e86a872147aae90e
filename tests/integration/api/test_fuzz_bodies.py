"""Arbitrary JSON at the create routes: whatever arrives, a 4xx (or 201), never a 500."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = (st.none() | st.booleans() | st.integers() | st.floats()
           | st.text(max_size=20) | st.sampled_from(["", "\x00", "2026-02-30", "1e400"]))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)

PATIENT_FIELDS = ("mrn", "first_name", "last_name", "birth_date", "phone", "allergies",
                  "primary_physician_id", "referral_source", "status", "vascular_access",
                  "locations", "id", "version")
VISIT_FIELDS = ("patient_id", "order_id", "nurse_id", "service_location_id",
                "scheduled_start", "scheduled_end", "status", "cancel_reason", "version")


def check(response: Any) -> None:
    """Never a server error; every error in the one shape."""
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        body = response.get_json()
        assert set(body) == {"error"}
        assert set(body["error"]) == {"code", "message", "details"}


def patient_body(agency: Any) -> dict[str, Any]:
    """A valid patient body."""
    return {"mrn": "MRN-FUZZ", "first_name": "F", "last_name": "Z",
            "birth_date": "1950-01-01", "primary_physician_id": str(agency["physician_a"]),
            "locations": [{"kind": "home", "address": "x", "latitude": 1, "longitude": 1}]}


def visit_body(agency: Any) -> dict[str, Any]:
    """A valid visit body."""
    return {"patient_id": str(agency["patient_a"]), "nurse_id": str(agency["nurse_a"]),
            "service_location_id": str(agency["location_a"]),
            "scheduled_start": "2026-11-24T14:00:00+00:00",
            "scheduled_end": "2026-11-24T15:00:00+00:00"}


def post(client: Any, headers: dict[str, str], route: str, value: Any) -> Any:
    """POST ``value`` as JSON (NaN and Infinity included, as Python writes them)."""
    return client.post(f"/api/v1/{route}", headers=headers, data=json.dumps(value),
                       content_type="application/json")


@SETTINGS
@given(value=json_values)
def test_any_json_body_is_answered_without_a_server_error(client, as_user, agency, value):
    headers = as_user("coordinator")
    for route in ("patients", "visits"):
        check(post(client, headers, route, value))


@SETTINGS
@given(field=st.sampled_from(PATIENT_FIELDS), value=json_values)
def test_one_arbitrary_patient_field_is_answered_without_a_server_error(
    client, as_user, agency, field, value
):
    check(post(client, as_user("coordinator"), "patients",
               {**patient_body(agency), field: value}))


@SETTINGS
@given(field=st.sampled_from(VISIT_FIELDS), value=json_values)
def test_one_arbitrary_visit_field_is_answered_without_a_server_error(
    client, as_user, agency, field, value
):
    check(post(client, as_user("coordinator"), "visits", {**visit_body(agency), field: value}))
