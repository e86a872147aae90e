"""The console's front door: the first page of the signed-in user's navigation."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from werkzeug.wrappers import Response

from server.console import navigation
from server.console.auth import current_user, login_required
from server.console.blueprint import bp


@bp.get("/")
@login_required()
def home() -> Response | str:
    """Go to the role's first page; a role with no page yet gets a page saying so."""
    items = navigation.items_for(current_user().role)
    if items:
        return redirect(url_for(items[0].endpoint))
    return render_template("console/home.html")
