"""``infusync pumps``: the pump registry from the shell (a recall list, say)."""

from __future__ import annotations

from pathlib import Path

import click

from server import audit, clock
from server.cli.database_check import with_migrated_database
from server.errors import AppError
from server.extensions import current_session
from server.services.recalls import imports
from server.services.records import Access

group = click.Group("pumps", help="Manage infusion pumps.")


def _refusal(exc: AppError) -> click.ClickException:
    """The refusal with each bad line, as the API's 422 lists them."""
    lines = [f"  line {entry['line']}: {message}"
             for entry in exc.details.get("lines", []) for message in entry["messages"]]
    return click.ClickException("\n".join([exc.message, *lines]))


@group.command("recall")
@click.option("--file", "path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV: serial and/or udi_di, optional recall_number and reason.")
@with_migrated_database
def recall(path: Path) -> None:
    """Recall every pump a CSV list names and trace each to the patients it served; all or
    nothing, and importing the same list again changes nothing."""
    try:
        report = imports.import_recall_list(
            current_session(), path.read_bytes(), Access(audit.Actor(None, "cli"), clock.now(),
                                                         None))
    except AppError as exc:
        raise _refusal(exc) from exc
    for pump in report.pumps:
        click.echo(f"line {pump.line}: pump {pump.serial} ({pump.pump_id}) {pump.outcome}")
    recalled = sum(pump.outcome == "recalled" for pump in report.pumps)
    click.echo(f"{recalled} pump(s) recalled, {len(report.pumps) - recalled} already recalled; "
               f"{report.review_items_opened} review item(s) opened, "
               f"{report.notifications_sent} nurse notification(s) sent")
