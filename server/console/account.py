"""My account, for everyone signed in: change my password, and my second factor (turn it
on, new recovery codes, turn it off when my role does not require it).

The same services as the API's /auth/password and /auth/mfa/start, enroll and confirm
(``services/password_change.py``, ``services/mfa/``). Secrets are shown once, on a POST's
own page: the TOTP key (as text and as a QR code) and the recovery codes are never stored
where a reload or the history could show them again. No password is ever sent back.
"""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from schemas.auth import PasswordChangeSchema
from server import clock
from server.api.guards import current_token, request_actor, token_policy
from server.api.mfa_settings import mfa_settings
from server.console.auth import current_user, login_required, set_session_cookie
from server.console.blueprint import bp
from server.console.forms import Form
from server.console.qr import qr_svg
from server.errors import AppError
from server.extensions import current_session
from server.services import password_change
from server.services.mfa import own

ENROLLING = "console_account_mfa_token"  # a voluntary enrollment's mfa_token (signed cookie)
ENDED = ("mfa_token_invalid", "mfa_token_expired")
PASSWORDS = ("current_password", "new_password", "new_password_again")
LABELS = {"current_password": "Current password", "new_password": "New password",
          "new_password_again": "New password again", "mfa_password": "Your password",
          "code": "Code", "codes_code": "Code", "off_code": "Code"}
DONE = {"password": "Your password is changed. Your other sessions have ended; this one "
                    "goes on.",
        "mfa_off": "Your second factor is off. You sign in with your password alone."}


def _page(status: int = 200, form: Form | None = None, **shown: object) -> tuple[str, int]:
    """The account page; ``form`` the refused form (its summary at the top)."""
    factor = own.standing(current_session(), current_user(), mfa_settings())
    return render_template("console/account.html", title="My account", form=form or Form(),
                           labels=LABELS, factor=factor,
                           done=DONE.get(request.args.get("done", "")), **shown), status


@bp.get("/account", endpoint="account")
@login_required()
def account() -> tuple[str, int]:
    """Who I am, the password form and how my second factor stands."""
    return _page()


def _password_form() -> tuple[Form, dict[str, str] | None]:
    """The typed passwords checked as the API checks them (``PasswordChangeSchema``)."""
    form = Form.of(request.form, *PASSWORDS)
    typed = {name: request.form.get(name, "") for name in PASSWORDS}
    if not typed["current_password"]:
        form.add("current_password", "Enter your current password.")
    if typed["new_password"] != typed["new_password_again"]:
        form.add("new_password_again", "The two new passwords are not the same.")
    # An empty current password has its own message above, not the schema's length one.
    data = {"current_password": typed["current_password"] or "-",
            "new_password": typed["new_password"]}
    loaded = form.load(PasswordChangeSchema(), data, {})
    if form.errors:
        form.message = "Some fields are not right; see below."
        return form, None
    return form, loaded


@bp.post("/account/password", endpoint="account_password")
@login_required()
def account_password() -> Response | tuple[str, int]:
    """Change my password; my other sessions end (post/redirect/get)."""
    form, loaded = _password_form()
    if loaded is None:
        return _page(422, form, password_form=form)
    user = current_user()
    try:
        password_change.change_own_password(
            current_session(), current_token(), loaded["current_password"],
            loaded["new_password"], request_actor(user.id), clock.now(),
            token_policy().throttle)
    except AppError as error:
        form.refuse(error, {name: name for name in PASSWORDS})
        return _page(error.status, form, password_form=form)
    return redirect(url_for("console.account", done="password"))


@bp.post("/account/mfa", endpoint="account_mfa")
@login_required()
def account_mfa() -> tuple[str, int]:
    """Turn it on, step one: my password again, then the key (text and QR code), once."""
    form = Form.of(request.form, "mfa_password")
    password = request.form.get("mfa_password", "")
    if not password:
        form.add("mfa_password", "Enter your password.")
        return _page(422, form, mfa_form=form)
    user = current_user()
    try:
        held, made = own.start(current_session(), user, password, mfa_settings(),
                               request_actor(user.id), clock.now(), token_policy())
    except AppError as error:
        form.refuse(error)
        if error.code == "wrong_password":
            form.add("mfa_password", "Not your password.")
        return _page(error.status, form, mfa_form=form)
    session[ENROLLING] = held.mfa_token
    key = {"secret": made.secret, "uri": made.otpauth_uri,
           "qr": qr_svg(made.otpauth_uri, "Your key as a QR code for an authenticator app")}
    return _page(200, enrolling=key)


def _codes_page(heading: str, codes: list[str]) -> str:
    return render_template("console/account_codes.html", title=heading, heading=heading,
                           codes=codes)


@bp.post("/account/mfa/confirm", endpoint="account_mfa_confirm")
@login_required()
def account_mfa_confirm() -> Response | tuple[str, int]:
    """Turn it on, step two: the first code; the recovery codes shown once."""
    held = session.get(ENROLLING)
    form = Form.of(request.form, "code")
    code = request.form.get("code", "").strip()
    if not isinstance(held, str):
        form.message = "Start again: give your password to make a new key."
        return _page(409, form)
    if not code:
        form.add("code", "Enter the 6-digit code your authenticator app shows.")
        return _page(422, form, confirming=True)
    try:
        done = own.confirm_enrollment(current_session(), current_token(), held, code,
                                      mfa_settings(), request_actor(current_user().id),
                                      clock.now(), token_policy())
    except AppError as error:
        if error.code in ENDED:
            session.pop(ENROLLING, None)
        form.refuse(error)
        form.add("code", error.message)
        # A wrong code is the API's 401 on a held login; here the session goes on.
        status = 422 if error.code == "mfa_code_invalid" else error.status
        return _page(status, form, confirming=error.code not in ENDED)
    session.pop(ENROLLING, None)
    response = Response(_codes_page("Your second factor is on", done.recovery_codes),
                        mimetype="text/html")
    set_session_cookie(response, done.login.token, done.login.expires_at)
    return response


def _factor_code(field: str) -> tuple[Form, str]:
    form = Form.of(request.form, field)
    return form, request.form.get(field, "")


@bp.post("/account/mfa/recovery-codes", endpoint="account_recovery_codes")
@login_required()
def account_recovery_codes() -> str | tuple[str, int]:
    """Ten new recovery codes (the old ones stop working), after a code; shown once."""
    form, code = _factor_code("codes_code")
    user = current_user()
    try:
        codes = own.new_recovery_codes(current_session(), user, code, mfa_settings(),
                                       request_actor(user.id), clock.now())
    except AppError as error:
        form.refuse(error, {"code": "codes_code"})
        return _page(error.status, form, codes_form=form)
    return _codes_page("New recovery codes", codes)


@bp.post("/account/mfa/off", endpoint="account_mfa_off")
@login_required()
def account_mfa_off() -> Response | tuple[str, int]:
    """Turn my second factor off (a code first), when my role does not require one."""
    form, code = _factor_code("off_code")
    user = current_user()
    try:
        own.turn_off(current_session(), user, code, mfa_settings(), request_actor(user.id),
                     clock.now())
    except AppError as error:
        form.refuse(error, {"code": "off_code"})
        return _page(error.status, form, off_form=form)
    return redirect(url_for("console.account", done="mfa_off"))
