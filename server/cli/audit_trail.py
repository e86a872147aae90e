"""``infusync audit``: verify the audit trail's hash chain and print its head for anchoring."""

from __future__ import annotations

import click

from server.audit_verify import Anchor, head, verify
from server.cli.database_check import with_migrated_database
from server.extensions import current_session

group = click.Group("audit", help="The audit trail's hash chain: verify it, print its head.")


def _anchor(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Anchor | None:
    if value is None:
        return None
    try:
        return Anchor.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@group.command("verify")
@click.option("--anchor", callback=_anchor, metavar="SEQ:HASH",
              help="A head printed earlier by 'infusync audit head' and kept outside the "
                   "database: the chain must still hold that hash at that seq.")
@with_migrated_database
def verify_command(anchor: Anchor | None) -> None:
    """Walk the whole chain; name the first broken link (exit 1) or print the head."""
    result = verify(current_session(), anchor)
    if result.broken is not None:
        click.echo(f"audit chain BROKEN at {result.broken.problem}: {result.broken.message}",
                   err=True)
        raise SystemExit(1)
    anchored = f"; anchor {anchor.seq} holds" if anchor else ""
    click.echo(f"audit chain intact: {result.events} events{anchored}; head "
               f"{result.head_seq}:{result.head_hash}")


@group.command("head")
@with_migrated_database
def head_command() -> None:
    """Print the chain's head as SEQ:HASH, to keep outside the database (--anchor)."""
    seq, digest = head(current_session())
    click.echo(f"{seq}:{digest}")

