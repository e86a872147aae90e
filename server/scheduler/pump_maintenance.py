"""The pump-maintenance job: preventive maintenance falls due within ``PUMP_PM_DUE_DAYS``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.feed_fanout import nurses_of_patient
from server.models import Pump, PumpStatus
from server.review_items import fact_key
from server.scheduler.alerts import open_alert
from server.services.notifications import notify

RETIRED = (PumpStatus.RECALLED, PumpStatus.OUT_OF_SERVICE)


def _alert(session: Session, pump: Pump, at: datetime) -> tuple[bool, int]:
    """One review item per pump and due date; a notification to each nurse who has it."""
    due = pump.next_pm_due_on
    assert due is not None
    key = fact_key("pump_pm_due", pump.id, due.isoformat())
    item = open_alert(
        session, "pump_pm_due", f"Pump {pump.serial} is due for preventive maintenance on "
        f"{due.isoformat()}.", dedupe_key=key, now=at, patient_id=pump.patient_id,
        details={"pump_id": str(pump.id), "serial": pump.serial, "due_on": due.isoformat()})
    notified = 0
    if pump.patient_id is not None:
        for nurse in sorted(nurses_of_patient(session.connection(), pump.patient_id, at),
                            key=str):
            notified += notify(
                session, nurse, "pump_pm_due", "Pump maintenance due",
                f"Pump {pump.serial} at your patient's home is due for preventive "
                f"maintenance on {due.isoformat()}; arrange a swap with the office.",
                dedupe_key=f"{key}:{nurse}", now=at, pump_id=pump.id) is not None
    return item is not None, notified


def run(session: Session, at: datetime, config: Mapping[str, Any]) -> dict[str, int]:
    """Flag pumps in use whose next PM date is on or before local today + the window."""
    zone = ZoneInfo(str(config["AGENCY_TIMEZONE"]))
    horizon = at.astimezone(zone).date() + timedelta(days=int(config["PUMP_PM_DUE_DAYS"]))
    pumps = session.scalars(select(Pump).where(
        Pump.status.not_in(RETIRED), Pump.next_pm_due_on.is_not(None),
        Pump.next_pm_due_on <= horizon).order_by(Pump.id).with_for_update()).all()
    counts = {"pumps_due": len(pumps), "flagged": 0, "notified": 0}
    for pump in pumps:
        flagged, notified = _alert(session, pump, at)
        counts["flagged"] += flagged
        counts["notified"] += notified
    session.flush()
    return counts
