"""Staff login and logout."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from schemas.auth import LoginResultSchema, LoginSchema
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
from server.api.refusals import refusals
from server.extensions import current_session
from server.services import sessions

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Staff login and logout")


@blp.route("/login")
class Login(MethodView):
    """Exchange email and password for a bearer token."""

    @blp.doc(security=[])
    @refusals(401, 429)
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
