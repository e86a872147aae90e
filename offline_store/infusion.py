"""One infusion as the nurse documents it, and its ``infusion.record`` wire data.

The shapes mirror ``schemas.mutations.InfusionSchema``: the server stores what is sent
without guessing, and flags what it doubts (lot expired, pump overdue) for review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from offline_store.clock import local_rfc3339

Number = int | float


@dataclass(frozen=True)
class VascularAccessUse:
    """The line used, its site, the flushes and how the site looked (INS scales 0-4)."""

    device_type: str
    site: str
    phlebitis_score: int
    infiltration_score: int
    flushed_before: bool = True
    flushed_after: bool = True


@dataclass(frozen=True)
class PumpUse:
    """The pump that infused, and how it was programmed."""

    serial: str
    programmed_rate_ml_h: Number
    vtbi_ml: Number | None = None


@dataclass(frozen=True)
class AdverseReaction:
    """A reaction the patient had, and what the nurse did about it."""

    description: str
    actions_taken: str | None = None


@dataclass(frozen=True)
class Infusion:
    """One administration: drug and lot, access, pump, times and outcome."""

    order_id: str | None
    medication: str
    dose: Number
    dose_unit: str
    route: str
    lot_number: str
    lot_expiry: date
    access: VascularAccessUse
    started_at: datetime
    stopped_at: datetime | None = None
    pump: PumpUse | None = None
    volume_infused_ml: Number | None = None
    adverse_reaction: AdverseReaction | None = None
    notes: str | None = None


def _access(access: VascularAccessUse) -> dict[str, Any]:
    return {"device_type": access.device_type, "site": access.site,
            "flushed_before": access.flushed_before, "flushed_after": access.flushed_after,
            "site_assessment": {"phlebitis_score": access.phlebitis_score,
                                "infiltration_score": access.infiltration_score}}


def _pump(pump: PumpUse | None) -> dict[str, Any] | None:
    if pump is None:
        return None
    return {"serial": pump.serial, "programmed_rate_ml_h": pump.programmed_rate_ml_h,
            "vtbi_ml": pump.vtbi_ml}


def _reaction(reaction: AdverseReaction | None) -> dict[str, Any] | None:
    if reaction is None:
        return None
    return {"occurred": True, "description": reaction.description,
            "actions_taken": reaction.actions_taken}


def infusion_data(infusion: Infusion) -> dict[str, Any]:
    """The ``data`` of an ``infusion.record`` mutation (times keep the device's offset)."""
    return {
        "order_id": infusion.order_id, "medication": infusion.medication,
        "dose": infusion.dose, "dose_unit": infusion.dose_unit, "route": infusion.route,
        "lot_number": infusion.lot_number, "lot_expiry": infusion.lot_expiry.isoformat(),
        "access": _access(infusion.access), "pump": _pump(infusion.pump),
        "started_at": local_rfc3339(infusion.started_at),
        "stopped_at": None if infusion.stopped_at is None
        else local_rfc3339(infusion.stopped_at),
        "volume_infused_ml": infusion.volume_infused_ml,
        "adverse_reaction": _reaction(infusion.adverse_reaction), "notes": infusion.notes,
    }


def lot_expired(infusion: Infusion) -> bool:
    """Whether the lot had expired on the (local) day the infusion started."""
    return infusion.lot_expiry < infusion.started_at.date()
