"""The recall list: a CSV naming pumps by serial or UDI-DI, parsed or refused line by line.

Columns (a header row first, names in any order and case): ``serial`` and/or ``udi_di``
(at least one of the two columns, and on each row at least one of the two values),
optional ``recall_number`` and ``reason``. Blank rows are skipped. A row that names a
serial and a UDI-DI means that pump, and its UDI-DI must be the registry's.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from server.errors import AppError, Invalid

IDENTIFIERS = ("serial", "udi_di")
COLUMNS = (*IDENTIFIERS, "recall_number", "reason")
LIMITS = {"serial": 60, "udi_di": 60, "recall_number": 60, "reason": 300}
MAX_REPORTED = 100  # lines with errors listed in one refusal


class UnsupportedRecallList(AppError):
    """A body that is not a CSV file (text/csv, or multipart/form-data with ``file``)."""

    status = 415
    code = "unsupported_media_type"


@dataclass(frozen=True)
class RecallRow:
    """One row of the list, with its line number in the file (the header is line 1)."""

    line: int
    serial: str | None
    udi_di: str | None
    recall_number: str | None
    reason: str | None


@dataclass
class LineErrors:
    """What is wrong, line by line; the whole list is refused when any line has errors."""

    by_line: dict[int, list[str]]

    def add(self, line: int, message: str) -> None:
        """Note one error on ``line``."""
        self.by_line.setdefault(line, []).append(message)

    def refusal(self) -> Invalid:
        """The 422 naming each line (the first ``MAX_REPORTED``); nothing was applied."""
        lines = sorted(self.by_line)
        shown = ", ".join(map(str, lines[:10])) + (", ..." if len(lines) > 10 else "")
        return Invalid(
            f"The recall list has errors on line(s) {shown}; nothing was applied. Correct "
            "the file and import it again.",
            {"lines": [{"line": line, "messages": self.by_line[line]}
                       for line in lines[:MAX_REPORTED]]})


def decode(data: bytes) -> str:
    """The file as text: UTF-8, with or without a byte-order mark."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_text(data[:exc.start].count(b"\n") + 1, "Not UTF-8 text.") from exc
    if "\x00" in text:  # no database stores it, and no pump identifier holds it
        raise _not_text(text[:text.index("\x00")].count("\n") + 1,
                        "A NUL (\\u0000) character.")
    return text


def _not_text(line: int, message: str) -> Invalid:
    return Invalid(f"The recall list cannot be read (line {line}: {message}); nothing was "
                   "applied. Save it as UTF-8 CSV and import it again.",
                   {"lines": [{"line": line, "messages": [message]}]})


def _header(cells: list[str], errors: LineErrors) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    for name in names:
        if name not in COLUMNS:
            errors.add(1, f"Unknown column {name!r}; the columns are {', '.join(COLUMNS)}.")
        elif names.count(name) > 1:
            errors.add(1, f"Column {name!r} appears more than once.")
    if not set(IDENTIFIERS) & set(names):
        errors.add(1, "The header names neither a serial nor a udi_di column.")
    return names


def _row(line: int, names: list[str], cells: list[str], errors: LineErrors) -> RecallRow | None:
    if len(cells) > len(names):
        errors.add(line, f"{len(cells)} cells, but the header names {len(names)} columns.")
        return None
    values = {name: cell.strip() or None for name, cell in zip(names, cells, strict=False)}
    if not any(values.values()):
        return None  # a blank row
    for name, limit in LIMITS.items():
        if len(values.get(name) or "") > limit:
            errors.add(line, f"{name} is longer than {limit} characters.")
    if not (values.get("serial") or values.get("udi_di")):
        errors.add(line, "Give the pump's serial or its udi_di.")
    if line in errors.by_line:
        return None  # not looked up: one message per mistake
    return RecallRow(line, values.get("serial"), values.get("udi_di"),
                     values.get("recall_number"), values.get("reason"))


def parse(text: str, errors: LineErrors) -> list[RecallRow]:
    """The rows of the list; what is malformed goes to ``errors`` with its line number."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[RecallRow] = []
    names: list[str] | None = None
    try:
        for cells in reader:
            if names is None:
                names = _header(cells, errors)
            elif (row := _row(reader.line_num, names, cells, errors)) is not None:
                rows.append(row)
    except csv.Error as exc:
        errors.add(reader.line_num or 1, f"Not readable as CSV: {exc}.")
    if names is None:
        errors.add(1, "The file is empty: a header row, then a row per pump.")
    elif not rows and not errors.by_line:
        errors.add(2, "The list names no pump.")
    return rows
