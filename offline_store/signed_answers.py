"""The server's answers, verified before the device acts on any of them (protocol v1.1).

Every answer of the sync endpoints is signed for the request it answers: this device's id,
the request's nonce, the status and the body (``sync.response_signature``). An answer that
fails — unsigned, signed by a key the device does not trust, or signed for another device
or request — is not acted on at all: a wipe is not obeyed, keys are not replaced, the
batch stays in the outbox. The nurse is told in plain words.

Signing keys rotate: an answer signed by a key the device does not know makes it fetch
``GET /sync/keys`` once, where every new key is endorsed by the one before it; the device
trusts a new key only through a chain of endorsements from a key it already trusted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from offline_store.api import (
    ServerApi,
    decoded_body,
    error_of,
    json_of,
    new_nonce,
    raise_unauthorized,
)
from offline_store.device_commands import obey_revocation
from offline_store.errors import ProtocolViolation, UnverifiedResponse, UnverifiedWipe
from offline_store.identity import (
    Identity,
    SigningKey,
    parse_hpke_keys,
    parse_push_encodings,
    save_hpke_keys,
    save_push_encodings,
    save_signing_keys,
)
from offline_store.store import Store
from offline_store.transport import Response
from sync import envelope, response_signature

WIPE_NOT_OBEYED = (
    "The server's answer says this device was revoked and must be wiped, but the answer is "
    "not signed by the agency's server for this device and this request, so nothing was "
    "wiped. Your documentation is still on this device. Tell your coordinator or IT: "
    "something between this device and the server may be tampering with its answers.")


def unverified(response: Response, reason: str) -> UnverifiedResponse:
    """The exception for an answer that failed verification, worded for the nurse."""
    error = error_of(response)
    if response.status == 403 and error.code == "device_revoked":
        return UnverifiedWipe(response.status, error.code, WIPE_NOT_OBEYED)
    return UnverifiedResponse(
        response.status, error.code,
        f"The server's answer ({response.status}) could not be verified ({reason}); nothing "
        "was changed on this device. Sync again later; tell IT if this keeps happening.")


def endorsed_keys(trusted: dict[str, str], listed: Any) -> dict[str, str]:
    """``trusted`` plus every listed signing key reachable from it through endorsements.

    A listed key whose id is already trusted never replaces the trusted public key.
    """
    known = dict(trusted)
    items = [item for item in listed if isinstance(item, dict)] \
        if isinstance(listed, list) else []
    grew = True
    while grew:
        grew = False
        for item in items:
            key_id, by = item.get("key_id"), item.get("endorsed_by")
            if not isinstance(key_id, str) or key_id in known or by not in known:
                continue
            try:
                response_signature.verify_endorsement(
                    envelope.ed25519_public_key_from_b64u(known[by]),
                    str(item.get("endorsement")), key_id, str(item.get("public_key")))
            except envelope.EnvelopeError:
                continue
            known[key_id] = str(item["public_key"])
            grew = True
    return known


@dataclass
class Verifier:
    """Verifies answers for one sync; learns rotated signing keys at most once per sync."""

    store: Store
    api: ServerApi
    identity: Identity
    refreshed: bool = False

    def key_for(self, key_id: str) -> Ed25519PublicKey | None:
        """The trusted key named ``key_id``; an unknown one first makes it fetch the keys."""
        key = self.identity.signing_key_for(key_id)
        if key is None and not self.refreshed:
            self.refresh_keys()
            key = self.identity.signing_key_for(key_id)
        return key

    def verified(self, response: Response, nonce: str) -> bytes:
        """The decoded body of an answer signed for this device and ``nonce``; else raises."""
        try:
            key_id, sig = envelope.parse_pull_signature_header(self._header(response))
            key = self.key_for(key_id)
            if key is None:
                raise envelope.BadSignature(f"signed by unknown key {key_id!r}")
            body = decoded_body(response)
            self._verify(key, sig, nonce, response.status, body)
        except (envelope.BadSignature, ProtocolViolation) as exc:
            raise unverified(response, str(exc)) from exc
        return body

    def _verify(self, key: Ed25519PublicKey, sig: str, nonce: str, status: int,
                body: bytes) -> None:
        """Signed for this device; a 401 may be signed for no device (a token it no longer
        knows names none)."""
        try:
            response_signature.verify_response(key, sig, self.identity.device_id, nonce,
                                               status, body)
        except envelope.BadSignature:
            if status != 401:
                raise
            response_signature.verify_response(key, sig, "", nonce, status, body)

    def refresh_keys(self) -> Identity:
        """Fetch ``/sync/keys``; keep its HPKE keys and the signing keys endorsed from ours."""
        self.refreshed = True
        nonce = new_nonce()
        response = self.api.keys(nonce)
        if response.status != 200:
            self.verified(response, nonce)  # an error is acted on only once verified
            error = error_of(response)
            raise_unauthorized(error)
            obey_revocation(self.store, error)
            raise error.to_exception()
        try:
            key_id, sig = envelope.parse_pull_signature_header(self._header(response))
            body = decoded_body(response)
            listed = json_of(body)  # parsed only to follow endorsements; used once verified
            trusted = endorsed_keys(self.identity.trusted_signing_keys(),
                                    listed.get("signing_keys") if isinstance(listed, dict)
                                    else None)
            if key_id not in trusted:
                raise envelope.BadSignature(f"signed by unknown key {key_id!r}")
            response_signature.verify_response(
                envelope.ed25519_public_key_from_b64u(trusted[key_id]), sig,
                self.identity.device_id, nonce, 200, body)
        except (envelope.BadSignature, ProtocolViolation) as exc:
            raise unverified(response, str(exc)) from exc
        return self._keep(listed, trusted)

    def _keep(self, listed: dict[str, Any], trusted: dict[str, str]) -> Identity:
        """Save the verified keys and use them from now on."""
        learnt = tuple(SigningKey(key_id, public) for key_id, public in trusted.items()
                       if key_id != self.identity.server_signing_key_id)
        hpke = parse_hpke_keys(listed.get("hpke_keys"))
        encodings = parse_push_encodings(listed.get("push_encodings"))
        with self.store.transaction():
            save_hpke_keys(self.store, hpke)
            save_signing_keys(self.store, learnt)
            save_push_encodings(self.store, encodings)
        self.identity = replace(self.identity, hpke_keys=hpke, signing_keys=learnt,
                                push_encodings=encodings)
        return self.identity

    @staticmethod
    def _header(response: Response) -> str:
        header = response.header(response_signature.SIGNATURE_HEADER)
        if header is None:
            raise envelope.BadSignature("the answer is not signed")
        return header
