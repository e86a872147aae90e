"""The keys of an enrollment whose answer has not arrived yet, kept to ask again with them.

The server answers a repeated enrollment (same code, same public keys, within minutes) as
the first one, so a response lost on a bad link costs neither the code nor an orphaned
device. That needs the very same keys on the retry, including a retry by a later
``infusync-device enroll``: they are sealed in the store under the PIN until enrollment
succeeds, then the identity holds them.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from offline_store.store import Store
from sync import envelope

PENDING_KEY = "pending_enrollment"


def _code_digest(code: str) -> str:
    """The code as the server reads it (dashes and spaces dropped, upper case), hashed."""
    normal = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normal.encode()).hexdigest()


def keys_for(store: Store, code: str) -> tuple[Ed25519PrivateKey, X25519PrivateKey]:
    """The keys already sent with this code, or new ones (kept before they are sent)."""
    digest = _code_digest(code)
    kept = store.get_value("secrets", PENDING_KEY)
    if isinstance(kept, dict) and kept.get("code") == digest:
        return (envelope.ed25519_private_key_from_b64u(kept["signing_key"]),
                envelope.x25519_private_key_from_b64u(kept["hpke_key"]))
    signing_key, hpke_key = Ed25519PrivateKey.generate(), X25519PrivateKey.generate()
    store.set_value("secrets", PENDING_KEY, {
        "code": digest,
        "signing_key": envelope.ed25519_private_key_to_b64u(signing_key),
        "hpke_key": envelope.x25519_private_key_to_b64u(hpke_key)})
    return signing_key, hpke_key


def forget(store: Store) -> None:
    """Enrolled (or refused for good): the pending keys are no longer needed here."""
    store.set_value("secrets", PENDING_KEY, None)
