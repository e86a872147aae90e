"""A served process checks its own sync answers when INFUSYNC_WIRE_SCHEMA_CHECK says so."""

from __future__ import annotations

import pytest

from server import create_app, wire_signals
from server.config import from_environment
from server.wire_check import WireShapeViolation, check_pull, check_push


def _app(tmp_path, **overrides):
    return create_app({"INFUSYNC_INSTANCE_PATH": str(tmp_path),
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3",
                       **overrides})


def test_the_variable_turns_the_check_on_for_that_app_only(tmp_path):
    assert from_environment({"INFUSYNC_WIRE_SCHEMA_CHECK": "true"})[
        "INFUSYNC_WIRE_SCHEMA_CHECK"] is True
    # The suite's own receiver (every app, tests/conftest.py) is set aside meanwhile.
    signals = ((wire_signals.push_answered, check_push), (wire_signals.pull_answered, check_pull))
    for signal, receiver in signals:
        signal.disconnect(receiver)
    try:
        checked = _app(tmp_path / "a",
                       **from_environment({"INFUSYNC_WIRE_SCHEMA_CHECK": "true"}))
        plain = _app(tmp_path / "b")
        for signal, receiver in signals:
            assert receiver in list(signal.receivers_for(checked))
            assert receiver not in list(signal.receivers_for(plain))
    finally:
        for signal, receiver in signals:
            signal.disconnect(receiver)
            signal.connect(receiver, weak=False)


def test_a_result_off_the_contract_is_refused_naming_where_not_what():
    secret = "Ada Lovelace"  # a value that must never reach the log or the message
    with pytest.raises(WireShapeViolation) as refused:
        check_push(None, body={"batch_id": "x", "server_time": "now", "results": [
            {"id": secret, "status": "applied", "flags": [], "note": secret}]})
    assert "results/0" in str(refused.value) and secret not in str(refused.value)
