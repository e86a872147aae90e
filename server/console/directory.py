"""The staff directory: names, roles, competencies and training standing, for the people
who assign visits (coordinators) and who keep training (the training lead).

It is the console's way to turn a name into the id an assignment needs; it reads
``services/directory`` (no e-mail, password or second factor, one ``list`` audit event).
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from marshmallow import ValidationError

from schemas.users import ROLES, UserQuerySchema
from server.api.access import access_for
from server.console import navigation, paging
from server.console.auth import login_required
from server.console.blueprint import bp
from server.console.forms import Form, messages_of
from server.extensions import current_session
from server.models import Role
from server.services import directory

DIRECTORY_READERS = (Role.ADMIN, Role.COORDINATOR, Role.TRAINING_LEAD)
navigation.add("console.directory", "Staff", DIRECTORY_READERS, order=40)
LABELS = {"q": "Name", "role": "Role"}


def _filters(search: Form) -> dict[str, Any] | None:
    """The search's filters (a role checked with the API's own list), or None if refused."""
    filters: dict[str, Any] = {}
    if search.values["q"]:
        if len(search.values["q"]) > 100:
            search.add("q", "At most 100 characters.")
        filters["q"] = search.values["q"]
    if search.values["role"]:
        try:
            filters.update(UserQuerySchema().load({"role": search.values["role"]}))
        except ValidationError as error:
            search.errors["role"] = messages_of(error, "role")
    if search.errors:
        search.message = "The search is not right; see below."
        return None
    return filters


@bp.get("/staff", endpoint="directory")
@login_required(*DIRECTORY_READERS)
def directory_page() -> tuple[str, int]:
    """Active staff by name, with a search by name and role."""
    search = Form({"q": request.args.get("q", "").strip(),
                   "role": request.args.get("role", "").strip()})
    filters, number = _filters(search), paging.page_number()
    if filters is None:
        return render_template("console/directory.html", title="Staff", search=search,
                               found=None, roles=ROLES, labels=LABELS), 422
    found = directory.staff_directory(current_session(), filters, access_for(), number,
                                      paging.PAGE_SIZE)
    return render_template("console/directory.html", title="Staff", search=search,
                           found=found, pager=paging.pager(found, number, paging.PAGE_SIZE),
                           roles=ROLES, labels=LABELS), 200
