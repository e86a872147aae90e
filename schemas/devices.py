"""Device enrollment and management on the wire."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import BaseSchema, trimmed

DEVICE_STATUSES = ("active", "retired", "revoked")


class EnrollmentCodeSchema(BaseSchema):
    """A one-time code, shown once; valid 15 minutes."""

    code = fields.String(dump_only=True)
    expires_at = fields.AwareDateTime(dump_only=True)


class EnrollSchema(BaseSchema):
    """What a device sends to enroll."""

    code = fields.String(required=True, validate=validate.Length(min=4, max=40))
    name = trimmed(100, required=True)
    platform = trimmed(40, required=True)
    app_version = trimmed(40, required=True)
    signing_key = fields.String(
        required=True, validate=validate.Length(equal=43),
        metadata={"description": "Raw 32-byte Ed25519 public key, base64url, no padding"},
    )
    hpke_key = fields.String(
        validate=validate.Length(equal=43),
        metadata={"description": "Protocol v1.1: raw 32-byte X25519 public key, base64url, "
                                 "no padding; every pull is then sealed to it"},
    )


class HpkeKeySchema(BaseSchema):
    """A server HPKE key devices seal pushes to."""

    key_id = fields.String()
    public_key = fields.String()
    suite = fields.String()
    current = fields.Boolean()
    retire_after = fields.String(allow_none=True, metadata={
        "description": "RFC 3339; a key not current stops opening pushes then (null: current)"})


class SigningKeySchema(BaseSchema):
    """The key that signs responses now."""

    key_id = fields.String()
    public_key = fields.String()


class AnnouncedSigningKeySchema(SigningKeySchema):
    """A signing key, past or announced, with the endorsement of the key it replaced."""

    not_before = fields.String(allow_none=True, metadata={
        "description": "RFC 3339; the key signs from then on (null: since it was made)"})
    endorsed_by = fields.String(allow_none=True, metadata={
        "description": "the signing key it replaced (null: the first key)"})
    endorsement = fields.String(allow_none=True, metadata={
        "description": "signature of endorsed_by over \"infusync/signing-key/v1.1\\n"
                       "{key_id}\\n{public_key}\", base64url"})


class ServerKeysSchema(BaseSchema):
    """The server's public keys (at enrollment, and from ``GET /api/v1/sync/keys``)."""

    hpke_keys = fields.List(fields.Nested(HpkeKeySchema))
    signing_key = fields.Nested(SigningKeySchema)
    signing_keys = fields.List(fields.Nested(AnnouncedSigningKeySchema))
    push_encodings = fields.List(fields.String(), metadata={
        "description": "v1.1: how a push's plaintext may be compressed before sealing "
                       "(the envelope's encoding)"})


class PolicySchema(BaseSchema):
    """Limits the device must respect."""

    max_offline_hours = fields.Integer()
    max_batch_mutations = fields.Integer()
    max_body_bytes = fields.Integer()


class EnrollmentSchema(BaseSchema):
    """The answer to an enrollment: identity, token (shown once), keys and policy."""

    device_id = fields.UUID(dump_only=True)
    token = fields.String(dump_only=True)
    server = fields.Nested(ServerKeysSchema, dump_only=True)
    policy = fields.Nested(PolicySchema, dump_only=True)


class DeviceSchema(BaseSchema):
    """A device as coordinators see it."""

    id = fields.UUID(dump_only=True)
    user_id = fields.UUID(dump_only=True)
    name = fields.String(dump_only=True)
    platform = fields.String(dump_only=True)
    app_version = fields.String(dump_only=True)
    pull_protocol = fields.Function(
        lambda device: "1.1" if device.hpke_public_key else "1", dump_only=True,
        metadata={"description": "1.1: pulls sealed to the device; 1: plain (re-enroll it)"})
    status = fields.String(dump_only=True)
    enrolled_at = fields.AwareDateTime(dump_only=True)
    last_seen_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    last_push_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    last_pull_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    retired_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    revoked_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    # The name predates the wording: the time the order was sent, never a confirmation.
    wipe_delivered_at = fields.AwareDateTime(dump_only=True, allow_none=True, metadata={
        "description": "When the wipe order was sent to the revoked device (its first "
                       "contact after the revocation). Not a confirmation that it wiped: "
                       "the device does not report back, and a proxy may have dropped the "
                       "answer."})


class DeviceQuerySchema(BaseSchema):
    """Filters for the device list."""

    user_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(DEVICE_STATUSES))
