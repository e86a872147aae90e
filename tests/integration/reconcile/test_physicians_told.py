"""Through a real push: the nurse documents an adverse reaction, the physician is told."""

from __future__ import annotations

from server.models import EmailOutbox, Notification, ReviewItem

REACTION = {"occurred": True, "description": "Urticaria on the forearm",
            "actions_taken": "Infusion stopped, physician called"}


def test_a_pushed_adverse_reaction_reaches_the_physicians_inbox_once(
        phone, push, infusion, rows, client, as_user, agency):
    mutation = infusion(phone, adverse_reaction=REACTION)
    push(phone, mutation)
    push(phone, mutation)  # the device retries: applied once, told once
    [item] = rows(ReviewItem, ReviewItem.kind == "adverse_reaction")
    inbox = client.get("/api/v1/notifications", headers=as_user("physician_a"))
    assert inbox.status_code == 200
    [note] = inbox.get_json()
    assert (note["kind"], note["patient_id"], note["review_item_id"], note["read_at"]) == (
        "critical_finding", str(agency["patient_a"]), str(item.id), None)
    assert note["title"] == "Critical finding on a patient of yours: adverse reaction"
    text = note["title"] + note["body"]
    for private in ("Urticaria", "Infusion stopped", "MRN-A", "PatientMRN-A", "ceftriaxone"):
        assert private not in text
    assert client.get("/api/v1/notifications", headers=as_user("physician_b")).get_json() == []
    assert len(rows(Notification)) == 1 and len(rows(EmailOutbox)) == 1


def test_a_warning_only_push_tells_no_physician(phone, push, infusion, rows):
    push(phone, infusion(phone, dose=1))  # dose outside the order: a warning
    assert [i.kind for i in rows(ReviewItem)] == ["dose_outside_order"]
    assert rows(Notification) == []
