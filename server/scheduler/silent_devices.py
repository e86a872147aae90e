"""The silent-devices job: a nurse with visits today whose device has not synced lately.

Her documentation lives on the device until it syncs; hours of silence on a working day
mean the office cannot see it (lost phone, no signal, app not opened).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Device, DeviceStatus, User, Visit, VisitStatus
from server.review_items import fact_key
from server.scheduler.alerts import aware, open_alert
from server.services.notifications import notify


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC start and end of a local day (23 or 25 hours long on DST days)."""
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


def _nurses_working(session: Session, start: datetime, end: datetime) -> list[uuid.UUID]:
    rows = session.scalars(select(Visit.nurse_id).distinct().where(
        Visit.nurse_id.is_not(None), Visit.status != VisitStatus.CANCELLED,
        Visit.scheduled_start >= start, Visit.scheduled_start < end))
    return sorted((nurse for nurse in rows if nurse is not None), key=str)


def _latest_device(session: Session, nurse_id: uuid.UUID) -> tuple[Device | None, datetime | None]:
    """Her active device heard from last, and when (enrolling counts as contact)."""
    devices = session.scalars(select(Device).where(
        Device.user_id == nurse_id, Device.status == DeviceStatus.ACTIVE)).all()
    if not devices:
        return None, None
    device = max(devices, key=lambda d: aware(d.last_seen_at or d.enrolled_at))
    return device, aware(device.last_seen_at or device.enrolled_at)


def _flag(session: Session, nurse_id: uuid.UUID, device: Device | None,
          last: datetime | None, day: date, at: datetime) -> bool:
    session.get_one(User, nurse_id, with_for_update=True)  # one flag per nurse and day
    key = fact_key("silent_device", nurse_id, day.isoformat())
    item = open_alert(
        session, "silent_device",
        "A nurse with visits today has a device that has not synced." if device else
        "A nurse with visits today has no enrolled device.",
        dedupe_key=key, now=at, device_id=device.id if device else None,
        details={"nurse_id": str(nurse_id), "local_date": day.isoformat(),
                 "last_seen_at": last.isoformat() if last else None})
    notify(session, nurse_id, "silent_device", "Please sync your device",
           "Your device has not synced for a while and you have visits today. Open the app "
           "with a connection so your documentation reaches the office.",
           dedupe_key=key, now=at)
    return item is not None


def run(session: Session, at: datetime, config: Mapping[str, Any]) -> dict[str, int]:
    """Flag nurses with visits today (local) silent for over ``SILENT_DEVICE_HOURS``."""
    zone = ZoneInfo(str(config["AGENCY_TIMEZONE"]))
    day = at.astimezone(zone).date()
    start, end = local_day_bounds(day, zone)
    limit = at - timedelta(hours=int(config["SILENT_DEVICE_HOURS"]))
    counts = {"nurses_working": 0, "flagged": 0}
    for nurse_id in _nurses_working(session, start, end):
        counts["nurses_working"] += 1
        device, last = _latest_device(session, nurse_id)
        if last is not None and last >= limit:
            continue
        counts["flagged"] += _flag(session, nurse_id, device, last, day, at)
    session.flush()
    return counts
