"""``infusync-device``: the reference device client on the command line.

The PIN comes from ``--pin-stdin``, else ``INFUSYNC_DEVICE_PIN`` (for scripts and tests),
else a prompt. This is the one module of ``offline_store`` that reads the environment.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from offline_store import nurse_messages, sent
from offline_store.client import ReceiveFailed, SyncClient
from offline_store.clinical_commands import add_clinical_commands, visit_command
from offline_store.clock import Clock, system_clock
from offline_store.crypto import DEFAULT_SCRYPT_N
from offline_store.documentation import (
    Location,
    Vitals,
    check_in,
    check_out,
    parse_blood_pressure,
    prune_local_documents,
    record_vitals,
)
from offline_store.errors import OfflineStoreError, TransportError, WrongPin
from offline_store.flag_commands import add_flag_commands, print_new_flags, print_open_flags
from offline_store.notifications import add_notification_commands
from offline_store.outbox import Outbox
from offline_store.output import print_sent, print_status, print_sync, print_visits
from offline_store.retry import RetryPolicy
from offline_store.review_items import print_review_summary, review_summary
from offline_store.store import Store
from offline_store.summaries import list_visits, status_summary
from offline_store.training_commands import add_training_commands
from offline_store.transport import Transport
from schemas.mutations import CONSCIOUSNESS_LEVELS

DEFAULT_STORE = Path("~/.infusync-device/store.sqlite3")
PIN_ENV = "INFUSYNC_DEVICE_PIN"
# Four tries over up to ~30 s (2, 4, 8 s bounds, jittered), then the nurse is told.
CLI_RETRY = RetryPolicy()


class Context:
    """What every command needs: arguments, the PIN source, the transport and the clock."""

    def __init__(self, args: argparse.Namespace, transport: Transport | None,
                 clock: Clock, retry: RetryPolicy) -> None:
        self.args, self.transport, self.clock, self.retry = args, transport, clock, retry
        self.path = Path(args.store).expanduser()

    def pin(self, *, confirm: bool = False) -> str:
        """The PIN from stdin, the environment or a prompt (twice when choosing one)."""
        if self.args.pin_stdin:
            return sys.stdin.readline().rstrip("\r\n")
        if os.environ.get(PIN_ENV):
            return os.environ[PIN_ENV]
        pin = getpass.getpass("PIN: ")
        if confirm and getpass.getpass("PIN again: ") != pin:
            raise WrongPin("the two PINs differ")
        return pin

    def open(self) -> Store:
        """Unlock the store."""
        return Store.open(self.path, self.pin())

    def client(self, store: Store) -> SyncClient:
        """A sync client on this store."""
        return SyncClient(store, self.transport, clock=self.clock, retry=self.retry)


def cmd_enroll(ctx: Context) -> None:
    """Create the store if needed, then enrol it; a store made here is removed on failure."""
    args = ctx.args
    created = not ctx.path.exists()
    store = (Store.create(ctx.path, ctx.pin(confirm=True), scrypt_n=args.scrypt_n)
             if created else ctx.open())
    try:
        identity = ctx.client(store).enroll(args.server, args.code, args.name,
                                            allow_http=args.allow_http)
    except TransportError as exc:
        store.close()  # kept with its pending keys: the same command may be run again
        raise OfflineStoreError(nurse_messages.enrollment_unanswered()) from exc
    except BaseException:
        if created:
            store.wipe()
        raise
    finally:
        store.close()
    print(f"enrolled as device {identity.device_id}; run `infusync-device sync` next")


def cmd_visits(ctx: Context) -> None:
    """List the visits on this device."""
    with ctx.open() as store:
        print_visits(list_visits(store, ctx.clock().tzinfo))


def _location(args: argparse.Namespace) -> Location | None:
    """The EVV location from --lat/--lon/--accuracy, or None when not given."""
    if args.lat is None and args.lon is None:
        return None
    if args.lat is None or args.lon is None:
        raise OfflineStoreError("give both --lat and --lon, or neither")
    return Location(args.lat, args.lon, args.accuracy)


def cmd_check_in(ctx: Context) -> None:
    """Record arrival at a visit."""
    with ctx.open() as store:
        mutation = check_in(store, ctx.args.visit, ctx.clock(), _location(ctx.args))
    print(f"check-in recorded (seq {mutation.seq}); it is sent at the next sync")


def cmd_check_out(ctx: Context) -> None:
    """Record departure from a visit."""
    with ctx.open() as store:
        mutation = check_out(store, ctx.args.visit, ctx.clock(), _location(ctx.args))
    print(f"check-out recorded (seq {mutation.seq}); it is sent at the next sync")


def cmd_vitals(ctx: Context) -> None:
    """Record vital signs at a visit, one mutation per reading."""
    args = ctx.args
    vitals = Vitals(heart_rate=args.hr, blood_pressure=args.bp, temperature_c=args.temp,
                    spo2=args.spo2, respiratory_rate=args.rr, oxygen_l_min=args.o2,
                    consciousness=args.acvpu)
    if vitals == Vitals():
        raise OfflineStoreError("give at least one of --hr --bp --temp --spo2 --rr --o2 --acvpu")
    with ctx.open() as store:
        mutations = record_vitals(store, args.visit, vitals, ctx.clock())
    print(f"{len(mutations)} reading(s) recorded; they are sent at the next sync")


def cmd_sync(ctx: Context) -> None:
    """Push the outbox, then pull changes; a failure says what is safe and what was sent."""
    with ctx.open() as store:
        try:
            report = ctx.client(store).sync()
        except ReceiveFailed as exc:
            print_sent(exc.push)
            print_new_flags(store, exc.push.results)
            raise OfflineStoreError(nurse_messages.received_later(len(exc.push.results))) \
                from exc
        except TransportError as exc:
            pending = Outbox(store).pending_count()
            raise OfflineStoreError(nurse_messages.no_connection(pending)) from exc
        except KeyboardInterrupt as exc:
            raise SyncInterrupted(nurse_messages.interrupted(Outbox(store).pending_count())) \
                from exc
        prune_local_documents(store)
        print_sync(report)
        print_new_flags(store, report.push.results)


def cmd_resend(ctx: Context) -> None:
    """Put what the server acknowledged lately back in the outbox (after a server restore)."""
    with ctx.open() as store:
        count = sent.requeue(store)
    print(f"{count} acknowledged mutation(s) queued again; the next sync sends them "
          "(the server answers duplicate for what it still holds)")


def cmd_status(ctx: Context) -> None:
    """Show pending work, the last sync, results that need a person and review items."""
    now = ctx.clock()
    with ctx.open() as store:
        summary = status_summary(store, now)
        reviews = review_summary(store, now, summary.labels)
        print_status(summary)
        print_open_flags(store)
    print_review_summary(reviews, now.tzinfo)


def cmd_wipe(ctx: Context) -> None:
    """Destroy the store on purpose (to hand the device on, or to enrol again)."""
    if not ctx.args.yes:
        raise OfflineStoreError("wipe destroys unsent documentation too; confirm with --yes")
    ctx.open().wipe()
    print("the store is wiped")


def _add_location(parser: argparse.ArgumentParser) -> None:
    """The EVV location options."""
    parser.add_argument("--lat", type=float, help="latitude in degrees")
    parser.add_argument("--lon", type=float, help="longitude in degrees")
    parser.add_argument("--accuracy", type=float, help="location accuracy in metres")


def _blood_pressure(text: str) -> tuple[int, int]:
    """argparse type for --bp."""
    try:
        return parse_blood_pressure(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="infusync-device", description="The infusync reference device client.")
    parser.add_argument("--store", default=str(DEFAULT_STORE), help="store file (%(default)s)")
    parser.add_argument("--pin-stdin", action="store_true", help="read the PIN from stdin")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    enroll = sub.add_parser("enroll", help="enrol this device with a one-time code")
    enroll.add_argument("--server", required=True, help="server URL, e.g. https://host")
    enroll.add_argument("--code", required=True, help="the enrolment code from the agency")
    enroll.add_argument("--name", default="infusync reference client", help="device name")
    enroll.add_argument("--allow-http", action="store_true",
                        help="allow plain HTTP to a non-loopback server (not recommended)")
    enroll.add_argument("--scrypt-n", type=int, default=DEFAULT_SCRYPT_N,
                        help="scrypt cost of a new store's PIN (lower only for tests)")
    enroll.set_defaults(handler=cmd_enroll)
    sub.add_parser("visits", help="list visits on this device").set_defaults(handler=cmd_visits)
    _add_location(visit_command(sub, "check-in", cmd_check_in, "record arrival (EVV)"))
    _add_location(visit_command(sub, "check-out", cmd_check_out, "record departure (EVV)"))
    vitals = visit_command(sub, "vitals", cmd_vitals, "record vital signs")
    vitals.add_argument("--hr", type=int, help="heart rate, /min")
    vitals.add_argument("--bp", type=_blood_pressure, help="blood pressure, e.g. 120/80")
    vitals.add_argument("--temp", type=float, help="temperature, °C")
    vitals.add_argument("--spo2", type=int, help="oxygen saturation, %%")
    vitals.add_argument("--rr", type=int, help="respiratory rate, /min")
    vitals.add_argument("--o2", type=float, help="supplemental oxygen, L/min (0: room air)")
    vitals.add_argument("--acvpu", choices=CONSCIOUSNESS_LEVELS,
                        help="level of consciousness (confusion: new confusion)")
    add_clinical_commands(sub)
    add_notification_commands(sub)
    add_flag_commands(sub)
    add_training_commands(sub)
    sub.add_parser("sync", help="push documentation, pull changes").set_defaults(
        handler=cmd_sync)
    sub.add_parser("resend", help="send again what the server acknowledged lately (after "
                   "the agency restored its server)").set_defaults(handler=cmd_resend)
    sub.add_parser("status", help="pending work and problems").set_defaults(handler=cmd_status)
    wipe = sub.add_parser("wipe", help="destroy the local store")
    wipe.add_argument("--yes", action="store_true", help="confirm")
    wipe.set_defaults(handler=cmd_wipe)
    return parser


class SyncInterrupted(OfflineStoreError):
    """Ctrl-C during a sync; the message says what is safe."""


def main(argv: Sequence[str] | None = None, *, transport: Transport | None = None,
         clock: Clock = system_clock, retry: RetryPolicy = CLI_RETRY) -> int:
    """Run one command; errors a user can act on print one line and exit 1 (Ctrl-C: 130)."""
    args = build_parser().parse_args(argv)
    try:
        args.handler(Context(args, transport, clock, retry))
    except SyncInterrupted as exc:
        print(f"infusync-device: {exc}", file=sys.stderr)
        return 130
    except OfflineStoreError as exc:
        print(f"infusync-device: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("infusync-device: stopped; what was recorded before is kept", file=sys.stderr)
        return 130
    return 0
