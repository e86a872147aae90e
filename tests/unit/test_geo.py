"""EVV distances (server/reconcile/geo.py): what decides whether a check-in is at the home."""

from __future__ import annotations

import pytest

from server.reconcile.geo import distance_m

HOME = (39.78, -89.65)  # the test agency's patient home (Springfield, Illinois)
EVV_RADIUS_M = 150  # a service location's default radius


def test_a_check_in_at_the_door_is_inside_the_radius() -> None:
    # 0.0005° of latitude: about 56 m, the far end of a driveway.
    assert distance_m(*HOME, HOME[0] + 0.0005, HOME[1]) == pytest.approx(55.6, abs=0.1)
    assert distance_m(*HOME, *HOME) == 0


def test_a_check_in_a_kilometre_north_is_outside_the_radius() -> None:
    # the "far" location of the EVV tests: 0.01° north, about 1.1 km
    far = distance_m(*HOME, HOME[0] + 0.01, HOME[1])
    assert far == pytest.approx(1111.9, abs=0.5)
    assert far > EVV_RADIUS_M


def test_a_degree_of_longitude_shrinks_away_from_the_equator() -> None:
    at_equator = distance_m(0, 0, 0, 1)
    at_springfield = distance_m(HOME[0], 0, HOME[0], 1)
    assert at_equator == pytest.approx(111_195, rel=1e-4)
    assert at_springfield == pytest.approx(at_equator * 0.7688, rel=1e-3)  # cos 39.78°


def test_the_distance_is_the_same_both_ways_and_antipodes_do_not_fail() -> None:
    assert distance_m(*HOME, 40.0, -75.0) == distance_m(40.0, -75.0, *HOME)
    # rounding can push the haversine term just above 1; the guard keeps asin defined
    assert distance_m(0, 0, 0, 180) == pytest.approx(20_015_115, rel=1e-5)
