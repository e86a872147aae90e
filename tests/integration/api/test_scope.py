"""Object checks: nurses and physicians see only their own patients' records."""

import pytest

API = "/api/v1"
PATIENT_FIELDS = ("mrn", "first_name", "last_name", "birth_date", "locations")


def _get(client, headers, path, **params):
    response = client.get(API + path, headers=headers, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _patch(client, headers, path, body):
    response = client.patch(API + path, headers=headers, json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _assert_hidden(response):
    """A 404 not_found that gives nothing of the record away."""
    assert response.status_code == 404, response.get_json()
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "not_found"
    text = response.get_data(as_text=True)
    assert "MRN-B" not in text
    assert "PatientMRN-B" not in text
    assert "Elm St" not in text
    assert not any(f'"{field}"' in text for field in PATIENT_FIELDS)


def _reassign(client, as_user, visit, nurse, version=1):
    return _patch(client, as_user("coordinator"), f"/visits/{visit}",
                  {"nurse_id": str(nurse) if nurse else None, "version": version})


@pytest.mark.parametrize("who", ["nurse_a", "physician_a"])
def test_clinician_lists_only_her_patients(client, as_user, who):
    patients = _get(client, as_user(who), "/patients")

    assert [p["mrn"] for p in patients] == ["MRN-A"]


@pytest.mark.parametrize("who", ["coordinator", "qc", "admin"])
def test_agency_wide_roles_list_every_patient(client, as_user, who):
    patients = _get(client, as_user(who), "/patients")

    assert {p["mrn"] for p in patients} == {"MRN-A", "MRN-B"}


@pytest.mark.parametrize("who", ["nurse_a", "physician_a"])
@pytest.mark.parametrize("record", ["patients/{patient_b}", "orders/{order_b}",
                                    "pumps/{pump_b}", "visits/{visit_b}"])
def test_other_patients_records_are_404(client, agency, as_user, who, record):
    response = client.get(f"{API}/{record.format(**agency.ids)}", headers=as_user(who))

    _assert_hidden(response)


@pytest.mark.parametrize("who", ["nurse_a", "physician_a"])
@pytest.mark.parametrize("record", ["patients/{patient_a}", "orders/{order_a}",
                                    "pumps/{pump_a}", "visits/{visit_a}"])
def test_own_patients_records_are_readable(client, agency, as_user, who, record):
    body = _get(client, as_user(who), "/" + record.format(**agency.ids))

    assert body["id"] == str(agency[record.split("{")[1].rstrip("}")])


def test_unknown_id_is_the_same_404_as_an_out_of_scope_one(client, agency, as_user):
    unknown = client.get(f"{API}/patients/00000000-0000-4000-8000-000000000000",
                         headers=as_user("nurse_a"))
    hidden = client.get(f"{API}/patients/{agency['patient_b']}", headers=as_user("nurse_a"))

    assert unknown.status_code == hidden.status_code == 404
    assert unknown.get_json()["error"]["code"] == hidden.get_json()["error"]["code"]


@pytest.mark.parametrize("who", ["nurse_a", "physician_a"])
@pytest.mark.parametrize("family", ["visits", "orders", "pumps"])
def test_clinician_lists_only_her_patients_records(client, agency, as_user, who, family):
    items = _get(client, as_user(who), f"/{family}")

    assert items
    assert {item["patient_id"] for item in items} == {str(agency["patient_a"])}


def test_nurse_filtering_by_another_nurse_gets_nothing(client, agency, as_user):
    visits = _get(client, as_user("nurse_a"), "/visits", nurse_id=str(agency["nurse_b"]))

    assert visits == []


@pytest.mark.parametrize("family", ["visits", "orders", "pumps"])
def test_nurse_filtering_by_another_patient_gets_nothing(client, agency, as_user, family):
    items = _get(client, as_user("nurse_a"), f"/{family}",
                 patient_id=str(agency["patient_b"]))

    assert items == []


def test_nurse_searching_for_another_patient_gets_nothing(client, as_user):
    assert _get(client, as_user("nurse_a"), "/patients", q="MRN-B") == []


def test_reassigned_visit_opens_the_patient_to_the_new_nurse(client, agency, as_user):
    nurse = as_user("nurse_a")
    _assert_hidden(client.get(f"{API}/patients/{agency['patient_b']}", headers=nurse))

    _reassign(client, as_user, agency["visit_b"], agency["nurse_a"])

    assert _get(client, nurse, f"/patients/{agency['patient_b']}")["mrn"] == "MRN-B"
    assert _get(client, nurse, f"/orders/{agency['order_b']}")["id"] == str(agency["order_b"])
    assert _get(client, nurse, f"/pumps/{agency['pump_b']}")["id"] == str(agency["pump_b"])
    assert {p["mrn"] for p in _get(client, nurse, "/patients")} == {"MRN-A", "MRN-B"}


def test_reassigned_visit_closes_the_patient_to_the_old_nurse(client, agency, as_user):
    nurse = as_user("nurse_a")
    assert _get(client, nurse, f"/patients/{agency['patient_a']}")["mrn"] == "MRN-A"

    _reassign(client, as_user, agency["visit_a"], agency["nurse_b"])

    _assert_hidden(client.get(f"{API}/patients/{agency['patient_a']}", headers=nurse))
    assert client.get(f"{API}/visits/{agency['visit_a']}", headers=nurse).status_code == 404
    assert _get(client, nurse, "/patients") == []


def test_cancelled_visit_does_not_grant_access(client, agency, as_user):
    _reassign(client, as_user, agency["visit_b"], agency["nurse_a"])
    _patch(client, as_user("coordinator"), f"/visits/{agency['visit_b']}",
           {"status": "cancelled", "cancel_reason": "patient in hospital", "version": 2})
    nurse = as_user("nurse_a")

    for record in ("patients/{patient_b}", "orders/{order_b}", "pumps/{pump_b}"):
        _assert_hidden(client.get(f"{API}/{record.format(**agency.ids)}", headers=nurse))
    assert [p["mrn"] for p in _get(client, nurse, "/patients")] == ["MRN-A"]


def test_prescribing_physician_sees_the_patient(client, agency, as_user):
    doctor = as_user("physician_a")
    _assert_hidden(client.get(f"{API}/patients/{agency['patient_b']}", headers=doctor))
    response = client.post(f"{API}/orders", headers=as_user("coordinator"), json={
        "patient_id": str(agency["patient_b"]), "physician_id": str(agency["physician_a"]),
        "medication": "vancomycin", "dose": "1", "dose_unit": "g",
        "frequency_kind": "daily", "start_date": "2026-11-24",
    })
    assert response.status_code == 201, response.get_json()

    assert _get(client, doctor, f"/patients/{agency['patient_b']}")["mrn"] == "MRN-B"
    assert _get(client, doctor, f"/visits/{agency['visit_b']}")["id"] == str(agency["visit_b"])
    assert {p["mrn"] for p in _get(client, doctor, "/patients")} == {"MRN-A", "MRN-B"}


def test_unassigned_pump_is_hidden_from_clinicians(client, agency, as_user):
    _patch(client, as_user("coordinator"), f"/pumps/{agency['pump_a']}",
           {"patient_id": None, "version": 1})

    for who in ("nurse_a", "physician_a"):
        response = client.get(f"{API}/pumps/{agency['pump_a']}", headers=as_user(who))
        assert response.status_code == 404
        assert _get(client, as_user(who), "/pumps") == []
