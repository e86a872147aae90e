"""NEWS2, the National Early Warning Score: the points of one set of vital signs.

The chart is the Royal College of Physicians' "National Early Warning Score (NEWS) 2:
Standardising the assessment of acute-illness severity in the NHS" (London: RCP, 2017),
Chart 1 "The NEWS scoring system":

    parameter            3        2         1          0          1          2         3
    respiration /min     <=8                9-11       12-20                 21-24     >=25
    SpO2 scale 1 %       <=91     92-93     94-95      >=96
    air or oxygen?                oxygen               air
    systolic BP mmHg     <=90     91-100    101-110    111-219                         >=220
    pulse /min           <=40               41-50      51-90      91-110     111-130   >=131
    consciousness                                      alert                           CVPU
    temperature Cel      <=35.0             35.1-36.0  36.1-38.0  38.1-39.0  >=39.1

SpO2 scale 2 (a target range of 88-92 % prescribed for hypercapnic respiratory failure) is
not scored here: the scale must be chosen by a clinician per patient, and no order carries
it yet. A value between two printed bands (a temperature of 36.05) falls in the upper one:
each band is "above the previous upper limit, up to and including its own".

Pure functions, no database: the thresholds that turn a score into a review item are the
agency's configuration (``Thresholds``), handed in by the push.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

# The parameters in chart order, by the name the stored parts and "missing" use.
PARAMETERS = ("respiration_rate", "spo2", "supplemental_oxygen", "systolic_bp", "pulse",
              "consciousness", "temperature")
ALERT = "alert"
# ACVPU levels (alert, new confusion, voice, pain, unresponsive) are the wire's:
# schemas.mutations.CONSCIOUSNESS_LEVELS.

Band = tuple[Decimal | None, int]  # (upper limit, inclusive; None: no limit), points


def _bands(*pairs: tuple[str | None, int]) -> tuple[Band, ...]:
    return tuple((None if upper is None else Decimal(upper), points) for upper, points in pairs)


NUMERIC_BANDS: dict[str, tuple[Band, ...]] = {
    "respiration_rate": _bands(("8", 3), ("11", 1), ("20", 0), ("24", 2), (None, 3)),
    "spo2": _bands(("91", 3), ("93", 2), ("95", 1), (None, 0)),
    "systolic_bp": _bands(("90", 3), ("100", 2), ("110", 1), ("219", 0), (None, 3)),
    "pulse": _bands(("40", 3), ("50", 1), ("90", 0), ("110", 1), ("130", 2), (None, 3)),
    "temperature": _bands(("35.0", 3), ("36.0", 1), ("38.0", 0), ("39.0", 1), (None, 2)),
}
OXYGEN_POINTS = 2  # any supplemental oxygen; air scores 0
CONSCIOUSNESS_POINTS = 3  # anything but alert


@dataclass(frozen=True)
class Thresholds:
    """When a score needs a person: the agency's configuration (RCP defaults 5 and 7)."""

    warning_score: int = 5
    critical_score: int = 7
    # RCP: a 3 in any one parameter is a "low-medium" score that calls for an urgent review.
    single_parameter_warning: bool = True


@dataclass(frozen=True)
class Score:
    """The score of one set: its total, the points of each parameter given, and the
    parameters the set lacks (scored as nothing, so a partial total is a lower bound)."""

    total: int
    points: dict[str, int]
    missing: tuple[str, ...]

    @property
    def red_parameter(self) -> bool:
        """A single parameter scored 3 (RCP's "red score")."""
        return 3 in self.points.values()


def numeric_points(parameter: str, value: Decimal) -> int:
    """The points of a measured value of ``parameter`` (Chart 1)."""
    for upper, points in NUMERIC_BANDS[parameter]:
        if upper is None or value <= upper:
            return points
    raise AssertionError("the last band has no upper limit")


def points_of(parameter: str, value: Decimal | bool | str) -> int:
    """The points of one parameter's value: a number, oxygen given (bool), or an ACVPU
    level."""
    if parameter == "supplemental_oxygen":
        return OXYGEN_POINTS if value else 0
    if parameter == "consciousness":
        return 0 if value == ALERT else CONSCIOUSNESS_POINTS
    assert isinstance(value, Decimal)
    return numeric_points(parameter, value)


def score(values: Mapping[str, Decimal | bool | str]) -> Score:
    """Score the parameters present in ``values`` (keys from ``PARAMETERS``)."""
    return from_points({name: points_of(name, values[name])
                        for name in PARAMETERS if name in values})


def from_points(points: Mapping[str, int]) -> Score:
    """The score of a set whose parameters scored ``points``."""
    given = {name: points[name] for name in PARAMETERS if name in points}
    missing = tuple(name for name in PARAMETERS if name not in points)
    return Score(sum(given.values()), given, missing)


def level(result: Score, thresholds: Thresholds) -> str | None:
    """``critical``, ``warning`` or None: which review item the score opens, if any."""
    if result.total >= thresholds.critical_score:
        return "critical"
    if result.total >= thresholds.warning_score or (
            thresholds.single_parameter_warning and result.red_parameter):
        return "warning"
    return None
