"""The second factor of a staff login (TOTP): finishing a held login, enrolling, resetting.

The flow and its answers are described in docs/security.md (## MFA).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from schemas.auth import LoginResultSchema
from schemas.mfa import (
    MfaCodeSchema,
    MfaConfirmedSchema,
    MfaEnrollmentSchema,
    MfaHeldSchema,
    MfaPasswordSchema,
    MfaTokenSchema,
)
from server import clock
from server.api.blueprint import Blueprint
from server.api.guards import current_user, request_actor, roles_required, token_policy
from server.api.mfa_settings import mfa_settings
from server.api.refusals import refusals
from server.extensions import current_session
from server.models import Role
from server.services.mfa import login, reset

blp = Blueprint("mfa", __name__, url_prefix="",
                description="Second factor (TOTP) of staff logins")


@blp.route("/auth/login/mfa")
class LoginMfa(MethodView):
    """Finish a login held at the second factor."""

    @blp.doc(security=[])
    @refusals(401, 429)
    @blp.arguments(MfaCodeSchema)
    @blp.response(200, LoginResultSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Send the mfa_token of the login with a TOTP code or a recovery code."""
        return login.finish(current_session(), body["mfa_token"], body["code"], mfa_settings(),
                            request_actor(), clock.now(), token_policy())


@blp.route("/auth/mfa/start")
class MfaStart(MethodView):
    """Set up a second factor from a session, voluntarily."""

    @roles_required()
    @refusals(403, 409, 429)
    @blp.arguments(MfaPasswordSchema)
    @blp.response(200, MfaHeldSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Give the password again; answers an mfa_token for /auth/mfa/enroll."""
        return login.start_enrollment(current_session(), current_user(), body["password"],
                                      mfa_settings(), request_actor(), clock.now(),
                                      token_policy())


@blp.route("/auth/mfa/enroll")
class MfaEnroll(MethodView):
    """A new TOTP secret for the holder of an enrollment mfa_token."""

    @blp.doc(security=[])
    @refusals(401, 409)
    @blp.arguments(MfaTokenSchema)
    @blp.response(200, MfaEnrollmentSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """The secret and its otpauth:// URI, shown once (calling again replaces them)."""
        return login.enroll(current_session(), body["mfa_token"], mfa_settings(),
                            request_actor(), clock.now())


@blp.route("/auth/mfa/confirm")
class MfaConfirm(MethodView):
    """Activate the new secret with its first code; finishes the login."""

    @blp.doc(security=[])
    @refusals(401, 409, 429)
    @blp.arguments(MfaCodeSchema)
    @blp.response(200, MfaConfirmedSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Ten recovery codes (shown once) and the bearer token."""
        confirmed = login.confirm(current_session(), body["mfa_token"], body["code"],
                                  mfa_settings(), request_actor(), clock.now(), token_policy())
        return {"recovery_codes": confirmed.recovery_codes, "token": confirmed.login.token,
                "expires_at": confirmed.login.expires_at, "user": confirmed.login.user}


@blp.route("/users/<uuid:user_id>/mfa")
class UserMfa(MethodView):
    """A staff member's second factor (admin)."""

    @roles_required(Role.ADMIN)
    @blp.response(204)
    def delete(self, user_id: uuid.UUID) -> None:
        """Reset it: she sets up a new one at her next login if her role requires one."""
        reset.reset_by_admin(current_session(), user_id, request_actor(current_user().id),
                             clock.now())
