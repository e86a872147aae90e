"""The wire contract as JSON Schema (draft 2020-12), shipped in the package.

``schemas/json/push-result.schema.json`` describes the 200 body of a push and
``pull-page.schema.json`` a pull page (what a v1.1 sealed pull opens to). A mobile team
takes the files as they are; the suite validates every push result and pull page it
produces against them (``server/wire_check.py``), so the files cannot drift from the server.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

PUSH_RESULT = "push-result.schema.json"
PULL_PAGE = "pull-page.schema.json"


def load(name: str) -> dict[str, Any]:
    """One of the shipped schemas, parsed."""
    text = resources.files("schemas").joinpath("json", name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
