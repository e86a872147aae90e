"""A push: one sealed batch of a device's mutations, applied exactly once each.

- ``receive`` — checks the token, device, signature and key, opens and parses the batch,
  claims it, and retries when a concurrent push won a race for a mutation id.
- ``validation`` — each mutation validated once, into a frozen ``Valid`` or ``Refused``.
- ``apply`` — the phases of applying a batch, in order; ``batch_run`` the state they share.
- ``dispatch`` — each claimed mutation to its reconciliation handler, in seq order.
- ``settle`` — each touched visit re-derived once, and the answers told what it found.
- ``seq_gap`` — the device's review item for sequence numbers that never arrived.
The ledger's own protocol (claim, replay, write outcomes) is ``sync.claims`` and
``sync.ledger_writes``.
"""

from server.services.push.receive import PushSettings, TokenCheck, TooLarge, push

__all__ = ["PushSettings", "TokenCheck", "TooLarge", "push"]
