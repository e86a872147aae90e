"""Fast paths for the visit's own mutations: check-in, check-out, note and signature.

A day's documentation is mostly these and vital signs; marshmallow loading them was the
largest single cost of a push's validation. Same contract as ``schemas.mutations``' fast
paths: each returns exactly what its schema's ``load`` would (same keys, order, values),
or None whenever the input is anything but plainly valid, and the schema then decides
with its own messages. The caller has ruled out unsafe text in the whole input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemas import mutations

_CHECK_FIELDS = mutations.CheckSchema().fields
_CHECK_KEYS = frozenset(_CHECK_FIELDS)
_LOCATION_KEYS = frozenset(mutations.LocationSchema().fields)
_LOCATION_REQUIRED = frozenset({"latitude", "longitude"})
_SIGN_FIELDS = mutations.SignSchema().fields
_SIGN_KEYS = frozenset(_SIGN_FIELDS)
_ATTESTATION = _SIGN_FIELDS["attestation"].load_default
_NOTE_KEYS = frozenset(mutations.NoteSchema().fields)


def _fast_float(value: Any, low: float, high: float) -> float | None:
    """A ``Float`` field with ``Range(low, high)`` given a JSON number; None if not plain
    (strings, booleans, NaN and numbers out of range are the schema's)."""
    kind = type(value)
    if (kind is not int and kind is not float) or not low <= value <= high:
        return None
    return float(value)


def _fast_location(value: Any) -> dict[str, Any] | None:
    if type(value) is not dict or not _LOCATION_REQUIRED <= value.keys() <= _LOCATION_KEYS:
        return None
    latitude = _fast_float(value["latitude"], -90, 90)
    longitude = _fast_float(value["longitude"], -180, 180)
    accuracy = value.get("accuracy_m")
    if accuracy is not None:
        accuracy = _fast_float(accuracy, 0, 100000)
    if latitude is None or longitude is None or (accuracy is None
                                                 and value.get("accuracy_m") is not None):
        return None
    return {"latitude": latitude, "longitude": longitude, "accuracy_m": accuracy}


def fast_check(data: Any) -> dict[str, Any] | None:
    """``CheckSchema().load(data)`` for plainly valid input; None otherwise."""
    if type(data) is not dict or "at" not in data or not data.keys() <= _CHECK_KEYS:
        return None
    at = mutations.fast_aware_datetime(_CHECK_FIELDS["at"], data["at"])
    location = data.get("location")
    if location is not None:
        location = _fast_location(location)
    if at is None or (location is None and data.get("location") is not None):
        return None
    return {"at": at, "location": location}


def fast_sign(data: Any) -> dict[str, Any] | None:
    """``SignSchema().load(data)`` for plainly valid input; None otherwise."""
    if type(data) is not dict or "at" not in data or not data.keys() <= _SIGN_KEYS:
        return None
    at = mutations.fast_aware_datetime(_SIGN_FIELDS["at"], data["at"])
    attestation = data.get("attestation", _ATTESTATION)
    if at is None or type(attestation) is not str or not 1 <= len(attestation) <= 500:
        return None
    return {"at": at, "attestation": attestation}


def fast_note(data: Any) -> dict[str, Any] | None:
    """``NoteSchema().load(data)`` for plainly valid input; None otherwise."""
    if type(data) is not dict or data.keys() != _NOTE_KEYS:
        return None
    category, text = data["category"], data["text"]
    if type(category) is not str or category not in mutations.NOTE_CATEGORIES \
            or type(text) is not str or not 1 <= len(text) <= 20000:
        return None
    return {"category": category, "text": text}


FAST_DATA_LOADERS: dict[str, Callable[[Any], dict[str, Any] | None]] = {
    **mutations.FAST_DATA_LOADERS,
    "visit.check_in": fast_check,
    "visit.check_out": fast_check,
    "visit.note": fast_note,
    "visit.sign": fast_sign,
}
