"""The server checking its own sync answers against the shipped JSON Schemas.

``INFUSYNC_WIRE_SCHEMA_CHECK=true`` validates every push result and pull page against
``schemas/json`` before it leaves, and answers a 500 for one that does not match: the test
suite turns it on for every process it serves, so no test can produce an answer the
documented contract does not describe (in-process apps are checked by the suite's own
receiver, ``tests/wire_shapes.py``). Off in production: it costs a validation per answer
and needs the ``jsonschema`` test extra.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from flask import Flask

from schemas import json_schemas
from server import wire_signals

log = logging.getLogger(__name__)


class WireShapeViolation(Exception):
    """An answer the documented JSON Schema does not describe: a server bug."""


@functools.cache
def _validator(name: str) -> Any:
    import jsonschema  # the test extra: only a process that checks needs it

    schema = json_schemas.load(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def problems(name: str, instance: Any) -> list[str]:
    """Where ``instance`` breaks schema ``name``: paths and rules only, never the values
    (a pull page holds patient data, and these lines may be logged)."""
    return sorted(f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.validator}"
                  for error in _validator(name).iter_errors(instance))


def check(name: str, instance: Any) -> None:
    """Raise ``WireShapeViolation`` when ``instance`` does not match schema ``name``."""
    found = problems(name, instance)
    if found:
        log.error("wire_shape_violation", extra={"schema": name, "problems": found[:20]})
        raise WireShapeViolation(f"{name}: {'; '.join(found[:20])}")


def check_push(_sender: Any, body: Any, **_extra: Any) -> None:
    """Receiver for ``push_answered``."""
    check(json_schemas.PUSH_RESULT, body)


def check_pull(_sender: Any, page: bytes, **_extra: Any) -> None:
    """Receiver for ``pull_answered``."""
    check(json_schemas.PULL_PAGE, json.loads(page))


def register(app: Flask) -> None:
    """Connect the checks to this app's answers when the configuration asks for them."""
    if not app.config.get("INFUSYNC_WIRE_SCHEMA_CHECK"):
        return
    _validator(json_schemas.PUSH_RESULT)  # refuse to start without jsonschema or a schema
    _validator(json_schemas.PULL_PAGE)
    wire_signals.push_answered.connect(check_push, sender=app, weak=False)
    wire_signals.pull_answered.connect(check_pull, sender=app, weak=False)
