"""One shape per push-result field (protocol v1.1): flat field errors, and ``version``.

A typed decoder (Kotlin ``Map<String, List<String>>``) fails on a whole 200 when one field
changes shape, and its outbox then never drains; so every refusal's ``errors`` is flat,
keyed by the field's path in the mutation (``visit_id``, ``data.taken_at``,
``data.components.0.value``; ``_schema`` for what no one field caused), and ``version`` has
one meaning: the version of the record ``entity_id`` names (docs/protocol.md, Push).

Results stored before v1.1 (the idempotency ledger replays them) are brought to this shape
by ``upgraded``, so a replay decodes like a fresh answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Mutation types whose ``entity_id`` is the visit itself: their ``version`` is the visit's.
VISIT_ENTITY_TYPES = frozenset({"visit.check_in", "visit.check_out", "visit.sign",
                                "visit.missed"})
# Mutation types about no visit: their results carry no ``visit_version``.
VISITLESS_TYPES = frozenset({"training.complete"})
# The outcomes whose result names a stored record (and so carries ``version``).
STORED = frozenset({"applied", "conflict"})


def flat_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as ``{"path.to.field": [message, …]}``."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            for name, found in flat_errors(value, path).items():
                flat.setdefault(name, []).extend(found)
        return flat
    listed = messages if isinstance(messages, list | tuple) else [messages]
    texts = [str(one) for one in listed if not isinstance(one, Mapping | list | tuple)]
    nested = [one for one in listed if isinstance(one, Mapping | list | tuple)]
    flat = {prefix or "_schema": texts} if texts else {}
    for one in nested:
        for name, found in flat_errors(one, prefix).items():
            flat.setdefault(name, []).extend(found)
    return flat


def _is_flat(errors: Any) -> bool:
    return isinstance(errors, dict) and all(
        isinstance(value, list) and all(isinstance(one, str) for one in value)
        for value in errors.values())


def upgraded(result: Mapping[str, Any], mutation_type: str | None,
             outcome: str | None) -> dict[str, Any]:
    """A result the ledger stored, in the v1.1 shape.

    v1 answered ``errors`` nested for schema refusals, no ``version`` for a training
    attempt, and the visit's version as ``version`` of a note, an amendment, or a record in
    conflict. ``outcome`` is what became of the mutation (a duplicate's original outcome);
    ``mutation_type`` is None when the ledger does not know it (a refused mutation). A
    result already in the v1.1 shape comes back equal.
    """
    fixed = dict(result)
    if "errors" in fixed and not _is_flat(fixed["errors"]):
        fixed["errors"] = flat_errors(fixed["errors"])
    if outcome not in STORED or mutation_type is None or "visit_version" in fixed \
            or (mutation_type in VISITLESS_TYPES and "version" in fixed):
        return fixed
    old = fixed.get("version")
    if mutation_type in VISITLESS_TYPES:
        return {**fixed, "version": 1}
    if mutation_type in VISIT_ENTITY_TYPES or old is None:
        return fixed if old is None else {**fixed, "visit_version": old}
    if outcome == "conflict" or mutation_type not in {"vitals.record", "infusion.record"}:
        # v1 reported the visit's version here: the record itself is new (version 1).
        return {**fixed, "version": 1, "visit_version": old}
    return fixed
