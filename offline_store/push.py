"""Pushing the outbox: seal, sign and send each persisted batch until the server answers it.

A push whose whole body left but whose answer never came (a timeout while receiving, a
connection cut after the upload) is noted in the store. The next attempt, after the usual
backoff, first asks the server for that batch's results by its id (protocol v1.1,
``GET /sync/push/{batch_id}``): a few hundred bytes up instead of the whole batch again,
which at 32 kbit/s costs minutes. Only an answer that the server does not know the batch
(``404 batch_unknown``, or a server without the route) sends it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from offline_store import sent
from offline_store.api import (
    PROTOCOL_VERSION,
    ApiError,
    ServerApi,
    error_of,
    json_of,
    new_nonce,
    raise_unauthorized,
)
from offline_store.clock import Clock
from offline_store.device_commands import obey_revocation
from offline_store.errors import (
    BatchInProgress,
    BatchTooLarge,
    ProtocolViolation,
    PushRefused,
    ServerError,
    TransportError,
    UnverifiedResponse,
    UploadIncomplete,
)
from offline_store.identity import Identity, parse_hpke_keys, save_hpke_keys
from offline_store.outbox import Batch, Outbox, Result
from offline_store.retry import RETRYABLE_STATUSES
from offline_store.signed_answers import Verifier
from offline_store.store import Store
from sync import compression, envelope

# A server that answers unknown_key twice for keys it just published is broken; stop.
MAX_KEY_REFRESHES = 2
BATCH_LIMIT_KEY = "push_batch_limit"
# The id of the open batch that left whole but whose answer was lost: ask before resending.
ANSWER_LOST_KEY = "push_answer_lost"
# Above any policy's max_batch_mutations: the policy is what caps a grown limit.
MAX_GROWN_LIMIT = 100_000


@dataclass
class PushReport:
    """What one push achieved, for the CLI and for tests."""

    batches: int = 0
    results: list[Result] = field(default_factory=list)
    resent: int = 0  # acknowledged mutations sent again (``offline_store.sent``)
    asked: int = 0  # batches whose lost answer was asked for by id, not uploaded again

    def count(self, status: str) -> int:
        """How many results have that status."""
        return sum(1 for result in self.results if result.status == status)


def push_body(identity: Identity, batch: Batch) -> dict[str, Any]:
    """Seal the batch to the current server key and sign it; sealing is fresh each time.

    Compressed first when the server reads zlib (v1.1): a batch of vitals shrinks to about
    a third, and ciphertext does not compress afterwards.
    """
    key = identity.current_hpke_key()
    zlib = compression.ZLIB in identity.push_encodings
    plaintext = compression.compress(batch.plaintext) if zlib else batch.plaintext
    sealed = envelope.seal(plaintext, key.load(), identity.device_id, batch.id)
    signature = envelope.sign_push(
        identity.signing_key, identity.device_id, batch.id, key.key_id, sealed)
    body = {"protocol": PROTOCOL_VERSION, "device_id": identity.device_id,
            "batch_id": batch.id, "key_id": key.key_id, "sealed": sealed,
            "signature": signature}
    if zlib:
        body["encoding"] = compression.ZLIB
    return body


def batch_limit(store: Store, identity: Identity) -> int:
    """How many mutations the next new batch may take: the policy's, or less after a cut."""
    kept = store.get_value("sync_state", BATCH_LIMIT_KEY)
    policy = identity.policy.max_batch_mutations
    return max(1, min(policy, int(kept))) if isinstance(kept, int) else policy


def push_outbox(store: Store, api: ServerApi, verifier: Verifier, *, app_version: str,
                clock: Clock) -> PushReport:
    """Send every pending mutation, one persisted batch at a time, at most the limit size."""
    outbox, report = Outbox(store), PushReport()
    identity = verifier.identity
    while True:
        limit = batch_limit(store, identity)
        batch = outbox.next_batch(max_mutations=limit, app_version=app_version, now=clock(),
                                  max_body_bytes=identity.policy.max_body_bytes)
        if batch is None:
            return report
        answer = _asked(store, api, verifier, batch)
        if answer is not None:
            report.asked += 1
        else:
            try:
                answer = _send(store, api, verifier, batch)
            except UploadIncomplete:
                _shrink(store, outbox, batch)
                raise
        if answer is None:  # 413: the server read nothing; re-form smaller batches
            _shrink(store, outbox, batch)
            continue
        results, missing = answer
        store.set_value("sync_state", ANSWER_LOST_KEY, None)
        report.batches += 1
        report.results += outbox.record_response(batch, results, clock())
        if missing:  # the server lacks seqs it once acknowledged: restored from a backup
            report.resent += sent.requeue(store, batch.mutation_ids)
        store.set_value("sync_state", BATCH_LIMIT_KEY, min(2 * limit, MAX_GROWN_LIMIT))


def _shrink(store: Store, outbox: Outbox, batch: Batch) -> None:
    """Re-form the batch's mutations into batches half its size, from the next attempt.

    Only for a batch the server cannot have read whole (413, or an upload cut off before
    its last byte left): otherwise it must be resent as it was, to get the results the
    server committed. Kept in the store, so the next ``sync`` starts small too; each
    answered batch doubles the limit again.
    """
    outbox.abandon_batch(batch)
    store.set_value("sync_state", BATCH_LIMIT_KEY, max(1, len(batch.mutation_ids) // 2))


Answer = tuple[list[dict[str, Any]], int]


def _asked(store: Store, api: ServerApi, verifier: Verifier, batch: Batch) -> Answer | None:
    """The results of a batch whose push answer was lost, asked for by its id; None when
    it must be uploaded (no answer was lost, or the server does not know the batch).

    A server that never got it says ``batch_unknown``; one older than the route answers an
    unsigned 404. Either way the upload is safe (the server answers a batch once). A batch
    being applied right now raises ``BatchInProgress``: the caller's backoff asks again.
    """
    if store.get_value("sync_state", ANSWER_LOST_KEY) != batch.id:
        return None
    nonce = new_nonce()
    response = api.push_outcome(batch.id, nonce)
    try:
        body = verifier.verified(response, nonce)
    except UnverifiedResponse as exc:
        if exc.status in RETRYABLE_STATUSES:
            raise  # a proxy or a busy server: not an answer about the batch
        return None
    if response.status == 200:
        opened = json_of(body)
        return _results(opened, batch), _missing(opened)
    error = error_of(response)
    if error.status == 409 and error.code == "batch_in_progress":
        raise error.to_exception(BatchInProgress)
    if error.status in (401, 403, *RETRYABLE_STATUSES):
        _raise_for(store, error)
    return None


def _send(store: Store, api: ServerApi, verifier: Verifier, batch: Batch) -> Answer | None:
    """Send one batch; its results and how many of the device's seqs the server says it
    lacks, or None when it must be split. Raises otherwise.

    Every answer is verified first (signed for this device and request): an unverified one
    raises and the batch stays persisted as it was.
    """
    for _ in range(MAX_KEY_REFRESHES + 1):
        nonce = new_nonce()
        try:
            response = api.push(push_body(verifier.identity, batch), nonce)
        except UploadIncomplete:
            raise  # the server cannot have read it: nothing to ask for
        except TransportError:
            store.set_value("sync_state", ANSWER_LOST_KEY, batch.id)
            raise
        body = verifier.verified(response, nonce)
        if response.status == 200:
            opened = json_of(body)
            return _results(opened, batch), _missing(opened)
        error = error_of(response)
        if error.status == 409 and error.code == "unknown_key":
            keys = parse_hpke_keys(error.details.get("hpke_keys"))
            save_hpke_keys(store, keys)
            verifier.identity = replace(verifier.identity, hpke_keys=keys)
            continue
        if error.status == 413:
            if len(batch.mutation_ids) > 1:
                return None
            raise error.to_exception(BatchTooLarge)
        _raise_for(store, error)
    raise ServerError(409, "unknown_key", "the server refuses every key it publishes")


def _raise_for(store: Store, error: ApiError) -> None:
    """Map a push error to its outcome; the batch stays persisted for the next attempt."""
    raise_unauthorized(error)
    obey_revocation(store, error)
    if error.status == 422:
        raise error.to_exception(PushRefused)
    raise error.to_exception()


def _missing(body: Any) -> int:
    """``missing_seqs`` of a push response (absent: none; v1.1 servers send it)."""
    missing = body.get("missing_seqs") if isinstance(body, dict) else None
    return missing if type(missing) is int and missing > 0 else 0


def _results(body: Any, batch: Batch) -> list[dict[str, Any]]:
    """The results of a 200 answer, which must be the answer to this very batch."""
    # The server answers with the id's canonical (lowercase) form, whatever case was sent.
    if not isinstance(body, dict) or str(body.get("batch_id")).lower() != batch.id.lower():
        raise ProtocolViolation("the push response does not answer the batch sent")
    results = body.get("results")
    if not isinstance(results, list):
        raise ProtocolViolation("the push response has no results list")
    return results
