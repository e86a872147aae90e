"""First light: the app answers, login works, a coordinator sees patients."""


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_coordinator_lists_patients(client, as_user):
    response = client.get("/api/v1/patients", headers=as_user("coordinator"))
    assert response.status_code == 200, response.get_json()
    assert {p["mrn"] for p in response.get_json()} == {"MRN-A", "MRN-B"}
