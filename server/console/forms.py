"""A submitted form, what was typed and what was wrong with it: the console's one form shape.

Views parse ``request.form`` themselves (or with a marshmallow schema) and call a service;
a refusal (``server.errors.AppError``) becomes errors beside the fields it names and in
the summary at the top of the page (templates/console/macros.html: ``error_summary`` and
``field``). Values are re-shown as typed, passwords excepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError

from server.errors import AppError


@dataclass
class Form:
    """What the user typed (``values``) and the errors per field name (``errors``)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    message: str | None = None

    @classmethod
    def of(cls, submitted: Mapping[str, str], *secret: str) -> Form:
        """The submitted values, without the ``secret`` fields (never sent back)."""
        return cls({k: v for k, v in submitted.items() if k not in secret and k != "csrf_token"})

    def add(self, name: str, message: str) -> None:
        """Record one error against field ``name``."""
        self.errors.setdefault(name, []).append(message)

    def refuse(self, error: AppError, fields: Mapping[str, str] | None = None) -> None:
        """Take a service's refusal: its message for the summary, and the errors of the
        fields it names that this form has (``fields``: the service's name → the form's,
        e.g. ``{"scheduled_end": "end"}``); other details are not shown."""
        self.message = error.message
        names = dict(fields or {})
        for name, messages in _field_messages(error.details).items():
            if name in names:
                for message in messages:
                    self.add(names[name], message)

    def load(self, schema: Schema, data: Mapping[str, Any],
             fields: Mapping[str, str]) -> dict[str, Any] | None:
        """``data`` through the API's own ``schema`` (the same rules as the API), or None
        with the errors added under the form's field names (``fields`` as in ``refuse``)."""
        try:
            loaded: dict[str, Any] = schema.load(data)
        except ValidationError as error:
            self.message = "Some fields are not right; see below."
            messages: Any = error.messages
            for name, found in _field_messages(messages).items():
                for message in found:
                    self.add(fields.get(name, name), message)
            return None
        return loaded

    @property
    def refused(self) -> bool:
        """True when the form has anything to show as an error."""
        return bool(self.errors or self.message)


def _field_messages(details: Any, prefix: str = "") -> dict[str, list[str]]:
    """``{"field": ["msg", ...]}`` entries of an error's details (others are not fields);
    nested errors get dotted names (``{"locations": {0: {"address": [...]}}}`` is
    ``locations.0.address``), for the form's own name in ``fields``."""
    if not isinstance(details, Mapping):
        return {}
    found: dict[str, list[str]] = {}
    for name, value in details.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            found[f"{prefix}{name}"] = list(value)
        elif isinstance(value, Mapping):
            found.update(_field_messages(value, f"{prefix}{name}."))
    return found


def messages_of(error: ValidationError, name: str) -> list[str]:
    """The messages a schema gave field ``name`` (for a search form checked by hand)."""
    return _field_messages(error.messages).get(name, [])
