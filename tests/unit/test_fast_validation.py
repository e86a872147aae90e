"""The fast validation paths of a push load exactly what the schemas load, or step aside.

A fast path may only ever answer "valid, and here is the same result as the schema's";
for anything else it returns None (or False) and the schema decides, with its messages.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
from marshmallow import ValidationError

from schemas.base import unsafe_text
from schemas.mutations import VitalsSchema, fast_vitals
from schemas.sync import BatchSchema, MutationSchema
from server.services.push.receive import _fast_batch
from server.services.push.validation import Refused, Valid, fast_mutation, validate
from sync import ledger

DEVICE = uuid.UUID("00000000-0000-4000-8000-000000000001")
TAKEN = "2026-11-22T09:15:00-05:00"
BP = {"code": "85354-9", "unit": "mm[Hg]", "taken_at": TAKEN, "components": [
    {"code": "8480-6", "value": 122, "unit": "mm[Hg]"},
    {"code": "8462-4", "value": 78, "unit": "mm[Hg]"}]}
PULSE = {"code": "8867-4", "value": 72, "unit": "/min", "taken_at": TAKEN}

MISSING = object()


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(base)
    for key, value in changes.items():
        if value is MISSING:
            data.pop(key, None)
        else:
            data[key] = value
    return data


VITALS_CASES: list[Any] = [
    PULSE, BP, _with(PULSE, value=36.8), _with(PULSE, value=0), _with(PULSE, value=-1.5e3),
    _with(PULSE, value=1e400), _with(PULSE, value=float("nan")), _with(PULSE, value="72"),
    _with(PULSE, value="NaN"), _with(PULSE, value=True), _with(PULSE, value=None),
    _with(PULSE, value=MISSING), _with(PULSE, value=[72]), _with(PULSE, components=[]),
    _with(PULSE, components=None), _with(BP, value=None), _with(BP, value=1),
    _with(BP, components=[]), _with(BP, components={}), _with(BP, components=[None]),
    _with(BP, components=[{"code": "8480-6", "value": 1, "unit": "mm[Hg]", "x": 1}]),
    _with(BP, components=[{"code": "8480-6", "value": None, "unit": "mm[Hg]"}]),
    _with(BP, components=[{"code": "8480-6", "unit": "mm[Hg]"}]),
    _with(BP, components=[{"code": "84", "value": 1, "unit": "mm[Hg]"}]),
    _with(BP, components=[{"code": "8480-6", "value": 1, "unit": ""}]),
    _with(BP, components=[{"code": "8480-6", "value": "1", "unit": "x"}]),
    _with(PULSE, code="88"), _with(PULSE, code="8" * 20), _with(PULSE, code="8" * 21),
    _with(PULSE, code=8867), _with(PULSE, code=MISSING), _with(PULSE, code=None),
    _with(PULSE, unit=""), _with(PULSE, unit="u" * 20), _with(PULSE, unit="u" * 21),
    _with(PULSE, unit=None), _with(PULSE, unit=MISSING), _with(PULSE, extra=1),
    _with(PULSE, taken_at="2026-11-22T09:15:00"), _with(PULSE, taken_at="2026-11-22T09:15Z"),
    _with(PULSE, taken_at="2026-11-22"), _with(PULSE, taken_at="yesterday"),
    _with(PULSE, taken_at="2026-11-22T09:15:00.123456+14:00"), _with(PULSE, taken_at=None),
    _with(PULSE, taken_at=20261122), _with(PULSE, taken_at=MISSING), _with(PULSE, taken_at=""),
    _with(PULSE, unit="/min\x00"), _with(PULSE, unit="/min\x1b"), _with(PULSE, unit="\udc80"),
    _with(PULSE, unit="\x85"), _with(PULSE, unit="\U0001f642"), [], None, "vitals", 1,
]


def _schema_load(schema: Any, data: Any) -> Any:
    try:
        return schema.load(data)
    except ValidationError:
        return None


@pytest.mark.parametrize("data", VITALS_CASES)
def test_fast_vitals_loads_what_the_schema_loads_or_steps_aside(data: Any) -> None:
    fast = fast_vitals(copy.deepcopy(data))
    if fast is None or unsafe_text(data):
        return  # the schema decides (unsafe text is the caller's to rule out)
    expected = _schema_load(VitalsSchema(), copy.deepcopy(data))
    assert expected is not None, "the fast path accepted what the schema refuses"
    assert list(fast.items()) == list(expected.items())
    assert [type(v) for v in fast.values()] == [type(v) for v in expected.values()]


def test_the_plain_readings_take_the_fast_path() -> None:
    for data in (PULSE, BP, _with(PULSE, value=36.8)):
        assert fast_vitals(copy.deepcopy(data)) is not None


MUTATION = {"id": str(uuid.uuid4()), "seq": 7, "type": "vitals.record",
            "entity_id": str(uuid.uuid4()), "visit_id": str(uuid.uuid4()),
            "base_version": None, "occurred_at": TAKEN, "data": PULSE}

MUTATION_CASES: list[Any] = [
    MUTATION, _with(MUTATION, visit_id=None), _with(MUTATION, base_version=3),
    _with(MUTATION, base_version=True), _with(MUTATION, base_version=3.0),
    _with(MUTATION, base_version="3"), _with(MUTATION, seq=0), _with(MUTATION, seq=-1),
    _with(MUTATION, seq=True), _with(MUTATION, seq=1.0), _with(MUTATION, seq="7"),
    _with(MUTATION, seq=2**70), _with(MUTATION, id="nope"), _with(MUTATION, id=None),
    _with(MUTATION, id=uuid.uuid4().hex), _with(MUTATION, id="{" + str(uuid.uuid4()) + "}"),
    _with(MUTATION, id="urn:uuid:" + str(uuid.uuid4())), _with(MUTATION, id=12),
    _with(MUTATION, entity_id=""), _with(MUTATION, visit_id="x"), _with(MUTATION, visit_id=1),
    # Visit ids are parsed once per text (cached): every form the schema reads, or not.
    _with(MUTATION, visit_id=MUTATION["visit_id"].upper()),
    _with(MUTATION, visit_id="{" + MUTATION["visit_id"] + "}"),
    _with(MUTATION, visit_id="urn:uuid:{" + MUTATION["visit_id"] + "}"),
    _with(MUTATION, visit_id=MUTATION["visit_id"] + " " * 20),
    _with(MUTATION, visit_id=MUTATION["visit_id"][:-1] + "g"), _with(MUTATION, visit_id=[]),
    _with(MUTATION, type=""), _with(MUTATION, type="t" * 40), _with(MUTATION, type="t" * 41),
    _with(MUTATION, type=None), _with(MUTATION, type="visit.note"),
    _with(MUTATION, occurred_at="2026-11-22T09:15:00"), _with(MUTATION, occurred_at=None),
    _with(MUTATION, data=[]), _with(MUTATION, data=None), _with(MUTATION, data={}),
    _with(MUTATION, extra=1), _with(MUTATION, data=MISSING), _with(MUTATION, seq=MISSING),
    _with(MUTATION, visit_id=MISSING), _with(MUTATION, base_version=MISSING), [], "x", None,
]


@pytest.mark.parametrize("raw", MUTATION_CASES)
def test_fast_mutation_loads_what_the_schema_loads_or_steps_aside(raw: Any) -> None:
    fast = fast_mutation(copy.deepcopy(raw))
    if fast is None:
        return
    expected = _schema_load(MutationSchema(), copy.deepcopy(raw))
    assert expected is not None, "the fast path accepted what the schema refuses"
    assert list(fast.items()) == list(expected.items())
    assert [type(v) for v in fast.values()] == [type(v) for v in expected.values()]


def _slow(raw: Any) -> Valid | None:
    """What ``validate`` gave before it had a fast path (the schemas alone); None for a
    refusal."""
    mutation = _schema_load(MutationSchema(), raw)
    if mutation is None:
        return None
    data = _schema_load(VitalsSchema(), mutation["data"]) \
        if mutation["type"] == "vitals.record" else None
    if data is None:
        return None
    return Valid(mutation, data, ledger.content_hash(DEVICE, raw))


@pytest.mark.parametrize("raw", [
    *MUTATION_CASES, *(_with(MUTATION, data=data) for data in VITALS_CASES),
    _with(MUTATION, data=_with(PULSE, unit="/min\x00")),
    _with(MUTATION, data=_with(BP, components=[
        {"code": "8480-6", "value": 122, "unit": "mm[Hg]"},
        {"code": "8462-4", "value": 78, "unit": "mm\x00[Hg]"}])),
    _with(MUTATION, occurred_at="2026-11-22T09:15:00\x00-05:00"),
    _with(MUTATION, data=_with(PULSE, unit="\\u0000")),  # a backslash, not a NUL
    _with(MUTATION, data=_with(PULSE, unit="/min\x7f")),
    _with(MUTATION, data=_with(PULSE, unit="\ud83d")), _with(MUTATION, type="\udc80"),
    _with(MUTATION, data=_with(PULSE, unit="\U0001f642")),  # a valid pair in JSON: text
    _with(MUTATION, data=_with(PULSE, unit="/min\x08")), {**MUTATION, "\udc80": 1},
])
def test_validate_gives_the_same_value_with_or_without_the_fast_path(raw: Any) -> None:
    checked = validate(copy.deepcopy(raw), DEVICE)
    expected = _slow(copy.deepcopy(raw))
    if expected is None:
        assert isinstance(checked, Refused) and checked.errors
        return
    assert isinstance(checked, Valid)
    assert (checked.mutation, checked.data, checked.digest) == (
        expected.mutation, expected.data, expected.digest)
    assert list(checked.data.items()) == list(expected.data.items())


BATCH = {"schema_version": 1, "device_clock": "2026-11-22T14:15:00+00:00",
         "app_version": "1.0.0", "mutations": [MUTATION]}

BATCH_CASES: list[Any] = [
    BATCH, _with(BATCH, mutations=[]), _with(BATCH, mutations=[1, None, "x"]),
    _with(BATCH, mutations=[1, "x", [], {}]), _with(BATCH, mutations=[MUTATION, None]),
    _with(BATCH, schema_version=2), _with(BATCH, schema_version="1"),
    _with(BATCH, schema_version=True), _with(BATCH, schema_version=1.0),
    _with(BATCH, device_clock="2026-11-22T14:15:00"), _with(BATCH, device_clock=None),
    _with(BATCH, app_version="v" * 40), _with(BATCH, app_version="v" * 41),
    _with(BATCH, app_version=""), _with(BATCH, app_version=None), _with(BATCH, extra=1),
    _with(BATCH, mutations={}), _with(BATCH, mutations=MISSING),
    _with(BATCH, mutations=[_with(MUTATION, data=_with(PULSE, unit="/min\x00"))]),
    _with(BATCH, app_version="1.0\x00"), _with(BATCH, app_version="1.0\udc80"),
    _with(BATCH, app_version="1.0\x9b"), [], None,
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-8-sig"])
@pytest.mark.parametrize("raw", BATCH_CASES)
def test_fast_batch_loads_what_the_schema_loads_or_steps_aside(raw: Any, encoding: str) -> None:
    plaintext = json.dumps(raw).encode(encoding)
    fast = _fast_batch(plaintext, json.loads(plaintext))
    expected = _schema_load(BatchSchema(), json.loads(plaintext))
    if fast is None:
        return
    assert expected is not None, "the fast path accepted what the schema refuses"
    assert list(fast.items()) == list(expected.items())


def test_unsafe_text_in_the_batch_fields_leaves_it_to_the_schema() -> None:
    for app_version in ("1.0\x00", "1.0\udc80", "1.0\x1b"):
        raw = _with(BATCH, app_version=app_version)
        plaintext = json.dumps(raw).encode()
        assert _fast_batch(plaintext, json.loads(plaintext)) is None
    assert _fast_batch(json.dumps(BATCH).encode(), BATCH) is not None


def test_unsafe_text_in_a_mutation_is_left_to_that_mutation() -> None:
    """The batch loads; the mutation alone is refused (and kept) when it is validated."""
    mutation = _with(MUTATION, data=_with(PULSE, unit="/min\x00"))
    raw = _with(BATCH, mutations=[mutation])
    plaintext = json.dumps(raw, ensure_ascii=False).encode()
    fast = _fast_batch(plaintext, json.loads(plaintext))
    assert fast is not None and fast == BatchSchema().load(json.loads(plaintext))
    assert isinstance(validate(mutation, DEVICE), Refused)


NOTE = {"category": "assessment", "text": "PICC site clean, dry and intact."}
CHECK_IN = {"at": TAKEN, "location": {"latitude": 40.7, "longitude": -74.0, "accuracy_m": 8}}


def _schemas_only(raw: Any) -> Valid | Refused:
    """What ``validate`` gives with the schemas alone: the envelope's, then the data's."""
    from schemas.mutations import MUTATION_DATA_SCHEMAS
    from schemas.result_shapes import flat_errors

    try:
        mutation = MutationSchema().load(raw)
    except ValidationError as exc:
        return Refused(flat_errors(exc.messages))
    schema = MUTATION_DATA_SCHEMAS.get(mutation["type"])
    if schema is None:
        return Refused({"type": [f"Unknown mutation type {mutation['type']!r}."]})
    try:
        data = schema().load(mutation["data"])
    except ValidationError as exc:
        return Refused(flat_errors(exc.messages, "data"))
    return Valid(mutation, data, ledger.content_hash(DEVICE, raw))


def _typed(kind: str, data: Any) -> dict[str, Any]:
    return _with(MUTATION, type=kind, data=data)


@pytest.mark.parametrize("raw", [
    _typed("visit.note", NOTE), _typed("visit.check_in", CHECK_IN),
    _typed("visit.check_out", _with(CHECK_IN, location=None)),
    _typed("visit.sign", {"at": TAKEN}), _typed("visit.sign", {"at": TAKEN, "x": 1}),
    _typed("visit.note", _with(NOTE, text="Site \x00 clean")),
    _typed("visit.note", _with(NOTE, text="Site \x1b clean", category="nope")),
    _typed("visit.note", _with(NOTE, text="\ud83d")), _typed("visit.note", {"\x00": 1}),
    _typed("visit.note", _with(NOTE, text="\\u0000 is a backslash")),
    _typed("visit.note", _with(NOTE, text="\U0001f642 fine")),
    _typed("visit.note", _with(NOTE, text="")), _typed("visit.note", _with(NOTE, text=MISSING)),
    _typed("visit.note", _with(NOTE, category="nope")), _typed("visit.note", {}),
    _typed("visit.check_in", _with(CHECK_IN, location={"latitude": 91, "longitude": 0})),
    _typed("visit.check_in", _with(CHECK_IN, at="soon")),
    _with(_typed("visit.note", NOTE), occurred_at="2026-11-22T09:15:00\x00-05:00"),
    _with(_typed("visit.note", NOTE), seq=0), _typed("visit.nope", NOTE),
    _typed("visit.note\x00", NOTE), _typed("visit.sign", []),
])
def test_the_other_types_validate_as_the_schemas_alone_do(raw: Any) -> None:
    """Check-ins and outs, notes, signatures (no fast data loader) skip the envelope's
    schema and, when no string is unsafe, the per-field text walk: the same value, or the
    same refusal with the same messages, as the schemas give."""
    checked = validate(copy.deepcopy(raw), DEVICE)
    expected = _schemas_only(copy.deepcopy(raw))
    assert checked == expected
    if isinstance(checked, Valid):
        assert isinstance(expected, Valid)
        assert list(checked.data.items()) == list(expected.data.items())
        assert list(checked.mutation.items()) == list(expected.mutation.items())
