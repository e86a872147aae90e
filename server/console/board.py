"""The coordinator's board: one local day, a lane per nurse, what needs attention.

The page works without script; ``static/board.js`` polls ``/board/stamp`` (no patient data,
no audit event, does not keep the session alive) and re-reads ``/board/lanes`` when the
stamp changes: a device's sync or a new alert shows within seconds without a reload.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask import jsonify, render_template, request, url_for
from werkzeug.wrappers import Response

from server import clock
from server.api.access import access_for
from server.api.board import BOARD_READERS
from server.console import navigation
from server.console.auth import login_required
from server.console.blueprint import bp
from server.errors import Invalid
from server.extensions import current_session
from server.services import board

navigation.add("console.board", "Board", BOARD_READERS, order=10)


def _day() -> date | None:
    """The ``date`` query parameter (the agency's local date), or None for today."""
    text = request.args.get("date", "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("The date must be a calendar date like 2026-11-23.",
                      {"date": ["Not a date."]}) from None


def _read() -> dict[str, Any]:
    return board.board(current_session(), _day(), clock.agency_zone(), access_for())


def _visit_url() -> str:
    """The visit page's URL without its id: the board appends each of its hundreds of ids
    to it, where a ``url_for`` per visit cost more than the rest of the row."""
    placeholder = uuid.UUID(int=0)
    return url_for("console.visit", visit_id=placeholder).removesuffix(str(placeholder))


@bp.get("/board", endpoint="board")
@login_required(*BOARD_READERS)
def board_page() -> str:
    """The day's board, with links to the previous and next day."""
    day = _read()
    return render_template("console/board.html", title="Board", day=day,
                           visit_url=_visit_url(), previous=day["date"] - timedelta(days=1),
                           next=day["date"] + timedelta(days=1))


@bp.get("/board/lanes")
@login_required(*BOARD_READERS, touch=False)
def board_lanes() -> str:
    """The board's body alone, for the page's live updates (an audited read, as the page)."""
    return render_template("console/board_lanes.html", day=_read(), visit_url=_visit_url())


@bp.get("/board/stamp")
@login_required(*BOARD_READERS, touch=False)
def board_stamp() -> Response:
    """Whether the board changed: a fingerprint of the day, without patient data."""
    zone = clock.agency_zone()
    now = clock.now()
    day = _day() or now.astimezone(zone).date()
    return jsonify({"stamp": board.stamp(current_session(), day, zone, now)})
