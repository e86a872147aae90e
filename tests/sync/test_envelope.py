"""Envelope crypto: the published v1 vectors, round trips and refusal of bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import envelope
from sync.envelope import (
    PULL_PREFIX,
    BadSignature,
    EnvelopeDoesNotOpen,
    EnvelopeError,
    InvalidBase64,
    InvalidIdentifier,
    InvalidKey,
    b64u_decode,
    b64u_encode,
    open_sealed,
    parse_pull_signature_header,
    pull_signature_header,
    push_info,
    push_signed_message,
    seal,
    sign_pull,
    sign_push,
    verify_pull,
    verify_push,
)

VECTORS: dict[str, Any] = json.loads(
    Path(__file__).with_name("vectors-v1.json").read_text(encoding="utf-8")
)
PUSH = VECTORS["push"]
PULL = VECTORS["pull"]
OTHER_ID = "00000000-0000-7000-8000-000000000000"
DEVICE_ID = "0193a3b4-0000-7000-8000-00000000d001"
BATCH_ID = "0193a3b4-0000-7000-8000-00000000b001"
KEY_ID = "srv-test"


def flip_bit(text: str, bit: int) -> str:
    """Return base64url text whose decoded bytes differ from the input in one bit."""
    data = bytearray(b64u_decode(text))
    data[bit // 8] ^= 1 << (bit % 8)
    return b64u_encode(bytes(data))


@pytest.fixture(scope="module")
def server_hpke_key() -> X25519PrivateKey:
    return envelope.x25519_private_key_from_b64u(PUSH["server_hpke_private_key"])


@pytest.fixture(scope="module")
def device_verify_key() -> Ed25519PublicKey:
    return envelope.ed25519_public_key_from_b64u(PUSH["device_signing_public_key"])


# --- the v1 vectors ------------------------------------------------------------------------


def test_vector_sealed_opens_to_exact_plaintext(server_hpke_key: X25519PrivateKey) -> None:
    opened = open_sealed(
        PUSH["body"]["sealed"], server_hpke_key, PUSH["device_id"], PUSH["batch_id"]
    )
    assert opened == PUSH["plaintext"].encode("utf-8")


def test_vector_info_bytes() -> None:
    assert push_info(PUSH["device_id"], PUSH["batch_id"]).hex() == PUSH["hpke_info_hex"]


def test_vector_signed_message() -> None:
    message = push_signed_message(
        PUSH["device_id"], PUSH["batch_id"], PUSH["key_id"], PUSH["body"]["sealed"]
    )
    assert message == PUSH["signed_message"].encode("ascii")


def test_vector_push_signature_verifies(device_verify_key: Ed25519PublicKey) -> None:
    body = PUSH["body"]
    verify_push(
        device_verify_key,
        body["signature"],
        body["device_id"],
        body["batch_id"],
        body["key_id"],
        body["sealed"],
    )
    with pytest.raises(BadSignature):
        verify_push(
            device_verify_key,
            body["signature"],
            body["device_id"],
            body["batch_id"],
            "srv-other",
            body["sealed"],
        )


def test_vector_keys_match_their_public_halves(server_hpke_key: X25519PrivateKey) -> None:
    public = envelope.x25519_public_key_to_b64u(server_hpke_key.public_key())
    assert public == PUSH["server_hpke_public_key"]
    device = envelope.ed25519_private_key_from_b64u(PUSH["device_signing_private_key"])
    assert (
        envelope.ed25519_public_key_to_b64u(device.public_key())
        == PUSH["device_signing_public_key"]
    )


def test_vector_signature_is_reproduced_by_sign_push() -> None:
    # Ed25519 is deterministic, so our signer must produce the published signature.
    device = envelope.ed25519_private_key_from_b64u(PUSH["device_signing_private_key"])
    body = PUSH["body"]
    signature = sign_push(
        device, body["device_id"], body["batch_id"], body["key_id"], body["sealed"]
    )
    assert signature == body["signature"]


def test_vector_one_bit_flipped_does_not_open(server_hpke_key: X25519PrivateKey) -> None:
    flipped = PUSH["negative"]["sealed_with_one_bit_flipped"]
    assert flipped != PUSH["body"]["sealed"]
    with pytest.raises(EnvelopeDoesNotOpen):
        open_sealed(flipped, server_hpke_key, PUSH["device_id"], PUSH["batch_id"])


@pytest.mark.parametrize(
    ("device_id", "batch_id"),
    [(OTHER_ID, PUSH["batch_id"]), (PUSH["device_id"], OTHER_ID)],
    ids=["other-device", "other-batch"],
)
def test_vector_does_not_open_in_another_context(
    server_hpke_key: X25519PrivateKey, device_id: str, batch_id: str
) -> None:
    with pytest.raises(EnvelopeDoesNotOpen):
        open_sealed(PUSH["body"]["sealed"], server_hpke_key, device_id, batch_id)


def test_vector_does_not_open_with_another_server_key() -> None:
    with pytest.raises(EnvelopeDoesNotOpen):
        open_sealed(
            PUSH["body"]["sealed"],
            X25519PrivateKey.generate(),
            PUSH["device_id"],
            PUSH["batch_id"],
        )


def test_vector_pull_signature_verifies() -> None:
    assert PULL["signed_message_prefix"].encode("ascii") == PULL_PREFIX
    server = envelope.ed25519_public_key_from_b64u(PULL["server_signing_public_key"])
    verify_pull(server, PULL["body"].encode("utf-8"), PULL["signature"])


def test_vector_pull_signature_is_reproduced_by_sign_pull() -> None:
    server = envelope.ed25519_private_key_from_b64u(PULL["server_signing_private_key"])
    assert sign_pull(server, PULL["body"].encode("utf-8")) == PULL["signature"]


def test_vector_tampered_pull_body_fails() -> None:
    server = envelope.ed25519_public_key_from_b64u(PULL["server_signing_public_key"])
    tampered = PULL["body"].replace('"has_more":false', '"has_more":true').encode("utf-8")
    assert tampered != PULL["body"].encode("utf-8")
    with pytest.raises(BadSignature):
        verify_pull(server, tampered, PULL["signature"])


def test_pull_signature_without_prefix_fails() -> None:
    # A signature over the bare body must not pass: the prefix separates pull from push.
    key = Ed25519PrivateKey.generate()
    body = PULL["body"].encode("utf-8")
    bare = b64u_encode(key.sign(body))
    with pytest.raises(BadSignature):
        verify_pull(key.public_key(), body, bare)


# --- round trips ---------------------------------------------------------------------------


def test_seal_open_round_trip_with_fresh_keys() -> None:
    server = X25519PrivateKey.generate()
    sealed = seal(b"batch payload", server.public_key(), DEVICE_ID, BATCH_ID)
    assert len(b64u_decode(sealed)) == envelope.ENC_LENGTH + len(b"batch payload") + 16
    assert open_sealed(sealed, server, DEVICE_ID, BATCH_ID) == b"batch payload"


def test_seal_is_randomised() -> None:
    server = X25519PrivateKey.generate()
    first = seal(b"same", server.public_key(), DEVICE_ID, BATCH_ID)
    second = seal(b"same", server.public_key(), DEVICE_ID, BATCH_ID)
    assert first != second


def test_sign_verify_round_trip() -> None:
    device = Ed25519PrivateKey.generate()
    signature = sign_push(device, DEVICE_ID, BATCH_ID, KEY_ID, "c2VhbGVk")
    assert len(b64u_decode(signature)) == 64
    verify_push(device.public_key(), signature, DEVICE_ID, BATCH_ID, KEY_ID, "c2VhbGVk")


def test_signature_over_another_batch_fails() -> None:
    device = Ed25519PrivateKey.generate()
    signature = sign_push(device, DEVICE_ID, BATCH_ID, KEY_ID, "c2VhbGVk")
    with pytest.raises(BadSignature):
        verify_push(device.public_key(), signature, DEVICE_ID, OTHER_ID, KEY_ID, "c2VhbGVk")


def test_signature_from_another_device_key_fails() -> None:
    signature = sign_push(Ed25519PrivateKey.generate(), DEVICE_ID, BATCH_ID, KEY_ID, "c2Vh")
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(BadSignature):
        verify_push(other, signature, DEVICE_ID, BATCH_ID, KEY_ID, "c2Vh")


def test_sign_pull_round_trip() -> None:
    server = Ed25519PrivateKey.generate()
    signature = sign_pull(server, b'{"changes":[]}')
    verify_pull(server.public_key(), b'{"changes":[]}', signature)


@pytest.mark.parametrize(
    "key_type",
    ["x25519_private", "x25519_public", "ed25519_private", "ed25519_public"],
)
def test_key_serialisation_round_trips(key_type: str) -> None:
    x_key, ed_key = X25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    keys: dict[str, Any] = {
        "x25519_private": x_key,
        "x25519_public": x_key.public_key(),
        "ed25519_private": ed_key,
        "ed25519_public": ed_key.public_key(),
    }
    text = getattr(envelope, f"{key_type}_key_to_b64u")(keys[key_type])
    assert len(b64u_decode(text)) == 32
    loaded = getattr(envelope, f"{key_type}_key_from_b64u")(text)
    assert getattr(envelope, f"{key_type}_key_to_b64u")(loaded) == text


def test_pull_signature_header_round_trip() -> None:
    header = pull_signature_header("srv-2026-11", PULL["signature"])
    assert header == f"key_id=srv-2026-11, sig={PULL['signature']}"
    assert parse_pull_signature_header(header) == ("srv-2026-11", PULL["signature"])


def test_pull_signature_header_tolerates_whitespace_and_order() -> None:
    parsed = parse_pull_signature_header(" sig=abc_-9 ,key_id=k1 ")
    assert parsed == ("k1", "abc_-9")


# --- refusal of malformed input -------------------------------------------------------------


def test_b64u_encode_has_no_padding_and_uses_url_alphabet() -> None:
    assert b64u_encode(b"\xfb\xff") == "-_8"
    assert b64u_decode("-_8") == b"\xfb\xff"
    assert b64u_decode("") == b""


@pytest.mark.parametrize(
    "text",
    ["AAA=", "+/8", "A", "AB", "AA AA", "AA\n", "é", "AA.A"],
    ids=[
        "padding",
        "std-alphabet",
        "length-1-mod-4",
        "non-canonical",
        "space",
        "newline",
        "non-ascii",
        "dot",
    ],
)
def test_b64u_decode_refuses_malformed_text(text: str) -> None:
    with pytest.raises(InvalidBase64) as raised:
        b64u_decode(text)
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, EnvelopeError)


@pytest.mark.parametrize("sealed", ["not base64!", "AAA=", "", "AAAA"])
def test_open_refuses_malformed_sealed_with_named_error(sealed: str) -> None:
    with pytest.raises(EnvelopeDoesNotOpen):
        open_sealed(sealed, X25519PrivateKey.generate(), DEVICE_ID, BATCH_ID)


@pytest.mark.parametrize(
    "signature",
    ["not base64!", "AAA=", "", b64u_encode(bytes(63)), b64u_encode(bytes(65))],
    ids=["garbage", "padded", "empty", "63-bytes", "65-bytes"],
)
def test_verify_refuses_malformed_signature_with_named_error(signature: str) -> None:
    key = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(BadSignature):
        verify_push(key, signature, DEVICE_ID, BATCH_ID, KEY_ID, "c2Vh")
    with pytest.raises(BadSignature):
        verify_pull(key, b"body", signature)


@pytest.mark.parametrize(
    "device_id",
    ["", "a\nb", "a\x00b", "ünï", "a,b", "a=b", "x" * 129],
    ids=["empty", "newline", "nul", "non-ascii", "comma", "equals", "too-long"],
)
def test_ids_that_would_break_framing_are_refused(device_id: str) -> None:
    with pytest.raises(InvalidIdentifier):
        push_info(device_id, BATCH_ID)
    with pytest.raises(InvalidIdentifier):
        push_signed_message(device_id, BATCH_ID, KEY_ID, "c2Vh")
    with pytest.raises(BadSignature):
        verify_push(
            Ed25519PrivateKey.generate().public_key(),
            b64u_encode(bytes(64)),
            device_id,
            BATCH_ID,
            KEY_ID,
            "c2Vh",
        )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "key_id=k1",
        "sig=abc",
        "key_id=k1; sig=abc",
        "key_id=k1, sig=abc, sig=abc",
        "key_id=k1, sig=abc, alg=ed25519",
        "key_id=, sig=abc",
        "key_id=k1, sig=",
        "key_id=k1, sig=ab+c",
        'key_id="k1", sig=abc',
    ],
)
def test_malformed_pull_signature_header_is_refused(value: str) -> None:
    with pytest.raises(BadSignature):
        parse_pull_signature_header(value)


@pytest.mark.parametrize("text", ["AAAA", "not base64!", b64u_encode(bytes(33))])
def test_key_loading_refuses_wrong_size_or_encoding(text: str) -> None:
    with pytest.raises(InvalidKey):
        envelope.x25519_public_key_from_b64u(text)
    with pytest.raises(InvalidKey):
        envelope.ed25519_private_key_from_b64u(text)


# --- properties ----------------------------------------------------------------------------

PROPERTY_SERVER_KEY = X25519PrivateKey.generate()


@settings(max_examples=50, deadline=None)
@given(plaintext=st.binary(max_size=512), data=st.data())
def test_seal_round_trips_and_any_flipped_bit_fails(plaintext: bytes, data: st.DataObject) -> None:
    sealed = seal(plaintext, PROPERTY_SERVER_KEY.public_key(), DEVICE_ID, BATCH_ID)
    assert open_sealed(sealed, PROPERTY_SERVER_KEY, DEVICE_ID, BATCH_ID) == plaintext
    bit = data.draw(st.integers(min_value=0, max_value=len(b64u_decode(sealed)) * 8 - 1))
    with pytest.raises(EnvelopeDoesNotOpen):
        open_sealed(flip_bit(sealed, bit), PROPERTY_SERVER_KEY, DEVICE_ID, BATCH_ID)


@pytest.mark.parametrize("batch_id", [
    "batch-000001", "0193a3b45c6d7e8f9a0b1c2d3e4f5a6b", "{0193a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b}",
    "urn:uuid:0193a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b", "0193a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6g",
], ids=["name", "no-hyphens", "braces", "urn", "not-hex"])
def test_device_and_batch_ids_must_be_uuids(batch_id: str) -> None:
    with pytest.raises(InvalidIdentifier):
        push_info(DEVICE_ID, batch_id)
    with pytest.raises(InvalidIdentifier):
        push_signed_message(DEVICE_ID, batch_id, KEY_ID, "c2Vh")


def test_ids_enter_signed_and_sealed_bytes_in_lowercase() -> None:
    upper = DEVICE_ID.upper(), BATCH_ID.upper()
    assert push_info(*upper) == push_info(DEVICE_ID, BATCH_ID)
    assert push_signed_message(*upper, KEY_ID, "c2Vh") == \
        push_signed_message(DEVICE_ID, BATCH_ID, KEY_ID, "c2Vh")


def test_only_the_devices_own_signature_over_ids_as_sent_is_a_slip() -> None:
    device = Ed25519PrivateKey.generate()
    upper = DEVICE_ID.upper(), BATCH_ID.upper()
    as_sent = b"\n".join([b"infusync/push/v1", *(i.encode() for i in upper), KEY_ID.encode(),
                          b"c2Vh"])
    slip = b64u_encode(device.sign(as_sent))
    assert envelope.signed_over_ids_as_sent(device.public_key(), slip, *upper, KEY_ID, "c2Vh")
    other = Ed25519PrivateKey.generate().public_key()
    assert not envelope.signed_over_ids_as_sent(other, slip, *upper, KEY_ID, "c2Vh")
    lower = b64u_encode(device.sign(push_signed_message(DEVICE_ID, BATCH_ID, KEY_ID, "c2Vh")))
    assert not envelope.signed_over_ids_as_sent(device.public_key(), lower, DEVICE_ID,
                                                BATCH_ID, KEY_ID, "c2Vh")


def test_only_a_batch_that_opens_under_ids_as_sent_is_a_slip(server_hpke_key) -> None:
    upper = DEVICE_ID.upper(), BATCH_ID.upper()
    info = b"\x00".join([b"infusync/push/v1", *(i.encode() for i in upper)])
    slip = envelope.seal_with_info(b"{}", server_hpke_key.public_key(), info)
    assert envelope.opens_with_ids_as_sent(slip, server_hpke_key, *upper)
    assert not envelope.opens_with_ids_as_sent(slip, server_hpke_key, DEVICE_ID, BATCH_ID)
    right = seal(b"{}", server_hpke_key.public_key(), *upper)
    assert not envelope.opens_with_ids_as_sent(right, server_hpke_key, *upper)
