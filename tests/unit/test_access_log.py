"""The access log's escaping: printable ASCII as it is, everything else as an escape."""

from __future__ import annotations

import pytest

from server.cli.access_log import EscapedAtoms, escape


@pytest.mark.parametrize(("text", "logged"), [
    ("/api/v1/patients", "/api/v1/patients"),
    ("/x\n{\"level\":\"ERROR\"}", '/x\\x0a{\\"level\\":\\"ERROR\\"}'),
    ("/nul\x00/del\x7f/c1\x85", "/nul\\x00/del\\x7f/c1\\x85"),
    ("/caf\xe9", "/caf\\xe9"),  # WSGI paths are latin-1: the raw byte 0xe9
    ("/line\u2028sep/\U0001f642", "/line\\u2028sep/\\U0001f642"),
    ("/back\\slash\\x0a", "/back\\\\slash\\\\x0a"),  # a literal backslash never reads as one
])
def test_escape(text: str, logged: str) -> None:
    assert escape(text) == logged


def test_every_text_atom_is_escaped_and_numbers_kept() -> None:
    atoms = EscapedAtoms({"U": "/a\nb", "h": "127.0.0.1", "B": 12, "{user-agent}i": "x\ry"})
    assert (atoms["U"], atoms["h"], atoms["B"], atoms["{User-Agent}i"]) == (
        "/a\\x0ab", "127.0.0.1", 12, "x\\x0dy")
