"""The visit's fast paths (check-in/out, note, signature) load what the schemas load, or
step aside: they may never refuse, nor accept what the schema refuses."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from marshmallow import ValidationError

from schemas.base import unsafe_text
from schemas.fast_visit_data import fast_check, fast_note, fast_sign
from schemas.mutations import CheckSchema, NoteSchema, SignSchema
from server.services.push.validation import Refused, Valid, validate
from sync import ledger

DEVICE = uuid.UUID("00000000-0000-4000-8000-000000000001")
AT = "2026-11-22T09:15:00-05:00"
HOME = {"latitude": 40.7128, "longitude": -74.006, "accuracy_m": 12.5}
CHECK = {"at": AT, "location": HOME}
NOTE = {"category": "assessment", "text": "Site clean, dry and intact."}
SIGN = {"at": AT, "attestation": "I attest that this documentation is accurate."}
MISSING = object()


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(base)
    for key, value in changes.items():
        if value is MISSING:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def _home(**changes: Any) -> dict[str, Any]:
    return _with(HOME, **changes)


CHECK_CASES: list[Any] = [
    CHECK, _with(CHECK, location=None), _with(CHECK, location=MISSING),
    _with(CHECK, location=_home(accuracy_m=None)), _with(CHECK, location=_home(accuracy_m=MISSING)),
    _with(CHECK, location=_home(accuracy_m=0)), _with(CHECK, location=_home(accuracy_m=100000)),
    _with(CHECK, location=_home(accuracy_m=100000.5)), _with(CHECK, location=_home(accuracy_m=-1)),
    _with(CHECK, location=_home(latitude=90)), _with(CHECK, location=_home(latitude=90.01)),
    _with(CHECK, location=_home(latitude=-91)), _with(CHECK, location=_home(longitude=180)),
    _with(CHECK, location=_home(longitude=-180.5)), _with(CHECK, location=_home(latitude="40")),
    _with(CHECK, location=_home(latitude=True)), _with(CHECK, location=_home(latitude=None)),
    _with(CHECK, location=_home(latitude=float("nan"))),
    _with(CHECK, location=_home(longitude=float("inf"))), _with(CHECK, location=_home(x=1)),
    _with(CHECK, location=_home(latitude=MISSING)), _with(CHECK, location=_home(latitude=10**400)),
    _with(CHECK, location=[]), _with(CHECK, location="home"), _with(CHECK, location={}),
    _with(CHECK, at="2026-11-22T09:15:00"), _with(CHECK, at="yesterday"),
    _with(CHECK, at=None), _with(CHECK, at=MISSING), _with(CHECK, at=20261122),
    _with(CHECK, extra=1), {}, [], None, "x",
]
NOTE_CASES: list[Any] = [
    NOTE, _with(NOTE, category="teaching"), _with(NOTE, category="gossip"),
    _with(NOTE, category=None), _with(NOTE, category=MISSING), _with(NOTE, text=""),
    _with(NOTE, text="x" * 20000), _with(NOTE, text="x" * 20001), _with(NOTE, text=None),
    _with(NOTE, text=12), _with(NOTE, text=MISSING), _with(NOTE, extra=1),
    _with(NOTE, text="Tab\tand\nnew line"), {}, [], None,
]
SIGN_CASES: list[Any] = [
    SIGN, _with(SIGN, attestation=MISSING), _with(SIGN, attestation=""),
    _with(SIGN, attestation="a" * 500), _with(SIGN, attestation="a" * 501),
    _with(SIGN, attestation=None), _with(SIGN, attestation=1), _with(SIGN, at=None),
    _with(SIGN, at=MISSING), _with(SIGN, at="2026-11-22"), _with(SIGN, extra=1), {}, [], None,
]
CASES = [*((fast_check, CheckSchema, c) for c in CHECK_CASES),
         *((fast_note, NoteSchema, c) for c in NOTE_CASES),
         *((fast_sign, SignSchema, c) for c in SIGN_CASES)]


def _schema_load(schema: Any, data: Any) -> Any:
    try:
        return schema.load(data)
    except ValidationError:
        return None


@pytest.mark.parametrize(("fast", "schema", "data"), CASES)
def test_fast_visit_data_loads_what_the_schema_loads_or_steps_aside(
        fast: Any, schema: Any, data: Any) -> None:
    loaded = fast(copy.deepcopy(data))
    if loaded is None or unsafe_text(data):
        return
    expected = _schema_load(schema(), copy.deepcopy(data))
    assert expected is not None, "the fast path accepted what the schema refuses"
    assert list(loaded.items()) == list(expected.items())
    assert [type(v) for v in loaded.values()] == [type(v) for v in expected.values()]
    if isinstance(loaded.get("location"), dict):
        assert list(loaded["location"].items()) == list(expected["location"].items())


def test_the_usual_documentation_takes_the_fast_path() -> None:
    for fast, data in ((fast_check, CHECK), (fast_check, _with(CHECK, location=None)),
                       (fast_note, NOTE), (fast_sign, SIGN),
                       (fast_sign, _with(SIGN, attestation=MISSING))):
        assert fast(copy.deepcopy(data)) is not None


KINDS = {"visit.check_in": (CheckSchema, CHECK_CASES), "visit.check_out": (CheckSchema, [CHECK]),
         "visit.note": (NoteSchema, NOTE_CASES), "visit.sign": (SignSchema, SIGN_CASES)}


def _mutation(kind: str, data: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "seq": 3, "type": kind, "entity_id": str(uuid.uuid4()),
            "visit_id": str(uuid.uuid4()), "base_version": None, "occurred_at": AT,
            "data": data}


@pytest.mark.parametrize("raw", [
    *(_mutation(kind, data) for kind, (_s, cases) in KINDS.items() for data in cases),
    _mutation("visit.note", _with(NOTE, text="Bad\x00text")),
    _mutation("visit.note", _with(NOTE, text="Lone \udc80 surrogate")),
    _mutation("visit.check_in", _with(CHECK, at=AT + "\x1b")),
])
def test_validate_gives_the_same_value_as_the_schemas_alone(raw: Any) -> None:
    checked = validate(copy.deepcopy(raw), DEVICE)
    schema = KINDS[raw["type"]][0]
    data = _schema_load(schema(), copy.deepcopy(raw["data"]))
    if data is None:
        assert isinstance(checked, Refused) and checked.errors
        return
    assert isinstance(checked, Valid)
    assert list(checked.data.items()) == list(data.items())
    assert checked.digest == ledger.content_hash(DEVICE, raw)
