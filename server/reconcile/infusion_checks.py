"""Checks of one administration against its order, its drug lot and the pump registry.

Each check returns findings ``(kind, summary, evidence)``; the handler files each as a
review item and a flag. Nothing here refuses data: doubtful administrations are recorded.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import (
    InfusionAdministration,
    OrderStatus,
    Pump,
    PumpStatus,
    TherapyOrder,
    Visit,
)

Finding = tuple[str, str, dict[str, Any]]
RATE_TOLERANCE = Decimal("0.01")  # 1 %: pumps display one decimal


def _same_drug(ordered: str, given: str) -> bool:
    return " ".join(ordered.lower().split()) == " ".join(given.lower().split())


def _order_active_on(order: TherapyOrder, day: date) -> bool:
    return (order.status is OrderStatus.ACTIVE and order.start_date <= day
            and (order.end_date is None or day <= order.end_date))


def against_order(session: Session, visit: Visit, data: dict[str, Any],
                  day: date) -> list[Finding]:
    """Medication, dose and rate against the order; no active order at all."""
    order = session.get(TherapyOrder, data["order_id"]) if data.get("order_id") else None
    if order is None or order.patient_id != visit.patient_id or not _order_active_on(order, day):
        return [("no_active_order", "The administration has no matching active order.",
                 {"order_id": str(data.get("order_id")),
                  "order_status": order.status.value if order else None})]
    findings: list[Finding] = []
    if not _same_drug(order.medication, data["medication"]):
        findings.append(("medication_mismatch", f"Given {data['medication']}; ordered "
                         f"{order.medication}.", {"ordered": order.medication,
                                                  "given": data["medication"]}))
    if data["dose_unit"] != order.dose_unit or data["dose"] != order.dose:
        findings.append(("dose_outside_order", f"Given {data['dose']} {data['dose_unit']}; "
                         f"ordered {order.dose} {order.dose_unit}.",
                         {"ordered": f"{order.dose} {order.dose_unit}",
                          "given": f"{data['dose']} {data['dose_unit']}"}))
    rate = (data.get("pump") or {}).get("programmed_rate_ml_h")
    if order.rate_ml_h is not None and rate is not None and (
            abs(rate - order.rate_ml_h) > order.rate_ml_h * RATE_TOLERANCE):
        findings.append(("rate_differs_from_order", f"Programmed {rate} mL/h; ordered "
                         f"{order.rate_ml_h} mL/h.", {"ordered_ml_h": float(order.rate_ml_h),
                                                      "programmed_ml_h": float(rate)}))
    return findings


def lot(data: dict[str, Any], day: date) -> list[Finding]:
    """A drug past its expiry date on the day it was given."""
    if data["lot_expiry"] < day:
        return [("drug_expired", f"Lot {data['lot_number']} expired {data['lot_expiry']} and "
                 f"was given {day}.", {"lot_number": data["lot_number"],
                                       "expiry": data["lot_expiry"].isoformat(),
                                       "given_on": day.isoformat()})]
    return []


def pump(session: Session, visit: Visit, data: dict[str, Any], day: date
         ) -> tuple[Pump | None, list[Finding]]:
    """The pump by serial: registered, this patient's, in service, maintained."""
    use = data.get("pump")
    if not use:
        return None, []
    found = session.scalar(select(Pump).where(Pump.serial == use["serial"]))
    if found is None:
        return None, [("pump_unknown", f"Pump {use['serial']} is not in the registry.",
                       {"serial": use["serial"]})]
    findings: list[Finding] = []
    evidence = {"serial": found.serial, "pump_id": str(found.id), "status": found.status.value}
    if found.patient_id != visit.patient_id:
        findings.append(("pump_assigned_elsewhere", f"Pump {found.serial} is not assigned to "
                         "this patient.", {**evidence, "assigned_patient_id":
                                           str(found.patient_id) if found.patient_id else None}))
    if found.status in (PumpStatus.RECALLED, PumpStatus.OUT_OF_SERVICE):
        findings.append(("pump_not_in_service", f"Pump {found.serial} is "
                         f"{found.status.value.replace('_', ' ')}.", evidence))
    elif found.status is PumpStatus.MAINTENANCE_DUE or (
            found.next_pm_due_on is not None and found.next_pm_due_on < day):
        due = found.next_pm_due_on
        summary = (f"Pump {found.serial} was due for maintenance on {due}." if due and due < day
                   else f"Pump {found.serial} is marked due for maintenance.")
        findings.append(("pump_maintenance_overdue", summary,
                         {**evidence, "next_pm_due_on": due.isoformat() if due else None}))
    return found, findings


def adverse(data: dict[str, Any]) -> list[Finding]:
    """An adverse reaction always goes in front of a person."""
    reaction = data.get("adverse_reaction") or {}
    if reaction.get("occurred"):
        return [("adverse_reaction", "An adverse reaction was documented.",
                 {"actions_taken": bool(reaction.get("actions_taken"))})]
    return []


def duplicates(infusion: InfusionAdministration,
               on_visit: list[InfusionAdministration]) -> list[Finding]:
    """Another administration of the same order on this visit, with overlapping times.

    ``on_visit``: the visit's administrations not entered in error (``BatchCache``).
    """
    end = infusion.stopped_at or infusion.started_at
    others = [o for o in on_visit if o.id != infusion.id and o.order_id == infusion.order_id]
    overlapping = [o for o in others
                   if o.started_at <= end and infusion.started_at <= (o.stopped_at or o.started_at)]
    if not overlapping:
        return []
    # One finding naming every overlapping record: one flag, one review item per record.
    return [("possible_duplicate_administration", "Another administration of this order "
             "overlaps this one.", {"others": [{"id": str(o.id), "device_id": str(o.device_id)}
                                               for o in overlapping]})]
