"""Exceptions named by outcome, so the CLI (and a UI) can map each to one clear message."""

from __future__ import annotations


class OfflineStoreError(Exception):
    """Base of every failure the device side reports to its user."""


class WrongPin(OfflineStoreError):
    """The PIN does not unwrap the data key; nothing was decrypted."""


class StoreNotFound(OfflineStoreError):
    """No store exists at the path (never created, or wiped)."""


class StoreExists(OfflineStoreError):
    """A store already exists where a new one was to be created."""


class StoreCorrupt(OfflineStoreError):
    """A sealed value does not open: tampered, moved to another row, or damaged."""


class NotEnrolled(OfflineStoreError):
    """The store has no device identity yet; run ``enroll`` first."""


class AlreadyEnrolled(OfflineStoreError):
    """The store already belongs to an enrolled device."""


class UnknownVisit(OfflineStoreError):
    """The visit is not on this device (not assigned, or not pulled yet)."""


class InsecureServerUrl(OfflineStoreError):
    """A plain-HTTP server URL outside loopback was given without explicit permission."""


class TransportError(OfflineStoreError):
    """No HTTP response arrived (connection refused, dropped, timed out)."""


class UploadIncomplete(TransportError):
    """The connection failed before the whole request body was sent: nothing was acted on."""


class ServerError(OfflineStoreError):
    """The server answered with an error the client cannot resolve by itself."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"server answered {status} {code}: {message}")
        self.status = status
        self.code = code


class EnrollmentRefused(ServerError):
    """The server refused the enrolment code (unknown, used or expired)."""


class Unauthorized(ServerError):
    """The server does not know the device token; the device must be enrolled again."""


class PushRefused(ServerError):
    """The server could not open or verify a batch (422); the batch is kept as it was."""


class BatchInProgress(ServerError):
    """The server is applying the batch whose answer was lost (409): ask again shortly."""


class BatchTooLarge(ServerError):
    """A batch of one mutation is still too large for the server (413)."""


class DeviceWiped(OfflineStoreError):
    """The server revoked this device or sent a wipe command; the store is destroyed."""


class UnverifiedResponse(ServerError):
    """An answer not signed by a trusted server key for this very request: nothing was done.

    Protocol v1.1 signs every answer a device acts on; one that fails may come from anyone
    between the device and the server, so the device acts on none of it (the batch stays
    in the outbox, the cursor and the store are unchanged) and tries again later.
    """


class UnverifiedWipe(UnverifiedResponse):
    """An order to wipe that the server did not sign for this request: it is not obeyed."""


class BadPullSignature(OfflineStoreError):
    """A pull response is not signed by the enrolled server key; nothing was applied."""


class PullNotSealed(OfflineStoreError):
    """A signed pull response that is not sealed to this device for the cursor it sent.

    A device enrolled with an HPKE key (protocol v1.1) accepts nothing else: a plain body
    is a downgrade, one sealed for another cursor a replay. Nothing was applied.
    """


class ProtocolViolation(OfflineStoreError):
    """A signed or expected response does not have the shape protocol v1 defines."""
