"""``infusync-device training list | show ID | take ID | fetch [ID]``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TypeAlias

from offline_store.api import ServerApi
from offline_store.identity import load_identity
from offline_store.training import (
    attachment,
    fetch_attachments,
    get_module,
    list_modules,
    parse_answers,
    status_of,
    take_quiz,
)
from offline_store.transport import UrllibTransport

if TYPE_CHECKING:
    from offline_store.cli import Context

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def cmd_list(ctx: Context) -> None:
    """One line per module: state, due date, last score, unsent attempts."""
    with ctx.open() as store:
        lines = list_modules(store)
    if not lines:
        print("no training modules on this device (run `infusync-device sync`)")
        return
    for line in lines:
        score = "" if line.last_score is None else f"  last score {line.last_score:g}%"
        pending = f"  {line.pending} attempt(s) not yet sent" if line.pending else ""
        required = "  required" if line.required else ""
        print(f"{line.id}  v{line.version}  {line.state:<11}  due {line.due_on or '-':<10}  "
              f"{line.title}{required}{score}{pending}")


def _print_module(module: dict[str, Any], status: dict[str, Any],
                  fetched: dict[str, bool]) -> None:
    print(f"{module['title']} (version {module['version']})")
    if module.get("summary"):
        print(module["summary"])
    state = status.get("state", "not_started")
    print(f"status: {state}, due {status.get('due_on') or '-'}")
    last = status.get("last_attempt")
    if last:
        verdict = "passed" if last["passed"] else "not passed"
        retired = " (on a retired version)" if last.get("on_retired_version") else ""
        print(f"last attempt: {last['score_percent']:g}% {verdict}{retired}")
    print()
    print(module.get("body_md", ""))
    for item in module.get("attachments", []):
        have = "fetched" if fetched.get(item["sha256"]) else "not fetched (training fetch)"
        print(f"attachment: {item['name']} ({item['content_type']}, {item['size']} bytes) "
              f"{have}")
    quiz = module.get("quiz", {})
    print(f"\nquiz (pass mark {quiz.get('pass_mark_percent')}%):")
    for question in quiz.get("questions", []):
        how = "one answer" if question["kind"] == "single" else "all that apply"
        print(f"  {question['id']}: {question['text']} ({how})")
        for option in question.get("options", []):
            print(f"    {option['id']}) {option['text']}")


def cmd_show(ctx: Context) -> None:
    """The module's text, attachments, her status and the questions (never the answers)."""
    with ctx.open() as store:
        module = get_module(store, ctx.args.module)
        fetched = {a["sha256"]: attachment(store, a["sha256"]) is not None
                   for a in module.get("attachments", [])}
        _print_module(module, status_of(store, module), fetched)


def cmd_take(ctx: Context) -> None:
    """Answer the quiz (--answer, or one ``q=a,b`` per line on stdin); queued for the server."""
    started = ctx.clock()
    texts = list(ctx.args.answer or [])
    if not texts:
        texts = [line for line in sys.stdin.read().splitlines() if line.strip()]
    answers = parse_answers(texts)
    with ctx.open() as store:
        mutation = take_quiz(store, ctx.args.module, answers, started, ctx.clock())
    print(f"answers recorded (seq {mutation.seq}); the server scores them at the next sync")


def cmd_fetch(ctx: Context) -> None:
    """Download attachments not yet on the device; an interrupted download resumes."""
    with ctx.open() as store:
        identity = load_identity(store)
        api = ServerApi(ctx.transport or UrllibTransport(), identity.server_url,
                        identity.token)
        report = fetch_attachments(store, api, ctx.args.module)
    resumed = f" ({report.resumed} resumed)" if report.resumed else ""
    print(f"{report.fetched} attachment(s) fetched{resumed}, {report.present} already here")


def add_training_commands(sub: Subparsers) -> None:
    """Register ``training`` and its subcommands."""
    training = sub.add_parser("training", help="training modules: list, show, take, fetch")
    actions = training.add_subparsers(dest="training_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="modules on this device").set_defaults(handler=cmd_list)
    show = actions.add_parser("show", help="read a module and its questions")
    show.add_argument("module", help="module id (or a unique prefix)")
    show.set_defaults(handler=cmd_show)
    take = actions.add_parser("take", help="answer a module's quiz")
    take.add_argument("module", help="module id (or a unique prefix)")
    take.add_argument("--answer", action="append", metavar="Q=OPTION[,OPTION]",
                      help="an answer (repeat); without any, read one per line from stdin")
    take.set_defaults(handler=cmd_take)
    fetch = actions.add_parser("fetch", help="download attachments (resumes)")
    fetch.add_argument("module", nargs="?", help="only this module's attachments")
    fetch.set_defaults(handler=cmd_fetch)
