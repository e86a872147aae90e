"""Compressed push plaintexts (protocol v1.1, "Compressed bodies" in docs/protocol.md).

A device compresses the batch's JSON *before* sealing it, since ciphertext does not
compress; the push envelope declares it with ``"encoding": "zlib"`` (RFC 1950). The server
advertises the encodings it reads (``push_encodings`` beside its keys), so a v1 device,
which never declares one, keeps sending plain JSON. Inflating is bounded: a small sealed
body must not become gigabytes in the server's memory (a decompression bomb).
"""

from __future__ import annotations

import zlib

ZLIB = "zlib"
# What this server reads, in order of preference; advertised to devices.
ENCODINGS = (ZLIB,)
# JSON of a batch compresses about as well at 6 as at 9, at half the device's CPU.
LEVEL = 6


class CompressionError(ValueError):
    """Base of the refusals below, so callers can tell them from other failures."""


class InflatedTooLarge(CompressionError):
    """The compressed plaintext inflates beyond the limit: refused before it is all read."""


class NotCompressed(CompressionError):
    """The plaintext declared compressed is not one whole zlib stream."""


def compress(plaintext: bytes) -> bytes:
    """The plaintext as one zlib stream, ready to seal."""
    return zlib.compress(plaintext, LEVEL)


def inflate(data: bytes, limit: int) -> bytes:
    """The plaintext of one zlib stream, never more than ``limit`` bytes of it in memory.

    ``max_length`` stops the inflater one byte past the limit, so a bomb costs the server
    ``limit`` bytes, not what it would have become.
    """
    inflater = zlib.decompressobj()
    try:
        plaintext = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise NotCompressed("the plaintext is not a zlib stream") from exc
    if len(plaintext) > limit or inflater.unconsumed_tail:
        raise InflatedTooLarge(f"the plaintext inflates beyond {limit} bytes")
    if not inflater.eof or inflater.unused_data:
        raise NotCompressed("the zlib stream is truncated or followed by other bytes")
    return plaintext
