"""The commands that document care beyond EVV and vitals: infusion, note, sign, missed, amend.

Each one checks what the nurse typed against the wire contract before anything is queued;
a mistake is one line naming the option to fix, and the command exits non-zero.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeAlias

from offline_store.amendments import AMENDABLE_FIELDS, ChangeError, number, parse_changes
from offline_store.contract import choices
from offline_store.documentation import (
    DEFAULT_ATTESTATION,
    InvalidDocumentation,
    add_note,
    amend_record,
    parse_clinical_time,
    record_infusion,
    report_missed,
    sign_visit,
)
from offline_store.errors import OfflineStoreError
from offline_store.infusion import (
    AdverseReaction,
    Infusion,
    PumpUse,
    VascularAccessUse,
    lot_expired,
)
from offline_store.outbox import Mutation
from offline_store.store import Store

if TYPE_CHECKING:
    from offline_store.cli import Context

Handler = Callable[["Context"], None]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
# Wire field → the option that sets it, so an error names what the nurse typed.
OPTIONS = {
    "order_id": "--order", "dose_unit": "--unit", "lot_number": "--lot",
    "lot_expiry": "--lot-expiry", "access.device_type": "--access-type",
    "access.site": "--site", "access.site_assessment.phlebitis_score": "--phlebitis",
    "access.site_assessment.infiltration_score": "--infiltration",
    "pump.serial": "--pump-serial", "pump.programmed_rate_ml_h": "--rate",
    "pump.vtbi_ml": "--vtbi", "started_at": "--started", "stopped_at": "--stopped",
    "volume_infused_ml": "--volume", "adverse_reaction.description": "--reaction",
    "adverse_reaction.actions_taken": "--reaction-actions", "target_type": "--target-type",
    "target_id": "--target-id", "changes": "--set",
}


def visit_command(sub: Subparsers, name: str, handler: Handler,
                  summary: str) -> argparse.ArgumentParser:
    """A subcommand that takes a visit id."""
    parser = sub.add_parser(name, help=summary)
    parser.add_argument("visit", help="visit id (see `visits`)")
    parser.set_defaults(handler=handler)
    return parser


def _not_recorded(exc: InvalidDocumentation, what: str) -> OfflineStoreError:
    """The schema's complaints, each under the option that sets the field."""
    reasons = "; ".join(f"{OPTIONS.get(name, '--' + name.split('.')[-1])}: {' '.join(why)}"
                        for name, why in exc.errors.items())
    return OfflineStoreError(f"{what} not recorded: {reasons}")


def _document(what: str, write: Callable[[Store], Mutation], ctx: Context) -> Mutation:
    """Run one documenting function on the unlocked store; explain a refusal."""
    with ctx.open() as store:
        try:
            return write(store)
        except InvalidDocumentation as exc:
            raise _not_recorded(exc, what) from exc


def _sent_later(mutation: Mutation, what: str) -> str:
    return f"{what} (seq {mutation.seq}); it is sent at the next sync"


def _clinical_time(ctx: Context, option: str, text: str) -> datetime:
    """A time the nurse typed, in the device's zone unless she gave an offset."""
    try:
        return parse_clinical_time(text, ctx.clock())
    except ValueError as exc:
        raise OfflineStoreError(f"{option}: {exc}") from exc


def _pump(args: argparse.Namespace) -> PumpUse | None:
    """--pump-serial with --rate (and maybe --vtbi), or no pump at all."""
    if args.pump_serial is None and args.rate is None and args.vtbi is None:
        return None
    if args.pump_serial is None or args.rate is None:
        raise OfflineStoreError("give --pump-serial and --rate together (--vtbi only with them)")
    return PumpUse(args.pump_serial, args.rate, args.vtbi)


def _reaction(args: argparse.Namespace) -> AdverseReaction | None:
    """--reaction (and maybe --reaction-actions), or no reaction."""
    if args.reaction is None:
        if args.reaction_actions is not None:
            raise OfflineStoreError("--reaction-actions needs --reaction (what happened)")
        return None
    return AdverseReaction(args.reaction, args.reaction_actions)


def infusion_from_args(ctx: Context) -> Infusion:
    """The administration described by the options of ``infusion``."""
    args = ctx.args
    started = _clinical_time(ctx, "--started", args.started)
    stopped = _clinical_time(ctx, "--stopped", args.stopped)
    access = VascularAccessUse(args.access_type, args.site, args.phlebitis, args.infiltration,
                               flushed_before=args.flushed_before,
                               flushed_after=args.flushed_after)
    return Infusion(
        order_id=args.order, medication=args.medication, dose=args.dose, dose_unit=args.unit,
        route=args.route, lot_number=args.lot, lot_expiry=args.lot_expiry, access=access,
        started_at=started, stopped_at=stopped, pump=_pump(args),
        volume_infused_ml=args.volume, adverse_reaction=_reaction(args), notes=args.notes)


def _pump_warning(store: Store, infusion: Infusion) -> str | None:
    """A pump this device knows to be overdue for maintenance."""
    if infusion.pump is None:
        return None
    for pump in store.all("pump"):
        if pump.data.get("serial") != infusion.pump.serial:
            continue
        due = pump.data.get("next_pm_due_on")
        if pump.data.get("status") == "maintenance_due" or (
                due and str(due) < infusion.started_at.date().isoformat()):
            return (f"warning: pump {infusion.pump.serial} is due for maintenance "
                    f"({due or 'status maintenance_due'}); it will be reviewed")
    return None


def cmd_infusion(ctx: Context) -> None:
    """Record one infusion given at a visit."""
    infusion = infusion_from_args(ctx)
    with ctx.open() as store:
        try:
            mutation = record_infusion(store, ctx.args.visit, infusion)
        except InvalidDocumentation as exc:
            raise _not_recorded(exc, "infusion") from exc
        pump_warning = _pump_warning(store, infusion)
    print(_sent_later(mutation, f"infusion recorded as record {mutation.entity_id}"))
    if lot_expired(infusion):
        print(f"warning: lot {infusion.lot_number} expired {infusion.lot_expiry.isoformat()}; "
              "the administration is recorded and will be reviewed")
    if pump_warning:
        print(pump_warning)


def cmd_note(ctx: Context) -> None:
    """Record a note on a visit."""
    args = ctx.args
    mutation = _document("note", lambda store: add_note(
        store, args.visit, args.category, args.text, ctx.clock()), ctx)
    print(_sent_later(mutation, f"note recorded as record {mutation.entity_id}"))


def cmd_sign(ctx: Context) -> None:
    """Sign the visit's documentation."""
    args = ctx.args
    mutation = _document("signature", lambda store: sign_visit(
        store, args.visit, ctx.clock(), args.attestation), ctx)
    print(_sent_later(mutation, "signature recorded"))
    print("the visit is signed: correct its records with `infusync-device amend`")


def cmd_missed(ctx: Context) -> None:
    """Report a visit that could not be performed."""
    args = ctx.args
    mutation = _document("missed visit", lambda store: report_missed(
        store, args.visit, args.reason, ctx.clock(), args.note), ctx)
    print(_sent_later(mutation, "missed visit recorded"))


def cmd_amend(ctx: Context) -> None:
    """Correct a record of a visit; the original stays as it was."""
    args = ctx.args
    try:
        changes = parse_changes(args.target_type, args.set)
    except ChangeError as exc:
        raise OfflineStoreError(f"amendment not recorded: --set {exc}") from exc
    mutation = _document("amendment", lambda store: amend_record(
        store, args.visit, args.target_type, args.target_id, args.reason, changes,
        ctx.clock()), ctx)
    print(_sent_later(mutation, f"amendment recorded as record {mutation.entity_id}"))


def _quantity(text: str) -> int | float:
    """argparse type for doses, rates and volumes."""
    try:
        return number(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _day(text: str) -> date:
    """argparse type for --lot-expiry."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from exc


def _add_infusion(sub: Subparsers) -> None:
    parser = visit_command(sub, "infusion", cmd_infusion, "record an infusion given")
    need = parser.add_argument_group("the administration (required)")
    need.add_argument("--order", required=True, help="therapy order id")
    need.add_argument("--medication", required=True, help="drug as given")
    need.add_argument("--dose", required=True, type=_quantity, help="dose given, e.g. 2")
    need.add_argument("--unit", required=True, help="dose unit, e.g. g")
    need.add_argument("--route", required=True, help="route, e.g. IV")
    need.add_argument("--lot", required=True, help="drug lot number")
    need.add_argument("--lot-expiry", required=True, type=_day, help="lot expiry YYYY-MM-DD")
    need.add_argument("--access-type", required=True, choices=choices("ACCESS_DEVICE_TYPES"),
                      help="vascular access device")
    need.add_argument("--site", required=True, help='access site, e.g. "left basilic"')
    need.add_argument("--phlebitis", required=True, type=int, help="phlebitis score 0-4")
    need.add_argument("--infiltration", required=True, type=int,
                      help="infiltration score 0-4")
    need.add_argument("--started", required=True,
                      help="start: 09:10 today, or 2026-11-23T09:10-05:00")
    need.add_argument("--stopped", required=True, help="stop, same forms as --started")
    parser.add_argument("--no-flush-before", dest="flushed_before", action="store_false",
                        help="the line was not flushed before")
    parser.add_argument("--no-flush-after", dest="flushed_after", action="store_false",
                        help="the line was not flushed after")
    parser.add_argument("--pump-serial", help="serial of the pump used")
    parser.add_argument("--rate", type=_quantity, help="programmed rate, mL/h")
    parser.add_argument("--vtbi", type=_quantity, help="volume to be infused, mL")
    parser.add_argument("--volume", type=_quantity, help="volume infused, mL")
    parser.add_argument("--reaction", help="adverse reaction: what happened")
    parser.add_argument("--reaction-actions", help="adverse reaction: what you did")
    parser.add_argument("--notes", help="free text")


def add_clinical_commands(sub: Subparsers) -> None:
    """Register infusion, note, sign, missed and amend."""
    _add_infusion(sub)
    note = visit_command(sub, "note", cmd_note, "record a note")
    note.add_argument("--category", required=True, choices=choices("NOTE_CATEGORIES"))
    note.add_argument("--text", required=True, help="the note")
    sign = visit_command(sub, "sign", cmd_sign, "sign the visit's documentation")
    sign.add_argument("--attestation", default=DEFAULT_ATTESTATION, help="%(default)s")
    missed = visit_command(sub, "missed", cmd_missed, "report a visit not performed")
    missed.add_argument("--reason", required=True, choices=choices("MISSED_REASONS"))
    missed.add_argument("--note", help="what happened")
    amend = visit_command(sub, "amend", cmd_amend, "correct a record (the original stays)")
    amend.add_argument("--target-type", required=True, choices=sorted(AMENDABLE_FIELDS))
    amend.add_argument("--target-id", required=True, help="record id (see `visits`)")
    amend.add_argument("--reason", required=True, help="why the record is corrected")
    amend.add_argument("--set", required=True, action="append", metavar="FIELD=VALUE",
                       help="a corrected field (repeat); FIELD:=JSON for structured ones")
