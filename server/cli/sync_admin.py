"""``infusync keys`` and ``infusync devices``: the sync administration an IT team scripts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click
from flask import current_app
from sqlalchemy import func, select

from server import audit, clock
from server.api import sync_settings
from server.cli.database_check import with_migrated_database
from server.errors import AppError
from server.extensions import current_session
from server.models import User
from server.services import devices, server_keys
from server.services.records import Access

keys = click.Group("keys", help="Manage the server's sync keys.")
devices_group = click.Group("devices", help="Enroll and manage nurses' devices.")


@keys.command("rotate")
@with_migrated_database
def rotate() -> None:
    """Add a new current HPKE key; the old one opens pushes for max_offline_hours more."""
    data_key = current_app.config["INFUSYNC_DATA_KEY"]
    now = clock.now()
    session = current_session()
    server_keys.ensure_keys(session, data_key, now)
    grace = timedelta(hours=current_app.config["SYNC_MAX_OFFLINE_HOURS"])
    key = server_keys.rotate_hpke(session, data_key, now, grace)
    click.echo(f"current HPKE key: {key.key_id}; previous keys retire after "
               f"{(now + grace).isoformat()}")


@keys.command("rotate-signing")
@click.option("--grace-hours", type=click.IntRange(min=0), default=None,
              help="Hours the new key is announced before it signs (default: "
                   "max_offline_hours). 0 signs at once: for a leaked key, with re-enrollment.")
@with_migrated_database
def rotate_signing(grace_hours: int | None) -> None:
    """Announce a new signing key, endorsed by the old one; it signs after the grace period."""
    data_key = current_app.config["INFUSYNC_DATA_KEY"]
    now = clock.now()
    session = current_session()
    server_keys.ensure_keys(session, data_key, now)
    hours = current_app.config["SYNC_MAX_OFFLINE_HOURS"] if grace_hours is None else grace_hours
    try:
        key = server_keys.rotate_signing(session, data_key, now, timedelta(hours=hours))
    except AppError as exc:
        raise click.ClickException(exc.message) from exc
    sync_settings.signing_keyring().forget()  # this process signs with it from not_before
    click.echo(f"new signing key: {key.key_id}, endorsed by {key.endorsed_by}; "
               f"it signs from {key.not_before.isoformat() if key.not_before else 'now'}")


@keys.command("list")
@with_migrated_database
def list_keys() -> None:
    """Show the public keys devices are given."""
    now = clock.now()
    session = current_session()
    server_keys.ensure_keys(session, current_app.config["INFUSYNC_DATA_KEY"], now)
    public = server_keys.public_keys(session, now)
    for key in public["hpke_keys"]:
        marker = " (current)" if key["current"] else ""
        click.echo(f"hpke    {key['key_id']}{marker}")
    signing = public["signing_key"]["key_id"]
    for key in public["signing_keys"]:
        click.echo(f"signing {key['key_id']}{_signing_state(key, signing, now)}")


def _signing_state(key: dict[str, Any], signing: str, now: datetime) -> str:
    """How ``keys list`` marks a signing key: signing now (no mark), announced, or replaced."""
    if key["key_id"] == signing:
        return ""
    if key["not_before"] and datetime.fromisoformat(key["not_before"]) > now:
        return f" (announced; signs from {key['not_before']})"
    return " (replaced)"


@devices_group.command("enrollment-code")
@click.option("--email", required=True, help="The nurse's email.")
@with_migrated_database
def enrollment_code(email: str) -> None:
    """Print a one-time enrollment code for a nurse (valid 15 minutes)."""
    session = current_session()
    user = session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    lifetime = timedelta(minutes=current_app.config["ENROLLMENT_CODE_MINUTES"])
    try:
        code, expires_at = devices.issue_code(
            session, user.id, Access(audit.Actor(None, "cli"), clock.now(), None), lifetime)
    except AppError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(code)
    click.echo(f"expires {expires_at.isoformat()}", err=True)


sync_group = click.Group("sync", help="Sync housekeeping.")


@sync_group.command("compact")
@with_migrated_database
def compact() -> None:
    """Drop feed entries older than the retention window (never below max_offline_hours);
    on PostgreSQL then drop the day partitions it covered (the two jobs, one after the other)."""
    from server.scheduler.jobs import feed_compaction, feed_partition_upkeep, feed_retention

    hours = int(feed_retention(current_app.config).total_seconds() // 3600)
    session, now = current_session(), clock.now()
    removed = feed_compaction(session, now, current_app.config)["removed"]
    session.commit()
    partitions = feed_partition_upkeep(session, now, current_app.config)
    session.commit()
    click.echo(f"removed {removed} feed entries older than {hours} h")
    if partitions["dropped"]:
        click.echo(f"dropped {partitions['dropped']} day partitions of the feed")
