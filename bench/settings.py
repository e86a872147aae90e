"""How big each benchmark is: the full run and the quick one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    """Sizes of one run of every benchmark."""

    name: str
    devices: int  # device processes pushing at once, each its own nurse
    batches: int  # timed batches per device (after one untimed warm-up batch)
    workers: int  # gunicorn workers of the server under test
    visits_small: int  # visits in the agency for the small pull case
    visits_large: int  # ... and for the large one
    delta_pulls: int  # timed delta pulls per size
    snapshots: int  # timed initial snapshots per size
    store_records: int  # records sealed into the device store
    batch_size: int = 200  # mutations per pushed batch
    caseload: int = 40  # patients of the measured nurse
    changes: int = 20  # changes made for the measured nurse's delta pull
    page_size: int = 200  # pull page size (the reference client's default)
    review_items: int = 200_000  # review items in the metrics scrape's database (2% open)
    job_runs: int = 1_000_000  # job runs in it: about a year of the scheduler's table
    rush_devices: tuple[int, ...] = (100, 300, 1000)  # the morning rush's sizes (bench/rush.py)
    rush_workers: int = 4  # gunicorn workers serving the rush
    console_visits: int = 1_000_000  # visits behind the console's board (bench/console.py)
    console_review_items: int = 100_000  # review items behind its review queue
    console_requests: int = 50  # timed requests per page, after a warm-up
    console_sqlite: bool = True  # also on SQLite (the load there takes longer)


QUICK = Sizes("quick", devices=2, batches=2, workers=2, visits_small=10_000,
              visits_large=100_000, delta_pulls=12, snapshots=6, store_records=5_000,
              review_items=20_000, job_runs=100_000, rush_devices=(5,),
              console_visits=20_000, console_review_items=2_000, console_requests=20,
              console_sqlite=False)
FULL = Sizes("full", devices=3, batches=10, workers=2, visits_small=10_000,
             visits_large=1_000_000, delta_pulls=60, snapshots=25, store_records=20_000)
