"""The device trusts only answers signed for its request, and keys endorsed from its own.

Against the in-process fake server: an unsigned revocation or key list changes nothing on
the device; ``endorsed_keys`` learns a rotated signing key only through a valid chain.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline_store.client import SyncClient
from offline_store.errors import UnverifiedResponse, UnverifiedWipe
from offline_store.identity import load_identity
from offline_store.outbox import Outbox
from offline_store.signed_answers import endorsed_keys
from offline_store.store import Store
from sync import envelope, response_signature
from tests.offline_store.conftest import DeviceClock
from tests.offline_store.fake_server import FakeServer


def public(key: Ed25519PrivateKey) -> str:
    return envelope.ed25519_public_key_to_b64u(key.public_key())


def listed(key_id: str, key: Ed25519PrivateKey, by: str, endorser: Ed25519PrivateKey) -> dict:
    return {"key_id": key_id, "public_key": public(key), "endorsed_by": by,
            "endorsement": response_signature.endorse(endorser, key_id, public(key))}


def test_an_unsigned_revocation_leaves_the_store_and_outbox_whole(
        device: SyncClient, store_path: Path, store: Store, server: FakeServer,
        device_clock: DeviceClock) -> None:
    Outbox(store).add("vitals.record", "e1", {"value": 1}, occurred_at=device_clock())
    next(iter(server.devices.values())).revoked = True
    server.sign_answers = False
    with pytest.raises(UnverifiedWipe, match="nothing was wiped"):
        device.push()
    assert store_path.exists() and Outbox(store).pending_count() == 1


def test_an_unsigned_unknown_key_refusal_does_not_replace_the_keys(
        device: SyncClient, store: Store, server: FakeServer,
        device_clock: DeviceClock) -> None:
    before = load_identity(store).hpke_keys
    Outbox(store).add("vitals.record", "e1", {"value": 1}, occurred_at=device_clock())
    server.rotate_hpke_key(drop_old=True)
    server.sign_answers = False
    with pytest.raises(UnverifiedResponse):
        device.push()
    assert load_identity(store).hpke_keys == before
    assert Outbox(store).pending_count() == 1


def test_endorsements_are_followed_in_any_order_from_a_trusted_key() -> None:
    first, second, third = (Ed25519PrivateKey.generate() for _ in range(3))
    keys = [listed("k3", third, "k2", second), listed("k2", second, "k1", first)]
    assert endorsed_keys({"k1": public(first)}, keys) == {
        "k1": public(first), "k2": public(second), "k3": public(third)}


def test_a_key_endorsed_by_an_untrusted_key_or_badly_is_not_learnt() -> None:
    trusted, stranger, forged = (Ed25519PrivateKey.generate() for _ in range(3))
    bad = {**listed("k3", forged, "k1", trusted), "public_key": public(stranger)}
    keys = [listed("k2", forged, "kx", stranger), bad, {"key_id": "k4"}, "junk"]
    assert endorsed_keys({"k1": public(trusted)}, keys) == {"k1": public(trusted)}


def test_a_listed_key_never_replaces_a_trusted_one_of_the_same_id() -> None:
    trusted, impostor = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    keys = [listed("k1", impostor, "k1", trusted)]
    assert endorsed_keys({"k1": public(trusted)}, keys) == {"k1": public(trusted)}
