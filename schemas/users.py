"""Staff accounts on the wire."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates

from schemas.base import BaseSchema, trimmed

ROLES = ("admin", "coordinator", "training_lead", "qc", "nurse", "physician", "privacy_officer")
COMPETENCIES = (
    "picc-care",
    "port-access",
    "tpn",
    "ivig",
    "inotropes",
    "chemotherapy",
    "pediatrics",
    "pump-programming",
)


def npi_is_valid(npi: str) -> bool:
    """NPI check digit: Luhn over '80840' + the first nine digits (CMS NPI standard)."""
    # isdigit() alone also takes non-ASCII digits (fullwidth, Arabic-Indic) as an NPI.
    if len(npi) != 10 or not (npi.isascii() and npi.isdigit()):
        return False
    digits = [int(c) for c in "80840" + npi[:9]]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


class UserSchema(BaseSchema):
    """A staff member as admins create, read and change her."""

    id = fields.UUID(dump_only=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = trimmed(200, required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    active = fields.Boolean(load_default=True)
    competencies = fields.List(
        fields.String(validate=validate.OneOf(COMPETENCIES)), load_default=list
    )
    npi = fields.String(allow_none=True, load_default=None)
    password = fields.String(load_only=True, validate=validate.Length(min=12, max=200))
    version = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)

    @validates("npi")
    def _npi(self, value: str | None, **_kwargs: Any) -> None:
        if value is not None and not npi_is_valid(value):
            raise ValidationError("Not a valid NPI (10 digits with a correct check digit).")


class UserCreateSchema(UserSchema):
    """Creating a user requires an initial password."""

    password = fields.String(
        load_only=True, required=True, validate=validate.Length(min=12, max=200)
    )


class UserUpdateSchema(UserSchema):
    """A PATCH: any subset; ``version`` (or If-Match) names the version edited, as elsewhere."""

    version = fields.Integer(strict=True, load_only=True, validate=validate.Range(min=1))


class UserQuerySchema(BaseSchema):
    """Filters for the user list."""

    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()


class UserBriefSchema(BaseSchema):
    """What any signed-in user learns about herself at login."""

    id = fields.UUID(dump_only=True)
    email = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    competencies = fields.List(fields.String(), dump_only=True)
