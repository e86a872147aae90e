"""The push envelope's fields (ids, base64url), and the refusal a malformed one earns.

A malformed envelope — an id that is no UUID, base64 with padding or the standard alphabet,
a signature of the wrong length — is a client's formatting slip, not a forgery: it is
refused here with its own code and a message for a person, before any signature is
checked, so it is never recorded as a security event (docs/protocol.md, Push, Errors).
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields

# RFC 9562 §4: the 8-4-4-4-12 hex form, read in either case. Braces, "urn:uuid:" and the
# 32-digit form that Python's uuid.UUID also takes are refused: one id, one spelling rule.
UUID_TEXT = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")
_B64U_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

UUID_MESSAGE = ("Not a UUID: 36 characters, hexadecimal digits in groups of 8-4-4-4-12 "
                "joined by hyphens, in either case.")
PADDED_MESSAGE = "Base64url without padding: remove the trailing '=' characters."
ALPHABET_MESSAGE = ("Not base64url: use the URL-safe alphabet (A-Z a-z 0-9 - _), not '+' or "
                    "'/', with no padding, spaces or line breaks.")
NONCANONICAL_MESSAGE = ("Not canonical base64url: the unused low bits of the last character "
                        "must be zero.")

MALFORMED = ("malformed_envelope",
             "The push body is not a well-formed envelope; details names each field.")
PADDED = ("base64_padded",
          "sealed and signature are base64url without padding: remove the trailing '='.")
NOT_BASE64URL = ("base64_invalid",
                 "sealed and signature are base64url: the URL-safe alphabet ('-' and '_'), "
                 "no padding, no spaces.")
_ENCODING_MESSAGES = {PADDED_MESSAGE: PADDED, ALPHABET_MESSAGE: NOT_BASE64URL,
                      NONCANONICAL_MESSAGE: NOT_BASE64URL}


UUID_DOC = {"format": "uuid", "pattern": f"^{UUID_TEXT.pattern}$", "description": (
    "A UUID in either case; signed and sealed in its lowercase form")}


def base64url_doc(what: str) -> dict[str, str]:
    """The OpenAPI metadata of a base64url field holding ``what``."""
    return {"pattern": "^[A-Za-z0-9_-]+$",
            "description": f"{what}; base64url without padding (RFC 4648 §5)"}


class UuidText(fields.String):
    """A UUID, kept as sent: the envelope code reads it in its canonical (lowercase) form."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        if not UUID_TEXT.fullmatch(text):
            raise ValidationError(UUID_MESSAGE)
        return text


class Base64Url(fields.String):
    """Binary data as base64url without padding, checked to decode to the right length."""

    def __init__(self, *, length: int | None = None, min_length: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.length, self.min_length = length, min_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        size = _decoded_size(text)
        if self.length is not None and size != self.length:
            raise ValidationError(
                f"Must be {self.length} bytes ({_chars(self.length)} base64url characters); "
                f"this is {size}.")
        if size < self.min_length:
            raise ValidationError(
                f"Too short: at least {self.min_length} bytes ({_chars(self.min_length)} "
                f"base64url characters); this is {size}.")
        return text


def _chars(size: int) -> int:
    """How many base64url characters, without padding, encode ``size`` bytes."""
    return (size * 4 + 2) // 3


# The value of each base64url character; the last one of a text whose length is 2 or 3
# modulo 4 carries 4 or 2 unused low bits, which must be zero for the encoding to be the
# only one of its bytes.
_B64U_VALUES = {chr(char): value for value, char in enumerate(_B64U_ALPHABET)}
_UNUSED_BITS = {0: 0, 2: 0b1111, 3: 0b11}


def _is_base64url(text: str) -> bool:
    """Only characters of the base64url alphabet (bytes.translate: a regular expression
    took half a millisecond over a 60 kB batch, a third of the whole body's check)."""
    return text.isascii() and not text.encode("ascii").translate(None, _B64U_ALPHABET)


def _decoded_size(text: str) -> int:
    """How many bytes canonical base64url text holds, without decoding it (a sealed batch
    may be megabytes, decoded once when it opens); a ValidationError naming what is wrong."""
    if not _is_base64url(text):
        unpadded = text.rstrip("=")
        padded_only = unpadded != text and _is_base64url(unpadded)
        raise ValidationError(PADDED_MESSAGE if padded_only else ALPHABET_MESSAGE)
    tail = len(text) % 4
    if tail == 1 or (tail and _B64U_VALUES[text[-1]] & _UNUSED_BITS[tail]):
        raise ValidationError(NONCANONICAL_MESSAGE)
    return len(text) * 3 // 4


def _messages(messages: Any) -> list[str]:
    """Every message in marshmallow's nested ``{field: [message]}``, flattened."""
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, dict):
        return [one for value in messages.values() for one in _messages(value)]
    if isinstance(messages, list):
        return [one for value in messages for one in _messages(value)]
    return []


def refusal(messages: Any) -> tuple[str, str]:
    """The code and message of a refused envelope: padding (or another base64 slip) has its
    own when it is the only problem; anything else is ``malformed_envelope``."""
    kinds = {_ENCODING_MESSAGES.get(message, MALFORMED) for message in _messages(messages)}
    if not kinds or MALFORMED in kinds:
        return MALFORMED
    return NOT_BASE64URL if NOT_BASE64URL in kinds else PADDED
