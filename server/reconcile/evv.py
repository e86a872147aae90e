"""``visit.check_in`` / ``visit.check_out``: EVV events, verified against where the patient is.

A location within the EVV radius of the visit's service location, or of another of the
patient's locations (home or work), is ``verified``; anything else, or no location at all,
is an EVV exception for review, with the distance.
"""

from __future__ import annotations

from typing import Any

from server.models import ServiceLocation, Visit, VisitEvent
from server.reconcile.context import MutationContext, Result, rejected
from server.reconcile.findings import open_item
from server.reconcile.geo import distance_m
from server.reconcile.outcomes import applied_result, conflict_result, standing_review
from server.reconcile.visit_access import Standing, resolve


def check_in(ctx: MutationContext) -> Result:
    """Record a check-in."""
    return _record(ctx, "check_in")


def check_out(ctx: MutationContext) -> Result:
    """Record a check-out."""
    return _record(ctx, "check_out")


def verify(ctx: MutationContext, visit: Visit, location: dict[str, Any] | None
           ) -> tuple[str, float | None, ServiceLocation | None]:
    """(``verified`` | ``exception``, distance to the nearest location, that location)."""
    if not location:
        return "exception", None, None
    places = ctx.cache.locations(visit.patient_id)
    measured = sorted(
        ((distance_m(location["latitude"], location["longitude"], p.latitude, p.longitude), p)
         for p in places), key=lambda pair: (pair[1].id != visit.service_location_id, pair[0]))
    inside = [(d, p) for d, p in measured if d <= p.evv_radius_m]
    if inside:
        return "verified", round(inside[0][0], 1), inside[0][1]
    nearest = min(measured, key=lambda pair: pair[0], default=None)
    return ("exception", round(nearest[0], 1) if nearest else None,
            nearest[1] if nearest else None)


def _evv_exception(ctx: MutationContext, visit: Visit, event: VisitEvent) -> Any:
    where = ("no location was recorded" if event.latitude is None
             else f"{event.evv_distance_m:.0f} m from the nearest service location")
    return open_item(ctx, visit, "evv_exception",
                     f"EVV {event.kind.replace('_', '-')} could not be verified: {where}.",
                     {"kind": event.kind, "distance_m": event.evv_distance_m,
                      "latitude": event.latitude, "longitude": event.longitude,
                      "accuracy_m": event.accuracy_m,
                      "nearest_location_id": str(event.evv_location_id)
                      if event.evv_location_id else None}, record_id=event.id)


def _record(ctx: MutationContext, kind: str) -> Result:
    access = resolve(ctx)
    visit = access.visit
    if visit is None or access.standing is Standing.NEVER:
        return rejected("visit_id", "This visit is not one you were assigned.")
    conflict = access.standing is not Standing.ASSIGNED
    location = ctx.data.get("location")
    status, distance, place = verify(ctx, visit, location)
    event = VisitEvent(
        kind=kind, at=ctx.data["at"], at_text=str(ctx.raw_data.get("at")),
        latitude=location["latitude"] if location else None,
        longitude=location["longitude"] if location else None,
        accuracy_m=location.get("accuracy_m") if location else None,
        evv_status=status, evv_distance_m=distance, evv_location_id=place.id if place else None,
        **ctx.provenance(visit.id, conflict))
    ctx.store_new(event)  # a new id of ours: always stored
    items = [_evv_exception(ctx, visit, event)] if status == "exception" else []
    if conflict:
        return conflict_result(ctx, access, [*items, standing_review(ctx, access, event.id)],
                               record_id=event.id)
    # A check-in on a visit reported missed is flagged by the re-derivation, whichever of
    # the two arrived first.
    ctx.rederive(visit)
    return applied_result(ctx, access, items, record_id=event.id)
