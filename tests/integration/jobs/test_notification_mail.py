"""The notification e-mail job against a real SMTP server (aiosmtpd) on a free port."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import EmailOutbox, User
from server.review_items import fact_key, open_item
from server.scheduler import notification_mail
from server.scheduler.notification_mail import MAX_ATTEMPTS

PUBLIC_URL = "https://infusync.example.org"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Sink:
    """What the SMTP server received: messages, and the logins it was offered."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        self.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=True)

    def start(self) -> Controller:
        controller = Controller(self, hostname="127.0.0.1", port=self.port,
                                authenticator=self.authenticate, auth_require_tls=False)
        controller.start()
        return controller


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A running SMTP server that keeps what it receives."""
    found = Sink(free_port())
    controller = found.start()
    yield found
    controller.stop()


def _mail_on(app: Flask, url: str | None) -> None:
    app.config["SMTP_URL"], app.config["PUBLIC_URL"] = url, PUBLIC_URL
    app.config["SMTP_FROM"] = "infusync@agency.test"


def _critical(app: Flask, at: Any, patient_id: uuid.UUID, kind: str = "adverse_reaction") -> None:
    with app.app_context():
        open_item(db.session, kind, "Urticaria after ceftriaxone.", now=at,
                  dedupe_key=fact_key(kind, uuid.uuid4()), patient_id=patient_id)
        db.session.commit()


def _outbox(app: Flask) -> list[EmailOutbox]:
    with app.app_context():
        return list(db.session.scalars(select(EmailOutbox).order_by(EmailOutbox.created_at)))


def test_the_physician_gets_a_count_and_a_link_once(app, agency, clock, run_job, sink):
    _mail_on(app, f"smtp://127.0.0.1:{sink.port}")
    _critical(app, clock(), agency["patient_a"])
    _critical(app, clock(), agency["patient_a"], "drug_expired")
    run = run_job("notification_mail", clock() + timedelta(minutes=1))
    assert run.counts == {"emails_sent": 1, "notifications_sent": 2, "retrying": 0,
                          "failed": 0, "skipped": 0}
    [message] = sink.messages
    assert (message["To"], message["From"]) == ("drx@agency.test", "infusync@agency.test")
    assert message["Subject"] == "infusync: 2 new notifications"
    body = message.get_content().replace("\r\n", "\n")  # SMTP line ends
    assert body == (f"You have 2 new notifications in infusync:\n{PUBLIC_URL}/api/v1/"
                    "notifications\n\nSign in to read them. For your patients' privacy this "
                    "e-mail says no more.\n")
    for private in ("PatientMRN-A", "MRN-A", "Test Patient", "Urticaria", "ceftriaxone",
                    "adverse", "expired", str(agency["patient_a"])):
        assert private not in body and private not in message["Subject"]
    assert {(row.status, row.attempts) for row in _outbox(app)} == {("sent", 1)}
    again = run_job("notification_mail", clock() + timedelta(minutes=2))
    assert again.counts["emails_sent"] == 0 and len(sink.messages) == 1


def test_a_mail_server_that_is_down_is_tried_again_later(app, agency, clock, run_job):
    port = free_port()  # nothing listens there yet
    _mail_on(app, f"smtp://127.0.0.1:{port}")
    _critical(app, clock(), agency["patient_a"])
    at = clock() + timedelta(minutes=1)
    assert run_job("notification_mail", at).counts["retrying"] == 1
    [row] = _outbox(app)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "ConnectionRefusedError")
    assert row.next_attempt_at == at + timedelta(minutes=2)
    sink = Sink(port)
    controller = sink.start()
    try:
        assert run_job("notification_mail", at + timedelta(minutes=1)).counts[
            "emails_sent"] == 0  # not due yet
        assert run_job("notification_mail", at + timedelta(minutes=2)).counts[
            "emails_sent"] == 1
    finally:
        controller.stop()
    assert [m["To"] for m in sink.messages] == ["drx@agency.test"]
    [row] = _outbox(app)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_a_run_that_died_while_sending_is_taken_over_after_its_claim(app, agency, clock,
                                                                     run_job, sink):
    _mail_on(app, f"smtp://127.0.0.1:{sink.port}")
    _critical(app, clock(), agency["patient_a"])
    at = clock() + timedelta(minutes=1)
    with app.app_context():  # a run claims the row, then its process dies before sending
        [envelope], _ = notification_mail._claim(db.session, at)
    assert run_job("notification_mail", at + timedelta(minutes=1)).counts[
        "emails_sent"] == 0  # claimed: no second sender
    assert run_job("notification_mail", at + notification_mail.CLAIM).counts[
        "emails_sent"] == 1
    assert len(sink.messages) == 1
    [row] = _outbox(app)
    assert (row.id, row.status, row.attempts) == (envelope.row_ids[0], "sent", 2)


def test_after_the_last_attempt_the_row_fails_for_good(app, agency, clock, run_job):
    _mail_on(app, f"smtp://127.0.0.1:{free_port()}")
    _critical(app, clock(), agency["patient_a"])
    with app.app_context():
        db.session.scalars(select(EmailOutbox)).one().attempts = MAX_ATTEMPTS - 1
        db.session.commit()
    assert run_job("notification_mail", clock() + timedelta(minutes=1)).counts["failed"] == 1
    assert [row.status for row in _outbox(app)] == ["failed"]
    assert run_job("notification_mail", clock() + timedelta(days=1)).counts["failed"] == 0


def test_credentials_in_the_url_log_in(app, agency, clock, run_job, sink):
    _mail_on(app, f"smtp://relay%40agency.test:p%40ss%3Aword@127.0.0.1:{sink.port}")
    _critical(app, clock(), agency["patient_a"])
    assert run_job("notification_mail", clock() + timedelta(minutes=1)).counts[
        "emails_sent"] == 1
    assert sink.logins == [("relay@agency.test", "p@ss:word")]


def test_without_a_mail_server_nothing_is_sent_and_nothing_waits(app, agency, clock, run_job,
                                                                sink):
    _mail_on(app, None)
    _critical(app, clock(), agency["patient_a"])
    assert run_job("notification_mail", clock() + timedelta(minutes=1)).counts == {
        "emails_sent": 0, "skipped": 1}
    _mail_on(app, f"smtp://127.0.0.1:{sink.port}")  # switched on later: old news stays old
    assert run_job("notification_mail", clock() + timedelta(minutes=2)).counts[
        "emails_sent"] == 0
    assert sink.messages == [] and [r.status for r in _outbox(app)] == ["skipped"]


def test_a_deactivated_account_is_not_mailed(app, agency, clock, run_job, sink):
    _mail_on(app, f"smtp://127.0.0.1:{sink.port}")
    _critical(app, clock(), agency["patient_a"])
    with app.app_context():
        db.session.get(User, agency["physician_a"]).active = False
        db.session.commit()
    assert run_job("notification_mail", clock() + timedelta(minutes=1)).counts["skipped"] == 1
    assert sink.messages == [] and [r.status for r in _outbox(app)] == ["skipped"]
