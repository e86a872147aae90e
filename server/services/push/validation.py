"""Validating one pushed mutation, once: a frozen ``Valid`` value, or a ``Refused`` one.

The schemas decide; for the hot mutation types a fast path loads exactly what they would,
or steps aside for them (tests/unit/test_fast_validation.py holds it to that).
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from schemas.mutations import FAST_DATA_LOADERS, MUTATION_DATA_SCHEMAS, fast_aware_datetime
from schemas.result_shapes import flat_errors
from schemas.sync import MutationSchema
from sync import ledger


@dataclass(frozen=True, slots=True)
class Valid:
    """A mutation as the schemas load it (``mutation``, its ``data``) and its content hash."""

    mutation: dict[str, Any]
    data: dict[str, Any]
    digest: str

    @property
    def id(self) -> uuid.UUID:
        """The mutation id (the ledger's key)."""
        mutation_id: uuid.UUID = self.mutation["id"]
        return mutation_id

    @property
    def seq(self) -> int:
        """The device's sequence number for it."""
        seq: int = self.mutation["seq"]
        return seq


@dataclass(frozen=True, slots=True)
class Refused:
    """A mutation the schemas refused, with their messages (it stays in the inbox)."""

    errors: dict[str, Any]


# Schemas are stateless once built; building one per mutation was a third of a push's CPU.
_MUTATION_SCHEMA = MutationSchema()
_DATA_SCHEMAS = {kind: schema() for kind, schema in MUTATION_DATA_SCHEMAS.items()}
_MUTATION_KEYS = frozenset(_MUTATION_SCHEMA.fields)
_OCCURRED_AT = _MUTATION_SCHEMA.fields["occurred_at"]
# How canonical (ASCII) JSON writes what the schemas refuse as text: C0 controls but tab,
# LF and CR (\b and \f, or \u00XX), DEL and C1 controls, surrogates. Valid pairs (emoji)
# and escaped backslashes match too: those few take the schemas' path, which decides.
_UNSAFE_ESCAPE = re.compile(r"\\(?:u00[0189][0-9a-f]|u007f|ud[89a-f]|[bf])")


def _fast_uuid(value: Any) -> uuid.UUID | None:
    if type(value) is not str:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@functools.lru_cache(maxsize=1024)
def _cached_uuid(text: str) -> uuid.UUID | None:
    return _fast_uuid(text)


def _visit_uuid(value: Any) -> uuid.UUID | None:
    """``_fast_uuid`` of a visit id, parsed once for all the batches that name it: 200
    vital signs name a handful of visits, and ``uuid.UUID`` of text is Python code. Only
    text as long as a UUID's longest form is kept (a device chooses what it sends); UUIDs
    are immutable, so mutations may share one."""
    if type(value) is str and len(value) <= _LONGEST_UUID_TEXT:
        return _cached_uuid(value)
    return _fast_uuid(value)


_LONGEST_UUID_TEXT = len("urn:uuid:{12345678-1234-1234-1234-123456789abc}")


def fast_mutation(raw: Any) -> dict[str, Any] | None:
    """``MutationSchema().load(raw)`` for plainly valid input (NULs aside); None otherwise."""
    if type(raw) is not dict or raw.keys() != _MUTATION_KEYS:
        return None
    seq, kind, visit, base, data = (raw["seq"], raw["type"], raw["visit_id"],
                                    raw["base_version"], raw["data"])
    if type(seq) is not int or seq < 1 or type(kind) is not str or not 1 <= len(kind) <= 40 \
            or (base is not None and type(base) is not int) or type(data) is not dict:
        return None
    mutation_id, entity_id = _fast_uuid(raw["id"]), _fast_uuid(raw["entity_id"])
    visit_id = None if visit is None else _visit_uuid(visit)
    if mutation_id is None or entity_id is None or (visit is not None and visit_id is None):
        return None
    occurred_at = fast_aware_datetime(_OCCURRED_AT, raw["occurred_at"])
    if occurred_at is None:
        return None
    return {"id": mutation_id, "seq": seq, "type": kind, "entity_id": entity_id,
            "visit_id": visit_id, "base_version": base, "occurred_at": occurred_at,
            "data": dict(data)}


def _validate_fast(raw: Any, device_id: uuid.UUID | str) -> Valid | None:
    """The hot mutation types without marshmallow: exactly what the schemas would load, or
    None when the input is not plainly valid, so that they decide."""
    mutation = fast_mutation(raw)
    loader = FAST_DATA_LOADERS.get(mutation["type"]) if mutation is not None else None
    if mutation is None or loader is None:
        return None
    data = loader(mutation["data"])
    if data is None:
        return None
    canonical = ledger.canonical_json(device_id, raw)
    if _UNSAFE_ESCAPE.search(canonical):  # the schemas refuse such text, naming the fields
        return None
    return Valid(mutation, data, ledger.hash_canonical(canonical))


def validate(raw: Any, device_id: uuid.UUID | str) -> Valid | Refused:
    """The mutation loaded by the schemas, or refused with their field errors.

    ``device_id``: the sending device's id, or its text (see ``ledger.canonical_json``)."""
    fast = _validate_fast(raw, device_id)
    if fast is not None:
        return fast
    try:
        mutation: dict[str, Any] = _MUTATION_SCHEMA.load(raw)
    except ValidationError as exc:
        return Refused(flat_errors(exc.messages))
    schema = _DATA_SCHEMAS.get(mutation["type"])
    if schema is None:
        return Refused({"type": [f"Unknown mutation type {mutation['type']!r}."]})
    try:
        data: dict[str, Any] = schema.load(mutation["data"])
    except ValidationError as exc:
        return Refused(flat_errors(exc.messages, "data"))
    return Valid(mutation, data, ledger.content_hash(device_id, raw))
