"""The sync endpoints devices call: push (sealed batches) and pull (signed changes)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, jsonify, request
from flask.views import MethodView

from schemas.devices import ServerKeysSchema
from schemas.sync import (
    PullQuerySchema,
    PullSchema,
    PushResultSchema,
    PushSchema,
    dump_push_result,
)
from server import clock, wire_signals
from server.api import sync_settings
from server.api.blueprint import Blueprint
from server.api.compression import gzip_push_answers, gzipped_if_accepted
from server.api.guards import bearer_token, request_actor
from server.api.refusals import refusals
from server.api.signed_responses import (
    note_token_device,
    sign_every_response,
    signing_key,
)
from server.errors import AppError
from server.extensions import current_session
from server.metrics import push_refusals
from server.models import Device
from server.services import devices, server_keys
from server.services.pull import pull
from server.services.push import TokenCheck, push
from server.services.push.outcome import push_outcome
from sync import envelope, sealed_pull

blp = Blueprint("sync", __name__, url_prefix="/sync", description="Device sync (protocol v1.1)")
# After-request hooks run last-registered first: answers are signed, then gzipped, so the
# signature covers the bytes the device decodes (as a pull's does).
blp.after_request(gzip_push_answers)
sign_every_response(blp)
# Registered last, so it runs first: it reads an early refusal's JSON before it is signed.
blp.after_request(push_refusals.count_early_refusal)

F = TypeVar("F", bound=Callable[..., Any])


@blp.before_request
def _limit_body() -> None:
    """Pushes may be larger than other requests, up to the policy's max_body_bytes."""
    request.max_content_length = sync_settings.policy().max_body_bytes


def _app() -> Flask:
    """The app itself (not the proxy): the sender its wire signals' receivers match."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _device_token_first(view: F) -> F:
    """Refuse a push whose token is no device's before its body (up to the policy's
    max_body_bytes) is read and parsed. The push checks the token against the device the
    body names. On SQLite this read transaction ends here, so parsing holds no lock, and
    the push reads the device again; on PostgreSQL, where reading locks nothing, the
    transaction goes on and the push is handed the device as read (``TokenCheck``),
    instead of a second SELECT of it on every push. The response's signature names the
    token's device without reading it a third time (``note_token_device``)."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        session, token, now = current_session(), bearer_token(), clock.now()
        device = devices.authenticate(session, token, now, pulling=False)
        note_token_device(token, device.id)
        if session.get_bind().dialect.name == "sqlite":
            session.rollback()
        else:
            setattr(g, _CHECKED, TokenCheck(device))
        return view(*args, **kwargs)

    return cast(F, checked)


# What ``_device_token_first`` read, in the push's own transaction (PostgreSQL).
_CHECKED = "infusync_push_checked"


class EncodedBody(AppError):
    """A push body sent compressed (``Content-Encoding``): the server reads it as sent."""

    status = 415
    code = "unsupported_content_encoding"


def _identity_encoding(view: F) -> F:
    """Refuse a compressed push body by name: read as JSON, gzip bytes answered 400 "not
    JSON", which sent a client looking for a bug in its JSON. A sealed batch barely
    compresses anyway (docs/protocol.md, Push, Errors)."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        encoding = request.headers.get("Content-Encoding", "").strip().lower()
        if encoding not in ("", "identity"):
            raise EncodedBody("Send the push body uncompressed, without a Content-Encoding "
                              "header: the sealed batch does not compress.",
                              {"content_encoding": encoding[:40]})
        return view(*args, **kwargs)

    return cast(F, checked)


@blp.route("/push")
class Push(MethodView):
    """Deliver a sealed, signed batch of mutations."""

    @blp.doc(security=[{"deviceToken": []}])
    # 401 token, 403 device revoked, 409 batch id reused or key unknown, 415 not JSON or
    # compressed, 422 signature, envelope or batch refused (400, 413: the JSON body's own)
    @refusals(401, 403, 409, 415, 422)
    @_device_token_first
    @_identity_encoding
    @blp.arguments(PushSchema, error_status_code=400)
    @blp.response(200, PushResultSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Apply a batch exactly once; the same batch again returns the same response."""
        push_refusals.service_runs()  # from here the service counts the batch
        # Dumped here (what @blp.response would do, faster), documented by the decorator.
        result = push(current_session(), bearer_token(), body, request_actor(), clock.now(),
                      sync_settings.push_settings(), g.pop(_CHECKED, None))
        answer = dump_push_result(result)
        wire_signals.push_answered.send(_app(), body=answer)
        return jsonify(answer)


@blp.route("/push/<string:batch_id>")
class PushOutcome(MethodView):
    """The answer a batch was given, for a device whose push response was lost."""

    @blp.doc(security=[{"deviceToken": []}])
    # 401 token, 403 device revoked, 404 batch_unknown, 409 batch_in_progress
    @refusals(401, 403, 409)
    @blp.response(200, PushResultSchema, description=(
        "The push's response as stored (the same body a resend would get); signed for "
        "this request"))
    def get(self, batch_id: str) -> Any:
        """Ask for a pushed batch's results by its id instead of uploading it again."""
        answer = push_outcome(current_session(), bearer_token(), batch_id, request_actor(),
                              clock.now())
        wire_signals.push_answered.send(_app(), body=answer)
        return jsonify(answer)


def _sealed_for(device: Device, cursor: str, body: bytes) -> bytes:
    """The v1.1 body sealed to the device's enrolled key; a v1 device's body unchanged.

    The server decides from the enrolled key alone, never from a request header, so a
    proxy cannot ask for (or strip its way to) a plain body for a v1.1 device.
    """
    if device.hpke_public_key is None:
        return body
    key = envelope.x25519_public_key_from_b64u(device.hpke_public_key)
    return sealed_pull.seal_pull(body, key, str(device.id), cursor)


def _signed(body: bytes) -> Response:
    """The body, signed over its exact bytes, gzipped when the client accepts it."""
    key_id, key = signing_key()
    response = Response(body, mimetype="application/json")
    response.headers["Infusync-Signature"] = envelope.pull_signature_header(
        key_id, envelope.sign_pull(key, body))
    return gzipped_if_accepted(response)


@blp.route("/pull")
class Pull(MethodView):
    """Fetch the changes to this device's scope since its cursor."""

    @blp.doc(security=[{"deviceToken": []}])
    @refusals(400, 401, 403, 410)  # 400 a cursor not valid, 410 one compacted away
    @blp.arguments(PullQuerySchema, location="query")
    @blp.alt_response(200, schema=PullSchema, description=(
        "Signed: see Infusync-Signature. For a device enrolled with an hpke_key (protocol "
        "1.1) the body is {\"protocol\": \"1.1\", \"sealed\": …}, which opens to this page"))
    def get(self, query: dict[str, Any]) -> Response:
        """Pull a page; repeat with the returned cursor while has_more."""
        now = clock.now()
        session = current_session()
        device = devices.authenticate(session, bearer_token(), now, pulling=True)
        actor = request_actor(device.user_id)
        actor.device_id = device.id
        page = pull(session, device, query["cursor"], query["limit"], now,
                    sync_settings.cursor_key(), actor)
        body = json.dumps({"changes": page.changes, "cursor": page.cursor,
                           "has_more": page.has_more, "snapshot": page.snapshot,
                           "server_time": now.isoformat()}, separators=(",", ":"),
                          default=str).encode()
        wire_signals.pull_answered.send(_app(), page=body)
        return _signed(_sealed_for(device, query["cursor"], body))


@blp.route("/keys")
class Keys(MethodView):
    """The server's public keys now: devices learn rotations before they need them."""

    @blp.doc(security=[{"deviceToken": []}])
    @refusals(401, 403)
    @blp.response(200, ServerKeysSchema, description=(
        "Signed for this request (Infusync-Signature over infusync/response/v1.1)"))
    def get(self) -> dict[str, Any]:
        """HPKE keys to seal to, and every signing key with its endorsement."""
        now = clock.now()
        session = current_session()
        # Not pulling: a retired device still pushes, so it still needs the keys.
        devices.authenticate(session, bearer_token(), now, pulling=False)
        server_keys.ensure_keys(session, sync_settings.data_key(), now)
        return server_keys.public_keys(session, now)
