"""Setting up a second factor at sign-in, for a role that requires one (admins): the same
services as /auth/mfa/enroll and /auth/mfa/confirm.

The secret is shown once, after a POST (showing it is not a GET's side effect); the first
code confirms it, signs in, and shows the recovery codes once, on the confirming POST's
own page: they are never stored where a reload or the history could show them again.
"""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from server import clock
from server.api.guards import request_actor, token_policy
from server.api.mfa_settings import mfa_settings
from server.console.auth import set_session_cookie
from server.console.blueprint import bp
from server.console.forms import Form
from server.console.login import ENROLLING
from server.errors import AppError
from server.extensions import current_session
from server.services.mfa import login as mfa_login

ENDED = ("mfa_token_invalid", "mfa_token_expired")


def _page(form: Form, status: int = 200, **shown: object) -> tuple[str, int]:
    return render_template("console/login_enroll.html", title="Set up a second factor",
                           form=form, **shown), status


def _held() -> str | None:
    held = session.get(ENROLLING)
    return held if isinstance(held, str) else None


@bp.get("/login/enroll")
def login_enroll() -> Response | tuple[str, int]:
    """Why a second factor is needed, and the button that makes the secret."""
    if _held() is None:
        return redirect(url_for("console.login"))
    return _page(Form())


@bp.post("/login/enroll")
def login_enroll_post() -> Response | tuple[str, int]:
    """A new secret (shown once; asking again replaces it) and the form for its first code."""
    held = _held()
    if held is None:
        return redirect(url_for("console.login"))
    form = Form()
    try:
        made = mfa_login.enroll(current_session(), held, mfa_settings(), request_actor(),
                                clock.now())
    except AppError as error:
        if error.code in ENDED:
            session.pop(ENROLLING, None)
        form.refuse(error)
        return _page(form, error.status)
    return _page(form, secret=made.secret, uri=made.otpauth_uri)


@bp.post("/login/enroll/confirm")
def login_enroll_confirm() -> Response | tuple[str, int]:
    """The first code: the factor is on, she is signed in, her recovery codes shown once."""
    held = _held()
    if held is None:
        return redirect(url_for("console.login"))
    form = Form.of(request.form, "code")
    code = request.form.get("code", "").strip()
    if not code:
        form.add("code", "Enter the 6-digit code your authenticator app shows.")
        return _page(form, 422, confirming=True)
    try:
        done = mfa_login.confirm(current_session(), held, code, mfa_settings(),
                                 request_actor(), clock.now(), token_policy())
    except AppError as error:
        if error.code in ENDED:
            session.pop(ENROLLING, None)
        form.refuse(error)
        form.add("code", error.message)
        return _page(form, error.status, confirming=True)
    session.pop(ENROLLING, None)
    page, status = render_template("console/login_recovery.html", title="Recovery codes",
                                   codes=done.recovery_codes), 200
    response = Response(page, status, mimetype="text/html")
    set_session_cookie(response, done.login.token, done.login.expires_at)
    return response
