"""Pushes refused before the push service runs, counted in ``infusync_push_batches``.

The service counts what it decides (applied, replayed, refused, failed). A push can also be
turned away before it runs: an unknown token or a revoked device, a compressed or non-JSON
body, a body over the limit, an envelope that is not well formed, the device's rate limit.
Those are counted here, by their error code, as the response leaves: the codes are a fixed
list (docs/protocol.md, Push, Errors), so the label stays bounded; a code not on it counts
as ``refused`` and any 5xx as ``failed``.
"""

from __future__ import annotations

from flask import Response, g, request

from server.metrics.instruments import EARLY_PUSH_REFUSALS, push_batches

_SERVICE_RAN = "push_service_ran"
PUSH_RULE = "/sync/push"


def service_runs() -> None:
    """Note that the push service takes this request: it counts the batch itself."""
    g.setdefault(_SERVICE_RAN, True)


def outcome_of(response: Response) -> str:
    """The outcome label of a push refused early: its code when on the list."""
    if response.status_code >= 500:
        return "failed"
    body = response.get_json(silent=True) if response.is_json else None
    code = body.get("error", {}).get("code") if isinstance(body, dict) else None
    return code if code in EARLY_PUSH_REFUSALS else "refused"


def _is_push() -> bool:
    return request.method == "POST" and request.url_rule is not None \
        and request.url_rule.rule.endswith(PUSH_RULE)


def count_early_refusal(response: Response) -> Response:
    """After a request to the sync endpoints (last hook registered on their blueprint, so
    it reads the JSON error before signing and compression): count a refused push unless
    the service did."""
    if response.status_code >= 400 and _is_push() and not g.get(_SERVICE_RAN):
        push_batches.labels(outcome_of(response)).inc()
    return response
