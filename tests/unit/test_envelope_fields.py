"""The push envelope's fields agree with the envelope code on what base64url is."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from schemas.envelope_fields import (
    ALPHABET_MESSAGE,
    NONCANONICAL_MESSAGE,
    PADDED_MESSAGE,
    Base64Url,
    refusal,
)
from sync import envelope

B64U = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
               max_size=16)


@given(B64U)
def test_a_value_is_accepted_exactly_when_the_envelope_decodes_it(text: str) -> None:
    try:
        expected: int | None = len(envelope.b64u_decode(text))
    except envelope.InvalidBase64:
        expected = None
    try:
        Base64Url(length=expected if expected is not None else 0).deserialize(text)
        accepted = True
    except ValidationError as error:
        assert error.messages == [NONCANONICAL_MESSAGE]
        accepted = False
    assert accepted == (expected is not None)


@pytest.mark.parametrize(("text", "message"), [
    ("AAE=", PADDED_MESSAGE), ("AA==", PADDED_MESSAGE), ("AA+/", ALPHABET_MESSAGE),
    ("AA+=", ALPHABET_MESSAGE), ("AA A", ALPHABET_MESSAGE), ("AB", NONCANONICAL_MESSAGE),
    ("A", NONCANONICAL_MESSAGE),
])
def test_each_slip_is_named(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Base64Url().deserialize(text)
    assert caught.value.messages == [message]


def test_padding_alone_has_its_own_code_and_anything_else_wins() -> None:
    assert refusal({"sealed": [PADDED_MESSAGE], "signature": [PADDED_MESSAGE]})[0] == \
        "base64_padded"
    assert refusal({"sealed": [PADDED_MESSAGE], "signature": [ALPHABET_MESSAGE]})[0] == \
        "base64_invalid"
    assert refusal({"sealed": [PADDED_MESSAGE], "extra": ["Unknown field."]})[0] == \
        "malformed_envelope"
