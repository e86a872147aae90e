"""The training lead's pages: a draft through the editor, publish, versions, the matrix."""

from __future__ import annotations

import io
import re
import uuid

from sqlalchemy import select

from server.extensions import db
from server.models import ModuleStatus, TrainingModule, TrainingState, TrainingStatus
from tests.integration.console.browser import post_form, sign_in, text_of

TRAINING = "/console/training"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _lead(app):
    client = app.test_client()
    sign_in(client, "training_lead")
    return client


def _draft(client, title="PICC dressing change"):
    response = post_form(client, TRAINING, {"title": title})
    assert response.status_code == 302
    return response.headers["Location"].split("?")[0]


def _module_row(app, path):
    with app.app_context():
        return db.session.get(TrainingModule, uuid.UUID(path.rsplit("/", 1)[1]))


COMPLETE = {
    "title": "PICC dressing change", "summary": "Sterile change every 7 days",
    "body_md": "# Steps\n\n- Wash hands\n- **Mask** on", "competency": "picc-care",
    "required": "yes", "audience_roles": "nurse", "due_kind": "after_publication",
    "due_days": "30", "pass_mark": "100", "questions": "1",
    "q1_text": "How often is the dressing changed?", "q1_kind": "single",
    "q1_opt1": "Every 7 days", "q1_opt2": "Every day", "q1_correct": "1",
    "action": "save", "revision": "1",
}


def test_the_editor_stores_content_quiz_audience_and_due_rule(app, agency):
    client = _lead(app)
    path = _draft(client)
    response = post_form(client, path, COMPLETE)
    assert response.status_code == 302
    assert "The draft is saved." in text_of(client.get(response.headers["Location"]))
    module = _module_row(app, path)
    assert module.quiz == {"pass_mark_percent": 100, "questions": [{
        "id": "q1", "text": "How often is the dressing changed?", "kind": "single",
        "options": [{"id": "a", "text": "Every 7 days"}, {"id": "b", "text": "Every day"}],
        "correct": ["a"]}]}
    assert module.audience == {"roles": ["nurse"], "competencies": [], "nurse_ids": []}
    assert module.due_rule == {"kind": "after_publication", "days": 30}
    assert (module.required, module.competency, module.revision) == (True, "picc-care", 2)


def test_add_question_saves_and_opens_a_second_question_block(app, agency):
    client = _lead(app)
    path = _draft(client)
    response = post_form(client, path, {**COMPLETE, "action": "add_question"})
    assert response.status_code == 200
    assert "Question 2 text" in text_of(response)
    assert _module_row(app, path).quiz["questions"][0]["text"].startswith("How often")


def test_a_refused_draft_names_the_field_and_keeps_what_was_typed(app, agency):
    client = _lead(app)
    path = _draft(client)
    bad = {**COMPLETE, "q1_kind": "single", "q1_correct": "1", "q1_opt3": "Never",
           "due_kind": "date", "due_days": "", "pass_mark": "abc"}
    response = client.post(path, data={**bad, "q1_correct": ["1", "2"],
                                       "csrf_token": _csrf(client, path)})
    text, page = text_of(response), response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Question 1: the correct option(s): A single-choice question has one correct " \
           "option." in text
    assert "Due date: A &#39;date&#39; rule needs the date" in text
    assert "Pass mark: Not a valid integer." in text
    assert 'value="Never"' in page and 'value="abc"' in page
    assert _module_row(app, path).revision == 1  # nothing saved


def _csrf(client, path):
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(True))
    return found.group(1)


def test_preview_shows_the_markdown_without_saving_and_escapes_html(app, agency):
    client = _lead(app)
    path = _draft(client)
    response = post_form(client, path, {**COMPLETE, "action": "preview",
                                        "body_md": "# Steps\n\n<script>x()</script> **Mask**"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Steps</h1>" in page and "<strong>Mask</strong>" in page
    assert "<script>x()" not in page and "&lt;script&gt;" in page
    assert _module_row(app, path).body_md == ""


def test_publish_lists_what_is_missing_then_publishes_a_complete_draft(app, agency):
    client = _lead(app)
    path = _draft(client)
    refused = post_form(client, f"{path}/publish", {}, form_page=path)
    text = text_of(refused)
    assert refused.status_code == 422
    assert "Not ready to publish" in text
    assert "Quiz: Add at least one question." in text
    assert "Audience: Name at least one role, competency or nurse." in text
    assert "Due rule: Set a due rule" in text
    assert post_form(client, path, COMPLETE).status_code == 302
    published = post_form(client, f"{path}/publish", {}, form_page=path)
    assert published.status_code == 302
    assert _module_row(app, path).status is ModuleStatus.PUBLISHED
    with app.app_context():
        owed = db.session.scalars(select(TrainingStatus.nurse_id)).all()
    assert sorted(owed) == sorted([agency["nurse_a"], agency["nurse_b"]])
    matrix = text_of(client.get(f"{TRAINING}/matrix"))
    assert "Ann not started due" in matrix and "PICC dressing change" in matrix
    with app.app_context():
        status = db.session.scalar(select(TrainingStatus).where(
            TrainingStatus.nurse_id == agency["nurse_b"]))
        status.state = TrainingState.OVERDUE
        db.session.commit()
    matrix = text_of(client.get(f"{TRAINING}/matrix"))
    assert "1 overdue." in matrix and "Bea overdue due" in matrix
    csv = client.get(f"{TRAINING}/matrix.csv")
    assert csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).count("PICC dressing change") == 2


def test_a_published_version_is_read_only_until_a_new_version_then_retired(app, agency):
    client = _lead(app)
    path = _draft(client)
    post_form(client, path, COMPLETE)
    post_form(client, f"{path}/publish", {}, form_page=path)
    edit = post_form(client, path, {**COMPLETE, "title": "Changed"}, form_page=f"{path}")
    assert edit.status_code == 409 and "published versions are immutable" in text_of(edit)
    new = post_form(client, f"{path}/versions", {}, form_page=path)
    assert new.status_code == 302
    draft_path = new.headers["Location"].split("?")[0]
    assert _module_row(app, draft_path).status is ModuleStatus.DRAFT
    assert _module_row(app, draft_path).quiz["questions"][0]["correct"] == ["a"]
    retired = post_form(client, f"{path}/retire", {}, form_page=path)
    assert retired.status_code == 302
    assert _module_row(app, path).status is ModuleStatus.RETIRED


def test_an_attachment_is_stored_and_a_wrong_file_refused(app, agency):
    client = _lead(app)
    path = _draft(client)
    ok = client.post(f"{path}/attachments", data={
        "csrf_token": _csrf(client, path), "attachment_name": "Dressing kit",
        "attachment_file": (io.BytesIO(PNG), "kit.png", "image/png")},
        content_type="multipart/form-data")
    assert ok.status_code == 302
    assert [a["name"] for a in _module_row(app, path).attachments] == ["Dressing kit"]
    bad = client.post(f"{path}/attachments", data={
        "csrf_token": _csrf(client, path), "attachment_name": "Not a PDF",
        "attachment_file": (io.BytesIO(b"hello"), "x.pdf", "application/pdf")},
        content_type="multipart/form-data")
    assert bad.status_code == 422
    assert "File: Not a PDF" in text_of(bad) and 'value="Not a PDF"' in bad.get_data(True)
    assert len(_module_row(app, path).attachments) == 1


def test_a_title_is_needed_to_start_a_draft(app, agency):
    response = post_form(_lead(app), TRAINING, {"title": "  "})
    assert response.status_code == 422
    assert "Title: This field must not be blank." in text_of(response)
    with app.app_context():
        assert db.session.scalar(select(TrainingModule)) is None
