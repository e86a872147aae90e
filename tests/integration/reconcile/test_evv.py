"""EVV: a check-in or check-out where the patient is is verified; anywhere else is reviewed."""

import pytest

from server.models import ReviewItem, ServiceLocation, Severity, Visit, VisitEvent, VisitStatus

HOME = {"latitude": 39.78, "longitude": -89.65, "accuracy_m": 8}  # patient_a's home
METRES_PER_DEGREE_LAT = 111_195.08  # on the mean-radius sphere the distances are taken on
WORK = {"kind": "work", "address": "400 Plant Way", "latitude": 39.80, "longitude": -89.60}


def _north_of_home(metres):
    return {**HOME, "latitude": HOME["latitude"] + metres / METRES_PER_DEGREE_LAT}


@pytest.fixture
def work_location(client, as_user, agency, rows):
    """Add a work location to patient_a through the API; return its id."""
    response = client.patch(f"/api/v1/patients/{agency['patient_a']}",
                            headers=as_user("coordinator"), json={"locations": [WORK]})
    assert response.status_code == 200, response.get_json()
    (work,) = rows(ServiceLocation, ServiceLocation.patient_id == agency["patient_a"],
                   ServiceLocation.kind == "work")
    return work.id


def test_check_in_at_home_is_verified_with_no_review_item(phone, push, check, rows, row,
                                                          agency):
    mutation = check(phone)
    result = push(phone, mutation)[0]
    assert result["status"] == "applied"
    assert "review_item_id" not in result
    (event,) = rows(VisitEvent)
    assert (event.kind, event.evv_status, event.evv_location_id) == (
        "check_in", "verified", agency["location_a"])
    assert event.evv_distance_m == pytest.approx(0, abs=0.1)
    assert (event.latitude, event.longitude, event.accuracy_m) == (39.78, -89.65, 8)
    assert event.at_text == "2026-11-23T09:55:00-05:00"
    assert rows(ReviewItem) == []
    assert row(Visit, agency["visit_a"]).version == result["version"]


def test_check_in_just_inside_the_radius_is_verified(phone, push, check, rows):
    push(phone, check(phone, location=_north_of_home(145)))
    (event,) = rows(VisitEvent)
    assert event.evv_status == "verified"
    assert event.evv_distance_m == pytest.approx(145, abs=1)
    assert rows(ReviewItem) == []


def test_check_in_just_outside_the_radius_is_an_exception(phone, push, check, rows):
    result = push(phone, check(phone, location=_north_of_home(156)))[0]
    (event,) = rows(VisitEvent)
    assert event.evv_status == "exception"
    (item,) = rows(ReviewItem)
    assert result["review_item_id"] == str(item.id)
    assert item.details["distance_m"] == pytest.approx(156, abs=1)


def test_check_in_at_the_patients_work_location_is_verified_there(
        phone, push, check, rows, work_location):
    spot = {"latitude": 39.8003, "longitude": -89.60, "accuracy_m": 12}
    result = push(phone, check(phone, location=spot))[0]
    assert result["status"] == "applied"
    assert "review_item_id" not in result
    (event,) = rows(VisitEvent)
    assert (event.evv_status, event.evv_location_id) == ("verified", work_location)
    assert event.evv_distance_m == pytest.approx(33.4, abs=0.5)
    assert rows(ReviewItem) == []


def test_check_in_two_km_away_is_an_exception_with_the_distance(
        phone, push, check, rows, row, agency):
    mutation = check(phone, location=_north_of_home(2000))
    result = push(phone, mutation)[0]
    assert result["status"] == "applied"
    (event,) = rows(VisitEvent)
    assert event.evv_status == "exception"
    assert event.evv_distance_m == pytest.approx(2000, abs=1)
    assert event.evv_location_id == agency["location_a"]
    (item,) = rows(ReviewItem)
    assert result["review_item_id"] == str(item.id)
    assert (item.kind, item.severity, item.visit_id, item.patient_id) == (
        "evv_exception", Severity.WARNING, agency["visit_a"], agency["patient_a"])
    assert item.summary == ("EVV check-in could not be verified: 2000 m from the nearest "
                            "service location.")
    assert item.details["distance_m"] == pytest.approx(2000, abs=1)
    assert item.details["kind"] == "check_in"
    assert item.details["nearest_location_id"] == str(agency["location_a"])
    assert item.details["record_id"] == str(event.id)
    assert item.details["allowed_resolutions"] == ["accept", "entered_in_error"]
    # The check-in still counts: EVV doubts do not undo the visit.
    assert row(Visit, agency["visit_a"]).status is VisitStatus.IN_PROGRESS


def test_exception_names_the_nearest_of_several_locations(phone, push, check, rows,
                                                          work_location):
    near_work = {"latitude": 39.80 + 1000 / METRES_PER_DEGREE_LAT, "longitude": -89.60}
    push(phone, check(phone, location=near_work))
    (item,) = rows(ReviewItem)
    assert item.details["nearest_location_id"] == str(work_location)
    assert item.details["distance_m"] == pytest.approx(1000, abs=1)


def test_check_in_without_a_location_is_an_exception(phone, push, check, rows, agency):
    result = push(phone, check(phone, location=None))[0]
    assert result["status"] == "applied"
    (event,) = rows(VisitEvent)
    assert (event.evv_status, event.evv_distance_m, event.evv_location_id, event.latitude) == (
        "exception", None, None, None)
    (item,) = rows(ReviewItem)
    assert result["review_item_id"] == str(item.id)
    assert item.kind == "evv_exception"
    assert item.summary == "EVV check-in could not be verified: no location was recorded."
    assert (item.details["distance_m"], item.details["nearest_location_id"]) == (None, None)


def test_check_out_away_from_the_patient_is_an_exception_too(phone, push, check, rows):
    results = push(phone, check(phone), check(phone, "check_out",
                                              at="2026-11-23T11:10:00-05:00",
                                              location=_north_of_home(2000)))
    assert "review_item_id" not in results[0]
    (item,) = rows(ReviewItem)
    assert results[1]["review_item_id"] == str(item.id)
    assert item.details["kind"] == "check_out"
    assert item.summary.startswith("EVV check-out could not be verified: 2000 m")
    assert sorted((e.kind, e.evv_status) for e in rows(VisitEvent)) == [
        ("check_in", "verified"), ("check_out", "exception")]
