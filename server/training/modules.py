"""Training modules: drafts, published versions (frozen), retirement, and their assets.

A module is a lineage of versions. Only a draft can be edited; publishing freezes it under
the next version number and retires the version it supersedes; a change to published
content is a new draft copied from it (``new_version``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from server import audit
from server.errors import Conflict, Invalid, NotFound, StaleVersion
from server.models import ModuleStatus, TrainingAsset, TrainingModule
from server.services.records import MAX_PAGE, Access, Page
from server.training import standing

EDITABLE = ("title", "summary", "body_md", "attachments", "quiz", "competency", "audience",
            "due_rule", "required")
# What each attachment type's bytes begin with: a declared type is believed only when the
# bytes agree (an HTML page sent as image/png would reach devices as a "PNG").
ASSET_SIGNATURES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff",
                    "application/pdf": b"%PDF-"}
ASSET_NAMES = {"image/png": "a PNG image", "image/jpeg": "a JPEG image",
               "application/pdf": "a PDF document"}
ASSET_TYPES = tuple(ASSET_SIGNATURES)

# The console lists drafts first (the work in hand), then what nurses owe, then history.
_STATE_ORDER = {ModuleStatus.DRAFT: 0, ModuleStatus.PUBLISHED: 1, ModuleStatus.RETIRED: 2}


class AssetTooLarge(Invalid):
    """An upload over TRAINING_ASSET_MAX_BYTES."""

    status = 413
    code = "body_too_large"


class UnsupportedAsset(Invalid):
    """An upload of a type modules may not carry."""

    status = 415
    code = "unsupported_media_type"


@dataclass(frozen=True)
class Upload:
    """A file a person attached: the name she gave it, its bytes and declared type."""

    name: str
    data: bytes
    content_type: str


def _immutable(module: TrainingModule) -> Conflict:
    return Conflict(
        f"Version {module.version} of this module is {module.status.value}: published "
        "versions are immutable. Start a new version with POST "
        f"/api/v1/training/modules/{module.id}/versions, edit that draft and publish it.",
        {"status": module.status.value}, code="module_immutable")


def _audit(session: Session, access: Access, action: str, module: TrainingModule,
           **details: Any) -> None:
    audit.record(session, access.actor, action, "training_modules", at=access.now,
                 entity_id=module.id, details=details)


def _attachments(session: Session, attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attachments with the stored asset's type and size; an unknown hash is refused."""
    wanted = {a["sha256"] for a in attachments}
    found = {row.sha256: row for row in session.scalars(
        select(TrainingAsset).where(TrainingAsset.sha256.in_(wanted)))} if wanted else {}
    missing = sorted(wanted - set(found))
    if missing:
        raise Invalid("Upload each attachment first (POST /api/v1/training/assets).",
                      {"attachments": [f"No asset with SHA-256 {missing[0]}."]})
    return [{"sha256": a["sha256"], "name": a["name"],
             "content_type": found[a["sha256"]].content_type, "size": found[a["sha256"]].size}
            for a in attachments]


def _prepare(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    values = {name: data[name] for name in EDITABLE if name in data}
    if "attachments" in values:
        values["attachments"] = _attachments(session, values["attachments"])
    if values.get("due_rule") is not None:
        values["due_rule"] = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                              for k, v in values["due_rule"].items() if v is not None}
    elif "due_rule" in values:
        values["due_rule"] = {}
    return values


def create_module(session: Session, data: dict[str, Any], access: Access) -> TrainingModule:
    """A new draft, the first of its lineage."""
    module = TrainingModule(lineage_id=uuid.uuid4(), status=ModuleStatus.DRAFT,
                            created_by=access.actor.user_id, created_at=access.now,
                            **_prepare(session, data))
    session.add(module)
    session.flush()
    _audit(session, access, "create", module)
    session.commit()
    return module


def _filtered(filters: dict[str, Any]) -> Select[Any]:
    stmt = select(TrainingModule)
    if "status" in filters:
        stmt = stmt.where(TrainingModule.status == ModuleStatus(filters["status"]))
    if "lineage_id" in filters:
        stmt = stmt.where(TrainingModule.lineage_id == filters["lineage_id"])
    return stmt


def list_modules(session: Session, filters: dict[str, Any]) -> list[TrainingModule]:
    """Every version, newest lineage and version first."""
    return list(session.scalars(_filtered(filters).order_by(TrainingModule.created_at.desc(),
                                                            TrainingModule.id)))


def modules_page(session: Session, filters: dict[str, Any], page: int, size: int) -> Page:
    """A page of versions by state (drafts, then published, then retired), newest first
    within each: the order the console's list shows them in, a page at a time."""
    if page > MAX_PAGE:
        raise Invalid("The page number is too large.",
                      {"query": {"page": [f"Must be at most {MAX_PAGE}."]}})
    stmt = _filtered(filters)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    state = case(_STATE_ORDER, value=TrainingModule.status)
    items = list(session.scalars(stmt.order_by(state, TrainingModule.created_at.desc(),
                                               TrainingModule.id)
                                 .limit(size).offset((page - 1) * size)))
    return Page(items=items, total=total)


def get_module(session: Session, module_id: uuid.UUID) -> TrainingModule:
    """One module version, or 404."""
    module = session.get(TrainingModule, module_id)
    if module is None:
        raise NotFound("No training module with this id.")
    return module


@contextmanager
def _guarded(session: Session, module: TrainingModule) -> Iterator[None]:
    """Concurrent edits and publishes become 409s, whether the flush or the commit finds them."""
    try:
        yield
    except StaleDataError as exc:
        session.rollback()
        raise StaleVersion("Someone else changed this draft at the same moment; read it "
                           "again and retry.", {"current_revision": module.revision}) from exc
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("Another version of this module was published at the same moment; "
                       "read the module again.", code="duplicate") from exc


def _commit(session: Session, module: TrainingModule) -> None:
    with _guarded(session, module):
        session.commit()


def update_module(session: Session, module_id: uuid.UUID, data: dict[str, Any],
                  expected: int | None, access: Access) -> TrainingModule:
    """Edit a draft; published and retired versions are refused (409)."""
    module = get_module(session, module_id)
    if module.status is not ModuleStatus.DRAFT:
        raise _immutable(module)
    if expected is not None and expected != module.revision:
        raise StaleVersion(f"This draft changed since revision {expected}; it is now at "
                           f"revision {module.revision}. Read it again and retry.",
                           {"current_revision": module.revision})
    for name, value in _prepare(session, data).items():
        setattr(module, name, value)
    _audit(session, access, "update", module, fields=sorted(data))
    _commit(session, module)
    return module


def new_version(session: Session, module_id: uuid.UUID, access: Access) -> TrainingModule:
    """A draft copied from a published (or retired) version, in the same lineage."""
    source = get_module(session, module_id)
    if source.status is ModuleStatus.DRAFT:
        raise Conflict("This version is still a draft: edit it directly.", code="is_draft")
    draft = session.scalar(select(TrainingModule).where(
        TrainingModule.lineage_id == source.lineage_id,
        TrainingModule.status == ModuleStatus.DRAFT))
    if draft is not None:
        raise Conflict(f"This module already has a draft ({draft.id}); edit or publish it.",
                       {"draft_id": str(draft.id)}, code="draft_exists")
    module = TrainingModule(
        lineage_id=source.lineage_id, status=ModuleStatus.DRAFT,
        created_by=access.actor.user_id, created_at=access.now,
        **{name: getattr(source, name) for name in EDITABLE})
    session.add(module)
    session.flush()
    _audit(session, access, "new_version", module, source=str(source.id))
    session.commit()
    return module


def completeness(module: TrainingModule) -> dict[str, list[str]]:
    """What a draft lacks before it can be published."""
    problems: dict[str, list[str]] = {}
    quiz = module.quiz or {}
    if not quiz.get("questions"):
        problems["quiz"] = ["Add at least one question."]
    elif any(not q.get("correct") for q in quiz["questions"]):
        problems["quiz"] = ["Every question needs its correct option(s)."]
    if not 1 <= int(quiz.get("pass_mark_percent") or 0) <= 100:
        problems.setdefault("quiz", []).append("Set pass_mark_percent between 1 and 100.")
    audience = module.audience or {}
    if not any(audience.get(k) for k in ("roles", "competencies", "nurse_ids")):
        problems["audience"] = ["Name at least one role, competency or nurse."]
    if not module.due_rule:
        problems["due_rule"] = ["Set a due rule (date, after_publication or recurring)."]
    if module.required and not module.competency:
        problems["competency"] = ["A required module names the competency it maintains."]
    return problems


def publish(session: Session, module_id: uuid.UUID, access: Access,
            zone: ZoneInfo) -> TrainingModule:
    """Freeze a complete draft as the lineage's next version; the previous one retires.

    Its audience's due dates are counted in ``zone``, the agency's.
    """
    module = get_module(session, module_id)
    if module.status is not ModuleStatus.DRAFT:
        raise _immutable(module)
    problems = completeness(module)
    if module.attachments:
        try:
            _attachments(session, module.attachments)
        except Invalid as exc:
            problems.update(exc.details)
    if problems:
        raise Invalid("This draft is not complete enough to publish; see details.", problems)
    latest = session.scalar(select(func.max(TrainingModule.version)).where(
        TrainingModule.lineage_id == module.lineage_id)) or 0
    for previous in session.scalars(select(TrainingModule).where(
            TrainingModule.lineage_id == module.lineage_id,
            TrainingModule.status == ModuleStatus.PUBLISHED)):
        previous.status, previous.retired_at = ModuleStatus.RETIRED, access.now
    module.status, module.version = ModuleStatus.PUBLISHED, latest + 1
    module.published_at, module.published_by = access.now, access.actor.user_id
    with _guarded(session, module):
        session.flush()
        created, _removed = standing.align_module(session, module, access.now, zone)
        _audit(session, access, "publish", module, version=module.version, assigned=created)
        session.commit()
    return module


def retire(session: Session, module_id: uuid.UUID, access: Access) -> TrainingModule:
    """Take a published version off every device; nobody owes it any more."""
    module = get_module(session, module_id)
    if module.status is ModuleStatus.DRAFT:
        raise Conflict("A draft was never published: there is nothing to retire.",
                       code="is_draft")
    if module.status is ModuleStatus.RETIRED:
        return module
    module.status, module.retired_at = ModuleStatus.RETIRED, access.now
    with _guarded(session, module):
        session.flush()
        dropped = standing.drop_lineage(session, module.lineage_id)
        _audit(session, access, "retire", module, statuses_dropped=dropped)
        session.commit()
    return module


def store_asset(session: Session, data: bytes, content_type: str, max_bytes: int,
                access: Access) -> tuple[TrainingAsset, bool]:
    """Store bytes under their SHA-256 (once); returns the asset and whether it is new."""
    kind = content_type.split(";")[0].strip().lower()
    if kind not in ASSET_TYPES:
        raise UnsupportedAsset(f"Attachments are PNG, JPEG or PDF; got {kind or 'nothing'!r}.",
                               {"Content-Type": [f"One of {', '.join(ASSET_TYPES)}."]})
    if not data:
        raise Invalid("The upload is empty.", {"body": ["Send the file's bytes."]})
    if len(data) > max_bytes:
        raise AssetTooLarge(f"This file is {len(data)} bytes; the limit is {max_bytes}.",
                            {"body": [f"At most {max_bytes} bytes."]})
    if not data.startswith(ASSET_SIGNATURES[kind]):
        raise Invalid(f"The bytes are not {ASSET_NAMES[kind]}, as Content-Type {kind} says.",
                      {"body": [f"Not {ASSET_NAMES[kind]}: send the file's own bytes and "
                                "its own type."]})
    digest = hashlib.sha256(data).hexdigest()
    existing = session.get(TrainingAsset, digest)
    if existing is not None:
        return existing, False
    asset = TrainingAsset(sha256=digest, content_type=kind, size=len(data), data=data,
                          created_by=access.actor.user_id, created_at=access.now)
    try:
        with session.begin_nested():  # the same file uploaded twice at once: one row
            session.add(asset)
    except IntegrityError:
        return session.get_one(TrainingAsset, digest), False
    audit.record(session, access.actor, "create", "training_assets", at=access.now,
                 details={"sha256": digest, "size": len(data)})
    session.commit()
    return asset, True


def attach(session: Session, module_id: uuid.UUID, upload: Upload, max_bytes: int,
           access: Access) -> TrainingModule:
    """Store an uploaded file and attach it to a draft, as ``POST /training/assets`` and then
    ``PATCH`` with the new ``attachments`` would (the console's one-step upload)."""
    module = get_module(session, module_id)
    if module.status is not ModuleStatus.DRAFT:
        raise _immutable(module)
    if not upload.name.strip():
        raise Invalid("Name the attachment as nurses will see it.",
                      {"attachment_name": ["Enter a name."]})
    asset, _created = store_asset(session, upload.data, upload.content_type, max_bytes, access)
    attachments = [*module.attachments, {"sha256": asset.sha256, "name": upload.name.strip()}]
    return update_module(session, module_id, {"attachments": attachments}, module.revision,
                         access)
