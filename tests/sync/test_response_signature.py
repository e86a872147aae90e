"""Signed responses (protocol v1.1): the exact bytes signed, and what the binding refuses."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import envelope, response_signature

DEVICE = "6f1c2b1e-8a4b-4c1e-9d7a-0c5b8f1e2a33"
OTHER_DEVICE = "0d6e4b1c-3f2a-4e8d-9b7c-5a1f2e3d4c5b"
NONCE = "bm9uY2Utb2YtdGhlLWZpcnN0LXJlcXVlc3Q"
LATER_NONCE = "bm9uY2Utb2YtYS1sYXRlci1yZXF1ZXN0LXg"
WIPE = (b'{"error":{"code":"device_revoked","details":{"command":{"type":"wipe"}},'
        b'"message":"This device was revoked. Its data must be wiped."}}')


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def test_the_signed_message_is_label_device_nonce_status_and_body_on_lines() -> None:
    message = response_signature.response_message(DEVICE, NONCE, 403, WIPE)
    assert message == (b"infusync/response/v1.1\n" + DEVICE.encode() + b"\n" + NONCE.encode()
                       + b"\n403\n" + WIPE)


def test_no_device_and_no_nonce_are_empty_lines() -> None:
    assert response_signature.response_message("", "", 401, b"{}") == (
        b"infusync/response/v1.1\n\n\n401\n{}")


def test_a_signed_wipe_verifies_only_for_its_device_nonce_status_and_body(key) -> None:
    sig = response_signature.sign_response(key, DEVICE, NONCE, 403, WIPE)
    public = key.public_key()
    response_signature.verify_response(public, sig, DEVICE, NONCE, 403, WIPE)
    replays = [(OTHER_DEVICE, NONCE, 403, WIPE), (DEVICE, LATER_NONCE, 403, WIPE),
               (DEVICE, NONCE, 200, WIPE), (DEVICE, NONCE, 403, WIPE.replace(b"wipe", b"wipf")),
               (DEVICE, "", 403, WIPE)]
    for device_id, nonce, status, body in replays:
        with pytest.raises(envelope.BadSignature):
            response_signature.verify_response(public, sig, device_id, nonce, status, body)


def test_a_response_signature_is_never_a_pull_signature(key) -> None:
    body = b'{"protocol":"1.1","sealed":"AAAA"}'
    sig = envelope.sign_pull(key, body)
    with pytest.raises(envelope.BadSignature):
        response_signature.verify_response(key.public_key(), sig, "", "", 200, body)


@pytest.mark.parametrize("nonce", ["short", "a" * 87, "has space in it 1234567890",
                                   "padded=" + "a" * 20, "line\nbreak" + "a" * 20])
def test_a_nonce_that_is_not_22_to_86_base64url_characters_is_refused(nonce) -> None:
    with pytest.raises(response_signature.InvalidNonce):
        response_signature.check_nonce(nonce)


def test_a_malformed_device_id_cannot_be_framed(key) -> None:
    with pytest.raises(envelope.InvalidIdentifier):
        response_signature.response_message("a\nb", NONCE, 403, WIPE)
    with pytest.raises(envelope.BadSignature):
        response_signature.verify_response(key.public_key(), "AAAA", "a\nb", NONCE, 403, WIPE)


def test_an_endorsement_vouches_for_exactly_one_key_and_only_from_the_old_key(key) -> None:
    new = Ed25519PrivateKey.generate()
    new_public = envelope.ed25519_public_key_to_b64u(new.public_key())
    endorsement = response_signature.endorse(key, "signing-2", new_public)
    response_signature.verify_endorsement(key.public_key(), endorsement, "signing-2", new_public)
    impostor = envelope.ed25519_public_key_to_b64u(Ed25519PrivateKey.generate().public_key())
    for key_id, public in [("signing-3", new_public), ("signing-2", impostor)]:
        with pytest.raises(envelope.BadSignature):
            response_signature.verify_endorsement(key.public_key(), endorsement, key_id, public)
    with pytest.raises(envelope.BadSignature):
        response_signature.verify_endorsement(new.public_key(), endorsement, "signing-2",
                                              new_public)
