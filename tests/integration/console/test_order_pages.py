"""Orders in the console: every change is previewed (the visits it creates or cancels)
before it is saved; documented visits are listed as kept, never cancelled (test client,
on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEvent, OrderStatus, TherapyOrder, Visit, VisitStatus
from tests.integration.console.browser import dashed_text_of as text_of
from tests.integration.console.browser import post_form, signed_in

PREVIEWED = re.compile(r'name="previewed" value="([0-9a-f]+)"')


def _order_form(agency):
    return {"physician_id": str(agency["physician_a"]), "medication": "cefazolin",
            "dose": "1", "dose_unit": "g", "route": "IV", "frequency_kind": "daily",
            "frequency_interval": "1", "start_date": "2026-11-24", "end_date": "2026-11-26",
            "window_start": "09:00", "window_minutes": "60", "required_competency": "",
            "rate_ml_h": "", "volume_ml": "", "service_location_id": ""}


def _coordinator(app):
    return signed_in(app, "coordinator")


def _cefazolin(app):
    with app.app_context():
        order = db.session.scalar(select(TherapyOrder).where(
            TherapyOrder.medication == "cefazolin"))
        visits = [] if order is None else list(db.session.scalars(select(Visit).where(
            Visit.order_id == order.id).order_by(Visit.scheduled_start)))
        return order, visits


def _preview_then_save(client, path, form):
    preview = post_form(client, path, {**form, "step": "preview"})
    assert preview.status_code == 200, text_of(preview)[:500]
    digest = PREVIEWED.search(preview.get_data(as_text=True)).group(1)
    return preview, post_form(client, path, {**form, "step": "save", "previewed": digest})


def test_a_new_order_shows_the_visits_it_creates_before_it_is_saved(app, agency):
    client = _coordinator(app)
    path = f"/console/patients/{agency['patient_a']}/orders/new"
    preview, saved = _preview_then_save(client, path, _order_form(agency))
    text = text_of(preview)
    assert "What saving does to the visits" in text
    assert ("Visits to be created (3) Tue 24 Nov 09:00 - 10:00 — unassigned "
            "Wed 25 Nov 09:00 - 10:00 — unassigned "
            "Thu 26 Nov 09:00 - 10:00 — unassigned") in text
    assert "Visits to be cancelled (0)" in text
    assert 'value="cefazolin"' in preview.get_data(as_text=True)  # the form, kept
    assert saved.status_code == 302
    assert saved.headers["Location"] == f"/console/patients/{agency['patient_a']}?done=order"
    order, visits = _cefazolin(app)
    assert order.status is OrderStatus.ACTIVE and len(visits) == 3
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).filter_by(
            action="create", entity_type="therapy_orders", entity_id=order.id)) == 1


def test_the_preview_stores_nothing_and_a_changed_form_is_previewed_again(app, agency):
    client = _coordinator(app)
    path = f"/console/patients/{agency['patient_a']}/orders/new"
    form = _order_form(agency)
    preview = post_form(client, path, {**form, "step": "preview"})
    digest = PREVIEWED.search(preview.get_data(as_text=True)).group(1)
    assert _cefazolin(app) == (None, [])
    changed = post_form(client, path, {**form, "end_date": "2026-11-30", "step": "save",
                                       "previewed": digest})
    text = text_of(changed)
    assert changed.status_code == 200
    assert "The order changed since its preview: check the visits below, then save." in text
    assert "Visits to be created (7)" in text
    assert _cefazolin(app) == (None, [])


def test_a_refused_order_names_its_fields_and_keeps_what_was_typed(app, agency):
    client = _coordinator(app)
    path = f"/console/patients/{agency['patient_a']}/orders/new"
    form = {**_order_form(agency), "dose": "two", "end_date": "2026-11-01", "step": "preview"}
    response = post_form(client, path, form)
    text, html = text_of(response), response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Dose: Not a valid number." in text
    assert 'value="two"' in html and 'value="2026-11-01"' in html
    assert "What saving does to the visits" not in text
    assert _cefazolin(app) == (None, [])


def test_holding_an_order_previews_the_cancelled_visits_and_keeps_the_documented_one(
        app, agency, clock):
    client = _coordinator(app)
    _preview_then_save(client, f"/console/patients/{agency['patient_a']}/orders/new",
                       _order_form(agency))
    order, visits = _cefazolin(app)
    with app.app_context():  # the nurse checked in early on the 25th's visit
        db.session.get(Visit, visits[1].id).checked_in_at = datetime.now().astimezone()
        db.session.commit()
    edit = f"/console/orders/{order.id}/edit"
    assert '<option value="on_hold" selected>' in client.get(
        f"{edit}?status=on_hold").get_data(as_text=True)
    hold = {"status": "on_hold", "version": str(order.version)}
    preview, saved = _preview_then_save(client, edit, hold)
    text = text_of(preview)
    assert ("Visits to be cancelled (2) Tue 24 Nov 09:00 - 10:00 — unassigned "
            "Thu 26 Nov 09:00 - 10:00 — unassigned") in text
    assert ("Documented visits kept as they are (1) "
            "Wed 25 Nov 09:00 - 10:00 — unassigned — "
            "documented (check_in); the change would have cancelled it") in text
    assert saved.status_code == 302
    order, visits = _cefazolin(app)
    assert order.status is OrderStatus.ON_HOLD
    assert [v.status for v in visits] == [VisitStatus.CANCELLED, VisitStatus.SCHEDULED,
                                          VisitStatus.CANCELLED]


def test_a_stale_order_form_is_refused_and_changes_nothing(app, agency):
    client = _coordinator(app)
    edit = f"/console/orders/{agency['order_a']}/edit"
    response = post_form(client, edit, {"status": "discontinued", "version": "7",
                                        "step": "preview"})
    assert response.status_code == 409
    assert "changed since version 7" in text_of(response)
    with app.app_context():
        assert db.session.get(TherapyOrder, agency["order_a"]).status is OrderStatus.ACTIVE
