"""``vitals.record``: impossible values refused, abnormal ones kept and flagged, codes checked."""

import uuid
from decimal import Decimal

import pytest

from server.models import ReviewItem, VitalSign

BP = "85354-9"


def _bp(systolic, diastolic, unit="mm[Hg]"):
    return [{"code": "8480-6", "value": systolic, "unit": unit},
            {"code": "8462-4", "value": diastolic, "unit": unit}]


@pytest.mark.parametrize(("code", "value", "unit", "name"), [
    ("8867-4", 0, "/min", "Heart rate 0 /min"),
    ("8867-4", 400, "/min", "Heart rate 400 /min"),
    ("2708-6", 101, "%", "Oxygen saturation 101 %"),
    ("8310-5", 60, "Cel", "Body temperature 60 Cel"),
])
def test_impossible_value_is_rejected_naming_the_field_and_reason(
        phone, push, vitals, rows, code, value, unit, name):
    result = push(phone, vitals(phone, code, value, unit))[0]
    assert result["status"] == "rejected"
    assert result["errors"] == {
        "data.value": [f"{name} is physiologically impossible; check the entry."]}
    assert "version" not in result and "review_item_id" not in result
    assert rows(VitalSign) == []


def test_a_normal_value_is_applied_without_flags(phone, push, vitals, rows):
    mutation = vitals(phone, "8867-4", 72)
    result = push(phone, mutation)[0]
    # version: the vital sign's (new); visit_version: the visit's, which a reading leaves as it is
    assert result == {"id": mutation["id"], "status": "applied", "version": 1,
                      "visit_version": 1, "flags": []}
    stored = rows(VitalSign)
    assert [(s.id, s.code, s.value, s.unit, s.flags) for s in stored] == [
        (uuid.UUID(mutation["entity_id"]), "8867-4", Decimal("72"), "/min", [])]


@pytest.mark.parametrize(("code", "value", "unit"), [
    ("8867-4", 120, "/min"),  # NEWS2 2
    ("8867-4", 45, "/min"),  # 1
    ("2708-6", 93, "%"),  # 2
    ("8310-5", 38.6, "Cel"),  # 1
    ("9279-1", 22, "/min"),  # 2
])
def test_abnormal_value_is_applied_flagged_and_below_news2_thresholds_opens_no_item(
        phone, push, vitals, rows, code, value, unit):
    result = push(phone, vitals(phone, code, value, unit))[0]
    assert result["status"] == "applied"
    assert "review_item_id" not in result and result["flags"] == []
    assert [s.flags for s in rows(VitalSign)] == [["abnormal"]]
    assert rows(ReviewItem) == []


@pytest.mark.parametrize(("code", "value", "unit"), [
    ("2708-6", 91, "%"),
    ("9279-1", 26, "/min"),
])
def test_abnormal_value_scoring_three_on_its_own_opens_a_news2_warning(
        phone, push, vitals, rows, code, value, unit):
    result = push(phone, vitals(phone, code, value, unit))[0]
    assert result["status"] == "applied"
    assert [s.flags for s in rows(VitalSign)] == [["abnormal"]]
    (item,) = rows(ReviewItem)
    assert (item.kind, str(item.id)) == ("news2_warning", result["review_item_id"])
    assert [f["code"] for f in result["flags"]] == ["news2_warning"]


def test_values_on_the_edge_of_normal_are_not_flagged(phone, push, vitals, rows):
    results = push(phone, vitals(phone, "8867-4", 51), vitals(phone, "8867-4", 90),
                   vitals(phone, "2708-6", 100, "%"), vitals(phone, "8310-5", 38.0, "Cel"))
    assert [r["status"] for r in results] == ["applied"] * 4
    assert [s.flags for s in rows(VitalSign)] == [[]] * 4


def test_unknown_loinc_code_is_rejected_naming_the_code(phone, push, vitals, rows):
    result = push(phone, vitals(phone, "1234-5", 10, "/min"))[0]
    assert result["status"] == "rejected"
    assert result["errors"] == {"data.code": ["Unknown LOINC code 1234-5 for a vital sign."]}
    assert rows(VitalSign) == []


@pytest.mark.parametrize(("code", "unit", "message"), [
    ("8310-5", "[degF]", "Unit '[degF]' is not valid for body temperature (use ['Cel'])."),
    ("8867-4", "bpm", "Unit 'bpm' is not valid for heart rate (use ['/min'])."),
])
def test_unknown_unit_is_rejected_naming_the_unit(phone, push, vitals, rows, code, unit,
                                                  message):
    result = push(phone, vitals(phone, code, 98, unit))[0]
    assert result["status"] == "rejected"
    assert result["errors"] == {"data.unit": [message]}
    assert rows(VitalSign) == []


def test_blood_pressure_panel_is_stored_with_its_components(phone, push, vitals, rows):
    mutation = vitals(phone, BP, unit="mm[Hg]", components=_bp(118, 76))
    assert push(phone, mutation)[0]["status"] == "applied"
    (stored,) = rows(VitalSign)
    assert (stored.code, stored.value, stored.unit, stored.flags) == (BP, None, "mm[Hg]", [])
    assert stored.components == [{"code": "8480-6", "value": 118.0, "unit": "mm[Hg]"},
                                 {"code": "8462-4", "value": 76.0, "unit": "mm[Hg]"}]


def test_hypotensive_blood_pressure_is_flagged_abnormal(phone, push, vitals, rows):
    assert push(phone, vitals(phone, BP, unit="mm[Hg]",
                              components=_bp(95, 58)))[0]["status"] == "applied"
    assert [s.flags for s in rows(VitalSign)] == [["abnormal"]]
    assert rows(ReviewItem) == []  # systolic 95 scores 2 in NEWS2: no item on its own


def test_systolic_of_ninety_or_less_opens_a_news2_warning(phone, push, vitals, rows):
    result = push(phone, vitals(phone, BP, unit="mm[Hg]", components=_bp(84, 50)))[0]
    assert [s.flags for s in rows(VitalSign)] == [["abnormal"]]
    assert [item.kind for item in rows(ReviewItem)] == ["news2_warning"]
    assert result["flags"][0]["message"].startswith("NEWS2 score 3 (systolic 84 mmHg: 3; ")


def test_impossible_blood_pressure_component_is_rejected_naming_it(phone, push, vitals, rows):
    result = push(phone, vitals(phone, BP, unit="mm[Hg]", components=_bp(120, 250)))[0]
    assert result["status"] == "rejected"
    assert result["errors"] == {"data.components.1.value": [
        "Diastolic blood pressure 250 mm[Hg] is physiologically impossible; check the entry."]}
    assert rows(VitalSign) == []


def test_blood_pressure_component_in_the_wrong_unit_is_rejected(phone, push, vitals, rows):
    result = push(phone, vitals(phone, BP, unit="mm[Hg]", components=_bp(120, 80, "kPa")))[0]
    assert result["status"] == "rejected"
    assert list(result["errors"]) == ["data.components.0.unit"]
    assert rows(VitalSign) == []


@pytest.mark.parametrize("components", [
    [{"code": "8480-6", "value": 120, "unit": "mm[Hg]"}],
    [{"code": "8480-6", "value": 120, "unit": "mm[Hg]"},
     {"code": "8480-6", "value": 80, "unit": "mm[Hg]"}],
    [{"code": "8480-6", "value": 120, "unit": "mm[Hg]"},
     {"code": "8462-4", "value": 80, "unit": "mm[Hg]"},
     {"code": "8867-4", "value": 70, "unit": "/min"}],
])
def test_blood_pressure_without_exactly_systolic_and_diastolic_is_rejected(
        phone, push, vitals, rows, components):
    result = push(phone, vitals(phone, BP, unit="mm[Hg]", components=components))[0]
    assert result["status"] == "rejected"
    assert result["errors"] == {
        "data.components": ["A blood pressure needs systolic 8480-6 and diastolic 8462-4."]}
    assert rows(VitalSign) == []


def test_single_vital_sent_as_components_is_rejected_for_want_of_a_value(
        phone, push, vitals, rows):
    result = push(phone, vitals(phone, "8867-4", components=_bp(120, 80)))[0]
    assert result["status"] == "rejected"
    assert result["errors"] == {"data.value": ["This vital sign needs a value."]}
    assert rows(VitalSign) == []


@pytest.mark.parametrize(("score", "flags"), [(0, []), (3, []), (7, ["abnormal"]),
                                              (10, ["abnormal"])])
def test_pain_score_is_stored_and_above_three_flagged(phone, push, vitals, rows, score, flags):
    assert push(phone, vitals(phone, "72514-3", score, "{score}"))[0]["status"] == "applied"
    assert [(s.value, s.flags) for s in rows(VitalSign)] == [(Decimal(score), flags)]


def test_pain_score_above_ten_is_rejected(phone, push, vitals, rows):
    result = push(phone, vitals(phone, "72514-3", 11, "{score}"))[0]
    assert result["errors"] == {
        "data.value": ["Pain severity 11 {score} is physiologically impossible; check the entry."]}
    assert rows(VitalSign) == []


def test_vitals_keep_their_provenance(phone, push, vitals, rows, agency):
    mutation = vitals(phone)
    push(phone, mutation)
    (stored,) = rows(VitalSign)
    assert (stored.visit_id, stored.patient_id, stored.nurse_id, str(stored.device_id),
            str(stored.mutation_id), stored.seq) == (
        agency["visit_a"], agency["patient_a"], agency["nurse_a"], phone.device_id,
        mutation["id"], mutation["seq"])
    assert stored.taken_at_text == "2026-11-23T10:10:00-05:00"
    assert stored.occurred_at_text == "2026-11-23T09:05:00-05:00"


def test_same_entity_id_twice_is_rejected_and_the_first_kept(phone, push, vitals, rows):
    first = vitals(phone, value=72)
    second = {**vitals(phone, value=80), "entity_id": first["entity_id"]}
    results = push(phone, first, second)
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert results[1]["errors"] == {"entity_id": ["A record with this id is already stored."]}
    assert [s.value for s in rows(VitalSign)] == [Decimal("72")]
