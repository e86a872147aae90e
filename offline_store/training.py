"""Training on the device: modules and statuses from the pull, attachments fetched in
resumable ranges and checked against their SHA-256, quizzes taken offline.

The device never decides pass or fail: taking a quiz queues ``training.complete`` with the
chosen options, and the server's verdict arrives as the nurse's ``training_status`` in a
later pull.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from offline_store.api import ServerApi, error_of
from offline_store.clock import local_rfc3339
from offline_store.contract import data_errors
from offline_store.errors import OfflineStoreError, ProtocolViolation
from offline_store.outbox import Mutation, Outbox
from offline_store.store import Store

MODULE = "training"
STATUS = "training_status"
ASSET = "training_asset"
PART = "training_asset_part"
COMPLETE = "training.complete"
ASSETS_PATH = "/api/v1/sync/assets/"
CHUNK_BYTES = 256 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class UnknownModule(OfflineStoreError):
    """No training module with that id (or prefix) is on this device."""


class InvalidAnswers(OfflineStoreError):
    """Answers the module's quiz cannot take; nothing was queued."""


class AssetCorrupt(OfflineStoreError):
    """A downloaded attachment does not match its SHA-256; it was discarded."""


@dataclass(frozen=True)
class ModuleLine:
    """One module as the nurse sees it in the list."""

    id: str
    title: str
    version: int | None
    required: bool
    state: str
    due_on: str | None
    last_score: float | None
    pending: int


@dataclass(frozen=True)
class FetchReport:
    """What fetching attachments did."""

    fetched: int
    present: int
    resumed: int


def _statuses(store: Store) -> dict[str, dict[str, Any]]:
    """Her statuses by lineage id."""
    return {str(r.data.get("lineage_id")): r.data for r in store.all(STATUS)}


def _pending(store: Store) -> dict[str, int]:
    """Unsent quiz submissions per module id."""
    counts: dict[str, int] = {}
    for mutation in Outbox(store).pending():
        if mutation.type == COMPLETE:
            module_id = str(mutation.data.get("module_id"))
            counts[module_id] = counts.get(module_id, 0) + 1
    return counts


def list_modules(store: Store) -> list[ModuleLine]:
    """Modules on this device with her standing, soonest due first."""
    statuses, pending = _statuses(store), _pending(store)
    lines = []
    for record in store.all(MODULE):
        status = statuses.get(str(record.data.get("lineage_id")), {})
        last = status.get("last_attempt") or {}
        lines.append(ModuleLine(
            id=record.id, title=str(record.data.get("title", "")),
            version=record.data.get("version"), required=bool(record.data.get("required")),
            state=str(status.get("state", "not_started")), due_on=status.get("due_on"),
            last_score=last.get("score_percent"), pending=pending.get(record.id, 0)))
    return sorted(lines, key=lambda line: (line.due_on or "9999-12-31", line.title))


def get_module(store: Store, module_id: str) -> dict[str, Any]:
    """A module by id or unique id prefix."""
    record = store.get(MODULE, module_id)
    if record is not None:
        return dict(record.data)
    found = [r for r in store.all(MODULE) if r.id.startswith(module_id)] if module_id else []
    if len(found) != 1:
        raise UnknownModule(f"no training module {module_id!r} on this device "
                            "(see `infusync-device training list`)")
    return dict(found[0].data)


def status_of(store: Store, module: dict[str, Any]) -> dict[str, Any]:
    """Her status on a module ({} before the server made one)."""
    return _statuses(store).get(str(module.get("lineage_id")), {})


def parse_answers(texts: list[str]) -> dict[str, list[str]]:
    """``["q1=yes", "q2=red,warm"]`` → ``{"q1": ["yes"], "q2": ["red", "warm"]}``."""
    answers: dict[str, list[str]] = {}
    for text in texts:
        question, sep, chosen = text.strip().partition("=")
        if not sep or not question.strip():
            raise InvalidAnswers(f"an answer looks like q1=a or q2=a,c; got {text.strip()!r}")
        answers[question.strip()] = [o.strip() for o in chosen.split(",") if o.strip()]
    return answers


def _check_answers(module: dict[str, Any], answers: dict[str, list[str]]) -> None:
    """Refuse what the server would refuse, with the same words, before queueing."""
    questions = {str(q["id"]): q for q in module.get("quiz", {}).get("questions", [])}
    for question_id, chosen in answers.items():
        question = questions.get(question_id)
        if question is None:
            raise InvalidAnswers(f"question {question_id!r} is not in this module's quiz")
        options = {str(o["id"]) for o in question.get("options", [])}
        unknown = sorted(set(chosen) - options)
        if unknown:
            raise InvalidAnswers(f"question {question_id!r} has no option {unknown[0]!r}")
        if question.get("kind") == "single" and len(set(chosen)) > 1:
            raise InvalidAnswers(f"question {question_id!r} takes a single answer")
    missing = sorted(set(questions) - set(answers))
    if missing:
        raise InvalidAnswers(f"answer every question; missing: {', '.join(missing)}")


def take_quiz(store: Store, module_id: str, answers: dict[str, list[str]],
              started_at: datetime, completed_at: datetime) -> Mutation:
    """Queue ``training.complete``; the server scores it at the next sync."""
    module = get_module(store, module_id)
    _check_answers(module, answers)
    data = {"module_id": module["id"], "version": module["version"], "answers": answers,
            "started_at": local_rfc3339(started_at),
            "completed_at": local_rfc3339(completed_at)}
    errors = data_errors(COMPLETE, data)
    if errors:
        reasons = "; ".join(f"{name}: {' '.join(why)}" for name, why in errors.items())
        raise InvalidAnswers(f"quiz not recorded: {reasons}")
    return Outbox(store).add(COMPLETE, str(uuid.uuid4()), data, occurred_at=completed_at)


def attachment(store: Store, sha256: str) -> bytes | None:
    """The verified bytes of a fetched attachment, or None."""
    record = store.get(ASSET, sha256)
    return None if record is None else base64.b64decode(record.data["data"])


def _wanted(store: Store, module_id: str | None) -> dict[str, dict[str, Any]]:
    """Attachments of the modules on this device (or of one), by SHA-256."""
    modules = [get_module(store, module_id)] if module_id else [r.data for r in store.all(MODULE)]
    return {str(a["sha256"]): a for m in modules for a in m.get("attachments", [])
            if _SHA256.fullmatch(str(a.get("sha256", "")))}


def fetch_attachments(store: Store, api: ServerApi, module_id: str | None = None
                      ) -> FetchReport:
    """Download missing attachments in ranges; a cut download resumes where it stopped.

    Attachments no module on the device names any more (retired, or she left the audience)
    are deleted first.
    """
    fetched = present = resumed = 0
    _prune(store)
    for sha256, meta in sorted(_wanted(store, module_id).items()):
        if store.get(ASSET, sha256) is not None:
            present += 1
            continue
        resumed += int(store.get(PART, sha256) is not None)
        _download(store, api, sha256, int(meta.get("size") or 0),
                  str(meta.get("content_type", "")))
        fetched += 1
    return FetchReport(fetched, present, resumed)


def _prune(store: Store) -> None:
    keep = set(_wanted(store, None))
    with store.transaction():
        for kind in (ASSET, PART):
            for record in store.all(kind):
                if record.id not in keep:
                    store.delete(kind, record.id)


def _received(store: Store, sha256: str) -> bytes:
    part = store.get(PART, sha256)
    return b"" if part is None else base64.b64decode(part.data["data"])


def _save_part(store: Store, sha256: str, data: bytes) -> None:
    with store.transaction():
        store.put(PART, sha256, {"data": base64.b64encode(data).decode()})


def _request(api: ServerApi, sha256: str, start: int, size: int) -> tuple[int, bytes]:
    """One ranged GET; returns (offset the body starts at, body)."""
    headers = {"Accept-Encoding": "identity", "If-Range": f'"{sha256}"',
               "Range": f"bytes={start}-{min(start + CHUNK_BYTES, size) - 1}"}
    if api.token is not None:
        headers["Authorization"] = f"Bearer {api.token}"
    response = api.transport.request("GET", api.base + ASSETS_PATH + sha256, headers, None)
    if response.status == 200:
        return 0, response.body
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch(response.header("Content-Range") or "")
        if match is None or int(match.group(1)) != start:
            raise ProtocolViolation("the server answered a different range than asked")
        return start, response.body
    if response.status == 416:
        return 0, b""
    raise error_of(response).to_exception()


def _download(store: Store, api: ServerApi, sha256: str, size: int, content_type: str) -> None:
    """Fetch the rest of one attachment, saving progress after every range."""
    if size <= 0:
        raise ProtocolViolation(f"attachment {sha256[:12]}… has no size")
    received = _received(store, sha256)
    if len(received) > size:
        received = b""
    while len(received) < size:
        offset, body = _request(api, sha256, len(received), size)
        if not body:
            if offset == 0 and received:  # 416: the partial copy is unusable, start over
                received = b""
                continue
            raise ProtocolViolation(f"attachment {sha256[:12]}…: the server sent nothing")
        received = received[:offset] + body
        _save_part(store, sha256, received)
    if hashlib.sha256(received).hexdigest() != sha256:
        with store.transaction():
            store.delete(PART, sha256)
        raise AssetCorrupt(f"attachment {sha256[:12]}… did not match its SHA-256; "
                           "it was discarded, fetch again")
    with store.transaction():
        store.put(ASSET, sha256, {"content_type": content_type, "size": len(received),
                                  "data": base64.b64encode(received).decode()})
        store.delete(PART, sha256)
