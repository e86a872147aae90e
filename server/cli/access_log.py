"""gunicorn's access log, with every field escaped: one request is one line, whatever it sent.

gunicorn writes ``PATH_INFO`` (``%(U)s``) percent-decoded and escapes only ``"``: a request
for ``/x%0A{"level":"ERROR"}`` wrote a second, forged line into the log, and ``%00`` a raw
NUL. Here every character outside printable ASCII, and the backslash itself, is written as
an escape (``\\x0a``, ``\\u2028``), the way nginx escapes its access log; ``infusync serve``
hands this class to gunicorn (``--logger-class``).
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger, SafeAtoms


def escape(text: str) -> str:
    """``text`` with ``"``, ``\\`` and everything but printable ASCII escaped."""
    if text.isascii() and text.isprintable() and "\\" not in text and '"' not in text:
        return text  # the usual case, checked at C speed
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
    return "".join(out)


class EscapedAtoms(SafeAtoms):
    """gunicorn's access log fields, each text escaped (gunicorn's own escapes only ``"``)."""

    def __init__(self, atoms: dict[str, Any]) -> None:
        super().__init__({key: escape(value) if isinstance(value, str) else value
                          for key, value in atoms.items()})


class EscapingLogger(Logger):
    """gunicorn's logger, writing the access log with ``EscapedAtoms``."""

    atoms_wrapper_class = EscapedAtoms
