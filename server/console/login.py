"""Signing in to the console (password, then a TOTP code when the account has one) and out.

The same services as the API's /auth/login and /auth/login/mfa: the same throttle, the same
audit events, the same refusals, shown as form errors.
"""

from __future__ import annotations

from flask import redirect as flask_redirect
from flask import render_template, request, session, url_for
from werkzeug.wrappers import Response

from server import clock
from server.api.guards import current_token, request_actor, token_policy
from server.api.mfa_settings import mfa_settings
from server.console.auth import (
    clear_session_cookie,
    login_required,
    safe_next,
    set_session_cookie,
    signed_in,
)
from server.console.blueprint import bp
from server.console.forms import Form
from server.errors import AppError
from server.extensions import current_session
from server.services import sessions
from server.services.mfa import login as mfa_login
from server.services.mfa.challenges import HeldLogin

HELD = "console_mfa_token"  # the held login's mfa_token, in Flask's signed session cookie
ENROLLING = "console_mfa_enroll_token"  # the same for a login held for enrollment


def _signed_in_redirect(result: sessions.LoginResult) -> Response:
    target = safe_next(request.args.get("next")) or url_for("console.home")
    response = flask_redirect(target)
    set_session_cookie(response, result.token, result.expires_at)
    return response


def _login_page(form: Form, status: int = 200) -> tuple[str, int]:
    return render_template("console/login.html", form=form), status


@bp.get("/login")
def login() -> Response | tuple[str, int]:
    """The login form (straight to the console when already signed in)."""
    if signed_in() is not None:
        return flask_redirect(url_for("console.home"))
    return _login_page(Form())


@bp.post("/login")
def login_post() -> Response | tuple[str, int]:
    """Check the password; sign in, or hold at the second factor, or show why not."""
    form = Form.of(request.form, "password")
    email, password = request.form.get("email", ""), request.form.get("password", "")
    if not email.strip():
        form.add("email", "Enter your email address.")
    if not password:
        form.add("password", "Enter your password.")
    if form.refused:
        return _login_page(form, 422)
    db, actor, now = current_session(), request_actor(), clock.now()
    try:
        result = sessions.login(db, email, password, actor, now, token_policy(),
                                gate=mfa_login.gate(db, mfa_settings(), actor, now))
    except AppError as error:
        form.refuse(error)
        return _login_page(form, error.status)
    if isinstance(result, HeldLogin):
        if result.status != "mfa_required":
            session[ENROLLING] = result.mfa_token
            return flask_redirect(url_for("console.login_enroll"))
        session[HELD] = result.mfa_token
        return flask_redirect(url_for("console.login_code", next=request.args.get("next")))
    return _signed_in_redirect(result)


def _code_page(form: Form, status: int = 200) -> tuple[str, int]:
    return render_template("console/login_code.html", form=form), status


@bp.get("/login/code")
def login_code() -> Response | tuple[str, int]:
    """The second step: a code from the authenticator app (or a recovery code)."""
    if HELD not in session:
        return flask_redirect(url_for("console.login"))
    return _code_page(Form())


@bp.post("/login/code")
def login_code_post() -> Response | tuple[str, int]:
    """Finish the held login with a code, or say why not."""
    form = Form.of(request.form, "code")
    held, code = session.get(HELD), request.form.get("code", "").strip()
    if not held:
        return flask_redirect(url_for("console.login"))
    if not code:
        form.add("code", "Enter the 6-digit code from your authenticator app.")
        return _code_page(form, 422)
    try:
        result = mfa_login.finish(current_session(), held, code, mfa_settings(),
                                  request_actor(), clock.now(), token_policy())
    except AppError as error:
        if error.code in ("mfa_token_invalid", "mfa_token_expired"):
            session.pop(HELD, None)
        form.refuse(error)
        form.add("code", error.message)
        return _code_page(form, error.status)
    session.pop(HELD, None)
    return _signed_in_redirect(result)


@bp.post("/logout")
@login_required()
def logout() -> Response:
    """Revoke this session's token and forget the cookie."""
    sessions.logout(current_session(), current_token(), clock.now())
    response = flask_redirect(url_for("console.login"))
    clear_session_cookie(response)
    return response
