"""The server's own mutation data schemas (``schemas.mutations``), so the device refuses early.

A nurse hears about a mistake while she can still fix it, not days later as a rejection,
and the device checks exactly what the server checks, with the server's messages.

``schemas`` is loaded by name rather than imported: mypy would otherwise follow the import
and hold ``schemas`` to the ``--strict`` that only ``sync`` and ``offline_store`` pass
(``schemas.base.Quantity`` subclasses marshmallow 4's generic ``Field`` unparameterised).
Once ``schemas`` passes ``--strict`` too, this can become a plain import.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType
from typing import Any


@cache
def _mutations() -> ModuleType:
    """``schemas.mutations``, loaded once."""
    return importlib.import_module("schemas.mutations")


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as ``{"access.site": ["..."]}``."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for name, inner in messages.items():
            flat.update(_flatten(inner, f"{prefix}{name}."))
        return flat
    texts = messages if isinstance(messages, list) else [messages]
    return {prefix.rstrip(".") or "data": [str(text) for text in texts]}


def data_errors(type_: str, data: dict[str, Any]) -> dict[str, list[str]]:
    """What the server's schema finds wrong with ``data`` (field path → messages); {} if ok."""
    schemas = _mutations().MUTATION_DATA_SCHEMAS
    if type_ not in schemas:
        return {"type": [f"Unknown mutation type {type_!r}."]}
    return _flatten(schemas[type_]().validate(data))


def choices(name: str) -> tuple[str, ...]:
    """One of the contract's fixed vocabularies, e.g. ``NOTE_CATEGORIES``."""
    return tuple(str(value) for value in getattr(_mutations(), name))
