"""A console list a page at a time: the ``page`` query parameter, checked, and what the
``pagination`` macro (templates/console/macros.html) shows of the page.

The rows come from the services the API pages with (``page``, ``page_size``, a ``Page`` of
items and total): this module only reads the number and describes the result. A number
that is not one, or past the last page, is refused with its own message (400 or 404 page)
rather than quietly shown as page 1: a bookmark or a hand-typed link then says what went
wrong instead of showing rows the reader did not ask for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import request

from server.errors import AppError, NotFound
from server.services.records import MAX_PAGE, Page

PAGE_SIZE = 50
# Query parameters that are not filters: the page itself and a one-off notice.
NOT_KEPT = ("page", "done")


class BadPage(AppError):
    """A ``page`` that is not a whole number from 1."""

    code = "bad_page"


@dataclass(frozen=True)
class Pager:
    """Where a list page stands: its number, size and rows, the total when counted, and
    the filters its Previous / Next links keep."""

    number: int
    size: int
    shown: int
    total: int | None
    more: bool
    query: dict[str, list[str]] = field(default_factory=dict)

    @property
    def first(self) -> int:
        """The position of the page's first row in the whole list (1-based)."""
        return (self.number - 1) * self.size + 1

    @property
    def last(self) -> int:
        """The position of the page's last row."""
        return self.first + self.shown - 1

    @property
    def pages(self) -> int | None:
        """How many pages the list has, when it was counted."""
        return None if self.total is None else max(1, -(-self.total // self.size))


def page_number() -> int:
    """The request's ``page`` (1 when absent); anything else than 1 … MAX_PAGE is refused."""
    text = request.args.get("page", "").strip()
    if not text:
        return 1
    if not (text.isascii() and text.isdigit()) or not text.strip("0"):
        raise BadPage(f'There is no page "{text[:20]}": a page is a whole number from 1.')
    # Length first: int() of thousands of digits is refused by Python itself (a 500).
    if len(text.lstrip("0")) > len(str(MAX_PAGE)) or int(text) > MAX_PAGE:
        raise BadPage(f"There is no page {text[:20]}: the page number is too large.")
    return int(text)


def kept_query() -> dict[str, list[str]]:
    """The request's filters, as typed, for the links to the other pages."""
    return {name: request.args.getlist(name) for name in request.args if name not in NOT_KEPT}


def pager(found: Page, number: int, size: int) -> Pager:
    """The counted ``found`` page ``number``; a page past the last one is a 404."""
    described = Pager(number, size, len(found.items), found.total,
                      found.total > number * size, kept_query())
    if number > 1 and not found.items:
        raise NotFound(f"There is no page {number}: this list has {described.pages} "
                       f"page{'s' if described.pages != 1 else ''}. Go back to page 1.")
    return described

