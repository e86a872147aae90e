"""INFUSYNC_SMTP_URL: one URL says where, how (TLS) and as whom; a bad one refuses to start."""

from __future__ import annotations

import pytest

from server import create_app
from server.config import ConfigError, from_environment
from server.mail import parse_smtp_url, settings_from


@pytest.mark.parametrize(("url", "host", "port", "tls"), [
    ("smtp://mail.agency.test", "mail.agency.test", 25, "none"),
    ("smtp://mail.agency.test?starttls=true", "mail.agency.test", 587, "starttls"),
    ("smtp://mail.agency.test:2525?starttls=yes", "mail.agency.test", 2525, "starttls"),
    ("smtps://mail.agency.test", "mail.agency.test", 465, "implicit"),
    ("smtp://127.0.0.1:1025", "127.0.0.1", 1025, "none"),
])
def test_where_and_how(url, host, port, tls):
    settings = parse_smtp_url(url, "infusync@agency.test")
    assert (settings.host, settings.port, settings.tls) == (host, port, tls)
    assert settings.username is None and settings.password is None


def test_credentials_are_percent_decoded_and_never_shown():
    settings = parse_smtp_url("smtps://me%40agency.test:s%3Acret@mail.agency.test", "x@y")
    assert (settings.username, settings.password) == ("me@agency.test", "s:cret")
    assert "s:cret" not in repr(settings) and "s%3Acret" not in repr(settings)


@pytest.mark.parametrize(("url", "message"), [
    ("http://mail.agency.test", "smtp:// or smtps://"),
    ("smtp://", "names no host"),
    ("smtp://u:hunter2@mail.agency.test:port", "port"),
    ("smtps://u:hunter2@mail.agency.test?starttls=true", "TLS already"),
    ("smtp://u:hunter2@mail.agency.test?tls=on", "unknown option"),
])
def test_a_url_it_cannot_use_is_refused_without_quoting_the_password(url, message):
    with pytest.raises(ConfigError, match=message) as refused:
        from_environment({"INFUSYNC_SMTP_URL": url})
    assert "INFUSYNC_SMTP_URL" in str(refused.value) and "hunter2" not in str(refused.value)


def test_mail_is_off_unless_configured():
    assert settings_from(from_environment({})) is None
    config = from_environment({"INFUSYNC_SMTP_URL": "smtp://mail.agency.test",
                               "INFUSYNC_PUBLIC_URL": "https://infusync.agency.test/"})
    assert config["PUBLIC_URL"] == "https://infusync.agency.test"
    settings = settings_from(config)
    assert settings is not None and settings.sender == "infusync@localhost"
    assert config["CRITICAL_ESCALATION_MINUTES"] == 30


def test_mail_without_a_public_address_refuses_to_start(tmp_path):
    overrides = {"INFUSYNC_INSTANCE_PATH": str(tmp_path),
                 "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3",
                 "SMTP_URL": "smtp://mail.agency.test"}
    with pytest.raises(ConfigError, match="INFUSYNC_PUBLIC_URL"):
        create_app(overrides)


def test_bad_public_address_and_escalation_minutes_are_refused():
    with pytest.raises(ConfigError, match="INFUSYNC_PUBLIC_URL"):
        from_environment({"INFUSYNC_PUBLIC_URL": "infusync.agency.test"})
    with pytest.raises(ConfigError, match="INFUSYNC_CRITICAL_ESCALATION_MINUTES"):
        from_environment({"INFUSYNC_CRITICAL_ESCALATION_MINUTES": "0"})
