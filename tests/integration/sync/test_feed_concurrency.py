"""Concurrent writers commit while readers pull: every committed change is seen exactly once.

Writers hold their transaction open for a random while after taking a feed position, and
some roll back; readers poll all the time. A reader that ever saw position N+2 before N+1,
or saw a position twice, or missed one, would fail here.
"""

import random
import threading
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from server.database import configure_engine
from sync import feed

NURSE = uuid.uuid4()
WRITERS, WRITES_EACH, READERS = 4, 25, 3


def _writer(engine: sa.Engine, seed: int, committed: list[uuid.UUID], lock: threading.Lock):
    rng = random.Random(seed)
    for _ in range(WRITES_EACH):
        entity = uuid.uuid4()
        connection = engine.connect()
        transaction = connection.begin()
        feed.append(connection, [(NURSE, "visit", entity)], datetime.now(UTC))
        time.sleep(rng.uniform(0, 0.01))
        if rng.random() < 0.2:
            transaction.rollback()
        else:
            transaction.commit()
            with lock:
                committed.append(entity)
        connection.close()


def _reader(engine: sa.Engine, stop: threading.Event, seen: list[tuple[int, uuid.UUID]],
            errors: list[str]):
    position = 0
    while True:
        finished = stop.is_set()
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(feed.FeedEntry.position, feed.FeedEntry.entity_id)
                .where(feed.FeedEntry.nurse_id == NURSE, feed.FeedEntry.position > position)
                .order_by(feed.FeedEntry.position).limit(7)).all()
        for row_position, entity in rows:
            if row_position != position + 1:
                errors.append(f"reader jumped from {position} to {row_position}")
            position = row_position
            seen.append((row_position, entity))
        if finished and not rows:
            return


def test_every_committed_change_is_seen_exactly_once(database_url):
    engine = sa.create_engine(database_url, pool_size=10)
    configure_engine(engine, busy_timeout_ms=30000)
    committed: list[uuid.UUID] = []
    lock, stop = threading.Lock(), threading.Event()
    seen: list[list[tuple[int, uuid.UUID]]] = [[] for _ in range(READERS)]
    errors: list[str] = []
    readers = [threading.Thread(target=_reader, args=(engine, stop, seen[i], errors))
               for i in range(READERS)]
    writers = [threading.Thread(target=_writer, args=(engine, i, committed, lock))
               for i in range(WRITERS)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    engine.dispose()
    assert errors == []
    assert len(committed) > WRITERS * WRITES_EACH // 2
    for reader_seen in seen:
        positions = [position for position, _ in reader_seen]
        assert positions == list(range(1, len(committed) + 1))
        assert sorted(map(str, (e for _, e in reader_seen))) == sorted(map(str, committed))
