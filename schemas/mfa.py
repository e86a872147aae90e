"""The second factor (TOTP) of a staff login: held logins, codes, enrollment."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import BaseSchema
from schemas.users import UserBriefSchema

# A TOTP code is 6 digits; a recovery code 20 characters, maybe grouped by dashes.
CODE = validate.Length(min=6, max=40)
MFA_TOKEN = validate.Length(min=20, max=100)


class MfaHeldSchema(BaseSchema):
    """A login waiting for its second factor: no bearer token yet.

    ``status`` is ``mfa_required`` (send a code to /auth/login/mfa) or
    ``mfa_enrollment_required`` (/auth/mfa/enroll, then /auth/mfa/confirm).
    """

    status = fields.String(dump_only=True)
    mfa_token = fields.String(dump_only=True)
    expires_at = fields.AwareDateTime(dump_only=True)


class MfaCodeSchema(BaseSchema):
    """An mfa_token with a TOTP code or a recovery code."""

    mfa_token = fields.String(required=True, validate=MFA_TOKEN)
    code = fields.String(required=True, validate=CODE)


class MfaTokenSchema(BaseSchema):
    """An mfa_token alone."""

    mfa_token = fields.String(required=True, validate=MFA_TOKEN)


class MfaPasswordSchema(BaseSchema):
    """The signed-in user's password, asked again before she sets up a second factor."""

    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class MfaEnrollmentSchema(BaseSchema):
    """A new TOTP secret, shown once: type it or scan the URI's QR code into an app."""

    secret = fields.String(dump_only=True)
    otpauth_uri = fields.String(dump_only=True)


class MfaConfirmedSchema(BaseSchema):
    """Ten one-time recovery codes (shown once: store them offline) and the login."""

    recovery_codes = fields.List(fields.String(), dump_only=True)
    token = fields.String(dump_only=True)
    expires_at = fields.AwareDateTime(dump_only=True)
    user = fields.Nested(UserBriefSchema, dump_only=True)
