"""Visits from orders: each frequency kind, the horizon, idempotency, stopping, changes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import (
    FrequencyKind,
    LocationKind,
    OrderStatus,
    Role,
    ServiceLocation,
    TherapyOrder,
    Visit,
    VisitStatus,
)
from server.services.visit_generation import extend_horizon
from tests.assertions import count_rows
from tests.factories import make_order, make_patient, make_user
from tests.integration.scheduling.helpers import NEW_YORK, generate, local_starts

MONDAY = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 08:00 in New York


def _order(app: Flask, **fields: Any) -> uuid.UUID:
    with app.app_context():
        physician = make_user(Role.PHYSICIAN, f"dr{uuid.uuid4().hex[:6]}@agency.test")
        db.session.flush()
        patient = make_patient(f"MRN-{uuid.uuid4().hex[:6]}", physician)
        db.session.flush()
        order = make_order(patient, physician, **fields)
        db.session.commit()
        return order.id


def test_daily_from_now_through_the_horizon_at_the_window_start(app: Flask) -> None:
    order_id = _order(app, start_date=date(2026, 11, 20), window_start=time(9, 30),
                      window_minutes=90)
    counts = generate(app, MONDAY, horizon=3)
    assert counts["created"] == 4
    assert local_starts(app, order_id) == [
        "2026-11-23 09:30", "2026-11-24 09:30", "2026-11-25 09:30", "2026-11-26 09:30"]
    with app.app_context():
        visit = db.session.scalars(select(Visit).where(Visit.order_id == order_id)).first()
        assert visit is not None
        assert visit.scheduled_end - visit.scheduled_start == timedelta(minutes=90)
        assert visit.nurse_id is None and visit.occurrence_at == visit.scheduled_start


def test_no_occurrence_in_the_past(app: Flask) -> None:
    order_id = _order(app, start_date=date(2026, 11, 20), window_start=time(7, 0))
    generate(app, MONDAY, horizon=1)
    assert local_starts(app, order_id) == ["2026-11-24 07:00"]


def test_every_n_days_counts_from_the_start_date(app: Flask) -> None:
    order_id = _order(app, frequency_kind=FrequencyKind.EVERY_N_DAYS, frequency_interval=3,
                      start_date=date(2026, 11, 21), window_start=time(10, 0))
    generate(app, MONDAY, horizon=7)
    assert local_starts(app, order_id) == [
        "2026-11-24 10:00", "2026-11-27 10:00", "2026-11-30 10:00"]


def test_weekly_on_weekdays_every_other_week(app: Flask) -> None:
    # Start on Wednesday 18 Nov: its week (16-22 Nov) is week 0, so 23-29 Nov is skipped.
    order_id = _order(app, frequency_kind=FrequencyKind.WEEKLY, frequency_interval=2,
                      weekdays=[1, 5], start_date=date(2026, 11, 18), window_start=time(8, 0))
    generate(app, MONDAY, horizon=14)
    assert local_starts(app, order_id) == ["2026-11-30 08:00", "2026-12-04 08:00"]


def test_weekly_without_weekdays_uses_the_start_dates_weekday(app: Flask) -> None:
    order_id = _order(app, frequency_kind=FrequencyKind.WEEKLY, weekdays=[],
                      start_date=date(2026, 11, 19), window_start=time(12, 0))
    generate(app, MONDAY, horizon=14)
    assert local_starts(app, order_id) == ["2026-11-26 12:00", "2026-12-03 12:00"]


def test_every_n_hours_from_the_start(app: Flask) -> None:
    order_id = _order(app, frequency_kind=FrequencyKind.EVERY_N_HOURS, frequency_interval=8,
                      start_date=date(2026, 11, 23), window_start=time(6, 0),
                      window_minutes=60)
    generate(app, MONDAY, horizon=1)
    assert local_starts(app, order_id) == [
        "2026-11-23 14:00", "2026-11-23 22:00", "2026-11-24 06:00", "2026-11-24 14:00",
        "2026-11-24 22:00"]


def test_daily_keeps_local_time_across_the_spring_dst_change(app: Flask) -> None:
    order_id = _order(app, start_date=date(2027, 3, 12), window_start=time(9, 0))
    generate(app, datetime(2027, 3, 12, 12, 0, tzinfo=UTC), horizon=3)
    assert local_starts(app, order_id) == [
        "2027-03-12 09:00", "2027-03-13 09:00", "2027-03-14 09:00", "2027-03-15 09:00"]
    with app.app_context():
        utc_hours = [v.scheduled_start.hour for v in db.session.scalars(
            select(Visit).where(Visit.order_id == order_id).order_by(Visit.scheduled_start))]
    assert utc_hours == [14, 14, 13, 13]


def test_every_n_hours_keeps_elapsed_spacing_across_the_dst_change(app: Flask) -> None:
    order_id = _order(app, frequency_kind=FrequencyKind.EVERY_N_HOURS, frequency_interval=8,
                      start_date=date(2027, 3, 13), window_start=time(6, 0))
    generate(app, datetime(2027, 3, 13, 5, 0, tzinfo=UTC), horizon=1)
    assert local_starts(app, order_id) == [
        "2027-03-13 06:00", "2027-03-13 14:00", "2027-03-13 22:00",
        "2027-03-14 07:00", "2027-03-14 15:00", "2027-03-14 23:00"]


def test_start_and_end_dates_are_respected(app: Flask) -> None:
    order_id = _order(app, start_date=date(2026, 11, 25), end_date=date(2026, 11, 27))
    generate(app, MONDAY, horizon=14)
    assert local_starts(app, order_id) == [
        "2026-11-25 09:00", "2026-11-26 09:00", "2026-11-27 09:00"]


def test_regeneration_is_idempotent(app: Flask) -> None:
    order_id = _order(app)
    first = generate(app, MONDAY)
    second = generate(app, MONDAY + timedelta(hours=1))
    assert first["created"] == 15 and second == {
        "created": 0, "cancelled": 0, "updated": 0, "reinstated": 0, "kept": 0}
    assert count_rows(app, Visit, Visit.order_id == order_id) == 15


def test_the_next_day_adds_one_more_day(app: Flask) -> None:
    order_id = _order(app)
    generate(app, MONDAY)
    counts = generate(app, MONDAY + timedelta(days=1))
    assert counts["created"] == 1
    assert count_rows(app, Visit, Visit.order_id == order_id) == 16


def test_a_concurrent_generator_storing_first_is_harmless(app: Flask) -> None:
    order_id = _order(app, end_date=date(2026, 11, 24))
    with app.app_context():
        order = db.session.get(TherapyOrder, order_id)
        assert order is not None
        # Another process stored the 24 Nov occurrence after this one looked.
        from server.services import visit_generation as gen

        other = Visit(patient_id=order.patient_id, order_id=order.id,
                      occurrence_at=datetime(2026, 11, 24, 14, 0, tzinfo=UTC),
                      service_location_id=order.patient.locations[0].id,
                      scheduled_start=datetime(2026, 11, 24, 14, 0, tzinfo=UTC),
                      scheduled_end=datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
        mine = [Visit(**{c: getattr(other, c) for c in (
            "patient_id", "order_id", "occurrence_at", "service_location_id",
            "scheduled_start", "scheduled_end")}),
            Visit(patient_id=order.patient_id, order_id=order.id,
                  occurrence_at=datetime(2026, 11, 23, 14, 0, tzinfo=UTC),
                  service_location_id=order.patient.locations[0].id,
                  scheduled_start=datetime(2026, 11, 23, 14, 0, tzinfo=UTC),
                  scheduled_end=datetime(2026, 11, 23, 16, 0, tzinfo=UTC))]
        db.session.add(other)
        db.session.flush()
        assert gen._insert(db.session, mine) == 1
        db.session.commit()
    assert local_starts(app, order_id) == ["2026-11-23 09:00", "2026-11-24 09:00"]


def test_only_active_orders_of_active_patients_produce_visits(app: Flask) -> None:
    held = _order(app, status=OrderStatus.ON_HOLD)
    generate(app, MONDAY)
    assert count_rows(app, Visit, Visit.order_id == held) == 0


def _document(app: Flask, order_id: uuid.UUID, local_day: str) -> uuid.UUID:
    """Check a nurse in on the order's visit of that local day."""
    with app.app_context():
        visits = db.session.scalars(select(Visit).where(Visit.order_id == order_id)).all()
        from tests.integration.scheduling.helpers import NEW_YORK

        visit = next(v for v in visits
                     if v.scheduled_start.astimezone(NEW_YORK).date().isoformat() == local_day)
        visit.status = VisitStatus.IN_PROGRESS
        visit.checked_in_at = visit.scheduled_start
        db.session.commit()
        return visit.id


def _edit_order(app: Flask, order_id: uuid.UUID, **values: Any) -> None:
    """Set ``values`` on the stored order and commit (as an edit made elsewhere)."""
    with app.app_context():
        order = db.session.get(TherapyOrder, order_id)
        assert order is not None
        for name, value in values.items():
            setattr(order, name, value)
        db.session.commit()


def test_discontinued_cancels_future_untouched_and_keeps_documented(app: Flask) -> None:
    order_id = _order(app, end_date=date(2026, 11, 27))
    generate(app, MONDAY)
    documented = _document(app, order_id, "2026-11-25")
    _edit_order(app, order_id, status=OrderStatus.DISCONTINUED)
    counts = generate(app, MONDAY, [order_id])
    assert counts["cancelled"] == 4
    assert local_starts(app, order_id) == []
    assert local_starts(app, order_id, [VisitStatus.IN_PROGRESS]) == ["2026-11-25 09:00"]
    with app.app_context():
        cancelled = db.session.scalars(select(Visit).where(
            Visit.order_id == order_id, Visit.status == VisitStatus.CANCELLED)).all()
        assert {v.cancel_reason for v in cancelled} == {
            "Order is discontinued; visits generated from it were cancelled."}
        assert db.session.get(Visit, documented).status is VisitStatus.IN_PROGRESS


def test_nightly_run_also_stops_orders_no_longer_active(app: Flask) -> None:
    order_id = _order(app, end_date=date(2026, 11, 25))
    generate(app, MONDAY)
    _edit_order(app, order_id, status=OrderStatus.COMPLETED)
    assert generate(app, MONDAY)["cancelled"] == 3


def test_discharge_cancels_future_visits(app: Flask) -> None:
    from server.models import PatientStatus

    order_id = _order(app, end_date=date(2026, 11, 26))
    generate(app, MONDAY)
    documented = _document(app, order_id, "2026-11-23")
    with app.app_context():
        order = db.session.get(TherapyOrder, order_id)
        assert order is not None
        order.patient.status = PatientStatus.DISCHARGED
        db.session.commit()
    generate(app, MONDAY)
    assert local_starts(app, order_id) == []
    with app.app_context():
        assert db.session.get(Visit, documented).status is VisitStatus.IN_PROGRESS
        reasons = set(db.session.scalars(select(Visit.cancel_reason).where(
            Visit.order_id == order_id, Visit.status == VisitStatus.CANCELLED)))
    assert reasons == {"Patient discharged; future visits were cancelled."}


def test_schedule_change_replaces_untouched_occurrences(app: Flask) -> None:
    order_id = _order(app, end_date=date(2026, 11, 26))
    generate(app, MONDAY)
    _document(app, order_id, "2026-11-23")
    _edit_order(app, order_id, window_start=time(14, 0))
    counts = generate(app, MONDAY, [order_id])
    # The started visit (today 09:00, still ahead) is kept, for a review item.
    assert counts == {"created": 3, "cancelled": 3, "updated": 0, "reinstated": 0, "kept": 1}
    assert local_starts(app, order_id) == [
        "2026-11-24 14:00", "2026-11-25 14:00", "2026-11-26 14:00"]
    assert local_starts(app, order_id, [VisitStatus.IN_PROGRESS]) == ["2026-11-23 09:00"]


def test_window_length_and_location_change_reshape_visits_in_place(app: Flask) -> None:
    order_id = _order(app, end_date=date(2026, 11, 24))
    generate(app, MONDAY)
    with app.app_context():
        order = db.session.get(TherapyOrder, order_id)
        assert order is not None
        work = ServiceLocation(patient_id=order.patient_id, kind=LocationKind.WORK,
                               address="9 Mill Rd", latitude=39.8, longitude=-89.6)
        db.session.add(work)
        db.session.flush()
        order.service_location_id, order.window_minutes = work.id, 45
        db.session.commit()
        work_id = work.id
    assert generate(app, MONDAY, [order_id])["updated"] == 0  # nightly leaves them be
    with app.app_context():
        counts = extend_horizon(db.session, MONDAY, 14, NEW_YORK, [order_id], reshape=True)
        db.session.commit()
    assert counts["updated"] == 2
    with app.app_context():
        visits = db.session.scalars(select(Visit).where(Visit.order_id == order_id)).all()
        assert {v.service_location_id for v in visits} == {work_id}
        assert {v.scheduled_end - v.scheduled_start for v in visits} == {timedelta(minutes=45)}


def test_hold_then_resume_brings_the_visits_back(app: Flask) -> None:
    order_id = _order(app, end_date=date(2026, 11, 25))
    generate(app, MONDAY)
    for status in (OrderStatus.ON_HOLD, OrderStatus.ACTIVE):
        _edit_order(app, order_id, status=status)
        generate(app, MONDAY, [order_id])
    assert local_starts(app, order_id) == [
        "2026-11-23 09:00", "2026-11-24 09:00", "2026-11-25 09:00"]
    assert count_rows(app, Visit, Visit.order_id == order_id) == 3


def test_a_coordinators_cancellation_is_not_undone(app: Flask) -> None:
    order_id = _order(app, end_date=date(2026, 11, 24))
    generate(app, MONDAY)
    with app.app_context():
        visit = db.session.scalars(select(Visit).where(Visit.order_id == order_id)
                                   .order_by(Visit.scheduled_start)).first()
        assert visit is not None
        visit.status, visit.cancel_reason = VisitStatus.CANCELLED, "Patient away"
        db.session.commit()
    generate(app, MONDAY)
    assert local_starts(app, order_id) == ["2026-11-24 09:00"]


def test_a_visit_a_person_moved_keeps_its_time(app: Flask) -> None:
    order_id = _order(app, end_date=date(2026, 11, 24))
    generate(app, MONDAY)
    with app.app_context():
        visit = db.session.scalars(select(Visit).where(Visit.order_id == order_id)
                                   .order_by(Visit.scheduled_start)).first()
        assert visit is not None
        visit.scheduled_start += timedelta(hours=3)
        visit.scheduled_end += timedelta(hours=3)
        db.session.commit()
    with app.app_context():
        extend_horizon(db.session, MONDAY, 14, NEW_YORK, [order_id], reshape=True)
        db.session.commit()
    generate(app, MONDAY)
    assert local_starts(app, order_id) == ["2026-11-23 12:00", "2026-11-24 09:00"]
