"""Login and its answer."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import BaseSchema
from schemas.users import UserBriefSchema


class LoginSchema(BaseSchema):
    """Staff credentials."""

    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class LoginResultSchema(BaseSchema):
    """A bearer token, shown once, with its hard expiry."""

    token = fields.String(dump_only=True)
    expires_at = fields.AwareDateTime(dump_only=True)
    user = fields.Nested(UserBriefSchema, dump_only=True)


class LoginAnswerSchema(LoginResultSchema):
    """What a login answers: a token (``token``, ``expires_at``, ``user``), or for a user
    who needs a second factor a held login (``status``, ``mfa_token``, ``expires_at``)."""

    status = fields.String(dump_only=True, metadata={
        "description": "Only on a held login: mfa_required (send a code to /auth/login/mfa) "
                       "or mfa_enrollment_required (/auth/mfa/enroll, then /auth/mfa/confirm)."})
    mfa_token = fields.String(dump_only=True, metadata={
        "description": "Only on a held login: short-lived, single use."})


class PasswordChangeSchema(BaseSchema):
    """A staff member's own password change: the current password, then the new one."""

    current_password = fields.String(required=True, load_only=True,
                                      validate=validate.Length(min=1, max=200))
    new_password = fields.String(required=True, load_only=True,
                                 validate=validate.Length(min=12, max=200))
