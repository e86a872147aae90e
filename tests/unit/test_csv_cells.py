"""The CSV exports' cells: what a spreadsheet opening the file would see."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from server.csv_cells import cell


@pytest.mark.parametrize("text", ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)"])
def test_a_cell_that_would_run_as_a_formula_is_quoted(text):
    assert cell(text) == "'" + text


def test_values_become_plain_text():
    at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    ident = uuid.UUID(int=7)
    assert [cell(None), cell(at), cell(ident), cell(3), cell({"b": 1, "a": "x"})] == [
        "", "2026-12-07T09:30:00+00:00", str(ident), "3", '{"a":"x","b":1}']
