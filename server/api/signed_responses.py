"""Every response of the device endpoints signed for the request it answers (protocol v1.1).

A device acts on errors too: ``403 device_revoked`` wipes it, ``409 unknown_key`` replaces
its keys, ``410 cursor_expired`` restarts its snapshot. Signing only a pull's ``200`` left
those to anyone on the path. The signature (``sync.response_signature``) binds the body to
the device the token belongs to, the request's ``Infusync-Nonce`` and the status, so a
recorded answer cannot be replayed to another device or to a later request.
"""

from __future__ import annotations

import logging
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Response, g, request

from server import clock
from server.api import sync_settings
from server.api.blueprint import Blueprint
from server.errors import AppError
from server.extensions import current_session
from server.services import devices, server_keys
from sync import envelope, response_signature

log = logging.getLogger(__name__)


def request_nonce() -> str:
    """The request's ``Infusync-Nonce``, or "" when it sent none (or a malformed one)."""
    nonce = request.headers.get(response_signature.NONCE_HEADER, "")
    try:
        return response_signature.check_nonce(nonce) if nonce else ""
    except response_signature.InvalidNonce:
        return ""


def _check_nonce() -> None:
    """A malformed nonce is refused before any work: the device could verify no answer."""
    nonce = request.headers.get(response_signature.NONCE_HEADER)
    if nonce is None:
        return
    try:
        response_signature.check_nonce(nonce)
    except response_signature.InvalidNonce as exc:
        raise AppError(str(exc), {"Infusync-Nonce": [str(exc)]}) from None


# (token, device id) a view already found the request's token to belong to.
_NOTED = "infusync_token_device"


def note_token_device(token: str, device_id: uuid.UUID) -> None:
    """Remember that ``token`` belongs to ``device_id`` (just read by the view): the
    signature names that device without a read of its own, a statement less per push."""
    setattr(g, _NOTED, (token, str(device_id)))


def _token_device_id() -> str:
    """The device the bearer token belongs to, or "" (no token, or nobody's)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    noted = g.get(_NOTED)
    if noted is not None and noted[0] == token.strip():
        return str(noted[1])
    device_id = devices.device_id_of_token(current_session(), token.strip())
    return str(device_id) if device_id else ""


def signing_key() -> tuple[str, Ed25519PrivateKey]:
    """The key that signs now; the first keys are made here when a restore lacks them."""
    session, keyring = current_session(), sync_settings.signing_keyring()
    try:
        return keyring.signing_key(session, sync_settings.data_key(), clock.now())
    except LookupError:
        server_keys.ensure_keys(session, sync_settings.data_key(), clock.now())
        return keyring.signing_key(session, sync_settings.data_key(), clock.now())


def _sign(response: Response) -> Response:
    """Sign a response unless the view signed it already (a pull's 200)."""
    if response_signature.SIGNATURE_HEADER in response.headers or response.is_streamed:
        return response
    try:
        key_id, key = signing_key()
        sig = response_signature.sign_response(key, _token_device_id(), request_nonce(),
                                               response.status_code, response.get_data())
    except Exception as exc:  # an unsigned answer beats a second error
        # Only a broken database gets here; the device refuses the unsigned answer, which
        # is the right outcome, and the response the request earned still goes out.
        log.error("response not signed", extra={"error_type": type(exc).__name__})
        return response
    response.headers[response_signature.SIGNATURE_HEADER] = (
        envelope.pull_signature_header(key_id, sig))
    return response


def sign_every_response(blp: Blueprint) -> None:
    """Refuse malformed nonces and sign every answer of ``blp``'s routes."""
    blp.before_request(_check_nonce)
    blp.after_request(_sign)
