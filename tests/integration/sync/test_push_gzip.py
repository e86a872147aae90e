"""Push answers are gzipped for a device that accepts it: 150 results shrink several-fold."""

from __future__ import annotations

import gzip
import json
import uuid


def _readings(device, visit_id, n):
    return [device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": 60 + i % 40, "unit": "/min",
        "taken_at": "2026-11-23T09:10:00-05:00"}, entity_id=uuid.uuid4()) for i in range(n)]


def _push(device, body, accept):
    headers = {**device.headers, **({"Accept-Encoding": accept} if accept else {})}
    return device.client.post("/api/v1/sync/push", headers=headers, json=body)


def test_a_push_answer_is_gzipped_when_the_device_accepts_it(enroll, agency):
    device = enroll("nurse_a")
    body = device.body(device.plaintext(_readings(device, agency["visit_a"], 150)))
    zipped = _push(device, body, "gzip")
    assert zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    results = json.loads(gzip.decompress(zipped.get_data()))
    assert len(results["results"]) == 150
    assert {r["status"] for r in results["results"]} == {"applied"}
    # The same batch again, plain: the same results, several times the bytes.
    plain = _push(device, body, None)
    assert "Content-Encoding" not in plain.headers
    assert plain.get_json() == results
    assert len(zipped.get_data()) * 3 < len(plain.get_data())


def test_a_small_push_answer_stays_plain(enroll, agency):
    device = enroll("nurse_a")
    body = device.body(device.plaintext(_readings(device, agency["visit_a"], 1)))
    answer = _push(device, body, "gzip")
    assert answer.status_code == 200
    assert "Content-Encoding" not in answer.headers
    assert len(answer.get_json()["results"]) == 1
