"""Inflating a pushed plaintext: whole streams only, never past the limit."""

import zlib

import pytest

from sync import compression


def test_round_trip():
    plaintext = b'{"mutations": []}' * 50
    assert compression.inflate(compression.compress(plaintext), 10_000) == plaintext


def test_exactly_the_limit_inflates():
    assert compression.inflate(zlib.compress(b"x" * 1000), 1000) == b"x" * 1000


def test_one_byte_over_the_limit_is_refused():
    with pytest.raises(compression.InflatedTooLarge):
        compression.inflate(zlib.compress(b"x" * 1001), 1000)


def test_truncated_stream_is_refused():
    with pytest.raises(compression.NotCompressed):
        compression.inflate(zlib.compress(b"x" * 1000)[:-3], 10_000)


def test_bytes_after_the_stream_are_refused():
    with pytest.raises(compression.NotCompressed):
        compression.inflate(zlib.compress(b"{}") + b"{}", 10_000)


def test_plain_json_is_refused():
    with pytest.raises(compression.NotCompressed):
        compression.inflate(b'{"mutations": []}', 10_000)
