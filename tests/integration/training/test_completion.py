"""Completing a module offline: the server scores, the result returns in the next pull."""

from __future__ import annotations

from typing import Any

from tests.integration.training.conftest import complete
from tests.integration.training.modules import RIGHT, WRONG


def _results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["results"])


def _status(held: dict[tuple[str, str], Any]) -> dict[str, Any]:
    (data,) = [v for (kind, _id), v in held.items() if kind == "training_status"]
    return dict(data)


def test_right_answers_pass_and_the_verdict_reaches_the_device(lead: Any, enroll: Any) -> None:
    module = lead.publish()
    device = enroll("nurse_a")
    held, cursor = device.pull_all()
    assert _status(held)["state"] == "not_started"
    (result,) = _results(device.push([complete(device, module, RIGHT)]))
    assert result["status"] == "applied"
    held, _cursor = device.pull_all(cursor)
    status = _status(held)
    assert status["state"] == "passed"
    assert status["last_attempt"]["score_percent"] == 100.0
    assert status["last_attempt"]["passed"] is True
