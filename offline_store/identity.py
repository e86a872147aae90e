"""Who this device is to the server, and what it knows of the server: kept in the store.

The device token, the device's Ed25519 private key and (protocol v1.1) its X25519 private
key, which opens sealed pulls, are sealed in ``secrets``, as are
the server's public keys (sealed for integrity: the pull-signature key decides what the
device trusts) and the policy. ``meta`` holds what is neither secret nor clinical: the
device id, the server URL and the ids of the server keys in use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)

from offline_store.errors import NotEnrolled, ProtocolViolation
from offline_store.store import Store
from sync import envelope

SUITE = envelope.SUITE_NAME
_IDENTIFIER = re.compile(r"[A-Za-z0-9._~-]{1,128}")


@dataclass(frozen=True)
class HpkeKey:
    """A server HPKE public key a batch may be sealed to."""

    key_id: str
    public_key: str
    current: bool

    def load(self) -> X25519PublicKey:
        """The key as a cryptography object."""
        return envelope.x25519_public_key_from_b64u(self.public_key)


@dataclass(frozen=True)
class SigningKey:
    """A server signing key the device trusts: enrolled, or endorsed by one it trusted."""

    key_id: str
    public_key: str

    def load(self) -> Ed25519PublicKey:
        """The key as a cryptography object."""
        return envelope.ed25519_public_key_from_b64u(self.public_key)


@dataclass(frozen=True)
class Policy:
    """Limits the server sets for this device at enrolment."""

    max_offline_hours: int
    max_batch_mutations: int
    max_body_bytes: int


@dataclass(frozen=True)
class Identity:
    """Everything the sync client needs to talk to the server as this device."""

    device_id: str
    server_url: str
    token: str
    signing_key: Ed25519PrivateKey
    hpke_keys: tuple[HpkeKey, ...]
    server_signing_key_id: str
    server_signing_key: Ed25519PublicKey
    policy: Policy
    # Protocol v1.1: pulls arrive sealed to this key. None only in a store enrolled by a v1
    # client, which keeps accepting plain (signed) pulls until it is enrolled again.
    hpke_key: X25519PrivateKey | None = None
    # Signing keys learnt after enrolment, each endorsed by one trusted before (rotation).
    signing_keys: tuple[SigningKey, ...] = ()
    # v1.1: plaintext encodings the server reads (``push_encodings``); none from a v1 server.
    push_encodings: tuple[str, ...] = ()

    def signing_key_for(self, key_id: str) -> Ed25519PublicKey | None:
        """The trusted server key named ``key_id``, or None for a key the device never trusted."""
        if key_id == self.server_signing_key_id:
            return self.server_signing_key
        known = [key for key in self.signing_keys if key.key_id == key_id]
        return known[0].load() if known else None

    def trusted_signing_keys(self) -> dict[str, str]:
        """Every trusted signing key by id, as base64url public keys."""
        enrolled = envelope.ed25519_public_key_to_b64u(self.server_signing_key)
        return {self.server_signing_key_id: enrolled,
                **{key.key_id: key.public_key for key in self.signing_keys}}

    def current_hpke_key(self) -> HpkeKey:
        """The key to seal to: the one marked ``current``, else the last listed."""
        marked = [key for key in self.hpke_keys if key.current]
        return marked[-1] if marked else self.hpke_keys[-1]


def _identifier(value: Any, what: str) -> str:
    """Insist on a protocol identifier, so it can be used in signed framing."""
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise ProtocolViolation(f"{what} is not a protocol identifier")
    return value


def parse_hpke_keys(raw: Any) -> tuple[HpkeKey, ...]:
    """Validate the server's HPKE key list, keeping only keys of the v1 suite."""
    if not isinstance(raw, list):
        raise ProtocolViolation("hpke_keys must be a list")
    keys = []
    for item in raw:
        # Keys of suites this client does not speak are skipped, not fatal: a server may
        # publish a future suite next to v1's.
        if not isinstance(item, dict) or item.get("suite", SUITE) != SUITE:
            continue
        key = HpkeKey(_identifier(item.get("key_id"), "hpke key_id"),
                      str(item.get("public_key")), item.get("current") is True)
        try:
            key.load()
        except envelope.InvalidKey as exc:
            raise ProtocolViolation(f"hpke key {key.key_id} is not a raw X25519 key") from exc
        keys.append(key)
    if not keys:
        raise ProtocolViolation("the server offered no HPKE key of suite v1")
    return tuple(keys)


def parse_enrollment(body: Any, server_url: str, signing_key: Ed25519PrivateKey,
                     hpke_key: X25519PrivateKey | None = None) -> Identity:
    """Build the identity from a 201 enrol response, refusing anything malformed."""
    try:
        server, policy = body["server"], body["policy"]
        signing = server["signing_key"]
        return Identity(
            device_id=_identifier(body["device_id"], "device_id"),
            server_url=server_url,
            token=str(body["token"]),
            signing_key=signing_key,
            hpke_keys=parse_hpke_keys(server["hpke_keys"]),
            server_signing_key_id=_identifier(signing["key_id"], "signing key_id"),
            server_signing_key=envelope.ed25519_public_key_from_b64u(signing["public_key"]),
            policy=Policy(int(policy["max_offline_hours"]), int(policy["max_batch_mutations"]),
                          int(policy["max_body_bytes"])),
            hpke_key=hpke_key,
            push_encodings=parse_push_encodings(server.get("push_encodings")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolViolation("the enrolment response is malformed") from exc


def parse_push_encodings(listed: Any) -> tuple[str, ...]:
    """The encodings a server advertises; anything but a list of names is none at all."""
    if not isinstance(listed, list):
        return ()
    return tuple(name for name in listed if isinstance(name, str))


def save_push_encodings(store: Store, encodings: tuple[str, ...]) -> None:
    """Keep what the server last said it reads (at enrolment and at each key refresh)."""
    store.set_value("secrets", "push_encodings", list(encodings))


def save_identity(store: Store, identity: Identity) -> None:
    """Persist the identity: secrets sealed, non-secret ids mirrored into meta."""
    with store.transaction():
        store.set_meta("device_id", identity.device_id)
        store.set_meta("server_url", identity.server_url)
        store.set_meta("server_signing_key_id", identity.server_signing_key_id)
        store.set_value("secrets", "device_token", identity.token)
        store.set_value("secrets", "device_signing_key",
                        envelope.ed25519_private_key_to_b64u(identity.signing_key))
        store.set_value("secrets", "server_signing_key", {
            "key_id": identity.server_signing_key_id,
            "public_key": envelope.ed25519_public_key_to_b64u(identity.server_signing_key)})
        store.set_value("secrets", "policy", identity.policy.__dict__)
        if identity.hpke_key is not None:
            store.set_value("secrets", "device_hpke_key",
                            envelope.x25519_private_key_to_b64u(identity.hpke_key))
        save_hpke_keys(store, identity.hpke_keys)
        save_signing_keys(store, identity.signing_keys)
        save_push_encodings(store, identity.push_encodings)


def save_signing_keys(store: Store, keys: tuple[SigningKey, ...]) -> None:
    """Replace the signing keys learnt since enrolment (each endorsed by a trusted one)."""
    store.set_value("secrets", "server_signing_keys", [key.__dict__ for key in keys])


def save_hpke_keys(store: Store, keys: tuple[HpkeKey, ...]) -> None:
    """Replace the server's HPKE keys (at enrolment, or after a 409 ``unknown_key``)."""
    with store.transaction():
        store.set_value("secrets", "hpke_keys", [key.__dict__ for key in keys])
        marked = [key for key in keys if key.current] or list(keys)
        store.set_meta("hpke_key_id", marked[-1].key_id)


def load_identity(store: Store) -> Identity:
    """The enrolled identity; ``NotEnrolled`` before enrolment."""
    token = store.get_value("secrets", "device_token")
    device_id, server_url = store.get_meta("device_id"), store.get_meta("server_url")
    if token is None or device_id is None or server_url is None:
        raise NotEnrolled("this store is not enrolled; run enroll first")
    signing = store.get_value("secrets", "server_signing_key")
    hpke_key = store.get_value("secrets", "device_hpke_key")
    return Identity(
        device_id=device_id, server_url=server_url, token=token,
        signing_key=envelope.ed25519_private_key_from_b64u(
            store.get_value("secrets", "device_signing_key")),
        hpke_keys=tuple(HpkeKey(**key) for key in store.get_value("secrets", "hpke_keys")),
        server_signing_key_id=signing["key_id"],
        server_signing_key=envelope.ed25519_public_key_from_b64u(signing["public_key"]),
        policy=Policy(**store.get_value("secrets", "policy")),
        hpke_key=envelope.x25519_private_key_from_b64u(hpke_key) if hpke_key else None,
        signing_keys=tuple(SigningKey(**key) for key in
                           store.get_value("secrets", "server_signing_keys") or ()),
        push_encodings=tuple(store.get_value("secrets", "push_encodings") or ()),
    )


def is_enrolled(store: Store) -> bool:
    """Whether the store already holds a device identity."""
    return store.get_value("secrets", "device_token") is not None
