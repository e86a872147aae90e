"""Sending e-mail: the one module that talks SMTP, configured by one URL.

``INFUSYNC_SMTP_URL`` is ``smtp://[user:password@]host[:port][?starttls=true]`` (plain, or
upgraded with STARTTLS; port 25 by default, 587 with STARTTLS) or
``smtps://[user:password@]host[:port]`` (TLS from the first byte; port 465). User and
password are percent-encoded as in any URL. Nothing here knows what a message is about:
the caller (``server.scheduler.notification_mail``) writes bodies that hold no patient data.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT_SECONDS = 30
DEFAULT_PORTS = {("smtp", False): 25, ("smtp", True): 587, ("smtps", False): 465}
TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send, and as whom. ``tls``: ``none``, ``starttls`` or ``implicit``."""

    host: str
    port: int
    tls: str
    username: str | None
    password: str | None
    sender: str

    def __repr__(self) -> str:  # a settings object in a log or traceback keeps its secret
        return f"SmtpSettings({self.host}:{self.port}, tls={self.tls})"


def _tls(scheme: str, query: str) -> str:
    options = parse_qs(query)
    unknown = sorted(set(options) - {"starttls"})
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r} (known: starttls)")
    starttls = options.get("starttls", ["false"])[-1].lower() in TRUE
    if scheme == "smtps":
        if starttls:
            raise ValueError("smtps:// is TLS already; starttls applies to smtp:// only")
        return "implicit"
    return "starttls" if starttls else "none"


def parse_smtp_url(url: str, sender: str) -> SmtpSettings:
    """The settings ``url`` describes; ValueError (never quoting the password) if it cannot."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError("must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("names no host")
    tls = _tls(parts.scheme, parts.query)
    try:
        port = parts.port or DEFAULT_PORTS[(parts.scheme, tls == "starttls")]
    except ValueError:
        raise ValueError("has a port that is not a number from 0 to 65535") from None
    return SmtpSettings(
        host=parts.hostname, port=port, tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None, sender=sender)


def settings_from(config: Mapping[str, Any]) -> SmtpSettings | None:
    """The configured SMTP settings; None when e-mail is off (no ``SMTP_URL``)."""
    url = config.get("SMTP_URL")
    if not url:
        return None
    return parse_smtp_url(str(url), str(config.get("SMTP_FROM") or "infusync@localhost"))


@contextmanager
def connection(settings: SmtpSettings) -> Iterator[smtplib.SMTP]:
    """An open, authenticated SMTP connection (``smtplib.SMTPException`` or ``OSError``
    when the server cannot be reached or refuses us); closed afterwards."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.tls == "implicit":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT_SECONDS,
                                context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS)
    with smtp:
        if settings.tls == "starttls":
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        yield smtp


def message(settings: SmtpSettings, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from the configured sender."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = settings.sender, to, subject
    mail.set_content(body)
    return mail
