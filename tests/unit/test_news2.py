"""NEWS2 (RCP 2017, Chart 1): every band boundary of every parameter, totals and levels."""

from decimal import Decimal

import pytest

from server.reconcile import news2
from server.reconcile.news2 import Thresholds


def _d(value: str) -> Decimal:
    return Decimal(value)


# (parameter, value, points) on both sides of each boundary of Chart 1.
BOUNDARIES = [
    ("respiration_rate", "1", 3), ("respiration_rate", "8", 3), ("respiration_rate", "9", 1),
    ("respiration_rate", "11", 1), ("respiration_rate", "12", 0),
    ("respiration_rate", "20", 0), ("respiration_rate", "21", 2),
    ("respiration_rate", "24", 2), ("respiration_rate", "25", 3),
    ("respiration_rate", "60", 3),
    ("spo2", "80", 3), ("spo2", "91", 3), ("spo2", "92", 2), ("spo2", "93", 2),
    ("spo2", "94", 1), ("spo2", "95", 1), ("spo2", "96", 0), ("spo2", "100", 0),
    ("systolic_bp", "60", 3), ("systolic_bp", "90", 3), ("systolic_bp", "91", 2),
    ("systolic_bp", "100", 2), ("systolic_bp", "101", 1), ("systolic_bp", "110", 1),
    ("systolic_bp", "111", 0), ("systolic_bp", "219", 0), ("systolic_bp", "220", 3),
    ("pulse", "30", 3), ("pulse", "40", 3), ("pulse", "41", 1), ("pulse", "50", 1),
    ("pulse", "51", 0), ("pulse", "90", 0), ("pulse", "91", 1), ("pulse", "110", 1),
    ("pulse", "111", 2), ("pulse", "130", 2), ("pulse", "131", 3), ("pulse", "200", 3),
    ("temperature", "34.0", 3), ("temperature", "35.0", 3), ("temperature", "35.1", 1),
    ("temperature", "36.0", 1), ("temperature", "36.1", 0), ("temperature", "38.0", 0),
    ("temperature", "38.1", 1), ("temperature", "39.0", 1), ("temperature", "39.1", 2),
    ("temperature", "41.0", 2),
]


@pytest.mark.parametrize(("parameter", "value", "points"), BOUNDARIES)
def test_each_boundary_of_chart_1_scores_as_printed(parameter, value, points):
    assert news2.numeric_points(parameter, _d(value)) == points


@pytest.mark.parametrize(("value", "points"), [("35.05", 1), ("36.05", 0), ("38.05", 1),
                                               ("39.05", 2), ("8.5", 1), ("20.5", 2)])
def test_a_value_between_two_printed_bands_falls_in_the_upper_one(value, points):
    parameter = "respiration_rate" if value in ("8.5", "20.5") else "temperature"
    assert news2.numeric_points(parameter, _d(value)) == points


@pytest.mark.parametrize(("oxygen", "points"), [(True, 2), (False, 0)])
def test_supplemental_oxygen_scores_two_and_air_none(oxygen, points):
    assert news2.points_of("supplemental_oxygen", oxygen) == points


@pytest.mark.parametrize(("level", "points"), [("alert", 0), ("confusion", 3), ("voice", 3),
                                               ("pain", 3), ("unresponsive", 3)])
def test_consciousness_alert_scores_none_and_any_cvpu_three(level, points):
    assert news2.points_of("consciousness", level) == points


def test_a_full_set_sums_its_parts_and_misses_nothing():
    result = news2.score({"respiration_rate": _d("24"), "spo2": _d("91"),
                          "supplemental_oxygen": True, "systolic_bp": _d("100"),
                          "pulse": _d("130"), "consciousness": "voice",
                          "temperature": _d("39.1")})
    assert result.points == {"respiration_rate": 2, "spo2": 3, "supplemental_oxygen": 2,
                             "systolic_bp": 2, "pulse": 2, "consciousness": 3,
                             "temperature": 2}
    assert (result.total, result.missing) == (16, ())


def test_the_issue_set_hr_130_spo2_91_rr_24_scores_seven_with_what_it_lacks():
    # Chart 1: pulse 111-130 scores 2 (not 3), SpO2 <=91 scores 3, respiration 21-24 scores 2.
    result = news2.score({"pulse": _d("130"), "spo2": _d("91"), "respiration_rate": _d("24")})
    assert result.points == {"respiration_rate": 2, "spo2": 3, "pulse": 2}
    assert result.total == 7
    assert result.missing == ("supplemental_oxygen", "systolic_bp", "consciousness",
                              "temperature")
    assert news2.level(result, Thresholds()) == "critical"


def test_a_normal_set_scores_zero_and_calls_for_nothing():
    result = news2.score({"respiration_rate": _d("16"), "spo2": _d("98"),
                          "supplemental_oxygen": False, "systolic_bp": _d("122"),
                          "pulse": _d("72"), "consciousness": "alert",
                          "temperature": _d("36.8")})
    assert result.total == 0 and news2.level(result, Thresholds()) is None


def test_an_empty_set_misses_every_parameter():
    result = news2.score({})
    assert (result.total, result.missing) == (0, news2.PARAMETERS)


@pytest.mark.parametrize(("points", "level"), [
    ({"pulse": 1, "temperature": 1, "spo2": 2}, None),  # 4, no single 3
    ({"pulse": 2, "temperature": 1, "spo2": 2}, "warning"),  # 5
    ({"pulse": 2, "temperature": 2, "spo2": 2}, "warning"),  # 6
    ({"pulse": 2, "temperature": 2, "spo2": 3}, "critical"),  # 7
    ({"spo2": 3}, "warning"),  # a single parameter scoring 3
])
def test_rcp_thresholds_warning_at_five_or_a_single_three_critical_at_seven(points, level):
    assert news2.level(news2.from_points(points), Thresholds()) == level


def test_thresholds_are_the_agencys_to_set():
    stricter = Thresholds(warning_score=3, critical_score=5, single_parameter_warning=False)
    assert news2.level(news2.from_points({"spo2": 3}), stricter) == "warning"
    assert news2.level(news2.from_points({"spo2": 2}), stricter) is None
    assert news2.level(news2.from_points({"spo2": 3, "pulse": 2}), stricter) == "critical"
    no_single = Thresholds(single_parameter_warning=False)
    assert news2.level(news2.from_points({"consciousness": 3}), no_single) is None


def test_the_thresholds_are_read_from_the_environment():
    from server.config import ConfigError, from_environment

    assert [from_environment({})[key] for key in (
        "NEWS2_WARNING_SCORE", "NEWS2_CRITICAL_SCORE", "NEWS2_SINGLE_PARAMETER_WARNING")] == [
        5, 7, True]
    config = from_environment({"INFUSYNC_NEWS2_WARNING_SCORE": "4",
                               "INFUSYNC_NEWS2_CRITICAL_SCORE": "6",
                               "INFUSYNC_NEWS2_SINGLE_PARAMETER_WARNING": "false"})
    assert (config["NEWS2_WARNING_SCORE"], config["NEWS2_CRITICAL_SCORE"],
            config["NEWS2_SINGLE_PARAMETER_WARNING"]) == (4, 6, False)
    with pytest.raises(ConfigError, match="INFUSYNC_NEWS2_CRITICAL_SCORE"):
        from_environment({"INFUSYNC_NEWS2_CRITICAL_SCORE": "0"})
