"""The notification e-mail job: tell each staff member by e-mail that her inbox has news.

An e-mail says how many new notifications wait and links to the inbox; it never names a
patient or a finding — mail leaves the agency's systems, the inbox checks and audits who
reads. One e-mail per person and run, for all her rows waiting in ``email_outbox``.

Unlike the other jobs, this body commits: once to claim its rows (``next_attempt_at`` moved
forward, so no other run takes them), then, after sending, once more (by ``runs.run``) to
record the outcome. Sending happens between the two, outside any transaction: a slow mail
server holds no database lock (on SQLite every transaction holds the one write lock). A
process that dies after sending and before recording sends those rows again once the claim
lapses: e-mail is delivered at least once, never lost.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from server import mail
from server.models import EmailOutbox, User

log = logging.getLogger(__name__)

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
MAX_ATTEMPTS = 8  # retried after 2, 4, 8, ... 60 minutes: about six hours in all
CLAIM = timedelta(minutes=10)
BATCH = 500
INBOX_PATH = "/api/v1/notifications"  # the console's inbox page, once it exists


@dataclass(frozen=True)
class Envelope:
    """One e-mail to send: to whom, and the outbox rows it announces."""

    user_id: uuid.UUID
    address: str
    row_ids: tuple[uuid.UUID, ...]


def _claim(session: Session, at: datetime) -> tuple[list[Envelope], int]:
    """Take the due rows (committed), grouped per recipient; rows of a deactivated account
    are skipped. The envelopes, and how many were skipped."""
    rows = session.scalars(select(EmailOutbox).where(
        EmailOutbox.status == PENDING, EmailOutbox.next_attempt_at <= at)
        .order_by(EmailOutbox.created_at, EmailOutbox.id).limit(BATCH)
        .with_for_update(skip_locked=True)).all()
    users = {user.id: user for user in session.scalars(
        select(User).where(User.id.in_({row.user_id for row in rows})))}
    by_user: dict[uuid.UUID, list[uuid.UUID]] = {}
    skipped = 0
    for row in rows:
        if not users[row.user_id].active:
            row.status, skipped = SKIPPED, skipped + 1
            continue
        row.attempts, row.next_attempt_at = row.attempts + 1, at + CLAIM
        by_user.setdefault(row.user_id, []).append(row.id)
    session.commit()
    return [Envelope(user_id, users[user_id].email, tuple(ids))
            for user_id, ids in sorted(by_user.items(), key=lambda pair: str(pair[0]))], skipped


def _text(envelope: Envelope, public_url: str) -> tuple[str, str]:
    """Subject and body: a count and a link, nothing about any patient."""
    count = len(envelope.row_ids)
    noun = "notification" if count == 1 else "notifications"
    return (f"infusync: {count} new {noun}",
            f"You have {count} new {noun} in infusync:\n{public_url}{INBOX_PATH}\n\n"
            "Sign in to read them. For your patients' privacy this e-mail says no more.\n")


def _send(settings: mail.SmtpSettings, envelopes: list[Envelope],
          public_url: str) -> dict[Envelope, str | None]:
    """Send each envelope over one connection: envelope → None (sent) or the error type."""
    outcome: dict[Envelope, str | None] = {}
    try:
        with mail.connection(settings) as smtp:
            for envelope in envelopes:
                subject, body = _text(envelope, public_url)
                try:
                    smtp.send_message(mail.message(settings, envelope.address, subject, body))
                    outcome[envelope] = None
                except smtplib.SMTPException as exc:  # this recipient or message refused
                    outcome[envelope] = type(exc).__name__
    except (smtplib.SMTPException, OSError) as exc:  # no server, refused login, lost line
        for envelope in envelopes:
            outcome.setdefault(envelope, type(exc).__name__)
    return outcome


def _retry_at(attempts: int, at: datetime) -> datetime:
    return at + timedelta(minutes=min(2 ** attempts, 60))


def _record(session: Session, outcome: dict[Envelope, str | None], at: datetime) -> dict[str, int]:
    """Mark rows sent, or due again later (failed for good after ``MAX_ATTEMPTS``)."""
    counts = {"emails_sent": 0, "notifications_sent": 0, "retrying": 0, "failed": 0}
    for envelope, error in outcome.items():
        rows = session.scalars(select(EmailOutbox).where(EmailOutbox.id.in_(envelope.row_ids)))
        for row in rows:
            if error is None:
                row.status, row.sent_at, row.last_error = SENT, at, None
                counts["notifications_sent"] += 1
                continue
            row.last_error = error
            if row.attempts >= MAX_ATTEMPTS:
                row.status = FAILED
                counts["failed"] += 1
            else:
                row.next_attempt_at = _retry_at(row.attempts, at)
                counts["retrying"] += 1
        if error is None:
            counts["emails_sent"] += 1
        else:  # the user id, never the address: logs hold no personal data
            log.warning("notification e-mail not sent", extra={
                "user_id": str(envelope.user_id), "error_type": error})
    session.flush()
    return counts


def run(session: Session, at: datetime, config: Mapping[str, Any]) -> dict[str, int]:
    """Send the waiting notification e-mails; with no ``SMTP_URL``, skip them (the inbox
    holds the notifications; switching e-mail on later does not mail old news)."""
    settings = mail.settings_from(config)
    if settings is None:
        # Session.execute is typed to return a Result; an UPDATE's is a CursorResult.
        result = cast("CursorResult[Any]", session.execute(update(EmailOutbox).where(
            EmailOutbox.status == PENDING).values(status=SKIPPED)))
        return {"emails_sent": 0, "skipped": result.rowcount}
    envelopes, skipped = _claim(session, at)
    outcome = _send(settings, envelopes, str(config["PUBLIC_URL"]))
    return {**_record(session, outcome, at), "skipped": skipped}
