"""The sync client: enrol once, then ``sync()`` = push the whole outbox, then pull to the end."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from importlib import metadata

from offline_store import enrollment_keys, sent
from offline_store.api import ServerApi, decoded_body, error_of, json_of
from offline_store.clock import Clock, system_clock, utc_rfc3339
from offline_store.errors import (
    AlreadyEnrolled,
    EnrollmentRefused,
    InsecureServerUrl,
    ServerError,
    TransportError,
)
from offline_store.identity import (
    Identity,
    is_enrolled,
    load_identity,
    parse_enrollment,
    save_identity,
)
from offline_store.pull import (
    DEFAULT_PAGE_SIZE,
    FEED_BEHIND_CURSOR,
    CursorExpired,
    PullReport,
    pull_changes,
    restart_from_snapshot,
)
from offline_store.push import PushReport, push_outbox
from offline_store.retry import NO_RETRY, RETRYABLE_STATUSES, RetryPolicy, retrying
from offline_store.signed_answers import Verifier
from offline_store.store import Store
from offline_store.sync_attempts import forget_failure, note_failure
from offline_store.transport import Response, Transport, UrllibTransport
from sync import envelope

PLATFORM = "python"
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def installed_version() -> str:
    """The app version reported to the server: the installed infusync package's."""
    try:
        return metadata.version("infusync")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def check_server_url(url: str, *, allow_http: bool = False) -> str:
    """Normalise a server URL; plain HTTP only to loopback unless explicitly allowed."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InsecureServerUrl(f"not an http(s) server URL: {url!r}")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK and not allow_http:
        raise InsecureServerUrl(
            "refusing plain HTTP to a non-loopback server (the device token would travel "
            "in clear); use https:// or allow HTTP explicitly")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class ReceiveFailed(TransportError):
    """Everything was sent, but the updates could not be received: the push is not lost."""

    def __init__(self, push: PushReport, cause: TransportError) -> None:
        super().__init__(f"sent, but receiving updates failed: {cause}")
        self.push = push


@dataclass(frozen=True)
class SyncReport:
    """What a full sync did."""

    push: PushReport
    pull: PullReport
    synced_at: str


class SyncClient:
    """Talks protocol v1.1 for one store; every dependency (transport, clock) is injectable."""

    def __init__(self, store: Store, transport: Transport | None = None, *,
                 clock: Clock = system_clock, app_version: str | None = None,
                 page_size: int = DEFAULT_PAGE_SIZE, retry: RetryPolicy = NO_RETRY) -> None:
        self.store = store
        self.transport = transport if transport is not None else UrllibTransport()
        self.clock = clock
        self.app_version = app_version or installed_version()
        self.page_size = page_size
        self.retry = retry

    def enroll(self, server_url: str, code: str, name: str, *,
               allow_http: bool = False) -> Identity:
        """Enrol with a one-time code; the device's private keys never leave the device.

        The X25519 key makes this a protocol v1.1 device: every pull is sealed to it.
        """
        if is_enrolled(self.store):
            raise AlreadyEnrolled("this store is already enrolled; wipe it to enrol again")
        server_url = check_server_url(server_url, allow_http=allow_http)
        # The same keys on every retry: the server answers a lost enrollment again only to
        # the keys that asked first (server/services/enrollment_retry.py).
        signing_key, hpke_key = enrollment_keys.keys_for(self.store, code)
        request = {
            "code": code, "name": name, "platform": PLATFORM, "app_version": self.app_version,
            "signing_key": envelope.ed25519_public_key_to_b64u(signing_key.public_key()),
            "hpke_key": envelope.x25519_public_key_to_b64u(hpke_key.public_key()),
        }
        api = ServerApi(self.transport, server_url)
        response = retrying(lambda: _answered(api.enroll(request)), self.retry)
        if response.status != 201:
            error = error_of(response)
            raise error.to_exception(EnrollmentRefused if error.status < 500 else ServerError)
        identity = parse_enrollment(json_of(decoded_body(response)), server_url, signing_key,
                                    hpke_key)
        with self.store.transaction():
            save_identity(self.store, identity)
            enrollment_keys.forget(self.store)
        return identity

    def _session(self) -> tuple[Verifier, ServerApi]:
        """A verifier of the server's answers for the enrolled identity, and an API bound
        to its server and token."""
        identity = load_identity(self.store)
        api = ServerApi(self.transport, identity.server_url, identity.token)
        return Verifier(self.store, api, identity), api

    def refresh_keys(self) -> Identity:
        """Learn the server's keys now: HPKE keys to seal to, rotated signing keys."""
        verifier, _api = self._session()
        return verifier.refresh_keys()

    def push(self) -> PushReport:
        """Push every pending mutation; a failure leaves the open batch to be resent as is."""
        verifier, api = self._session()
        return push_outbox(self.store, api, verifier, app_version=self.app_version,
                           clock=self.clock)

    def pull(self) -> PullReport:
        """Pull to the end; an expired cursor pushes the outbox, then restarts a snapshot."""
        verifier, api = self._session()
        try:
            report = pull_changes(self.store, api, verifier, page_size=self.page_size)
        except CursorExpired as expired:
            if expired.reason == FEED_BEHIND_CURSOR:  # the server was restored from a backup
                sent.requeue(self.store)
            self.push()
            restart_from_snapshot(self.store)
            report = pull_changes(self.store, api, verifier, page_size=self.page_size)
        if not report.retired:
            self.store.set_value("sync_state", "retired", None)
        return report

    def sync(self) -> SyncReport:
        """Learn the server's keys, push everything, pull everything, record the time.

        Asking for the keys first is how a rotation reaches the device before it matters:
        a new HPKE key is sealed to at once, an announced signing key trusted ahead. A
        failure is noted for ``status``; one while receiving says the push went through.
        """
        try:
            retrying(self.refresh_keys, self.retry)
            pushed = retrying(self.push, self.retry)
        except (TransportError, ServerError) as exc:
            note_failure(self.store, self.clock(), exc)
            raise
        try:
            pulled = retrying(self.pull, self.retry)
        except TransportError as exc:
            note_failure(self.store, self.clock(), exc)
            raise ReceiveFailed(pushed, exc) from exc
        except ServerError as exc:
            note_failure(self.store, self.clock(), exc)
            raise
        synced_at = utc_rfc3339(self.clock())
        with self.store.transaction():
            self.store.set_value("sync_state", "last_sync_at", synced_at)
            forget_failure(self.store)
        return SyncReport(pushed, pulled, synced_at)


def _answered(response: Response) -> Response:
    """The response, unless a proxy or busy server says to come back (retry, or raise).

    Not 429: an enrollment is throttled after wrong codes, and waiting seconds won't help.
    """
    if response.status in RETRYABLE_STATUSES - {429}:
        raise error_of(response).to_exception(ServerError)
    return response
