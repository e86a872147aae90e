"""The staff directory: coordinators and the training lead turn a name into an id and see
competencies and training standing; no e-mail or credential is shown (test client, on
SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    AuditEvent,
    ModuleStatus,
    TrainingModule,
    TrainingState,
    TrainingStatus,
)
from tests.integration.console.browser import sign_in, text_of


def _client(app, who):
    client = app.test_client()
    sign_in(client, who)
    return client


def _overdue_picc_refresher(app, agency):
    with app.app_context():
        module = TrainingModule(lineage_id=uuid.uuid4(), version=1, title="PICC refresher",
                                status=ModuleStatus.PUBLISHED, competency="picc-care",
                                required=True)
        db.session.add(module)
        db.session.flush()
        db.session.add(TrainingStatus(nurse_id=agency["nurse_a"], lineage_id=module.lineage_id,
                                      module_id=module.id, state=TrainingState.OVERDUE))
        db.session.commit()


def test_a_coordinator_finds_a_nurse_her_id_and_competencies_without_her_email(app, agency):
    response = _client(app, "coordinator").get("/console/staff?q=an&role=nurse")
    text, html = text_of(response), response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Ann nurse picc-care No training assigned {agency['nurse_a']}" in text
    assert "Bea" not in text  # her name has no "an"
    assert "@agency.test" not in html and "password" not in html.lower()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).filter_by(
            action="list", entity_type="users", actor_user_id=agency["coordinator"])) == 1


def test_the_training_lead_sees_who_is_overdue(app, agency):
    _overdue_picc_refresher(app, agency)
    text = text_of(_client(app, "training_lead").get("/console/staff?role=nurse"))
    assert "Ann nurse picc-care 1 overdue Overdue: PICC refresher" in text
    assert "Bea nurse tpn No training assigned" in text
    assert "2 active staff" in text


def test_an_unknown_role_is_refused_beside_the_role_and_kept(app, agency):
    response = _client(app, "coordinator").get("/console/staff?role=surgeon")
    assert response.status_code == 422
    assert "Role: Must be one of:" in text_of(response)
    assert "There is a problem The search is not right; see below." in text_of(response)
