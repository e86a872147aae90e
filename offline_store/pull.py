"""Pulling changes: verify each page's signature over its exact bytes, open it (v1.1), apply it."""

from __future__ import annotations

from dataclasses import dataclass

from offline_store.api import (
    ServerApi,
    decoded_body,
    error_of,
    json_of,
    new_nonce,
    raise_unauthorized,
)
from offline_store.changes import Page, apply_page, parse_page
from offline_store.device_commands import obey_revocation
from offline_store.errors import (
    BadPullSignature,
    ProtocolViolation,
    PullNotSealed,
    ServerError,
)
from offline_store.identity import Identity
from offline_store.signed_answers import Verifier
from offline_store.store import Store
from offline_store.transport import Response
from sync import envelope, sealed_pull

DEFAULT_PAGE_SIZE = 200
SIGNATURE_HEADER = "Infusync-Signature"


# ``details.reason`` of a 410 from a server restored from a backup (``offline_store.sent``).
FEED_BEHIND_CURSOR = "feed_behind_cursor"


class CursorExpired(ServerError):
    """The cursor is no use any more: 410 ``cursor_expired`` (feed compacted, or the server
    restored behind it: ``reason``) or 400 ``invalid_cursor`` (issued for another nurse's
    feed). All end in a fresh snapshot."""

    reason: str | None = None


@dataclass
class PullReport:
    """What one pull achieved."""

    pages: int = 0
    upserts: int = 0
    removals: int = 0
    purged: int = 0
    snapshot: bool = False
    retired: bool = False


def verified_page(response: Response, verifier: Verifier, cursor: str | None) -> Page:
    """The page, only if a trusted server key signed these exact (decoded) bytes and, for a
    v1.1 device, they open as sealed to it for ``cursor`` (the one it asked with)."""
    identity = verifier.identity
    header = response.header(SIGNATURE_HEADER)
    if header is None:
        raise BadPullSignature("the pull response is not signed")
    try:
        key_id, sig = envelope.parse_pull_signature_header(header)
        key = verifier.key_for(key_id)
        if key is None:
            raise BadPullSignature(f"the pull response is signed by unknown key {key_id!r}")
        body = decoded_body(response)
        envelope.verify_pull(key, body, sig)
    except (envelope.BadSignature, ProtocolViolation) as exc:
        raise BadPullSignature(f"the pull response is refused: {exc}") from exc
    return parse_page(json_of(_opened(body, identity, cursor)))


def _opened(body: bytes, identity: Identity, cursor: str | None) -> bytes:
    """The v1 page bytes: a v1.1 device opens them and refuses a plain body (downgrade)."""
    if identity.hpke_key is None:
        return body
    try:
        return sealed_pull.open_pull(body, identity.hpke_key, identity.device_id, cursor or "")
    except envelope.EnvelopeDoesNotOpen as exc:
        raise PullNotSealed("the pull response is not sealed to this device for this cursor "
                            "(protocol v1.1); nothing was applied") from exc


def pull_changes(store: Store, api: ServerApi, verifier: Verifier, *,
                 page_size: int = DEFAULT_PAGE_SIZE) -> PullReport:
    """Pull and apply pages until the server has no more; each page commits with its cursor."""
    report = PullReport()
    while True:
        cursor = store.get_value("sync_state", "cursor")
        nonce = new_nonce()
        response = api.pull(cursor, page_size, nonce)
        if response.status != 200:
            verifier.verified(response, nonce)  # an error is acted on only once verified
            _raise_unless_retired(store, response)
            report.retired = True
            return report
        page = verified_page(response, verifier, cursor)
        applied = apply_page(store, page, from_empty_cursor=cursor is None)
        report.pages += 1
        report.upserts += applied.upserts
        report.removals += applied.removals
        report.purged += applied.purged
        report.snapshot = report.snapshot or page.snapshot
        if not page.has_more:
            return report
        if page.cursor == cursor:
            raise ProtocolViolation("the server says has_more but does not move the cursor")


def _raise_unless_retired(store: Store, response: Response) -> None:
    """Handle a pull error: return only when the device is retired (pulling stops)."""
    error = error_of(response)
    raise_unauthorized(error)
    if error.status == 403 and error.code == "device_retired":
        store.set_value("sync_state", "retired", True)
        return
    obey_revocation(store, error)
    if (error.status, error.code) in ((410, "cursor_expired"), (400, "invalid_cursor")):
        expired = CursorExpired(error.status, error.code, error.message)
        reason = error.details.get("reason") if isinstance(error.details, dict) else None
        expired.reason = reason if isinstance(reason, str) else None
        raise expired
    raise error.to_exception()


def restart_from_snapshot(store: Store) -> None:
    """Forget the cursor so the next pull starts a full snapshot."""
    with store.transaction():
        store.set_value("sync_state", "cursor", None)
        store.set_value("sync_state", "snapshot_in_progress", None)
