"""Cells of the CSV exports (training status, audit trail) as a spreadsheet should see them.

One rule for every export: a cell starting with = + - @ would run as a formula when the
file is opened in a spreadsheet, so it is quoted with a leading apostrophe.
"""

from __future__ import annotations

import json
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@")


def cell(value: Any) -> str:
    """``value`` as CSV text: empty for None, ISO 8601 for times, compact JSON for a dict."""
    if value is None:
        return ""
    if isinstance(value, dict):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    else:
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text
