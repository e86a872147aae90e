"""The counters and histograms that events increment where they happen.

They live in ``INSTRUMENTS``, a registry of our own (not prometheus-client's global one,
which would add the scraping process's own figures, meaningless across workers). Under
``infusync serve``, PROMETHEUS_MULTIPROC_DIR is set before any worker imports this module,
so each value is kept in that worker's file there and a scrape sums every worker's
(``server.metrics.scrape``); elsewhere (tests, the CLI) values live in this process.

Labels are bounded sets (a route's rule, an outcome's name, never an id or a path), and
every known combination is created at zero here, so a rate() or an alert sees a series
before its first event.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from sync.ledger import Outcome

INSTRUMENTS = CollectorRegistry(auto_describe=True)

# Seconds: a pull or a request is usually well under a second; a large push takes seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

BATCH_OUTCOMES = ("applied", "replayed", "refused", "failed")
# A push turned away before the push service runs, by its error code (push_refusals.py).
EARLY_PUSH_REFUSALS = ("unauthorized", "device_revoked", "unsupported_content_encoding",
                       "unsupported_media_type", "body_too_large", "malformed_json",
                       "malformed_envelope", "base64_padded", "base64_invalid",
                       "too_many_requests")
MUTATION_OUTCOMES = tuple(outcome.value for outcome in Outcome)
PAGE_KINDS = ("snapshot", "delta")
PULL_REFUSALS = ("cursor_expired", "invalid_cursor")
THROTTLED = ("login", "enrollment", "mfa")

http_requests = Counter(
    "infusync_http_requests", "HTTP requests answered, by route rule, method and status.",
    ("route", "method", "status"), registry=INSTRUMENTS)
http_duration = Histogram(
    "infusync_http_request_duration_seconds", "Time to answer an HTTP request, by route rule.",
    ("route", "method"), buckets=LATENCY_BUCKETS, registry=INSTRUMENTS)
push_batches = Counter(
    "infusync_push_batches", "Pushed batches, by outcome: applied, replayed (the same batch "
    "again), refused (a 4xx of the push service: device, signature, key, envelope, batch), "
    "failed (a 500), or the error code of a push turned away before the service ran "
    "(token, device revoked, body encoding, type or size, envelope form, rate limit).",
    ("outcome",), registry=INSTRUMENTS)
push_mutations = Counter(
    "infusync_push_mutations", "Mutations of applied batches, by outcome.",
    ("outcome",), registry=INSTRUMENTS)
pull_duration = Histogram(
    "infusync_pull_duration_seconds", "Time to build a pull page (before signing), by kind.",
    ("page",), buckets=LATENCY_BUCKETS, registry=INSTRUMENTS)
pull_changes = Counter(
    "infusync_pull_changes", "Changes served in pull pages, by kind of page.",
    ("page",), registry=INSTRUMENTS)
pull_refusals = Counter(
    "infusync_pull_refusals", "Pulls refused for their cursor, by error code.",
    ("code",), registry=INSTRUMENTS)
login_failures = Counter(
    "infusync_login_failures", "Failed password checks (login, or a password change's "
    "current password).", registry=INSTRUMENTS)
mfa_failures = Counter(
    "infusync_mfa_failures", "Wrong second-factor codes (TOTP or recovery code) after a "
    "right password, at login or at MFA enrollment.", registry=INSTRUMENTS)
throttled = Counter(
    "infusync_throttled", "Attempts refused (429) by the failed-attempt throttle, by what "
    "was being tried: a login, an enrollment code, or a second-factor code (mfa).",
    ("attempt",), registry=INSTRUMENTS)


def _zero_known_series() -> None:
    for outcome in BATCH_OUTCOMES + EARLY_PUSH_REFUSALS:
        push_batches.labels(outcome)
    for outcome in MUTATION_OUTCOMES:
        push_mutations.labels(outcome)
    for page in PAGE_KINDS:
        pull_duration.labels(page)
        pull_changes.labels(page)
    for code in PULL_REFUSALS:
        pull_refusals.labels(code)
    for attempt in THROTTLED:
        throttled.labels(attempt)


_zero_known_series()
