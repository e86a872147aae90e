"""The NEWS2 thresholds are the agency's configuration, read by the push (not code)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from server.models import EarlyWarningLevel, EarlyWarningScore, ReviewItem
from tests.conftest import app_on


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock) -> Iterator[Flask]:
    """An agency that warns from 4, calls 5 critical and ignores a single 3."""
    with app_on(database_url, tmp_path, clock, NEWS2_WARNING_SCORE=4, NEWS2_CRITICAL_SCORE=5,
                NEWS2_SINGLE_PARAMETER_WARNING=False) as app:
        yield app


def test_configured_thresholds_decide_the_item(phone, push, vitals, rows):
    # SpO2 91 scores 3: the RCP's rule would warn; this agency turned it off.
    assert push(phone, vitals(phone, "2708-6", 91, "%"))[0]["flags"] == []
    assert rows(ReviewItem) == []
    # With pulse 111 (2) the set scores 5: a warning by default, critical here.
    result = push(phone, vitals(phone, "8867-4", 111))[0]
    assert [f["code"] for f in result["flags"]] == ["news2_critical"]
    assert [item.kind for item in rows(ReviewItem)] == ["news2_critical"]
    (score,) = rows(EarlyWarningScore)
    assert (score.score, score.level) == (5, EarlyWarningLevel.CRITICAL)
