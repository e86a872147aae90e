"""Staff accounts: the list, a new account, roles and competencies, deactivation and a
password reset (``services.users``, as ``/api/v1/users``)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from schemas.users import COMPETENCIES, ROLES, UserCreateSchema, UserUpdateSchema
from server.api.access import access_for
from server.console import navigation, paging
from server.console.admin.common import ADMIN, PAGE_SIZE, form_version
from server.console.auth import login_required
from server.console.blueprint import bp
from server.console.forms import Form
from server.errors import AppError
from server.extensions import current_session
from server.services import users

navigation.add("console.users", "Users", ADMIN, order=70)
LABELS = {"name": "Name", "email": "Email", "role": "Role", "competencies": "Competencies",
          "npi": "NPI", "password": "Password", "active": "Account"}
FIELDS = {name: name for name in LABELS}
DONE = {"created": "The account is created.", "updated": "The account is changed.",
        "password": "The password is reset; the account's sessions have ended."}


def _submitted() -> tuple[Form, dict[str, Any]]:
    """The form as typed (password never re-shown) and the data the API's schema loads."""
    form = Form.of(request.form, "password")
    data: dict[str, Any] = {key: request.form.get(key, "") for key in ("name", "email", "role")}
    data["competencies"] = request.form.getlist("competencies")
    form.values["competencies"] = ",".join(data["competencies"])
    npi = request.form.get("npi", "").strip()
    data["npi"] = npi or None
    return form, data


def _list(form: Form, status: int = 200) -> tuple[str, int]:
    number = paging.page_number()
    found = users.list_users(current_session(), {}, access_for(), number, PAGE_SIZE)
    return render_template("console/admin/users.html", title="Users", page=found, form=form,
                           pager=paging.pager(found, number, PAGE_SIZE),
                           labels=LABELS, roles=ROLES, competencies=COMPETENCIES,
                           done=DONE.get(request.args.get("done", ""))), status


@bp.get("/admin/users", endpoint="users")
@login_required(*ADMIN)
def users_page() -> tuple[str, int]:
    """Every staff account, by name, and the form for a new one."""
    return _list(Form())


@bp.post("/admin/users")
@login_required(*ADMIN)
def user_create() -> Response | tuple[str, int]:
    """A new account: the API's schema, then its service (a taken email is a 409)."""
    form, data = _submitted()
    data["password"] = request.form.get("password", "")
    loaded = form.load(UserCreateSchema(), data, FIELDS)
    if loaded is None:
        return _list(form, 422)
    try:
        users.create_user(current_session(), loaded, access_for())
    except AppError as error:
        form.refuse(error, FIELDS)
        return _list(form, error.status)
    return redirect(url_for("console.users", done="created"))


def _user_page(user_id: uuid.UUID, forms: dict[str, Form], status: int = 200) -> tuple[str, int]:
    user = users.get_user(current_session(), user_id, access_for())
    refused = next((form for form in forms.values() if form.refused), None)
    return render_template("console/admin/user.html", title=f"User {user.name}", account=user,
                           forms=forms, refused=refused, labels=LABELS, roles=ROLES,
                           competencies=COMPETENCIES,
                           done=DONE.get(request.args.get("done", ""))), status


@bp.get("/admin/users/<uuid:user_id>", endpoint="user")
@login_required(*ADMIN)
def user_page(user_id: uuid.UUID) -> tuple[str, int]:
    """One account: its role, competencies and state, and a password reset."""
    return _user_page(user_id, {})


def _update(user_id: uuid.UUID, name: str, form: Form,
            data: dict[str, Any]) -> Response | tuple[str, int]:
    """Change the account through the API's PATCH rules (schema, then service)."""
    version = form_version(form)
    loaded = form.load(UserUpdateSchema(partial=True), data, FIELDS) if version else None
    if loaded is None:
        return _user_page(user_id, {name: form}, 422)
    try:
        users.update_user(current_session(), user_id, loaded, version, access_for())
    except AppError as error:
        form.refuse(error, FIELDS)
        return _user_page(user_id, {name: form}, error.status)
    done = "password" if name == "password" else "updated"
    return redirect(url_for("console.user", user_id=user_id, done=done))


@bp.post("/admin/users/<uuid:user_id>")
@login_required(*ADMIN)
def user_update(user_id: uuid.UUID) -> Response | tuple[str, int]:
    """Name, email, role, competencies, NPI and whether the account is active."""
    form, data = _submitted()
    data["active"] = request.form.get("active", "") == "yes"
    return _update(user_id, "account", form, data)


@bp.post("/admin/users/<uuid:user_id>/password")
@login_required(*ADMIN)
def user_password(user_id: uuid.UUID) -> Response | tuple[str, int]:
    """Set a new password; every session of the account ends (the service does it)."""
    form = Form.of(request.form, "password")
    return _update(user_id, "password", form, {"password": request.form.get("password", "")})
