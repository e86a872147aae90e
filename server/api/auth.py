"""Staff login and logout."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from schemas.auth import LoginAnswerSchema, LoginSchema, PasswordChangeSchema
from schemas.users import UserBriefSchema
from server import clock
from server.api.blueprint import Blueprint
from server.api.guards import (
    current_token,
    current_user,
    request_actor,
    roles_required,
    token_policy,
)
from server.api.mfa_settings import mfa_settings
from server.api.refusals import refusals
from server.extensions import current_session
from server.services import password_change, sessions
from server.services.mfa import login as mfa_login

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Staff login and logout")


@blp.route("/login")
class Login(MethodView):
    """Exchange email and password for a bearer token."""

    @blp.doc(security=[])
    @refusals(401, 429)
    @blp.arguments(LoginSchema)
    @blp.response(200, LoginAnswerSchema)
    def post(self, credentials: dict[str, Any]) -> Any:
        """Log in. Idles out after 15 minutes unused; ends after 12 hours regardless.

        A user with a second factor, or whose role requires one, gets no token yet but
        ``{"status": "mfa_required" | "mfa_enrollment_required", "mfa_token", "expires_at"}``
        (see /auth/login/mfa and /auth/mfa/enroll).
        """
        session, actor, now = current_session(), request_actor(), clock.now()
        return sessions.login(session, credentials["email"], credentials["password"], actor,
                              now, token_policy(), gate=mfa_login.gate(session, mfa_settings(),
                                                                       actor, now))


@blp.route("/logout")
class Logout(MethodView):
    """Revoke the token the request carries."""

    @roles_required()
    @blp.response(204)
    def post(self) -> None:
        """Log out."""
        sessions.logout(current_session(), current_token(), clock.now())


@blp.route("/me")
class Me(MethodView):
    """The signed-in user."""

    @roles_required()
    @blp.response(200, UserBriefSchema)
    def get(self) -> Any:
        """Who am I."""
        return current_user()


@blp.route("/password")
class Password(MethodView):
    """Change one's own password."""

    @roles_required()
    @refusals(429)
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def post(self, data: dict[str, Any]) -> None:
        """Change my password (the current one required); my other sessions end, this one
        goes on. A wrong current password is a 422 and counts as a failed login."""
        user = current_user()
        password_change.change_own_password(
            current_session(), current_token(), data["current_password"],
            data["new_password"], request_actor(user.id), clock.now(), token_policy().throttle)
