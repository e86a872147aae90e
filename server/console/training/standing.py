"""The standing matrix: nurses by modules, overdue marked, and its CSV download
(``server.training.report``, as ``GET /api/v1/training/status`` and ``status.csv``)."""

from __future__ import annotations

from flask import Response, render_template

from server.api.access import access_for
from server.api.training import READERS
from server.console import navigation
from server.console.auth import login_required
from server.console.blueprint import bp
from server.extensions import current_session
from server.training import report

navigation.add("console.training_matrix", "Training standing", READERS, order=65)


@bp.get("/training/matrix", endpoint="training_matrix")
@login_required(*READERS)
def training_matrix() -> str:
    """Each nurse's state on each published module she owes (one audited read)."""
    grid = report.matrix(report.rows(current_session(), {}, access_for()))
    return render_template("console/training/matrix.html", title="Training standing",
                           grid=grid)


@bp.get("/training/matrix.csv", endpoint="training_matrix_csv")
@login_required(*READERS)
def training_matrix_csv() -> Response:
    """The same standing as CSV, one row per nurse and module, for the surveyor."""
    rows = report.rows(current_session(), {}, access_for())
    return Response(report.to_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="training-status.csv"'})
