"""Staff login and logout."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from schemas.auth import LoginResultSchema, LoginSchema, PasswordChangeSchema
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
from server.extensions import current_session
from server.services import password_change, sessions

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Staff login and logout")


@blp.route("/login")
class Login(MethodView):
    """Exchange email and password for a bearer token."""

    @blp.doc(security=[])
    @blp.arguments(LoginSchema)
    @blp.response(200, LoginResultSchema)
    def post(self, credentials: dict[str, Any]) -> Any:
        """Log in. Idles out after 15 minutes unused; ends after 12 hours regardless."""
        return sessions.login(current_session(), credentials["email"], credentials["password"],
                              request_actor(), clock.now(), token_policy())


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
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def post(self, data: dict[str, Any]) -> None:
        """Change my password (the current one required); my other sessions end, this one
        goes on. A wrong current password is a 422 and counts as a failed login."""
        user = current_user()
        password_change.change_own_password(
            current_session(), current_token(), data["current_password"],
            data["new_password"], request_actor(user.id), clock.now(), token_policy().throttle)
