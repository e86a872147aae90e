"""What the nurse reads when a sync does not go through, in her words, not the wire's.

Her first question is whether her documentation is lost; every message answers it (it is
on the device, sealed, and goes at the next sync) before saying what went wrong. No
urllib wording, no stack of causes: those are for the log of whoever debugs the link.
"""

from __future__ import annotations

# The server answers the same code and keys again this long (enrollment_retry.py).
RETRY_MINUTES = 10


def records(count: int) -> str:
    """``1 record`` / ``540 records``."""
    return f"{count} record{'' if count == 1 else 's'}"


def safe_on_device(pending: int) -> str:
    """The reassurance itself; nothing pending needs none."""
    if pending == 0:
        return "nothing is waiting to be sent"
    return (f"your documentation ({records(pending)}) is safe on this device and will be "
            "sent when the connection returns")


def no_connection(pending: int) -> str:
    """A sync that could not reach the agency after its retries."""
    return f"No connection to the agency. {_sentence(safe_on_device(pending))}"


def received_later(sent: int) -> str:
    """The push went through; only the updates from the agency did not arrive."""
    return (f"Your documentation was sent ({records(sent)} answered). Updates from the "
            "agency could not be received (no connection); they will come at the next sync.")


def interrupted(pending: int) -> str:
    """Ctrl-C during a sync: nothing half-sent is lost either."""
    if pending == 0:
        return "Sync stopped. Nothing is waiting to be sent."
    return (f"Sync stopped. Your documentation ({records(pending)}) is safe on this device "
            "and will be sent at the next sync.")


def enrollment_unanswered() -> str:
    """An enrollment whose answer did not arrive: the same code still works for a while."""
    return ("No connection to the agency: this device is not enrolled yet. Run the same "
            f"enroll command again (same code) within {RETRY_MINUTES} minutes, or ask for a "
            "new code.")


def _sentence(text: str) -> str:
    """Capitalise the first letter and end with a full stop."""
    return text[:1].upper() + text[1:] + "."
