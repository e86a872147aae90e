"""Training modules in the console: the list by state, a new draft, the editor (fields,
quiz builder, audience, due rule, attachments, preview), publish, new version, retire.

Each POST calls one ``server.training.modules`` verb, as ``/api/v1/training/modules`` does;
the editor's fields go through the API's own ``ModuleUpdateSchema``.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from schemas.training import ROLES, ModuleSchema, ModuleUpdateSchema
from schemas.users import COMPETENCIES
from server import clock
from server.api.access import access_for
from server.api.training import WRITERS
from server.console import navigation, paging
from server.console.auth import login_required
from server.console.blueprint import bp
from server.console.forms import Form
from server.console.nurse_search import nurse_choices, nurse_query
from server.console.training import module_form
from server.errors import AppError
from server.extensions import current_session
from server.models import ModuleStatus, TrainingModule
from server.training import modules as training

navigation.add("console.training", "Training", WRITERS, order=60)
LABELS = {"title": "Title", "summary": "Summary", "body_md": "Body (Markdown)",
          "competency": "Competency", "required": "Required", "audience_roles": "Audience",
          "audience_competencies": "Audience by competency",
          "audience_nurses": "Nurses by name", "due_kind": "Due rule", "due_date": "Due date",
          "due_days": "Days", "due_months": "Every (months)", "pass_mark": "Pass mark",
          "questions": "Quiz", "attachments": "Attachments", "attachment_name": "Name",
          "attachment_file": "File", "revision": "Revision"}
DONE = {"created": "The draft is created.", "saved": "The draft is saved.",
        "published": "The module is published; its audience owes it now.",
        "version": "A new draft version is open.", "retired": "The version is retired.",
        "attached": "The file is attached."}


def _module_page(module: TrainingModule, form: Form, status: int = 200,
                 preview: str | None = None, missing: dict[str, list[str]] | None = None,
                 ) -> tuple[str, int]:
    """The editor (a draft) or the read-only page (a published or retired version)."""
    if not form.values:
        form.values = module_form.values_of_module(module)
    nurses = nurse_choices(nurse_query(), module_form.split(form.values, "audience_nurses"))
    return render_template(
        "console/training/module.html", title=module.title, module=module, form=form,
        labels=module_form.labels_for(form.errors, LABELS), roles=ROLES,
        competencies=COMPETENCIES, nurses=nurses, mf=module_form, preview=preview,
        missing=missing,
        done=DONE.get(request.args.get("done", ""))), status


def _list(form: Form, status: int = 200) -> tuple[str, int]:
    """The list's page (drafts, then published, then retired) and the new-draft form."""
    number = paging.page_number()
    found = training.modules_page(current_session(), {}, number, paging.PAGE_SIZE)
    by_state = {state.value: [m for m in found.items if m.status is state]
                for state in ModuleStatus}
    return render_template("console/training/modules.html", title="Training",
                           by_state=by_state, form=form,
                           pager=paging.pager(found, number, paging.PAGE_SIZE), labels=LABELS,
                           done=DONE.get(request.args.get("done", ""))), status


@bp.get("/training", endpoint="training")
@login_required(*WRITERS)
def training_list() -> tuple[str, int]:
    """Every module version, by state (drafts first), and the form that starts one."""
    return _list(Form())


@bp.post("/training")
@login_required(*WRITERS)
def training_create() -> Response | tuple[str, int]:
    """A new draft from its title (the editor then fills the rest)."""
    form = Form.of(request.form)
    loaded = form.load(ModuleSchema(), {"title": request.form.get("title", "")},
                       {"title": "title"})
    if loaded is None:
        return _list(form, 422)
    module = training.create_module(current_session(), loaded, access_for())
    return redirect(url_for("console.training_module", module_id=module.id, done="created"))


@bp.get("/training/<uuid:module_id>", endpoint="training_module")
@login_required(*WRITERS)
def training_module(module_id: uuid.UUID) -> tuple[str, int]:
    """One version: the editor when it is a draft."""
    return _module_page(training.get_module(current_session(), module_id), Form())


def _refused(module_id: uuid.UUID, form: Form, messages: Any, status: int,
             message: str) -> tuple[str, int]:
    form.message = message
    for name, texts in module_form.field_errors(messages).items():
        for text in texts:
            form.add(name, text)
    return _module_page(training.get_module(current_session(), module_id), form, status)


def _revision() -> int | None:
    text = request.form.get("revision", "")
    return int(text) if text.isascii() and text.isdigit() else None


@bp.post("/training/<uuid:module_id>")
@login_required(*WRITERS)
def training_save(module_id: uuid.UUID) -> Response | tuple[str, int]:
    """Save the draft, add a question (saving first), or preview the body or find nurses by
    name for the audience (both saving nothing, the page again with what was typed)."""
    values = module_form.values_of_request(request.form)
    action = values.pop("action", "save")
    form = Form(values)
    if action in ("preview", "find_nurses"):
        module = training.get_module(current_session(), module_id)
        preview = values.get("body_md", "") if action == "preview" else None
        return _module_page(module, form, preview=preview)
    try:
        loaded = ModuleUpdateSchema().load(module_form.data_of(values))
    except ValidationError as error:
        return _refused(module_id, form, error.messages, 422,
                        "Some fields are not right; see below.")
    try:
        module = training.update_module(current_session(), module_id, loaded, _revision(),
                                        access_for())
    except AppError as error:
        return _refused(module_id, form, error.details, error.status, error.message)
    if action == "add_question":
        form = Form(module_form.values_of_module(module))
        form.values["questions"] = str(module_form.question_count(form.values) + 1)
        if not (module.quiz or {}).get("questions"):
            form.values["questions"] = "1"
        return _module_page(module, form)
    return redirect(url_for("console.training_module", module_id=module_id, done="saved"))


@bp.post("/training/<uuid:module_id>/attachments")
@login_required(*WRITERS)
def training_attach(module_id: uuid.UUID) -> Response | tuple[str, int]:
    """Upload a PNG, JPEG or PDF and attach it to the draft under the name given."""
    file = request.files.get("attachment_file")
    upload = training.Upload(request.form.get("attachment_name", ""),
                             file.read() if file else b"", file.mimetype if file else "")
    try:
        training.attach(current_session(), module_id, upload,
                        int(current_app.config["TRAINING_ASSET_MAX_BYTES"]), access_for())
    except AppError as error:
        form = Form()
        form.refuse(error, {"attachment_name": "attachment_name", "body": "attachment_file",
                            "Content-Type": "attachment_file"})
        form.values = {**module_form.values_of_module(
            training.get_module(current_session(), module_id)),
            "attachment_name": upload.name}
        return _module_page(training.get_module(current_session(), module_id), form,
                            error.status)
    return redirect(url_for("console.training_module", module_id=module_id, done="attached"))


@bp.post("/training/<uuid:module_id>/publish")
@login_required(*WRITERS)
def training_publish(module_id: uuid.UUID) -> Response | tuple[str, int]:
    """Publish the saved draft; when it is not complete, list what is missing."""
    try:
        training.publish(current_session(), module_id, access_for(), clock.agency_zone())
    except AppError as error:
        form = Form()
        form.message = error.message
        module = training.get_module(current_session(), module_id)
        missing = error.details if error.status == 422 else None
        return _module_page(module, form, error.status, missing=missing)
    return redirect(url_for("console.training_module", module_id=module_id, done="published"))


@bp.post("/training/<uuid:module_id>/versions")
@login_required(*WRITERS)
def training_new_version(module_id: uuid.UUID) -> Response | tuple[str, int]:
    """A new draft copied from this published (or retired) version."""
    try:
        draft = training.new_version(current_session(), module_id, access_for())
    except AppError as error:
        form = Form()
        form.message = error.message
        return _module_page(training.get_module(current_session(), module_id), form,
                            error.status)
    return redirect(url_for("console.training_module", module_id=draft.id, done="version"))


@bp.post("/training/<uuid:module_id>/retire")
@login_required(*WRITERS)
def training_retire(module_id: uuid.UUID) -> Response | tuple[str, int]:
    """Take a published version off every device; nobody owes it any more."""
    try:
        training.retire(current_session(), module_id, access_for())
    except AppError as error:
        form = Form()
        form.message = error.message
        return _module_page(training.get_module(current_session(), module_id), form,
                            error.status)
    return redirect(url_for("console.training_module", module_id=module_id, done="retired"))
