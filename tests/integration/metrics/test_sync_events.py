"""Pushes and pulls counted where they happen: batches and mutations by outcome, pull pages
by kind with the changes they served, cursors refused by code."""

from __future__ import annotations

import uuid

from server.metrics.instruments import EARLY_PUSH_REFUSALS
from tests.assertions import error_of

BATCHES = "infusync_push_batches_total"
MUTATIONS = "infusync_push_mutations_total"


def _check_in(device, visit_id):
    return device.mutation("visit.check_in", visit_id, {
        "at": "2026-11-23T09:05:00-05:00",
        "location": {"latitude": 39.78, "longitude": -89.65, "accuracy_m": 8}})


def _hr(device, visit_id, value):
    return device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": value, "unit": "/min",
        "taken_at": "2026-11-23T09:10:00-05:00"}, entity_id=uuid.uuid4())


def _grew(before, after, name, **labels):
    return after.value(name, **labels) - before.value(name, **labels)


def test_pushed_batches_and_their_mutations_are_counted_by_outcome(agency, enroll, scrape):
    device = enroll("nurse_a")
    visit = agency["visit_a"]
    before = scrape()

    body = device.body(device.plaintext([_check_in(device, visit), _hr(device, visit, 72)]))
    assert device.client.post("/api/v1/sync/push", headers=device.headers,
                              json=body).status_code == 200
    assert device.client.post("/api/v1/sync/push", headers=device.headers,
                              json=body).status_code == 200  # the same batch: replayed
    bad = {"schema_version": 1}  # the mutation itself refused: in a batch that applied
    assert device.push([device.mutation("vitals.record", visit, bad)]).status_code == 200
    forged = device.body(device.plaintext([_hr(device, visit, 80)]))
    forged["signature"] = body["signature"]
    error_of(device.client.post("/api/v1/sync/push", headers=device.headers, json=forged), 422,
             "bad_signature")
    after = scrape()

    assert _grew(before, after, BATCHES, outcome="applied") == 2
    assert _grew(before, after, BATCHES, outcome="replayed") == 1
    assert _grew(before, after, BATCHES, outcome="refused") == 1
    assert _grew(before, after, BATCHES, outcome="failed") == 0
    assert _grew(before, after, MUTATIONS, outcome="applied") == 2
    assert _grew(before, after, MUTATIONS, outcome="rejected") == 1


def test_pulls_are_timed_and_their_changes_counted_by_kind_of_page(enroll, scrape):
    device = enroll("nurse_a")
    before = scrape()

    snapshot = device.pull()
    assert snapshot.status_code == 200
    served = len(snapshot.get_json()["changes"])
    assert device.pull(snapshot.get_json()["cursor"]).status_code == 200
    error_of(device.pull("not-a-cursor"), 400, "invalid_cursor")
    after = scrape()

    assert served > 0
    assert _grew(before, after, "infusync_pull_changes_total", page="snapshot") == served
    assert _grew(before, after, "infusync_pull_duration_seconds_count", page="snapshot") == 1
    assert _grew(before, after, "infusync_pull_duration_seconds_count", page="delta") == 1
    assert _grew(before, after, "infusync_pull_refusals_total", code="invalid_cursor") == 1


def test_pushes_refused_before_the_push_service_are_counted_by_their_code(
        app, agency, enroll, scrape):
    device = enroll("nurse_a")
    url, body = "/api/v1/sync/push", device.body(device.plaintext([_check_in(device,
                                                                            agency["visit_a"])]))
    before = scrape()

    error_of(device.client.post(url, headers={"Authorization": "Bearer not-a-device-token"},
                                json=body), 401, "unauthorized")
    error_of(device.client.post(url, headers={**device.headers, "Content-Encoding": "gzip"},
                                json=body), 415, "unsupported_content_encoding")
    error_of(device.client.post(url, headers=device.headers, data=b"{not json",
                                content_type="application/json"), 400, "malformed_json")
    error_of(device.client.post(url, headers=device.headers, json={**body, "extra": 1}), 400,
             "malformed_envelope")
    too_large = {**body, "sealed": "A" * (app.config["SYNC_MAX_BODY_BYTES"] + 1)}
    error_of(device.client.post(url, headers=device.headers, json=too_large), 413,
             "body_too_large")
    after = scrape()

    for code in ("unauthorized", "unsupported_content_encoding", "malformed_json",
                 "malformed_envelope", "body_too_large"):
        assert _grew(before, after, BATCHES, outcome=code) == 1, code
    assert _grew(before, after, BATCHES, outcome="refused") == 0
    assert not {labels for labels in after.series(BATCHES)} - {
        frozenset({("outcome", outcome)}) for outcome in (
            "applied", "replayed", "refused", "failed", *EARLY_PUSH_REFUSALS)}


def test_a_pull_refused_is_not_counted_as_a_push(enroll, scrape):
    device = enroll("nurse_a")
    before = scrape()
    error_of(device.client.get("/api/v1/sync/pull",
                               headers={"Authorization": "Bearer not-a-device-token"}),
             401, "unauthorized")
    assert _grew(before, scrape(), BATCHES, outcome="unauthorized") == 0
