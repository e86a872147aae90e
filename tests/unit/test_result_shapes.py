"""One shape per push-result field: flat errors, and v1 results brought to the v1.1 shape."""

from __future__ import annotations

import pytest

from schemas import json_schemas
from schemas.result_shapes import flat_errors, upgraded
from server.wire_check import problems

ID = "0193a3b4-0000-7000-8000-000000000001"
ITEM = "0193a3b4-0000-7000-8000-0000000000a1"


def test_nested_messages_become_one_level_keyed_by_the_field_path() -> None:
    nested = {"data": {"taken_at": ["Missing."], "components": {1: {"value": ["Not a number."]}},
                       "_schema": ["Give one of value, components or answer."]},
              "seq": ["Must be at least 1."]}
    assert flat_errors(nested) == {
        "data.taken_at": ["Missing."], "data.components.1.value": ["Not a number."],
        "data._schema": ["Give one of value, components or answer."],
        "seq": ["Must be at least 1."]}
    assert flat_errors(["Invalid input type."]) == {"_schema": ["Invalid input type."]}
    assert flat_errors({"text": ["Bad."]}, "data") == {"data.text": ["Bad."]}


@pytest.mark.parametrize(("stored", "kind", "outcome", "v1_1"), [
    ({"status": "applied", "flags": []}, "training.complete", "applied",
     {"status": "applied", "version": 1, "flags": []}),
    ({"status": "applied", "version": 4}, "visit.check_in", "applied",
     {"status": "applied", "version": 4, "visit_version": 4}),
    ({"status": "applied", "version": 4}, "visit.note", "applied",
     {"status": "applied", "version": 1, "visit_version": 4}),
    ({"status": "conflict", "version": 6, "review_item_id": ITEM}, "vitals.record", "conflict",
     {"status": "conflict", "version": 1, "visit_version": 6, "review_item_id": ITEM}),
    # v1 said nothing of the visit for these: nothing to add, nothing wrong in what it said.
    ({"status": "applied", "version": 1}, "infusion.record", "applied",
     {"status": "applied", "version": 1}),
    ({"status": "rejected", "errors": {"data": {"taken_at": ["Missing."]}}}, None, "rejected",
     {"status": "rejected", "errors": {"data.taken_at": ["Missing."]}}),
])
def test_a_v1_result_is_upgraded_by_its_mutation_type(stored, kind, outcome, v1_1) -> None:
    assert upgraded(stored, kind, outcome) == v1_1
    assert upgraded(v1_1, kind, outcome) == v1_1  # a v1.1 result comes back equal


def _answer(*results: dict) -> dict:
    return {"batch_id": ID, "server_time": "2026-11-23T13:00:00+00:00", "results": list(results)}


def test_the_schema_refuses_what_broke_typed_decoders() -> None:
    """Nested errors, an applied result without version, a conflict without its item."""
    assert problems(json_schemas.PUSH_RESULT, _answer(
        {"id": ID, "status": "rejected", "errors": {"data": {"taken_at": ["Missing."]}},
         "flags": []},
        {"id": ID, "status": "applied", "flags": []},
        {"id": ID, "status": "conflict", "version": 2, "flags": []})) == [
        "results/0/errors/data: type", "results/1: required", "results/2: required"]


def test_the_schema_takes_every_status_as_documented() -> None:
    assert problems(json_schemas.PUSH_RESULT, _answer(
        {"id": ID, "status": "applied", "version": 1, "visit_version": 3, "flags": []},
        {"id": ID, "status": "conflict", "version": 3, "visit_version": 3,
         "review_item_id": ITEM, "flags": [
             {"code": "documentation_on_reassigned_visit", "severity": "warning",
              "message": "This visit was reassigned while you were offline."}]},
        {"id": None, "status": "rejected", "errors": {"id": ["Not a valid UUID."]},
         "flags": []},
        {"id": ID, "status": "duplicate", "outcome": "rejected",
         "errors": {"data.value": ["Too high."]}, "flags": []},
        {"id": ID, "status": "duplicate", "outcome": None, "flags": []})) == []
