"""The push response's fast dump says exactly what PushResultSchema's dump says."""

import json
import uuid

import pytest

from schemas.sync import PushResultSchema, dump_push_result

RESULTS = [
    {"id": str(uuid.uuid4()), "status": "applied", "version": 3},
    {"id": str(uuid.uuid4()), "status": "applied", "version": 4,
     "review_item_id": str(uuid.uuid4())},
    {"id": str(uuid.uuid4()), "status": "duplicate", "outcome": "applied", "version": 2},
    {"id": str(uuid.uuid4()), "status": "duplicate", "outcome": None},
    {"id": "not-a-uuid", "status": "rejected", "errors": {"id": ["Not a valid UUID."]}},
    {"id": None, "status": "rejected", "errors": {"_schema": ["Invalid input type."]}},
    {"id": 17, "status": "rejected", "errors": {"data": {"value": ["Missing."]}}},
    {"id": str(uuid.uuid4()), "status": "conflict", "version": 5, "errors": {}},
    {"id": str(uuid.uuid4()), "status": "applied", "version": True},  # the schema's int()
    {"id": str(uuid.uuid4()), "status": "applied", "version": None, "outcome": 3},
    {"id": str(uuid.uuid4()), "status": "applied", "flags": []},
    {"id": str(uuid.uuid4()), "status": "applied", "review_item_id": str(uuid.uuid4()),
     "flags": [{"code": "drug_expired", "severity": "critical",
                "message": "Lot L1 expired on 2026-01-01: do not infuse it."}]},
    {"id": str(uuid.uuid4()), "status": "duplicate", "outcome": "applied",
     "flags": [{"message": "m", "code": "c", "severity": "warning"}]},  # another key order
    {"id": str(uuid.uuid4()), "status": "applied", "flags": ["device_clock_skew"]},
]


@pytest.mark.parametrize("results", [RESULTS, RESULTS[:4], [], [RESULTS[-1]], [RESULTS[-3]],
                                     RESULTS[-4:-1]])
def test_fast_dump_is_the_schema_dump(results):
    response = {"batch_id": str(uuid.uuid4()), "results": results,
                "server_time": "2026-11-23T13:00:00+00:00"}
    fast = dump_push_result(response)
    schema = PushResultSchema().dump(response)
    assert fast == schema
    assert json.dumps(fast, sort_keys=True) == json.dumps(schema, sort_keys=True)
    assert [list(r) for r in fast["results"]] == [list(r) for r in schema["results"]]
