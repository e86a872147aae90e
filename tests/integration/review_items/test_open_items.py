"""One item per fact, decided by the unique ``dedupe_key``, even when two writers race."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import review_items
from server.models import ReviewItem, ReviewStatus
from server.scheduler.alerts import open_alert

NOW = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine of its own on the test's empty database (no app needed: models only)."""
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


def _stored(engine: sa.Engine) -> list[ReviewItem]:
    with Session(engine) as session:
        return list(session.scalars(sa.select(ReviewItem).order_by(ReviewItem.created_at)))


def _missed(session: Session, visit_id: uuid.UUID) -> review_items.Opened:
    return review_items.open_item(
        session, "visit_missed", "No documentation arrived.", now=NOW, visit_id=visit_id,
        dedupe_key=review_items.fact_key("visit_missed", visit_id))


def test_the_same_fact_twice_is_one_item_and_the_second_call_gets_it(engine):
    visit_id = uuid.uuid4()
    with Session(engine) as session:
        first = _missed(session, visit_id)
        session.commit()
        first_id = first.item.id
    with Session(engine) as session:
        again = _missed(session, visit_id)
        assert again.item in session  # an ORM object the caller can change and flush
        assert (again.new, again.item.id) == (False, first_id)
        session.commit()
    [item] = _stored(engine)
    assert (item.id, item.dedupe_key) == (first_id, f"visit_missed:{visit_id}")
    assert item.details["allowed_resolutions"] == ["accept"]


def test_a_resolved_item_is_not_reopened_by_the_same_fact(engine):
    visit_id = uuid.uuid4()
    with Session(engine) as session:
        _missed(session, visit_id)
        closed = review_items.close_items(session, visit_id, ("visit_missed",), "done", NOW)
        assert closed == 1
        assert _missed(session, visit_id).new is False
        session.commit()
    [item] = _stored(engine)
    assert (item.status, item.resolution) == (ReviewStatus.RESOLVED, "done")


def test_items_without_a_key_are_never_deduplicated(engine):
    device_id = uuid.uuid4()
    with Session(engine) as session:
        for _ in range(2):
            opened = review_items.open_item(session, "seq_gap", "2 mutations missing.",
                                            dedupe_key=None, now=NOW, device_id=device_id)
            assert opened.new and opened.item.visit_id is None
        session.commit()
    assert [(i.kind, i.device_id) for i in _stored(engine)] == [("seq_gap", device_id)] * 2


def test_a_key_too_long_to_store_is_refused_rather_than_cut_into_another_fact():
    with pytest.raises(ValueError, match="longer than 200"):
        review_items.fact_key("silent_device", "x" * 200)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_connections_opening_the_same_alert_at_once_store_one_item(database_url):
    """Both transactions look first and see nothing (what the old check-then-insert
    relied on), then insert at a barrier: the second waits on the first's key, stores
    nothing, and answers "already there" — no error, one item."""
    visit_id = uuid.uuid4()
    key = review_items.fact_key("visit_missed", visit_id)
    engines = [sa.create_engine(database_url) for _ in range(2)]
    barrier = threading.Barrier(2, timeout=20)
    answers: list[object] = [None, None]

    def open_at_the_barrier(i: int) -> None:
        try:
            with Session(engines[i]) as session:
                seen = session.scalar(sa.select(sa.func.count()).select_from(ReviewItem))
                barrier.wait()
                item = open_alert(session, "visit_missed", "No documentation arrived.",
                                  dedupe_key=key, now=NOW, visit_id=visit_id)
                session.commit()
                answers[i] = (seen, item is not None)
        except Exception as error:  # reported by the assertion below, with its type
            answers[i] = error

    threads = [threading.Thread(target=open_at_the_barrier, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    assert [a for a in answers if not isinstance(a, tuple)] == []  # neither call failed
    assert sorted(answers) == [(0, False), (0, True)]  # type: ignore[type-var]
    check = sa.create_engine(database_url)
    [item] = _stored(check)
    check.dispose()
    assert (item.dedupe_key, item.visit_id, item.details["dedupe_key"]) == (key, visit_id, key)
