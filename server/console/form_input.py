"""Turning a plain HTML form's strings into what the API's schemas take.

A browser sends every field as text; the API's schemas want JSON types (an integer, a
list, a boolean, null). These readers convert only what is unambiguous (``"30"`` → 30)
and hand anything else through as typed, so the schema refuses it with its own message
and the same rule as the API applies. An empty optional field is left out on a new record
and sent as null on an edit (the user cleared it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from werkzeug.datastructures import MultiDict


def _integer(text: str) -> Any:
    return int(text) if text.isascii() and text.isdigit() else text


def read(form: MultiDict[str, str], names: Iterable[str], *, ints: Iterable[str] = (),
         optional: Iterable[str] = (), clearing: bool = False) -> dict[str, Any]:
    """The ``names`` present in ``form``, stripped; ``ints`` as integers when they are
    digits; an empty ``optional`` field left out, or None when ``clearing`` (an edit)."""
    ints, optional = set(ints), set(optional)
    data: dict[str, Any] = {}
    for name in names:
        if name not in form:
            continue
        text = form.get(name, "").strip()
        if not text and name in optional:
            if clearing:
                data[name] = None
            continue
        data[name] = _integer(text) if name in ints else text
    return data


def integers(form: MultiDict[str, str], name: str) -> list[Any]:
    """A group of checkboxes holding integers (``weekdays``)."""
    return [_integer(v.strip()) for v in form.getlist(name) if v.strip()]


def words(text: str) -> list[str]:
    """A comma-separated list typed in one box (allergies), without empty entries."""
    return [part.strip() for part in text.split(",") if part.strip()]
