"""The coordinator's board: a local day of visits per nurse, unassigned visits, alerts."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from schemas.board import BoardQuerySchema, BoardSchema
from server import clock
from server.api.access import access_for
from server.api.blueprint import Blueprint
from server.api.guards import roles_required
from server.extensions import current_session
from server.models import Role
from server.services import board

blp = Blueprint("board", __name__, url_prefix="/board", description="Coordinator's board")

# QC reads the board to follow up; only coordinators and admins act on it.
BOARD_READERS = (Role.ADMIN, Role.COORDINATOR, Role.QC)


@blp.route("")
class Board(MethodView):
    """One day of the agency's schedule."""

    @roles_required(*BOARD_READERS)
    @blp.arguments(BoardQuerySchema, location="query")
    @blp.response(200, BoardSchema)
    @blp.doc(summary="Per nurse, the day's visits in time order with status, EVV state and "
                     "last device sync; unassigned visits; open review counts by severity; "
                     "open scheduling alerts. date is the agency's local date (default today)")
    def get(self, query: dict[str, Any]) -> Any:
        return board.board(current_session(), query.get("date"), clock.agency_zone(), access_for())
