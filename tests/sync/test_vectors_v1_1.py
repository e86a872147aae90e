"""The v1.1 sealed-pull vectors: current with their script, and every one checks out.

The vectors are opened and verified with the production code (``sync.sealed_pull`` over
pyca's HPKE), while the script seals them with its own RFC 9180 code and a fixed ephemeral
key; that they agree is part of what these tests prove.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from schemas.errors import RefusedInput
from schemas.sync import PushSchema
from sync import compression, envelope, response_signature, sealed_pull
from tests.sync import make_vectors_v1_1

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors-v1.1.json").read_text(encoding="utf-8"))
PULLS = VECTORS["pulls"]
NEGATIVE = VECTORS["negative"]
DEVICE_ID = VECTORS["device_id"]


def device_key() -> X25519PrivateKey:
    return envelope.x25519_private_key_from_b64u(VECTORS["device_hpke_private_key"])


def server_key() -> Any:
    return envelope.ed25519_public_key_from_b64u(VECTORS["server_signing_public_key"])


def test_the_committed_file_is_exactly_what_the_script_produces() -> None:
    committed = (Path(__file__).parent / "vectors-v1.1.json").read_text(encoding="utf-8")
    assert committed == make_vectors_v1_1.render()


def test_the_keys_match_their_public_halves() -> None:
    public = envelope.x25519_public_key_to_b64u(device_key().public_key())
    assert public == VECTORS["device_hpke_public_key"]
    signer = envelope.ed25519_private_key_from_b64u(VECTORS["server_signing_private_key"])
    assert envelope.ed25519_public_key_to_b64u(signer.public_key()) == \
        VECTORS["server_signing_public_key"]
    assert VECTORS["signed_message_prefix"].encode() == envelope.PULL_PREFIX


def test_the_vectors_cover_a_first_pull_and_a_pull_with_a_cursor() -> None:
    assert PULLS[0]["cursor"] == ""
    assert PULLS[1]["cursor"] == json.loads(PULLS[0]["plaintext"])["cursor"]


@pytest.mark.parametrize("pull", PULLS, ids=[p["name"] for p in PULLS])
def test_info_bytes(pull: dict[str, Any]) -> None:
    assert sealed_pull.pull_info(DEVICE_ID, pull["cursor"]).hex() == pull["hpke_info_hex"]


@pytest.mark.parametrize("pull", PULLS, ids=[p["name"] for p in PULLS])
def test_signature_verifies_over_the_sealed_body_and_is_reproduced(pull: dict[str, Any]) -> None:
    body = pull["body"].encode("ascii")
    key_id, sig = envelope.parse_pull_signature_header(pull["signature_header"])
    assert (key_id, sig) == (VECTORS["server_signing_key_id"], pull["signature"])
    envelope.verify_pull(server_key(), body, sig)
    signer = envelope.ed25519_private_key_from_b64u(VECTORS["server_signing_private_key"])
    assert envelope.sign_pull(signer, body) == pull["signature"]


@pytest.mark.parametrize("pull", PULLS, ids=[p["name"] for p in PULLS])
def test_body_opens_to_exactly_the_plaintext(pull: dict[str, Any]) -> None:
    body = pull["body"].encode("ascii")
    opened = sealed_pull.open_pull(body, device_key(), DEVICE_ID, pull["cursor"])
    assert opened == pull["plaintext"].encode("utf-8")
    sealed = envelope.b64u_decode(json.loads(body)["sealed"])
    assert len(sealed) == envelope.ENC_LENGTH + len(opened) + envelope.TAG_LENGTH
    ephemeral = X25519PrivateKey.from_private_bytes(
        envelope.b64u_decode(pull["ephemeral_private_key"]))
    assert envelope.b64u_encode(sealed[:32]) == pull["enc"] == \
        envelope.x25519_public_key_to_b64u(ephemeral.public_key())
    assert body == sealed_pull.body_of(json.loads(body)["sealed"])


@pytest.mark.parametrize("pull", PULLS, ids=[p["name"] for p in PULLS])
def test_body_does_not_open_for_another_cursor_or_device(pull: dict[str, Any]) -> None:
    body = pull["body"].encode("ascii")
    other_cursor = "" if pull["cursor"] else PULLS[1]["cursor"]
    with pytest.raises(envelope.EnvelopeDoesNotOpen):
        sealed_pull.open_pull(body, device_key(), DEVICE_ID, other_cursor)
    with pytest.raises(envelope.EnvelopeDoesNotOpen):
        sealed_pull.open_pull(body, device_key(), NEGATIVE["other_device_id"], pull["cursor"])


def test_one_flipped_bit_fails_the_signature_and_when_resigned_fails_to_open() -> None:
    of = next(pull for pull in PULLS if pull["name"] == NEGATIVE["of"])
    flipped = NEGATIVE["body_with_one_bit_flipped"].encode("ascii")
    assert flipped != of["body"].encode("ascii")
    with pytest.raises(envelope.BadSignature):
        envelope.verify_pull(server_key(), flipped, of["signature"])
    envelope.verify_pull(server_key(), flipped, NEGATIVE["resigned_signature_of_flipped_body"])
    with pytest.raises(envelope.EnvelopeDoesNotOpen):
        sealed_pull.open_pull(flipped, device_key(), DEVICE_ID, of["cursor"])


def test_a_signed_plain_v1_body_does_not_open_as_v1_1() -> None:
    body = NEGATIVE["plain_v1_body"].encode("utf-8")
    envelope.verify_pull(server_key(), body, NEGATIVE["plain_v1_body_signature"])
    with pytest.raises(envelope.EnvelopeDoesNotOpen):
        sealed_pull.open_pull(body, device_key(), DEVICE_ID, "")


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b'{"protocol":"1","sealed":"AAAA"}', b'{"protocol":"1.1"}',
    b'{"protocol":"1.1","sealed":"AAAA","extra":1}', b'{"protocol":"1.1","sealed":7}',
    b'{"protocol":"1.1","sealed":"AAA="}',
], ids=["not-json", "array", "v1-label", "no-sealed", "extra-field", "number", "padded"])
def test_bodies_of_another_shape_do_not_open(body: bytes) -> None:
    with pytest.raises(envelope.EnvelopeDoesNotOpen):
        sealed_pull.open_pull(body, device_key(), DEVICE_ID, "")


@pytest.mark.parametrize("cursor", ["a b", "a+b", "a/b", "a=", "é", "x" * 2001])
def test_cursors_that_are_not_base64url_text_are_refused(cursor: str) -> None:
    with pytest.raises(envelope.InvalidIdentifier):
        sealed_pull.pull_info(DEVICE_ID, cursor)


def test_seal_pull_round_trips_with_a_fresh_ephemeral() -> None:
    plaintext = PULLS[0]["plaintext"].encode()
    key = device_key()
    first = sealed_pull.seal_pull(plaintext, key.public_key(), DEVICE_ID, "")
    second = sealed_pull.seal_pull(plaintext, key.public_key(), DEVICE_ID, "")
    assert first != second  # production seals are randomised; only vectors fix the ephemeral
    assert sealed_pull.open_pull(first, key, DEVICE_ID, "") == plaintext


PUSH = VECTORS["push"]


def _push_keys() -> tuple[Any, Any]:
    return (envelope.x25519_private_key_from_b64u(PUSH["server_hpke_private_key"]),
            envelope.ed25519_public_key_from_b64u(PUSH["device_signing_public_key"]))


@pytest.mark.parametrize("device_id", [DEVICE_ID, VECTORS["device_id_uppercase"]],
                         ids=["lowercase", "uppercase"])
def test_a_pull_opens_for_the_device_id_in_either_case(device_id: str) -> None:
    assert device_id.lower() == DEVICE_ID
    for pull in PULLS:
        assert sealed_pull.pull_info(device_id, pull["cursor"]).hex() == pull["hpke_info_hex"]
        opened = sealed_pull.open_pull(pull["body"].encode(), device_key(), device_id,
                                       pull["cursor"])
        assert opened == pull["plaintext"].encode()


@pytest.mark.parametrize("accepted", PUSH["accepted"], ids=lambda a: a["name"])
def test_a_push_with_ids_in_either_case_is_accepted(accepted: dict[str, Any]) -> None:
    body = accepted["body"]
    server_key, device_public = _push_keys()
    assert envelope.push_info(body["device_id"], body["batch_id"]).hex() == PUSH["hpke_info_hex"]
    assert envelope.push_signed_message(body["device_id"], body["batch_id"], body["key_id"],
                                        body["sealed"]).decode() == PUSH["signed_message"]
    envelope.verify_push(device_public, body["signature"], body["device_id"],
                         body["batch_id"], body["key_id"], body["sealed"])
    assert envelope.open_sealed(body["sealed"], server_key, body["device_id"],
                                body["batch_id"]) == PUSH["plaintext"].encode()
    assert PushSchema().load(body)["device_id"] == body["device_id"]


def test_the_push_vectors_cover_both_cases_and_padding() -> None:
    bodies = [accepted["body"] for accepted in PUSH["accepted"]]
    assert {body["device_id"] for body in bodies} == {DEVICE_ID, DEVICE_ID.upper()}
    assert all("=" not in body["sealed"] + body["signature"] for body in bodies)
    codes = {refused["code"] for refused in PUSH["refused"]}
    assert {"base64_padded", "malformed_envelope", "identifiers_not_canonical"} <= codes


@pytest.mark.parametrize("refused", [r for r in PUSH["refused"] if r["status"] == 400],
                         ids=lambda r: r["name"])
def test_a_malformed_envelope_is_refused_with_its_code(refused: dict[str, Any]) -> None:
    with pytest.raises(RefusedInput) as caught:
        PushSchema().load(refused["body"])
    assert caught.value.code == refused["code"]


def test_ids_signed_as_sent_in_upper_case_fail_and_are_named_a_slip() -> None:
    refused = next(r for r in PUSH["refused"] if r["code"] == "identifiers_not_canonical")
    body = PushSchema().load(refused["body"])  # well formed
    _server_key, device_public = _push_keys()
    signed = (device_public, body["signature"], body["device_id"], body["batch_id"],
              body["key_id"], body["sealed"])
    with pytest.raises(envelope.BadSignature):
        envelope.verify_push(*signed)
    assert envelope.signed_over_ids_as_sent(*signed)


def test_the_visit_batch_opens_to_its_plaintext_and_its_signature_verifies() -> None:
    push = VECTORS["visit_batch"]
    body = push["body"]
    assert envelope.push_info(DEVICE_ID, push["batch_id"]).hex() == push["hpke_info_hex"]
    server = envelope.x25519_private_key_from_b64u(push["server_hpke_private_key"])
    opened = envelope.open_sealed(body["sealed"], server, body["device_id"], body["batch_id"])
    assert opened == push["plaintext"].encode()
    message = envelope.push_signed_message(body["device_id"], body["batch_id"], body["key_id"],
                                           body["sealed"])
    assert message.decode() == push["signed_message"]
    envelope.verify_push(envelope.ed25519_public_key_from_b64u(
        push["device_signing_public_key"]), body["signature"], body["device_id"],
        body["batch_id"], body["key_id"], body["sealed"])


# Signed errors (the wipe), a gzipped pull and the exact headers: protocol v1.1, issue 12.

WIPE = VECTORS["signed_errors"][0]


def test_the_signed_message_of_the_wipe_is_built_from_device_nonce_status_and_body() -> None:
    message = response_signature.response_message(
        WIPE["device_id"], WIPE["nonce"], WIPE["status"], WIPE["body"].encode())
    assert message == WIPE["signed_message"].encode("ascii")
    assert message.startswith(WIPE["signed_message_prefix"].encode("ascii"))
    assert json.loads(WIPE["body"])["error"]["details"] == {"command": {"type": "wipe"}}


def test_the_wipe_signature_verifies_and_is_reproduced() -> None:
    key_id, sig = envelope.parse_pull_signature_header(WIPE["signature_header"])
    assert (key_id, sig) == (VECTORS["server_signing_key_id"], WIPE["signature"])
    response_signature.verify_response(server_key(), sig, WIPE["device_id"], WIPE["nonce"],
                                       WIPE["status"], WIPE["body"].encode())
    signer = envelope.ed25519_private_key_from_b64u(VECTORS["server_signing_private_key"])
    assert response_signature.sign_response(signer, WIPE["device_id"], WIPE["nonce"],
                                            WIPE["status"], WIPE["body"].encode()) == sig


@pytest.mark.parametrize("replayed", ["other_device_id", "later_nonce", "unsigned_status"])
def test_the_wipe_does_not_verify_for_another_device_request_or_status(replayed: str) -> None:
    bound = {"device_id": WIPE["device_id"], "nonce": WIPE["nonce"], "status": WIPE["status"]}
    field = {"other_device_id": "device_id", "later_nonce": "nonce",
             "unsigned_status": "status"}[replayed]
    bound[field] = WIPE["negative"][replayed]
    with pytest.raises(envelope.BadSignature):
        response_signature.verify_response(server_key(), WIPE["signature"], bound["device_id"],
                                           bound["nonce"], bound["status"],
                                           WIPE["body"].encode())


def test_the_gzipped_pull_decodes_to_the_signed_body() -> None:
    gzipped = VECTORS["gzip_pull"]
    of = next(pull for pull in PULLS if pull["name"] == gzipped["of"])
    body = gzip.decompress(envelope.b64u_decode(gzipped["gzip_body"]))
    assert body == of["body"].encode("ascii")
    _key_id, sig = envelope.parse_pull_signature_header(gzipped["signature_header"])
    envelope.verify_pull(server_key(), body, sig)
    with pytest.raises(envelope.BadSignature):  # the signature is never over the gzip bytes
        envelope.verify_pull(server_key(), envelope.b64u_decode(gzipped["gzip_body"]), sig)


def _headers(lines: list[str]) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in lines[1:])


def test_the_http_examples_carry_the_signatures_and_lengths_of_their_bodies() -> None:
    first, revoked = (VECTORS["http_examples"][name] for name in ("first_pull", "revoked_pull"))
    sent = _headers(first["response"])
    assert sent["Infusync-Signature"] == VECTORS["gzip_pull"]["signature_header"]
    assert int(sent["Content-Length"]) == len(
        envelope.b64u_decode(VECTORS["gzip_pull"]["gzip_body"]))
    response_signature.check_nonce(_headers(first["request"])["Infusync-Nonce"])
    refused = _headers(revoked["response"])
    assert refused["Infusync-Signature"] == WIPE["signature_header"]
    assert int(refused["Content-Length"]) == len(WIPE["body"].encode())
    assert _headers(revoked["request"])["Infusync-Nonce"] == WIPE["nonce"]


def test_the_compressed_push_opens_then_inflates_to_its_batch() -> None:
    compressed = PUSH["compressed"]
    body = compressed["body"]
    server_key, device_public = _push_keys()
    assert body["encoding"] == "zlib"
    assert envelope.push_info(body["device_id"], body["batch_id"]).hex() == \
        compressed["hpke_info_hex"]
    envelope.verify_push(device_public, body["signature"], body["device_id"],
                         body["batch_id"], body["key_id"], body["sealed"])
    opened = envelope.open_sealed(body["sealed"], server_key, body["device_id"],
                                  body["batch_id"])
    assert opened.hex() == compressed["zlib_plaintext_hex"]
    assert compression.inflate(opened, 10_000) == compressed["plaintext"].encode()
