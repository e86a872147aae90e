"""Training modules, their quiz, audience and due rule; statuses; the ``training.complete``
mutation a device sends when a nurse has taken a quiz offline."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema, trimmed
from schemas.users import COMPETENCIES

ROLES = ("admin", "coordinator", "training_lead", "qc", "nurse", "physician")
STATES = ("not_started", "passed", "failed", "overdue")
MODULE_STATUSES = ("draft", "published", "retired")
DUE_KINDS = ("date", "after_publication", "recurring")
ASSET_TYPES = ("image/png", "image/jpeg", "application/pdf")
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="A SHA-256 in lowercase hex (64 digits).")
KEY = validate.Regexp(r"^[A-Za-z0-9._-]{1,40}$",
                      error="1 to 40 letters, digits, '.', '_' or '-'.")


class OptionSchema(BaseSchema):
    """One answer a question offers."""

    id = fields.String(required=True, validate=KEY)
    text = trimmed(500, required=True)


class QuestionSchema(BaseSchema):
    """A single- or multiple-choice question; ``correct`` never reaches devices."""

    id = fields.String(required=True, validate=KEY)
    text = trimmed(2000, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("single", "multiple")))
    options = fields.List(fields.Nested(OptionSchema), required=True,
                          validate=validate.Length(min=2, max=20))
    correct = fields.List(fields.String(validate=KEY), load_default=list,
                          validate=validate.Length(max=20))

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_kwargs: Any) -> None:
        ids = [option["id"] for option in data.get("options", ())]
        if len(ids) != len(set(ids)):
            raise ValidationError("Option ids must be unique within a question.", "options")
        unknown = sorted(set(data.get("correct", ())) - set(ids))
        if unknown:
            raise ValidationError(f"Not an option of this question: {unknown[0]!r}.", "correct")
        if data.get("kind") == "single" and len(set(data.get("correct", ()))) > 1:
            raise ValidationError("A single-choice question has one correct option.", "correct")


class QuizSchema(BaseSchema):
    """Questions and the pass mark (percent of questions answered exactly right)."""

    pass_mark_percent = fields.Integer(load_default=None, allow_none=True, strict=True,
                                       validate=validate.Range(min=1, max=100))
    questions = fields.List(fields.Nested(QuestionSchema), load_default=list,
                            validate=validate.Length(max=100))

    @validates_schema
    def _unique(self, data: dict[str, Any], **_kwargs: Any) -> None:
        ids = [question["id"] for question in data.get("questions", ())]
        if len(ids) != len(set(ids)):
            raise ValidationError("Question ids must be unique.", "questions")


class AudienceSchema(BaseSchema):
    """Who must take the module: any role, competency or named nurse listed."""

    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), load_default=list,
                        validate=validate.Length(max=10))
    competencies = fields.List(fields.String(validate=validate.OneOf(COMPETENCIES)),
                               load_default=list, validate=validate.Length(max=50))
    nurse_ids = fields.List(fields.String(validate=validate.Regexp(
        r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        error="A user id (lowercase UUID).")), load_default=list,
        validate=validate.Length(max=1000))


class StoredDate(fields.Date):
    """A date loaded from ISO text and stored as that text (in a JSON column)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


class DueRuleSchema(BaseSchema):
    """A fixed date, N days after publication, or every N months (first due after ``days``)."""

    kind = fields.String(required=True, validate=validate.OneOf(DUE_KINDS))
    date = StoredDate(load_default=None, allow_none=True)
    days = fields.Integer(load_default=None, allow_none=True, strict=True,
                          validate=validate.Range(min=0, max=3650))
    months = fields.Integer(load_default=None, allow_none=True, strict=True,
                            validate=validate.Range(min=1, max=120))

    @validates_schema
    def _complete(self, data: dict[str, Any], **_kwargs: Any) -> None:
        kind = data.get("kind")
        if kind == "date" and data.get("date") is None:
            raise ValidationError("A 'date' rule needs the date (YYYY-MM-DD).", "date")
        if kind == "after_publication" and data.get("days") is None:
            raise ValidationError("An 'after_publication' rule needs days.", "days")
        if kind == "recurring" and data.get("months") is None:
            raise ValidationError("A 'recurring' rule needs months.", "months")


class AttachmentSchema(BaseSchema):
    """An uploaded asset attached to the module, by its SHA-256."""

    sha256 = fields.String(required=True, validate=SHA256)
    name = trimmed(200, required=True)
    content_type = fields.String(dump_only=True)
    size = fields.Integer(dump_only=True)


class ModuleSchema(BaseSchema):
    """One version of a training module (answers included: staff only)."""

    id = fields.UUID(dump_only=True)
    lineage_id = fields.UUID(dump_only=True)
    version = fields.Integer(dump_only=True, allow_none=True,
                             metadata={"description": "Published version number"})
    status = fields.String(dump_only=True, validate=validate.OneOf(MODULE_STATUSES))
    title = trimmed(200, required=True)
    summary = fields.String(load_default="", validate=validate.Length(max=1000))
    body_md = fields.String(load_default="", validate=validate.Length(max=200_000))
    attachments = fields.List(fields.Nested(AttachmentSchema), load_default=list,
                              validate=validate.Length(max=20))
    quiz = fields.Nested(QuizSchema, load_default=dict)
    competency = fields.String(load_default=None, allow_none=True,
                               validate=validate.OneOf(COMPETENCIES))
    audience = fields.Nested(AudienceSchema, load_default=dict)
    due_rule = fields.Nested(DueRuleSchema, load_default=None, allow_none=True)
    required = fields.Boolean(load_default=False)
    created_at = fields.DateTime(dump_only=True)
    published_at = fields.DateTime(dump_only=True, allow_none=True)
    retired_at = fields.DateTime(dump_only=True, allow_none=True)
    revision = fields.Integer(dump_only=True,
                              metadata={"description": "Send as If-Match to edit a draft"})


class ModuleUpdateSchema(ModuleSchema):
    """A draft edit: only the fields sent change; If-Match (or ``revision``) guards against
    lost updates."""

    title = trimmed(200)
    summary = fields.String(validate=validate.Length(max=1000))
    body_md = fields.String(validate=validate.Length(max=200_000))
    attachments = fields.List(fields.Nested(AttachmentSchema), validate=validate.Length(max=20))
    quiz = fields.Nested(QuizSchema)
    competency = fields.String(allow_none=True, validate=validate.OneOf(COMPETENCIES))
    audience = fields.Nested(AudienceSchema)
    due_rule = fields.Nested(DueRuleSchema, allow_none=True)
    required = fields.Boolean()
    revision = fields.Integer(load_default=None, strict=True)


class ModuleQuerySchema(BaseSchema):
    """Filters for the module listing."""

    status = fields.String(validate=validate.OneOf(MODULE_STATUSES))
    lineage_id = fields.UUID()


class AssetSchema(BaseSchema):
    """A stored asset."""

    sha256 = fields.String(dump_only=True)
    content_type = fields.String(dump_only=True)
    size = fields.Integer(dump_only=True)


class StatusQuerySchema(BaseSchema):
    """Filters for the status report."""

    module_id = fields.UUID()
    nurse_id = fields.UUID()
    state = fields.String(validate=validate.OneOf(STATES))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class StatusSchema(BaseSchema):
    """One nurse's standing on one module."""

    nurse_id = fields.UUID(dump_only=True)
    nurse_name = fields.String(dump_only=True)
    module_id = fields.UUID(dump_only=True)
    lineage_id = fields.UUID(dump_only=True)
    module_title = fields.String(dump_only=True)
    version = fields.Integer(dump_only=True)
    competency = fields.String(dump_only=True, allow_none=True)
    required = fields.Boolean(dump_only=True)
    state = fields.String(dump_only=True, validate=validate.OneOf(STATES))
    due_on = fields.Date(dump_only=True, allow_none=True)
    passed_at = fields.DateTime(dump_only=True, allow_none=True)
    last_attempt_at = fields.DateTime(dump_only=True, allow_none=True)
    attempts = fields.Integer(dump_only=True)
    last_score_percent = fields.Float(dump_only=True, allow_none=True)


class TrainingCompleteSchema(BaseSchema):
    """``training.complete``: the answers chosen on the device. The server scores them;
    a device-sent ``passed`` or ``score`` is an unknown field and refuses the mutation."""

    module_id = fields.UUID(required=True)
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    answers = fields.Dict(
        keys=fields.String(validate=KEY),
        values=fields.List(fields.String(validate=KEY), validate=validate.Length(max=20)),
        required=True, validate=validate.Length(max=100))
    started_at = fields.AwareDateTime(required=True)
    completed_at = fields.AwareDateTime(required=True)

    @validates_schema
    def _order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("completed_at") and data.get("started_at") and \
                data["completed_at"] < data["started_at"]:
            raise ValidationError("completed_at is before started_at.", "completed_at")
