"""NEWS2 of a set of vital signs (a visit's readings taken at one time), through real pushes:
stored with the vitals, shown on the visit, and a review item plus a flag when it is high."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from server.models import EarlyWarningLevel, EarlyWarningScore, ReviewItem, Severity

TAKEN = "2026-11-23T10:10:00-05:00"
ISSUE_SET = [("8867-4", 130, "/min"), ("2708-6", 91, "%"), ("9279-1", 24, "/min")]
CRITICAL_MESSAGE = (
    "NEWS2 score 7 (respiration 24/min: 2, SpO2 91 %: 3, pulse 130/min: 2; not documented: "
    "air or oxygen, systolic BP, consciousness, temperature): emergency response. Follow "
    "your escalation protocol now (call 911 if the patient is unstable) and call the "
    "physician.")


def _readings(device: Any, vitals: Any, readings: list[tuple[str, Any, str]]) -> list[Any]:
    return [vitals(device, code, value, unit) for code, value, unit in readings]


def _coded(device: Any, agency: Any, code: str, unit: str, **data: Any) -> dict[str, Any]:
    return device.mutation("vitals.record", agency["visit_a"],
                           {"code": code, "unit": unit, "taken_at": TAKEN, **data},
                           entity_id=uuid.uuid4())


def test_hr_130_spo2_91_rr_24_opens_a_critical_item_and_its_result_carries_the_flag(
        phone, push, vitals, rows):
    sent = _readings(phone, vitals, ISSUE_SET)
    results = push(phone, *sent)
    (item,) = rows(ReviewItem)
    assert (item.kind, item.severity) == ("news2_critical", Severity.CRITICAL)
    assert (item.details["score"], item.details["points"]) == (
        7, {"pulse": 2, "spo2": 3, "respiration_rate": 2})
    # The set's last reading raised it: its result names the item and carries the flag.
    assert [r["flags"] for r in results[:2]] == [[], []]
    assert results[2]["review_item_id"] == str(item.id)
    assert results[2]["flags"] == [{"code": "news2_critical", "severity": "critical",
                                    "message": CRITICAL_MESSAGE}]
    assert item.details["record_id"] == sent[2]["entity_id"]
    (score,) = rows(EarlyWarningScore)
    assert (score.score, score.level, score.review_item_id) == (
        7, EarlyWarningLevel.CRITICAL, item.id)
    assert score.parts["spo2"] == {"value": 91, "points": 3,
                                   "vital_sign_id": sent[1]["entity_id"]}


def test_a_replay_of_the_mutation_answers_the_same_flags(phone, push, vitals):
    sent = _readings(phone, vitals, ISSUE_SET)
    first = push(phone, *sent)[2]
    again = push(phone, sent[2])[0]
    assert again["status"] == "duplicate" and again["outcome"] == "applied"
    assert again["flags"] == first["flags"]
    assert again["review_item_id"] == first["review_item_id"]


def test_a_normal_set_is_scored_and_opens_no_item(phone, push, vitals, rows, agency):
    normal = [("8867-4", 72, "/min"), ("2708-6", 98, "%"), ("9279-1", 16, "/min"),
              ("8310-5", 36.8, "Cel")]
    bp = vitals(phone, "85354-9", unit="mm[Hg]", components=[
        {"code": "8480-6", "value": 122, "unit": "mm[Hg]"},
        {"code": "8462-4", "value": 78, "unit": "mm[Hg]"}])
    air = _coded(phone, agency, "3151-8", "L/min", value=0)
    alert = _coded(phone, agency, "67775-7", "{ACVPU}", answer="alert")
    results = push(phone, *_readings(phone, vitals, normal), bp, air, alert)
    assert {r["status"] for r in results} == {"applied"}
    assert [r["flags"] for r in results] == [[]] * 7
    assert rows(ReviewItem) == []
    (score,) = rows(EarlyWarningScore)
    assert (score.score, score.level, score.missing) == (0, EarlyWarningLevel.NONE, [])
    assert score.parts["systolic_bp"]["value"] == 122


def test_oxygen_and_consciousness_are_scored_from_their_own_codes(phone, push, rows, agency):
    oxygen = _coded(phone, agency, "3151-8", "L/min", value=2)
    confused = _coded(phone, agency, "67775-7", "{ACVPU}", answer="confusion")
    results = push(phone, oxygen, confused)
    assert [r["status"] for r in results] == ["applied", "applied"]
    (score,) = rows(EarlyWarningScore)
    assert score.parts["supplemental_oxygen"]["points"] == 2
    assert score.parts["consciousness"] == {"value": "confusion", "points": 3,
                                            "vital_sign_id": confused["entity_id"]}
    assert score.score == 5
    assert [item.kind for item in rows(ReviewItem)] == ["news2_warning"]
    assert results[1]["flags"][0]["message"].startswith(
        "NEWS2 score 5 (oxygen 2 L/min: 2, confusion: 3; not documented: respiration, SpO2, "
        "systolic BP, pulse, temperature): urgent response.")


@pytest.mark.parametrize(("data", "errors"), [
    ({"code": "8867-4", "unit": "/min", "answer": "alert"},
     {"data.answer": ["LOINC code 8867-4 takes a value, not an answer."]}),
    ({"code": "67775-7", "unit": "{ACVPU}", "value": 1},
     {"data.answer": ["LOINC code 67775-7 needs an answer (ACVPU), not a value."]}),
    ({"code": "67775-7", "unit": "{score}", "answer": "voice"},
     {"data.unit": ["Unit '{score}' is not valid for 67775-7 (use '{ACVPU}')."]}),
])
def test_a_coded_answer_goes_with_its_code_only(phone, push, rows, agency, data, errors):
    result = push(phone, phone.mutation("vitals.record", agency["visit_a"],
                                        {**data, "taken_at": TAKEN}, entity_id=uuid.uuid4()))[0]
    assert (result["status"], result["errors"]) == ("rejected", errors)
    assert rows(EarlyWarningScore) == []


def test_an_unknown_acvpu_answer_is_refused_by_the_schema(phone, push, agency):
    result = push(phone, _coded(phone, agency, "67775-7", "{ACVPU}", answer="drowsy"))[0]
    assert result["status"] == "rejected"
    assert "data.answer" in result["errors"]


def test_a_set_completed_over_three_pushes_rises_from_nothing_to_critical(
        phone, push, vitals, rows):
    heart, spo2, breathing = _readings(phone, vitals, ISSUE_SET)
    assert push(phone, heart)[0]["flags"] == []  # pulse 130 scores 2: nothing yet
    warned = push(phone, spo2)[0]  # 5, and SpO2 91 is a 3 on its own
    assert [f["code"] for f in warned["flags"]] == ["news2_warning"]
    critical = push(phone, breathing)[0]
    assert [f["code"] for f in critical["flags"]] == ["news2_critical"]
    assert sorted(item.kind for item in rows(ReviewItem)) == ["news2_critical",
                                                             "news2_warning"]
    (score,) = rows(EarlyWarningScore)
    assert (score.score, score.missing) == (7, ["supplemental_oxygen", "systolic_bp",
                                                "consciousness", "temperature"])


def test_the_same_parameter_twice_in_a_set_scores_the_worse_reading(phone, push, vitals,
                                                                      rows):
    worse, better = vitals(phone, "8867-4", 135), vitals(phone, "8867-4", 72)
    push(phone, worse, better)
    (score,) = rows(EarlyWarningScore)
    assert score.parts["pulse"] == {"value": 135, "points": 3,
                                    "vital_sign_id": worse["entity_id"]}


def test_readings_taken_at_other_times_are_other_sets(phone, push, vitals, rows, agency):
    later = phone.mutation("vitals.record", agency["visit_a"], {
        "code": "2708-6", "value": 91, "unit": "%", "taken_at": "2026-11-23T10:40:00-05:00"},
        entity_id=uuid.uuid4())
    push(phone, vitals(phone, "8867-4", 130), later)
    assert sorted(s.score for s in rows(EarlyWarningScore)) == [2, 3]


def test_the_visit_shows_each_set_with_its_parts_and_what_is_missing(
        client, as_user, phone, push, vitals, agency):
    push(phone, *_readings(phone, vitals, ISSUE_SET[:2]))
    response = client.get(f"/api/v1/visits/{agency['visit_a']}", headers=as_user("qc"))
    assert response.status_code == 200
    (shown,) = response.get_json()["documentation"]["early_warning_scores"]
    assert (shown["score"], shown["level"]) == (5, "warning")
    assert shown["taken_at"] == "2026-11-23T15:10:00+00:00"
    assert {name: part["points"] for name, part in shown["parts"].items()} == {
        "pulse": 2, "spo2": 3}
    assert shown["missing"] == ["respiration_rate", "supplemental_oxygen", "systolic_bp",
                                "consciousness", "temperature"]
    assert shown["review_item_id"] is not None
