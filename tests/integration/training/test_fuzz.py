"""Arbitrary module fields and completion answers: always a 4xx or a result, never a 500."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.depth import examples
from tests.integration.api.test_fuzz_bodies import SETTINGS, check, json_values
from tests.integration.training.conftest import complete
from tests.integration.training.modules import module_body

MODULE_FIELDS = ("title", "summary", "body_md", "attachments", "quiz", "competency",
                 "audience", "due_rule", "required", "id", "version", "status", "revision")
COMPLETE_FIELDS = ("module_id", "version", "answers", "started_at", "completed_at")


@SETTINGS
@given(field=st.sampled_from(MODULE_FIELDS), value=json_values)
def test_one_arbitrary_module_field_is_answered_without_a_server_error(
        client: Any, lead: Any, field: str, value: Any) -> None:
    headers = lead.headers
    body = json.dumps({**module_body(), field: value})
    created = client.post("/api/v1/training/modules", headers=headers, data=body,
                          content_type="application/json")
    check(created)
    if created.status_code == 201:
        module_id = created.get_json()["id"]
        check(client.post(f"/api/v1/training/modules/{module_id}/publish", headers=headers))
        check(client.patch(f"/api/v1/training/modules/{module_id}", headers=headers,
                           data=json.dumps({field: value}), content_type="application/json"))


# Each example publishes a module and enrolls a device (about ten times an example of the
# others): every run draws a share of what make test-deep draws (tests/depth.py).
@settings(SETTINGS, max_examples=examples(every_run=12, deep=SETTINGS.max_examples))
@given(field=st.sampled_from(COMPLETE_FIELDS), value=json_values)
def test_one_arbitrary_completion_field_is_a_result_never_a_server_error(
        lead: Any, enroll: Any, field: str, value: Any) -> None:
    module = lead.publish()
    device = enroll("nurse_a")
    mutation = complete(device, module, {"q1": ["yes"], "q2": ["red", "warm"]})
    mutation["data"][field] = value
    response = device.push([mutation])
    check(response)  # a NUL anywhere refuses the whole batch (422 invalid_batch)
    if response.status_code == 200:
        (result,) = response.get_json()["results"]
        assert result["status"] in ("applied", "rejected")
