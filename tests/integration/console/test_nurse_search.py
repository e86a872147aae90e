"""Picking a nurse by name where the console asks for one: a search by name or e-mail
narrows the choices (a plain GET, or a "Find" button of the form that saves nothing), so
nobody scrolls through sixty nurses (test client, on SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import re
import uuid

from server.extensions import db
from server.models import Role, TherapyOrder, TrainingModule, Visit
from tests.factories import make_user
from tests.integration.console.browser import post_form, signed_in, text_of

DEVICES = "/console/admin/devices"
OPTION = re.compile(r'<option value="[^"]+"\s*>([^<]+)</option>')
CHECKBOX_LABEL = re.compile(r'id="audience_nurses-\d+"[^>]*>\s*<label[^>]*>([^<]+)</label>')


def _many_nurses(app, count=40):
    with app.app_context():
        for i in range(count):
            make_user(Role.NURSE, f"n{i:02}@agency.test", name=f"Nurse {i:02}")
        db.session.commit()


def _options(response):
    return [html.unescape(text) for text in OPTION.findall(response.get_data(as_text=True))]


def test_the_enrollment_form_lists_25_nurses_and_says_how_to_find_the_others(app, agency):
    _many_nurses(app)
    response = signed_in(app, "admin").get(DEVICES)
    assert response.status_code == 200
    assert len(_options(response)) == 25
    assert "The first 25 of 42 active nurses are listed: find the others by name." in \
        text_of(response)


def test_a_search_by_name_narrows_the_enrollment_form_to_the_matching_nurse(app, agency):
    _many_nurses(app)
    admin = signed_in(app, "admin")
    response = admin.get(DEVICES, query_string={"nurse_q": "bea"})
    assert _options(response) == ["Bea (bea@agency.test)"]
    assert "1 active nurse match “bea”." in text_of(response)
    by_email = admin.get(DEVICES, query_string={"nurse_q": "n07@"})
    assert _options(by_email) == ["Nurse 07 (n07@agency.test)"]
    assert 'name="nurse_q" value="n07@"' in by_email.get_data(as_text=True)  # kept


def test_a_search_that_finds_no_nurse_says_so(app, agency):
    response = signed_in(app, "admin").get(DEVICES, query_string={"nurse_q": "zz%"})
    assert _options(response) == []
    assert "0 active nurses match “zz%”." in html.unescape(text_of(response))


def test_a_refused_enrollment_keeps_the_search_and_the_chosen_nurse(app, agency):
    _many_nurses(app)
    client = signed_in(app, "admin")
    response = post_form(client, f"{DEVICES}/codes", {"user_id": "", "nurse_q": "nurse 1"},
                         form_page=DEVICES)
    assert response.status_code == 422
    assert len(_options(response)) == 10  # Nurse 10 … Nurse 19
    assert "Nurse: Choose the nurse whose device is enrolled." in text_of(response)


def _visit_needs_picc(app, agency):
    """visit_a's order needs picc-care: Bea (tpn only) is not eligible, Ann is."""
    with app.app_context():
        db.session.get(TherapyOrder, agency["order_a"]).required_competency = "picc-care"
        db.session.get(Visit, agency["visit_a"]).order_id = agency["order_a"]
        db.session.commit()


def test_candidates_list_the_eligible_and_a_search_reaches_the_others_with_reasons(
        app, agency):
    _visit_needs_picc(app, agency)
    client = signed_in(app, "coordinator")
    path = f"/console/visits/{agency['visit_a']}"
    text = text_of(client.get(path))
    assert "Ann (assigned) Yes" in text
    assert "Bea No" not in text
    assert ("1 nurse who may not take this visit is not listed: find one by name to see why, "
            "or to assign her with an override.") in text
    found = text_of(client.get(path, query_string={"nurse_q": "BEA"}))
    assert "1 active nurse match “BEA”, eligible first." in found
    assert "Bea No: missing competency: picc-care" in found
    assert "Ann (assigned)" not in found


def test_a_refused_assignment_keeps_the_nurse_it_chose_among_the_candidates(app, agency):
    _visit_needs_picc(app, agency)
    client = signed_in(app, "coordinator")
    path = f"/console/visits/{agency['visit_a']}"
    with app.app_context():
        version = str(db.session.get(Visit, agency["visit_a"]).version)
    response = post_form(client, f"{path}/assign",
                         {"version": version, "nurse_id": str(agency["nurse_b"]),
                          "nurse_q": "bea"}, form_page=f"{path}?nurse_q=bea")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert f'<option value="{agency["nurse_b"]}" selected' in page
    assert 'name="nurse_q" value="bea"' in page


def _draft(app, agency):
    with app.app_context():
        module = TrainingModule(lineage_id=uuid.uuid4(), title="PICC refresher",
                                created_by=agency["admin"])
        db.session.add(module)
        db.session.commit()
        return f"/console/training/{module.id}"


def test_the_training_audience_finds_nurses_by_name_keeping_what_was_typed(app, agency):
    _many_nurses(app)
    path = _draft(app, agency)
    client = signed_in(app, "training_lead")
    shown = client.get(path)
    assert len(CHECKBOX_LABEL.findall(shown.get_data(as_text=True))) == 25
    response = post_form(client, path, {"title": "PICC refresher, typed", "revision": "1",
                                        "audience_nurses": str(agency["nurse_a"]),
                                        "nurse_q": "bea", "action": "find_nurses"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    labels = [html.unescape(label) for label in CHECKBOX_LABEL.findall(page)]
    assert labels == ["Ann (ann@agency.test)", "Bea (bea@agency.test)"]  # chosen, then found
    assert f'value="{agency["nurse_a"]}" checked' in page
    assert 'value="PICC refresher, typed"' in page
    assert "1 active nurse match “bea”." in text_of(response)
    with app.app_context():
        module = db.session.get(TrainingModule, uuid.UUID(path.rsplit("/")[-1]))
        assert (module.title, module.revision) == ("PICC refresher", 1)  # nothing saved


def _choices(response, select_id):
    """The option texts of the page's drop-down ``select_id``, blank choice left out."""
    page = response.get_data(as_text=True)
    block = page.split(f'<select id="{select_id}"', 1)[1].split("</select>", 1)[0]
    return [html.unescape(t) for t in re.findall(r'<option value="[^"]+"[^>]*>([^<]+)<', block)]


def test_the_review_queue_finds_the_nurse_to_filter_on_by_name(app, agency):
    _many_nurses(app)
    client = signed_in(app, "qc")
    assert len(_choices(client.get("/console/review"), "nurse")) == 42
    found = client.get("/console/review", query_string={"nurse_q": "bea@"})
    assert found.status_code == 200
    assert _choices(found, "nurse") == ["Bea"]
    assert "1 nurse matches “bea@”: choose below." in text_of(found)
    kept = client.get("/console/review", query_string={"nurse_q": "nurse 0",
                                                       "nurse": str(agency["nurse_a"])})
    assert _choices(kept, "nurse") == ["Ann", *[f"Nurse {i:02}" for i in range(10)]]
