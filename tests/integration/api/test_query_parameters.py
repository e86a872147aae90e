"""Every list route refuses a query parameter it does not know, and still takes its own."""

from __future__ import annotations

import pytest

from tests.assertions import error_of

API = "/api/v1"


def unknown_named(response, *names):
    """The 422 names exactly ``names`` as the unknown query parameters."""
    details = error_of(response, 422, "validation_failed")["details"]
    assert details == {"query": {name: ["Unknown query parameter."] for name in names}}


def test_visits_refuse_a_filter_they_do_not_have(client, as_user, agency):
    coordinator = as_user("coordinator")
    response = client.get(f"{API}/visits", headers=coordinator,
                          query_string={"order_id": str(agency["order_a"])})
    unknown_named(response, "order_id")


def test_visits_known_filter_and_pagination_still_work(client, as_user, agency):
    coordinator = as_user("coordinator")
    mine = client.get(f"{API}/visits", headers=coordinator,
                      query_string={"nurse_id": str(agency["nurse_a"]), "page": 1,
                                    "page_size": 5})
    assert mine.status_code == 200, mine.get_json()
    assert [visit["id"] for visit in mine.get_json()] == [str(agency["visit_a"])]
    page = client.get(f"{API}/visits", headers=coordinator,
                      query_string={"page": 2, "page_size": 1})
    assert page.status_code == 200
    assert len(page.get_json()) == 1
    assert '"total": 2' in page.headers["X-Pagination"]


def test_every_unknown_name_is_listed_beside_known_ones(client, as_user, agency):
    response = client.get(f"{API}/visits", headers=as_user("coordinator"),
                          query_string={"status": "scheduled", "page": 1, "pagesize": 5,
                                        "nurse": "ann"})
    unknown_named(response, "nurse", "pagesize")


def test_patients_filter_paginate_and_refuse(client, as_user, agency):
    coordinator = as_user("coordinator")
    found = client.get(f"{API}/patients", headers=coordinator,
                       query_string={"q": "MRN-A", "page_size": 1})
    assert found.status_code == 200
    assert [patient["mrn"] for patient in found.get_json()] == ["MRN-A"]
    unknown_named(client.get(f"{API}/patients", headers=coordinator,
                             query_string={"mrn": "MRN-A"}), "mrn")


def test_review_queue_filter_paginate_and_refuse(client, as_user, agency):
    qc = as_user("qc")
    listed = client.get(f"{API}/review-items", headers=qc,
                        query_string={"status": "open", "page": 1, "page_size": 10})
    assert listed.status_code == 200
    assert listed.get_json() == []
    unknown_named(client.get(f"{API}/review-items", headers=qc,
                             query_string={"status": "open", "nurse": "x"}), "nurse")


@pytest.mark.parametrize("path", ["/training/status", "/training/status.csv"])
def test_training_status_filter_and_refuse(client, as_user, agency, path):
    lead = as_user("training_lead")
    listed = client.get(f"{API}{path}", headers=lead,
                        query_string={"nurse_id": str(agency["nurse_a"]), "format": "csv"})
    assert listed.status_code == 200
    assert listed.mimetype == "text/csv"
    unknown_named(client.get(f"{API}{path}", headers=lead,
                             query_string={"lineage_id": "x"}), "lineage_id")


def test_a_route_without_pagination_refuses_page(client, as_user, agency):
    response = client.get(f"{API}/board", headers=as_user("coordinator"),
                          query_string={"date": "2026-11-23", "page": 2})
    unknown_named(response, "page")
