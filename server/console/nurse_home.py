"""The nurse's first page: her visits today and the next 7 days, her devices and the
training she owes (``services/home/nurse.py``). Read-only: she works in her app."""

from __future__ import annotations

from flask import render_template

from server import clock
from server.api.access import access_for
from server.console import navigation
from server.console.auth import current_user, login_required
from server.console.blueprint import bp
from server.extensions import current_session
from server.models import Role
from server.services.home import nurse

NURSE = (Role.NURSE,)
navigation.add("console.my_week", "My week", NURSE, order=5)


@bp.get("/my-week", endpoint="my_week")
@login_required(*NURSE)
def my_week() -> str:
    """Her own visits, devices and training due (three audited lists, as the API's)."""
    home = nurse.nurse_home(current_session(), current_user(), access_for(),
                            clock.agency_zone())
    return render_template("console/my_week.html", title="My week", home=home)
