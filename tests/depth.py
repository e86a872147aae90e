"""How many examples the suite's Hypothesis tests draw: a share in every run, all of them
in ``make test-deep``.

Each property test names two budgets. The every-run one keeps ``make test`` within its time
budget; the deep one is the count the test was written with, which ``make test-deep``
(``INFUSYNC_TEST_DEPTH=deep``) runs. Neither weakens what a test asserts about one example:
the deep run draws more examples of the same assertions. A failure either run finds is
saved in Hypothesis' example database (``.hypothesis``) and replayed first next time.
"""

from __future__ import annotations

import os

DEEP = os.environ.get("INFUSYNC_TEST_DEPTH", "").lower() == "deep"


def examples(every_run: int, deep: int) -> int:
    """The number of examples for this run: ``deep`` under ``make test-deep``."""
    return deep if DEEP else every_run
